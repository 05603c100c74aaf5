//! Aircall's AI insights (AI Assist) onto the call's item: each AI event is a trigger, its
//! resource fetched once from Aircall's stand-in; the summary, sentiment and topics land in
//! columns, the transcript and the action items in updates posted once, whatever the order,
//! duplicates, replays, crashes and the stand-in's 404, 403 and 429 answers.
//!
//! Long on purpose: the AI-insight scenarios (each event, orders, duplicates), sharing the set-up
//! at the top.

use aircall_sandbox::{sample_insights, AircallSandboxHandle};
use serde_json::{json, Value};

pub(crate) use crate::aircall_api::*;
use crate::app::*;
use crate::helpers::*;

/// The AI events of a call, as Aircall sends them (`call_id` a string on `summary.created`).
pub(crate) fn ai_events(call_id: u64, ts: i64) -> Vec<Value> {
    [
        ("transcription.created", json!({ "call_id": call_id })),
        (
            "summary.created",
            json!({ "call_id": call_id.to_string(), "content": "…", "number_id": 456 }),
        ),
        ("sentiment.created", json!({ "call_id": call_id })),
        ("topics.created", json!({ "call_id": call_id })),
        (
            "action_item.created",
            json!({ "call_id": call_id, "id": 99 }),
        ),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (event, data))| {
        json!({ "resource": "conversation_intelligence", "event": event,
                "timestamp": ts + i as i64, "token": AIRCALL_TOKEN, "data": data })
    })
    .collect()
}

/// The answered inbound call under the id `id`.
pub(crate) fn call(id: u64) -> Vec<Value> {
    let mut events = fixture("inbound_answered");
    for e in &mut events {
        e["data"]["id"] = id.into();
    }
    events
}

pub(crate) async fn seed(api: &AircallSandboxHandle, call_id: u64, only: Option<&str>) {
    let entries: Vec<Value> = sample_insights(call_id)
        .into_iter()
        .filter(|(r, _)| only.is_none_or(|o| o == *r))
        .map(|(resource, body)| json!({ "call_id": call_id, "resource": resource, "body": body }))
        .collect();
    let url = format!("http://{}/_aircall/insights", api.addr());
    let answer = reqwest::Client::new()
        .post(url)
        .json(&entries)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
}

/// The commented topics column (monday tags) of the example configuration.
pub(crate) const TOPICS: &str =
    "# [boards.columns.topics]\n# type = \"tags\"\n# field = \"topics\"";

/// The example configuration with its commented topics column switched on.
pub(crate) fn with_topics() -> String {
    example_with(&[TOPICS])
}

/// The requests the stand-in received for one call's insight resource.
pub(crate) async fn fetches(api: &AircallSandboxHandle, call_id: u64, resource: &str) -> usize {
    requests_at(api, &format!("/v1/calls/{call_id}/{resource}")).await
}

