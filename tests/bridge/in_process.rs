//! The bridge built in this process (`app::spawn_app`): the whole path from webhook to board
//! without a child process, and time moved by the test, not waited for.

use std::time::Duration;

use aircall_monday_bridge::clock::Clock;
use reqwest::StatusCode;
use serde_json::json;

use crate::app::*;
use crate::helpers::*;

/// One call's webhooks, delivered twice and out of order, end as one item with the call's
/// final state; nothing dead, nothing left pending.
#[tokio::test(flavor = "multi_thread")]
async fn a_call_delivered_twice_and_shuffled_is_one_item_with_its_final_state() {
    let sandbox = Sandbox::start().await;
    let app = spawn_app(&sandbox).await;
    let events = fixture("inbound_answered");
    let mut twice: Vec<_> = events.iter().rev().chain(events.iter()).cloned().collect();
    twice.swap(0, 1);
    app.deliver(&twice).await;
    app.drain().await;

    let id = events[0]["data"]["id"].as_u64().unwrap();
    let items = app.items_for(CALLS_BOARD, id).await;
    assert_eq!(items.len(), 1, "{items:#?}");
    assert_eq!(text(&items[0], "status").as_deref(), Some("Answered"));
    assert!(app.dead_letters().await.is_empty());
    assert_eq!(app.stats().await.pending_events, 0);
    app.stop().await;
}

/// A failed attempt waits for its due time by the bridge's clock: with the clock standing
/// still the call stays pending however long the test looks; moved past the due time, it goes
/// out. No real time stands in for the retry delay.
#[tokio::test(flavor = "multi_thread")]
async fn a_retry_goes_out_when_the_bridge_clock_reaches_its_due_time_and_not_before() {
    let sandbox = Sandbox::start().await;
    // A retry an hour away: no real wait could reach it within the test.
    let app = spawn_app_with(&sandbox, &[("BRIDGE__WORKER__RETRY_SCHEDULE", "1h")]).await;
    sandbox.faults(json!({ "outage": true })).await;
    let events = fixture("inbound_missed_voicemail");
    app.deliver(&events).await;

    let due_ms = app.until_retry_is_scheduled().await;
    let now = app.clock.now_ms();
    assert!(
        due_ms >= now + 3_500_000,
        "due in about an hour: {}",
        due_ms - now
    );
    sandbox.faults(json!({ "outage": false })).await;

    // A second before the due time, a few dozen polls of the worker (every 50 ms) send nothing.
    app.clock.advance(due_ms - now - 1_000);
    let requests_before = sandbox.stats().await["requests"]["requests_total"]
        .as_u64()
        .unwrap();
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(app.stats().await.pending_events, events.len() as i64);
    assert_eq!(
        sandbox.stats().await["requests"]["requests_total"]
            .as_u64()
            .unwrap(),
        requests_before,
        "nothing is sent before the retry is due"
    );

    app.clock.advance(1_000);
    app.drain().await;
    let id = events[0]["data"]["id"].as_u64().unwrap();
    let items = app.items_for(CALLS_BOARD, id).await;
    assert_eq!(items.len(), 1);
    app.stop().await;
}

/// A webhook with a wrong token is refused and stores nothing; the right one is taken.
#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_token_is_refused_and_stores_nothing() {
    let sandbox = Sandbox::start().await;
    let app = spawn_app(&sandbox).await;
    let mut envelope = fixture("inbound_answered")[0].clone();
    envelope["token"] = json!("not-the-token");
    assert_eq!(app.post_webhook(&envelope).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.stats().await, Default::default());
    assert_eq!(app.metric("bridge_webhook_rejections_total{").await, 1.0);
    envelope["token"] = json!(AIRCALL_TOKEN);
    assert_eq!(app.post_webhook(&envelope).await, StatusCode::OK);
    app.drain().await;
    assert_eq!(app.stats().await.done_events, 1);
    app.stop().await;
}

/// The day's request count is dated by the bridge's clock, the one its budget governor reads:
/// on a clock two days ahead of the machine's, today's requests are still today's. (Counted
/// by the system clock instead, they landed on another day and the count read 0.)
#[tokio::test(flavor = "multi_thread")]
async fn the_daily_request_count_follows_the_bridge_clock() {
    let sandbox = Sandbox::start().await;
    let app = spawn_app(&sandbox).await;
    app.clock.advance(2 * 86_400_000);
    app.deliver(&fixture("inbound_answered")).await;
    app.drain().await;
    let sent = app.metric("bridge_monday_requests_total{").await;
    assert!(sent >= 1.0, "no request was sent");
    assert_eq!(app.metric("bridge_budget_requests_today ").await, sent);
    app.stop().await;
}
