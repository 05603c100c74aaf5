//! AI insights under trouble: a rate-limited Aircall API, a burst of AI events within the
//! debounce, and a crash between an update's (or a subitem's) landing and its answer.

use std::time::Duration;

use aircall_monday_bridge::clock::Clock;

use serde_json::{json, Value};

use crate::app::*;
use crate::helpers::*;
use crate::insights::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limited_aircall_api_is_waited_out_and_each_resource_fetched_once() {
    let sandbox = Sandbox::start().await;
    // Two requests a second: the five resources run into the limit.
    let api = aircall(2, 1).await;
    let api_url = api.api_url();
    let bridge =
        spawn_app_with_config(&sandbox, &with_topics(), &with_api(&api_url, API_TOKEN)).await;
    let id = 1_930_000_001;
    seed(&api, id, None).await;
    bridge.deliver(&call(id)).await;
    bridge.deliver(&ai_events(id, 1_795_168_900)).await;
    bridge.drain().await;
    let stats: Value = reqwest::get(format!("http://{}/_aircall/requests", api.addr()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(stats["rate_limited"].as_u64().unwrap() >= 1, "{stats:#}");
    let item = sandbox.items_for(CALLS_BOARD, id).await.remove(0);
    assert_eq!(transcript_updates(&item), 1);
    assert_eq!(text(&item, "sentiment").as_deref(), Some("Positive"));
    assert_eq!(bridge.metric("bridge_dead_letters_total").await, 0.0);
}

/// The transcript's update (or an action item's subitem) lands on monday, its answer never
/// comes back, the bridge dies: the intent written before the request settles it after the
/// restart, and nothing is posted twice.
#[tokio::test(flavor = "multi_thread")]
async fn a_transcript_update_that_landed_just_before_a_crash_is_posted_once() {
    crash_after(1_940_000_001, "create_update", &[]).await;
}

/// Past monday's idempotency window the intents are settled by looking the effects up on the
/// item (its updates by body, its subitems by name).
#[tokio::test(flavor = "multi_thread")]
async fn past_the_window_the_effects_are_looked_up_not_made_again() {
    let env = [
        ("BRIDGE__WORKER__IDEMPOTENCY_WINDOW", "0s"),
        ("BRIDGE__WORKER__UNCERTAIN_CREATE_WAIT", "0s"),
    ];
    crash_after(1_940_000_003, "create_subitem", &env).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_action_item_subitem_that_landed_just_before_a_crash_is_made_once() {
    crash_after(1_940_000_002, "create_subitem", &[]).await;
}

async fn crash_after(id: u64, field: &str, extra: &[(&'static str, &str)]) {
    let landed = |i: &Value| {
        let subitems = i["subitems"].as_array().is_some_and(|s| !s.is_empty());
        !update_bodies(i).is_empty() || subitems
    };
    let (sandbox, _api, _bridge) = crashed_after(&with_topics(), id, field, extra, landed).await;
    let item = sandbox.items_for(CALLS_BOARD, id).await.remove(0);
    assert_eq!(transcript_updates(&item), 1, "{item:#}");
    assert_eq!(action_item_updates(&item), 1, "{item:#}");
    assert_eq!(sandbox.items_for(CALLS_BOARD, id).await.len(), 1);
}

/// The stand-ins and a bridge on `config` that synced call `id`; then its AI events, until
/// monday applied the `field` request (`landed` says so of the item) and holds its answer,
/// and the bridge killed and restarted in that window and drained. Returns all three.
pub(crate) async fn crashed_after(
    config: &str,
    id: u64,
    field: &str,
    extra: &[(&'static str, &str)],
    landed: impl Fn(&Value) -> bool,
) -> (Sandbox, aircall_sandbox::AircallSandboxHandle, Bridge) {
    let sandbox = Sandbox::start().await;
    let api = aircall(1000, 60).await;
    let api_url = api.api_url();
    let mut env = with_api(&api_url, API_TOKEN);
    env.extend_from_slice(extra);
    let mut bridge = Bridge::start_with_config(&sandbox, config, &env).await;
    seed(&api, id, None).await;
    bridge.deliver(&call(id)).await;
    bridge.drained().await;
    sandbox
        .faults(json!({
            "queue": [{"kind": "apply_then_hold", "ms": 60_000}],
            "queue_field": field,
        }))
        .await;
    bridge.deliver(&ai_events(id, 1_795_168_900)).await;
    eventually(
        Duration::from_secs(20),
        "the effect applied, its answer held",
        || async {
            let held = sandbox.stats().await["faults_served"]["apply_then_hold"] == 1;
            let items = sandbox.items_for(CALLS_BOARD, id).await;
            (held && items.first().is_some_and(&landed)).then_some(())
        },
    )
    .await;
    bridge.kill_and_restart().await;
    bridge.drained().await;
    (sandbox, api, bridge)
}

/// A call's AI events within `worker.insights_debounce` of each other cost one fetch per
/// resource, made once they have settled, not one per event.
#[tokio::test(flavor = "multi_thread")]
async fn ai_events_in_a_burst_are_fetched_once_after_the_debounce() {
    let sandbox = Sandbox::start().await;
    let api = aircall(1000, 60).await;
    let api_url = api.api_url();
    let mut env = with_api(&api_url, API_TOKEN);
    env.push(("BRIDGE__WORKER__INSIGHTS_DEBOUNCE", "2s"));
    let bridge = spawn_app_with_config(&sandbox, &with_topics(), &env).await;
    let id = 1_950_000_001;
    seed(&api, id, None).await;
    let now = bridge.clock.now_ms() / 1000;
    let mut first = ai_events(id, now);
    let mut again = ai_events(id, now + 1);
    for e in &mut again {
        e["data"]["again"] = true.into();
    }
    first.append(&mut again);
    bridge.deliver(&first).await;
    // Not before the burst has settled: the debounce runs from the newest event, by the
    // bridge's clock. Up to 100 ms before it ends the worker has done all it can and
    // fetched nothing; then the clock passes it.
    let newest = first.iter().filter_map(|e| e["timestamp"].as_i64()).max();
    let settled_ms = newest.unwrap() * 1000 + 2000;
    bridge
        .clock
        .advance(settled_ms - 100 - bridge.clock.now_ms());
    bridge.settle().await;
    let resources = [
        "transcription",
        "summary",
        "sentiments",
        "topics",
        "action_items",
    ];
    for resource in resources {
        assert_eq!(fetches(&api, id, resource).await, 0, "{resource}");
    }
    bridge.clock.advance(100);
    bridge.drain().await;
    for resource in resources {
        assert_eq!(fetches(&api, id, resource).await, 1, "{resource}");
    }
    let item = sandbox.items_for(CALLS_BOARD, id).await.remove(0);
    assert_eq!(transcript_updates(&item), 1);
}