/// `bridge_ai_fetches_total` of one outcome on a /metrics page, over every resource.
pub(crate) fn fetch_outcomes(metrics: &str, outcome: &str) -> f64 {
    let label = format!("outcome=\"{outcome}\"");
    metrics
        .lines()
        .filter(|l| l.starts_with("bridge_ai_fetches_total{") && l.contains(&label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

pub(crate) fn transcript_updates(item: &Value) -> usize {
    update_bodies(item)
        .iter()
        .filter(|b| b.contains("Transcript"))
        .count()
}

/// The item's subitems named after an action item, each once: the count of the one that
/// appears most (0: none).
pub(crate) fn action_item_updates(item: &Value) -> usize {
    let names: Vec<&str> = item["subitems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .collect();
    let send = names.iter().filter(|n| **n == "Send the quote").count();
    let book = names.iter().filter(|n| **n == "Book a demo").count();
    if send == book {
        send
    } else {
        usize::MAX
    }
}

/// One item with every insight, each update once; every resource fetched once.
async fn assert_complete(sandbox: &Sandbox, api: &AircallSandboxHandle, id: u64) {
    let items = sandbox.items_for(CALLS_BOARD, id).await;
    assert_eq!(items.len(), 1, "one item for call {id}: {items:#?}");
    let item = &items[0];
    assert_eq!(
        text(item, "ai_summary").as_deref(),
        Some("The caller asked for a quote for 20 seats."),
        "{item:#}"
    );
    assert_eq!(text(item, "sentiment").as_deref(), Some("Positive"));
    assert!(value(item, "topics").is_some_and(|v| v["tag_ids"].as_array().unwrap().len() == 2));
    assert_eq!(transcript_updates(item), 1, "{item:#}");
    assert!(update_bodies(item).iter().any(|b| b
        .contains("Agent: Hello, how can I help?<br>Caller: I&#x27;d like")
        || b.contains("Caller: I'd like")
        || b.contains("Caller: I&#39;d like")));
    assert_eq!(action_item_updates(item), 1, "{item:#}");
    for resource in [
        "transcription",
        "summary",
        "sentiments",
        "topics",
        "action_items",
    ] {
        assert_eq!(fetches(api, id, resource).await, 1, "{resource} of {id}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ai_events_before_after_and_amid_the_call_shuffled_and_duplicated_make_one_item() {
    let sandbox = Sandbox::start().await;
    let api = aircall(1000, 60).await;
    let api_url = api.api_url();
    let bridge =
        spawn_app_with_config(&sandbox, &with_topics(), &with_api(&api_url, API_TOKEN)).await;
    let (before, after, shuffled) = (1_900_000_001, 1_900_000_002, 1_900_000_003);
    for id in [before, after, shuffled] {
        seed(&api, id, None).await;
    }
    let ts = call(before)[0]["timestamp"].as_i64().unwrap();

    // All AI events before the call's own; then the call.
    bridge.deliver(&ai_events(before, ts + 100)).await;
    bridge.drain().await;
    bridge.deliver(&call(before)).await;
    // The call, ended and synced; then its AI events.
    bridge.deliver(&call(after)).await;
    bridge.drain().await;
    bridge.deliver(&ai_events(after, ts + 100)).await;
    // Everything shuffled, every envelope twice.
    let mut mixed: Vec<Value> = call(shuffled)
        .into_iter()
        .chain(ai_events(shuffled, ts + 100))
        .collect();
    mixed.extend(mixed.clone());
    use rand::seq::SliceRandom;
    mixed.shuffle(&mut rand::thread_rng());
    bridge.deliver(&mixed).await;
    bridge.drain().await;
    for id in [before, after, shuffled] {
        assert_complete(&sandbox, &api, id).await;
    }
    // A replay of the AI events (newer timestamps): fetched again, posted nothing twice.
    bridge.deliver(&ai_events(after, ts + 7200)).await;
    bridge.drain().await;
    let item = sandbox.items_for(CALLS_BOARD, after).await.remove(0);
    assert_eq!(transcript_updates(&item), 1, "{item:#}");
    assert_eq!(action_item_updates(&item), 1, "{item:#}");
    assert_eq!(bridge.metric("bridge_dead_letters_total").await, 0.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn each_ai_event_alone_makes_the_item_with_its_insight() {
    let sandbox = Sandbox::start().await;
    let api = aircall(1000, 60).await;
    let api_url = api.api_url();
    let bridge =
        spawn_app_with_config(&sandbox, &with_topics(), &with_api(&api_url, API_TOKEN)).await;
    let events = ai_events(0, 1_795_168_900);
    let resources = [
        "transcription",
        "summary",
        "sentiments",
        "topics",
        "action_items",
    ];
    for (n, (resource, template)) in resources.iter().zip(&events).enumerate() {
        let id = 1_910_000_000 + n as u64;
        seed(&api, id, Some(resource)).await;
        let mut event = template.clone();
        event["data"]["call_id"] = if n % 2 == 0 {
            json!(id)
        } else {
            json!(id.to_string())
        };
        bridge.deliver(&[event]).await;
    }
    bridge.drain().await;
    for (n, resource) in resources.iter().enumerate() {
        let id = 1_910_000_000 + n as u64;
        let items = sandbox.items_for(CALLS_BOARD, id).await;
        assert_eq!(items.len(), 1, "{resource}: {items:#?}");
        let item = &items[0];
        let got = match *resource {
            "transcription" => transcript_updates(item) == 1,
            "summary" => text(item, "ai_summary").is_some(),
            "sentiments" => text(item, "sentiment").as_deref() == Some("Positive"),
            "topics" => value(item, "topics").is_some(),
            _ => action_item_updates(item) == 1,
        };
        assert!(got, "{resource}: {item:#}");
        assert_eq!(fetches(&api, id, resource).await, 1);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn not_generated_and_no_ai_assist_are_answers_and_bad_credentials_an_error() {
    let sandbox = Sandbox::start().await;
    let api = aircall(1000, 60).await;
    let api_url = api.api_url();
    let bridge =
        spawn_app_with_config(&sandbox, &with_topics(), &with_api(&api_url, API_TOKEN)).await;
    // Nothing generated: 404 for each resource, the call synced without them.
    let id = 1_920_000_001;
    bridge.deliver(&call(id)).await;
    bridge.deliver(&ai_events(id, 1_795_168_900)).await;
    bridge.drain().await;
    assert_eq!(
        fetch_outcomes(&bridge.metrics().await, "not_generated"),
        5.0
    );
    let item = sandbox.items_for(CALLS_BOARD, id).await.remove(0);
    assert!(text(&item, "ai_summary").is_none());
    // No AI Assist: 403 while /v1/ping passes.
    reqwest::Client::new()
        .post(format!("http://{}/_aircall/ai_assist", api.addr()))
        .json(&json!({ "enabled": false }))
        .send()
        .await
        .unwrap();
    // Once told, the account is not asked again for a while: one 403 (and its ping) for two
    // calls' ten resources, not ten.
    let (id, next) = (1_920_000_002, 1_920_000_004);
    seed(&api, id, None).await;
    seed(&api, next, None).await;
    bridge.deliver(&ai_events(id, 1_795_168_900)).await;
    bridge.drain().await;
    bridge.deliver(&ai_events(next, 1_795_168_900)).await;
    bridge.drain().await;
    assert_eq!(fetch_outcomes(&bridge.metrics().await, "no_ai_assist"), 1.0);
    assert_eq!(
        fetch_outcomes(&bridge.metrics().await, "skipped_no_ai_assist"),
        9.0
    );
    let mut asked = 0;
    for resource in [
        "transcription",
        "summary",
        "sentiments",
        "topics",
        "action_items",
    ] {
        asked += fetches(&api, id, resource).await + fetches(&api, next, resource).await;
    }
    assert_eq!(asked, 1, "insight requests after the first 403");
    assert_eq!(bridge.metric("bridge_dead_letters_total").await, 0.0);
    assert_eq!(sandbox.items_for(CALLS_BOARD, id).await.len(), 1);

    // Credentials Aircall refuses: an error, retried, then the dead letter saying why.
    let bad =
        spawn_app_with_config(&sandbox, &with_topics(), &with_api(&api_url, "wrong-token")).await;
    let id = 1_920_000_003;
    bad.deliver(&ai_events(id, 1_795_168_900)).await;
    bad.retry_until_dead(1).await;
    let error = last_error(bad.store(), id).await;
    assert!(
        error.contains("AI insights") && error.contains("credentials"),
        "{error}"
    );
}
