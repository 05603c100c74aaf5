//! `/metrics` after a scenario: an answered call, a duplicate, a bad token and a dead letter,
//! each counted where an operator would look for it.

use crate::app::*;
use crate::helpers::*;

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_a_scenario_of_calls_duplicates_bad_tokens_and_dead_letters() {
    let sandbox = Sandbox::start().await;
    let config = example_with_a_missing_label();
    let bridge = spawn_app_with_config(&sandbox, &config, &[]).await;

    let answered = fixture("inbound_answered");
    bridge.deliver(&answered).await;
    bridge.drain().await;
    bridge.deliver(&answered[..1]).await; // a duplicate delivery
    let mut forged = answered[0].clone();
    forged["token"] = "not-the-token".into();
    assert_eq!(bridge.post(&forged).await.status(), 401);
    // One event carrying a whole voicemail call: its status label is missing on the board.
    let voicemail = fixture("inbound_missed_voicemail");
    let last = voicemail.last().unwrap().clone();
    bridge.deliver(std::slice::from_ref(&last)).await;
    crate::helpers::eventually(
        std::time::Duration::from_secs(20),
        "the dead letter",
        || async { (bridge.metric("bridge_dead_events ").await == 1.0).then_some(()) },
    )
    .await;
    bridge.drain().await;

    let text = bridge.metrics().await;
    let value = |series: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no series {series} in:\n{text}"))
    };
    let stored: f64 = text
        .lines()
        .filter(|l| l.starts_with("bridge_webhooks_total{") && l.contains("outcome=\"stored\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(stored, answered.len() as f64 + 1.0, "{text}");
    assert_eq!(
        value("bridge_webhooks_total{event=\"call.created\",outcome=\"duplicate\"}"),
        1.0
    );
    assert_eq!(
        value("bridge_webhooks_total{event=\"-\",outcome=\"unauthorized\"}"),
        1.0
    );
    let posts = answered.len() as f64 + 3.0;
    assert_eq!(value("bridge_webhook_ack_seconds_count"), posts, "{text}");
    assert_eq!(value("bridge_dead_letters_total"), 1.0);
    assert_eq!(value("bridge_reconciles_total{outcome=\"dead\"}"), 1.0);
    assert_eq!(value("bridge_dead_events"), 1.0);
    assert_eq!(
        value("bridge_monday_requests_total{op=\"create_item\",outcome=\"ColumnValueException\"}"),
        1.0
    );
    assert!(value("bridge_monday_requests_total{op=\"create_item\",outcome=\"ok\"}") >= 1.0);
    assert!(value("bridge_monday_request_seconds_count{op=\"create_item\"}") >= 2.0);
    assert_eq!(value("bridge_queue_pending_events"), 0.0);
    assert_eq!(value("bridge_queue_oldest_pending_age_seconds"), 0.0);
    assert_eq!(value("bridge_sending_paused"), 0.0);
    // The budget monday reported: the sandbox allows 5000 requests a minute.
    let left = value("bridge_monday_minute_requests_left");
    assert!(left > 0.0 && left < 5000.0, "{text}");
    assert!(value("bridge_monday_complexity_left") > 0.0);
    assert!(text.contains("# TYPE bridge_webhooks_total counter"));
    assert!(
        !text.contains("bridge_retries_total"),
        "nothing was retried: {text}"
    );
}
