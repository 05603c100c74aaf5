//! Features beyond the item's columns, end to end against the sandbox: comments posted as
//! updates exactly once, routing, tags, agents as people.

use std::time::Duration;

use serde_json::{json, Value};

use crate::app::*;
use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(15);

fn call_id(envelopes: &[Value]) -> u64 {
    envelopes[0]["data"]["id"].as_u64().unwrap()
}

/// The same deliveries again with later timestamps: new to the ingest's dedup, so they reach
/// the worker, as a redelivery or a replay of the whole call does.
fn redelivered(envelopes: &[Value], shift: i64) -> Vec<Value> {
    envelopes
        .iter()
        .cloned()
        .map(|mut e| {
            e["timestamp"] = (e["timestamp"].as_i64().unwrap() + shift).into();
            e
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_comment_becomes_one_update_even_when_delivered_again() {
    let sandbox = Sandbox::start().await;
    let bridge = spawn_app(&sandbox).await;
    let events = fixture("tagged_commented_after_end");
    let id = call_id(&events);

    bridge.deliver(&events).await;
    bridge.drain().await;
    let commented: Vec<Value> = events
        .iter()
        .filter(|e| e["event"] == "call.commented")
        .cloned()
        .collect();
    bridge.deliver(&redelivered(&commented, 7)).await;
    bridge.deliver(&redelivered(&events, 3600)).await;
    bridge.drain().await;

    let items = sandbox.items_for(CALLS_BOARD, id).await;
    assert_eq!(items.len(), 1, "{items:#?}");
    assert_eq!(
        update_bodies(&items[0]),
        [
            "Wants 25 seats, decision by end of month. Send pricing for annual plan. — Priya Shah",
            "Follow-up call booked for Tue 10am PST — Marcus to take over. — Marcus Reed",
        ]
    );
}

/// A sandbox, a bridge, the tagged-and-commented call's events and the index of its first
/// `call.tagged`: the tag tests deliver up to there, look, then deliver the rest.
async fn tagged_call() -> (Sandbox, App, Vec<serde_json::Value>, usize) {
    let sandbox = Sandbox::start().await;
    let bridge = spawn_app(&sandbox).await;
    let events = fixture("tagged_commented_after_end");
    let tagged = events
        .iter()
        .position(|e| e["event"] == "call.tagged")
        .unwrap();
    (sandbox, bridge, events, tagged)
}

#[tokio::test(flavor = "multi_thread")]
async fn tags_fill_a_dropdown_whose_missing_labels_monday_creates() {
    let (sandbox, bridge, events, tagged) = tagged_call().await;
    let id = call_id(&events);
    // "Demo requested" is not a label of the board's dropdown yet.
    bridge.deliver(&events[..=tagged]).await;
    bridge.drain().await;
    let item = sandbox.items_for(CALLS_BOARD, id).await.remove(0);
    assert_eq!(
        text(&item, "tag_list").as_deref(),
        Some("Qualified lead, Demo requested")
    );
    bridge.deliver(&events[tagged + 1..]).await;
    bridge.drain().await;
    let item = sandbox.items_for(CALLS_BOARD, id).await.remove(0);
    assert_eq!(text(&item, "tag_list").as_deref(), Some("Qualified lead"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_comment_that_arrives_first_is_posted_right_after_the_create() {
    let sandbox = Sandbox::start().await;
    let bridge = spawn_app(&sandbox).await;
    let events = fixture("tagged_commented_after_end");
    let id = call_id(&events);
    let last_comment = events
        .iter()
        .rfind(|e| e["event"] == "call.commented")
        .unwrap()
        .clone();

    bridge.deliver(&[last_comment]).await;
    let item = eventually(WAIT, "the item with its two updates", || async {
        let items = sandbox.items_for(CALLS_BOARD, id).await;
        items.into_iter().find(|i| update_bodies(i).len() == 2)
    })
    .await;
    assert!(
        update_bodies(&item)[0].starts_with("Wants 25 seats"),
        "{item:#}"
    );
    bridge.drain().await;
    // One reconcile: the create and the updates, no retry in between.
    assert_eq!(bridge.metric("bridge_retries_total").await, 0.0);
}

const INBOUND_BOARD: &str = "1000000003";

/// The example configuration plus a second calls board that mirrors inbound calls only.
fn with_inbound_board() -> String {
    let example = std::fs::read_to_string(repo_path("config/example.toml")).unwrap();
    format!(
        "{example}\n\n[[boards]]\nname = \"inbound\"\nentity = \"call\"\nboard_id = \"{INBOUND_BOARD}\"\n\
         group_id = \"inbound\"\nitem_name = \"{{{{ counterpart }}}}\"\naircall_id_column = \"aircall_id\"\n\
         when = {{ direction = \"inbound\" }}\n\n[boards.columns.aircall_id]\ntype = \"text\"\nfield = \"id\"\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_are_routed_to_boards_and_groups() {
    let sandbox = Sandbox::start().await;
    let bridge = spawn_app_with_config(&sandbox, &with_inbound_board(), &[]).await;
    let missed = fixture("inbound_missed_no_voicemail");
    let outbound = fixture("outbound_unanswered");
    let answered = fixture("inbound_answered");
    // The missed call rings first (created in "calls"), then ends: it moves to "Call back".
    bridge.deliver(&missed[..1]).await;
    eventually(WAIT, "the ringing call's item", || async {
        let items = sandbox.items_for(CALLS_BOARD, call_id(&missed)).await;
        items.into_iter().find(|i| i["group_id"] == "calls")
    })
    .await;
    bridge.deliver(&missed[1..]).await;
    bridge.deliver(&outbound).await;
    bridge.deliver(&answered).await;
    bridge.drain().await;

    let group = |items: Vec<Value>| -> Vec<String> {
        items
            .iter()
            .map(|i| i["group_id"].as_str().unwrap().to_string())
            .collect()
    };
    let calls = |id| sandbox.items_for(CALLS_BOARD, id);
    assert_eq!(group(calls(call_id(&missed)).await), ["call_back"]);
    assert_eq!(group(calls(call_id(&outbound)).await), ["calls"]);
    assert_eq!(group(calls(call_id(&answered)).await), ["calls"]);
    let inbound = |id| sandbox.items_for(INBOUND_BOARD, id);
    assert_eq!(group(inbound(call_id(&missed)).await), ["inbound"]);
    assert_eq!(group(inbound(call_id(&answered)).await), ["inbound"]);
    assert!(
        inbound(call_id(&outbound)).await.is_empty(),
        "outbound calls stay off the inbound board"
    );
}

fn person_ids(item: &Value) -> Vec<u64> {
    value(item, "agent_person")
        .and_then(|v| v["personsAndTeams"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p["id"].as_u64())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn agents_become_monday_people_by_email_or_fall_back_to_their_name() {
    let sandbox = Sandbox::start().await;
    let example = std::fs::read_to_string(repo_path("config/example.toml")).unwrap();
    let config = example.replace(
        "# fallback_text_column = \"agent_fallback\"",
        "fallback_text_column = \"agent_fallback\"",
    );
    assert_ne!(config, example, "the example shows fallback_text_column");
    let bridge = spawn_app_with_config(&sandbox, &config, &[]).await;
    // Camille has a monday account (seed [[users]]); Julien does not.
    let camille = fixture("known_contact");
    let julien = fixture("outbound_answered");
    bridge.deliver(&camille).await;
    bridge.deliver(&julien).await;
    bridge.drain().await;

    let item = sandbox
        .items_for(CALLS_BOARD, call_id(&camille))
        .await
        .remove(0);
    assert_eq!(person_ids(&item), [51000001], "{item:#}");
    assert_eq!(text(&item, "agent_fallback"), None);
    let item = sandbox
        .items_for(CALLS_BOARD, call_id(&julien))
        .await
        .remove(0);
    assert!(person_ids(&item).is_empty(), "{item:#}");
    assert_eq!(
        text(&item, "agent_fallback").as_deref(),
        Some("Julien Moreau")
    );

    // Each email was asked about once: the answers (a user, or none) are cached.
    let asked = bridge
        .metric("bridge_monday_requests_total{op=\"users\",outcome=\"ok\"}")
        .await;
    assert!((1.0..=2.0).contains(&asked), "{asked} users lookups");
    bridge.deliver(&redelivered(&camille, 60)).await;
    bridge.drain().await;
    let again = bridge
        .metric("bridge_monday_requests_total{op=\"users\",outcome=\"ok\"}")
        .await;
    assert_eq!(again, asked, "a replay asks monday nothing new");
    assert_eq!(bridge.metric("bridge_dead_letters_total").await, 0.0);
}

/// How many `create_or_get_tag` mutations the sandbox answered.
async fn tags_created(sandbox: &Sandbox) -> u64 {
    sandbox.stats().await["requests"]["fields"]["create_or_get_tag"]["ok"]
        .as_u64()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn tags_fill_a_tags_column_with_ids_resolved_once_per_name() {
    let (sandbox, bridge, events, tagged) = tagged_call().await;
    let id = call_id(&events);
    bridge.deliver(&events[..=tagged]).await;
    bridge.drain().await;
    let item = sandbox.items_for(CALLS_BOARD, id).await.remove(0);
    // monday stores tag names without spaces.
    assert_eq!(
        text(&item, "tag_ids").as_deref(),
        Some("Qualifiedlead, Demorequested"),
        "{item:#}"
    );
    assert_eq!(tags_created(&sandbox).await, 2, "one request per name");

    bridge.deliver(&events[tagged + 1..]).await;
    bridge.deliver(&redelivered(&events, 3600)).await;
    bridge.drain().await;
    assert_eq!(
        tags_created(&sandbox).await,
        2,
        "a known name is not asked about again"
    );

    let item = sandbox.items_for(CALLS_BOARD, id).await.remove(0);
    assert_eq!(text(&item, "tag_ids").as_deref(), Some("Qualifiedlead"));
    // The same name gives the same id: the one the column holds.
    let answer = sandbox
        .gql(
            "mutation { create_or_get_tag(tag_name: \"Qualified lead\") { id name } }",
            serde_json::json!({}),
        )
        .await;
    let qualified: u64 = answer["create_or_get_tag"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(answer["create_or_get_tag"]["name"], "Qualifiedlead");
    assert_eq!(
        value(&item, "tag_ids"),
        Some(serde_json::json!({ "tag_ids": [qualified] }))
    );
    assert_eq!(bridge.metric("bridge_dead_letters_total").await, 0.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreadable_synced_record_stops_the_call_instead_of_posting_its_comments_again() {
    let sandbox = Sandbox::start().await;
    let bridge = spawn_app(&sandbox).await;
    let events = fixture("tagged_commented_after_end");
    let id = call_id(&events);
    bridge.deliver(&events).await;
    bridge.drain().await;
    let before = update_bodies(&sandbox.items_for(CALLS_BOARD, id).await[0]);
    assert_eq!(before.len(), 2);

    // The store is damaged where the bridge keeps what it wrote to the item.
    let damage = format!("UPDATE links SET synced = '{{not json' WHERE entity_id = '{id}'");
    let changed = bridge.execute_sql(&damage, &damage).await;
    assert_eq!(changed, 1);
    // monday's idempotency cache no longer covers the first posts.
    sandbox.set_clock(json!({ "advance_secs": 31 * 60 })).await;
    bridge.deliver(&redelivered(&events, 3600)).await;
    let dead = bridge.retry_until_dead(1).await;
    let after = update_bodies(&sandbox.items_for(CALLS_BOARD, id).await[0]);
    assert_eq!(after, before, "nothing posted again");
    // The dead letter says why, and what to do (the process harness read this from its log).
    let error = dead[0].error.clone().unwrap_or_default();
    assert!(
        error.contains("cannot read what the bridge last wrote to item")
            && error.contains("restore it from a backup"),
        "{error}"
    );
}
