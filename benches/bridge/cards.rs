//! What Aircall's side costs: the insight card's latency, from posting a ringing call's
//! webhook to the Aircall stand-in receiving its card (p50/p99, against the second the card
//! has to be useful), and the Aircall API requests the AI insights of a day cost per call
//! with AI events (against fetching every resource on every AI event, what the consumers in
//! shared/reference/aircall-ai-and-insight-cards.md §1.3 do).

use std::time::Duration;

use aircall_monday_bridge::demo::ai_day::{ai_call_ids, with_ai_insights, AI_EVENTS};
use aircall_monday_bridge::demo::day::realistic_day;
use aircall_sandbox::{sample_insights, AircallSandboxConfig, AircallSandboxHandle};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::table::requests::START_TS;

const API_ID: &str = "bench-api-id";
const API_TOKEN: &str = "bench-api-token";

async fn stand_in() -> AircallSandboxHandle {
    aircall_sandbox::spawn(AircallSandboxConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        api_id: API_ID.into(),
        api_token: API_TOKEN.into(),
        per_minute: 6000,
        window_secs: 60,
        calls: Vec::new(),
        contacts: Vec::new(),
    })
    .await
    .unwrap()
}

async fn get(api: &AircallSandboxHandle, path: &str) -> Value {
    reqwest::get(format!("http://{}{path}", api.addr()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn post(api: &AircallSandboxHandle, path: &str, body: &Value) {
    let answer = reqwest::Client::new()
        .post(format!("http://{}{path}", api.addr()))
        .json(body)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

fn env(api_url: &str) -> Vec<(&str, &str)> {
    vec![
        ("BRIDGE__AIRCALL__API_URL", api_url),
        ("BRIDGE__AIRCALL__API_ID", API_ID),
        ("BRIDGE__AIRCALL__API_TOKEN", API_TOKEN),
        ("BRIDGE__AIRCALL__API_REQUESTS_PER_MINUTE", "6000"),
        ("BRIDGE__INSIGHT_CARD__ENABLED", "true"),
        ("BRIDGE__WORKER__INSIGHTS_DEBOUNCE", "200ms"),
    ]
}

/// 60 ringing calls from a known contact, one after the other.
pub(crate) async fn card_latency() {
    let sandbox = Sandbox::start().await;
    let api = stand_in().await;
    let api_url = api.api_url();
    let bridge = Bridge::start(&sandbox, &env(&api_url)).await;
    let contact = fixture("contact_lifecycle");
    bridge.deliver(&contact[..2]).await;
    bridge.drained().await;
    let template = fixture("inbound_answered").remove(0);
    let mut latencies = Vec::new();
    // How long the webhook's own 200 took, beside each card: a slow card with a slow 200 is
    // the store's commit (the card's claim shares it), not the card.
    let mut acks = Vec::new();
    for n in 0..60u64 {
        let id = 1_990_000_000 + n;
        let mut created = template.clone();
        created["data"]["id"] = id.into();
        created["data"]["raw_digits"] = "+33 6 98 76 54 32".into();
        created["timestamp"] = (now_ms() / 1000).into();
        post(&api, "/_aircall/calls", &json!([created["data"]])).await;
        let sent = now_ms();
        bridge.deliver(std::slice::from_ref(&created)).await;
        acks.push(Duration::from_millis((now_ms() - sent).max(0) as u64));
        let received = eventually(Duration::from_secs(10), "the card", || async {
            let all = get(&api, "/_aircall/insight_cards").await;
            all["cards"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["call_id"] == id)
                .and_then(|c| c["received_ms"].as_i64())
        })
        .await;
        latencies.push(Duration::from_millis((received - sent).max(0) as u64));
    }
    let slowest = (0..latencies.len())
        .max_by_key(|&i| latencies[i])
        .unwrap_or(0);
    let (slow_card, slow_ack) = (latencies[slowest], acks[slowest]);
    latencies.sort();
    acks.sort();
    println!(
        "insight card latency:          p50 {:>5.1} ms, p99 {:>5.1} ms over {} calls (webhook posted to card received; goal 1000 ms: ratio {:.3})",
        crate::percentile(&latencies, 0.5),
        crate::percentile(&latencies, 0.99),
        latencies.len(),
        crate::percentile(&latencies, 0.99) / 1000.0
    );
    println!(
        "  webhook 200 beside them:     p50 {:>5.1} ms, p99 {:>5.1} ms; the slowest card ({} ms, call #{slowest}) had its 200 in {} ms",
        crate::percentile(&acks, 0.5),
        crate::percentile(&acks, 0.99),
        slow_card.as_millis(),
        slow_ack.as_millis()
    );
}

/// The demo's day with AI Assist on two answered calls in five.
pub(crate) async fn ai_requests_per_call() {
    let sandbox = Sandbox::start().await;
    let api = stand_in().await;
    let day = with_ai_insights(realistic_day(AIRCALL_TOKEN, 21, 40, START_TS));
    let ids = ai_call_ids(&day);
    let seed: Vec<Value> = ids
        .iter()
        .flat_map(|&id| {
            sample_insights(id).into_iter().map(
                move |(resource, body)| json!({ "call_id": id, "resource": resource, "body": body }),
            )
        })
        .collect();
    post(&api, "/_aircall/insights", &json!(seed)).await;
    let api_url = api.api_url();
    let bridge = Bridge::start(&sandbox, &env(&api_url)).await;
    bridge.deliver(&day).await;
    bridge.drained().await;
    let requests = get(&api, "/_aircall/requests").await;
    let requests = requests["requests"].as_array().unwrap();
    let of_ai_calls = requests
        .iter()
        .filter(|r| {
            let path = r["path"].as_str().unwrap_or("");
            ids.iter()
                .any(|id| path.starts_with(&format!("/v1/calls/{id}/")))
                && !path.ends_with("/insight_cards")
        })
        .count();
    let ai_events = day
        .iter()
        .filter(|e| AI_EVENTS.contains(&e["event"].as_str().unwrap_or("")))
        .count();
    let per_call = of_ai_calls as f64 / ids.len() as f64;
    let baseline = (ai_events * AI_EVENTS.len()) as f64 / ids.len() as f64;
    println!(
        "AI insight requests per call:  {per_call:>6.2}   over {} calls with AI events, {} requests to Aircall in all (every resource on every event: {baseline:.2}; ratio {:.2})",
        ids.len(),
        requests.len(),
        per_call / baseline
    );
}
