//! Exactly once through crashes and lost answers: every window between an effect on monday
//! (an item created, an update posted) and the bridge learning of it, cut on purpose. The
//! sandbox applies a request and holds its answer back (`apply_then_hold`) while the test kills
//! the bridge, or drops the answer (`apply_then_drop`), aimed at one kind of request.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(20);

/// Holds the answer of the next request with this root field back for longer than any test.
fn hold(field: &str) -> Value {
    json!({ "queue": [{"kind": "apply_then_hold", "ms": 60_000}], "queue_field": field })
}

/// Waits until `board` has `n` items for the call or contact `id`.
async fn items_appear(sandbox: &Sandbox, board: &str, id: u64, n: usize) -> Vec<Value> {
    eventually(WAIT, &format!("{n} item(s) for {id}"), || async {
        let items = sandbox.items_for(board, id).await;
        (items.len() == n).then_some(items)
    })
    .await
}

/// The fixture's events as another call: `id` instead of its own.
fn as_call(events: &[Value], id: u64) -> Vec<Value> {
    events
        .iter()
        .cloned()
        .map(|mut e| {
            e["data"]["id"] = id.into();
            e
        })
        .collect()
}

/// The restart comes after monday's idempotency cache (30 minutes) has expired: a request sent
/// again runs afresh, and only what the bridge wrote down saves the day. The bridge is told its
/// window has passed too (`idempotency_window = 0s`), as its clock would say.
const PAST_THE_WINDOW: (&str, &str) = ("BRIDGE__WORKER__IDEMPOTENCY_WINDOW", "0s");

async fn thirty_one_minutes_pass(sandbox: &Sandbox) {
    sandbox.set_clock(json!({ "advance_secs": 31 * 60 })).await;
}

/// The next look-up by column value loses its answer.
async fn lose_the_next_look_up(sandbox: &Sandbox) {
    sandbox
        .faults(json!({
            "queue": [{"kind": "apply_then_drop"}],
            "queue_field": "items_page_by_column_values",
        }))
        .await;
}

/// Delivers the first of `events`, whose create monday applies while its answer is held back.
async fn create_held(sandbox: &Sandbox, bridge: &Bridge, board: &str, events: &[Value]) -> u64 {
    let id = events[0]["data"]["id"].as_u64().unwrap();
    sandbox.faults(hold("create_item")).await;
    bridge.deliver(&events[..1]).await;
    items_appear(sandbox, board, id, 1).await;
    id
}

fn served(stats: &Value, fault: &str) -> u64 {
    stats["faults_served"][fault].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_create_whose_answer_died_with_the_bridge_is_settled_by_sending_it_again() {
    let sandbox = Sandbox::start().await;
    // On SQLite a lease far longer than the test may wait: the restart must take the claim
    // over at once. On PostgreSQL no file lock says the predecessor is dead (it could be
    // another replica): its claim moves on when the lease runs out.
    let lease = if on_postgres() { "3" } else { "600" };
    let mut bridge = Bridge::start(&sandbox, &[("BRIDGE__WORKER__LEASE_SECS", lease)]).await;
    let events = fixture("inbound_answered");
    let id = create_held(&sandbox, &bridge, CALLS_BOARD, &events).await;

    bridge.kill_and_restart().await;
    bridge.deliver(&events[1..]).await;
    bridge.drained().await;
    let items = sandbox.items_for(CALLS_BOARD, id).await;
    assert_eq!(items.len(), 1, "{items:#?}");
    assert_eq!(text(&items[0], "status").as_deref(), Some("Answered"));
    let stats = sandbox.stats().await;
    assert_eq!(served(&stats, "apply_then_hold"), 1);
    assert!(
        stats["requests"]["idempotent_replays"].as_u64().unwrap() >= 1,
        "the create was sent again under its key: {stats:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_look_up_whose_answer_is_lost_after_a_crash_leaves_the_create_open() {
    let sandbox = Sandbox::start().await;
    let mut bridge = Bridge::start(&sandbox, &[PAST_THE_WINDOW]).await;
    let events = fixture("inbound_answered");
    let id = create_held(&sandbox, &bridge, CALLS_BOARD, &events).await;

    lose_the_next_look_up(&sandbox).await;
    bridge.kill_and_restart().await;
    thirty_one_minutes_pass(&sandbox).await;
    bridge.deliver(&events[1..]).await;
    bridge.drained().await;
    let items = sandbox.items_for(CALLS_BOARD, id).await;
    assert_eq!(items.len(), 1, "{items:#?}");
    assert_eq!(text(&items[0], "status").as_deref(), Some("Answered"));
    assert_eq!(
        served(&sandbox.stats().await, "apply_then_drop"),
        1,
        "the look-up's answer was lost"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contact_whose_create_died_with_the_bridge_and_that_was_then_deleted_is_archived() {
    let sandbox = Sandbox::start().await;
    let mut bridge = Bridge::start(&sandbox, &[PAST_THE_WINDOW]).await;
    let events = fixture("contact_lifecycle");
    let id = create_held(&sandbox, &bridge, CONTACTS_BOARD, &events).await;
    // The first look-up after the restart loses its answer too.
    lose_the_next_look_up(&sandbox).await;
    bridge.kill_and_restart().await;
    thirty_one_minutes_pass(&sandbox).await;
    let deleted = events.last().unwrap();
    assert_eq!(deleted["event"], "contact.deleted");
    bridge.deliver(std::slice::from_ref(deleted)).await;
    bridge.drained().await;
    let items = sandbox.items_for(CONTACTS_BOARD, id).await;
    assert_eq!(items.len(), 1, "{items:#?}");
    assert_eq!(items[0]["state"], "archived", "{items:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_whose_answer_died_with_the_bridge_is_sent_again_whole_on_a_board_without_look_up()
{
    let sandbox = Sandbox::start().await;
    // No aircall_id_column on the calls board: a look-up cannot save the day, only the intent.
    let example = std::fs::read_to_string(repo_path("config/example.toml")).unwrap();
    let config = example.replacen("aircall_id_column = \"aircall_id\"\n", "", 1);
    assert_ne!(config, example);
    let mut bridge =
        Bridge::start_with_config(&sandbox, &config, &[("BRIDGE__WORKER__CONCURRENCY", "1")]).await;
    let call = fixture("inbound_answered");
    let ids: Vec<u64> = (0..8).map(|i| 7_100_000 + i).collect();
    // The first create is slow; the next five calls arrive meanwhile and go out as one batch,
    // whose answer is held back while the bridge is killed.
    sandbox
        .faults(json!({
            "queue": [{"kind": "timeout", "ms": 1500}, {"kind": "apply_then_hold", "ms": 60_000}],
            "queue_field": "create_item",
        }))
        .await;
    bridge.deliver(&as_call(&call[..1], ids[0])).await;
    // Only once the worker is inside that create: before, it could claim the next ones with it.
    eventually(WAIT, "the slow create under way", || async {
        (served(&sandbox.stats().await, "timeout") == 1).then_some(())
    })
    .await;
    for id in &ids[1..6] {
        bridge.deliver(&as_call(&call[..1], *id)).await;
    }
    eventually(WAIT, "six items, five from one held batch", || async {
        let n = sandbox.items(CALLS_BOARD).await.len();
        let held = served(&sandbox.stats().await, "apply_then_hold");
        (n == 6 && held == 1).then_some(())
    })
    .await;

    bridge.kill_and_restart().await;
    // Other calls now: a new batch would have other members and another key.
    for id in &ids {
        bridge.deliver(&as_call(&call, *id)).await;
    }
    bridge.drained().await;
    for id in &ids {
        let items = sandbox.items_for(CALLS_BOARD, *id).await;
        assert_eq!(items.len(), 1, "call {id}: {items:#?}");
        assert_eq!(text(&items[0], "status").as_deref(), Some("Answered"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn updates_posted_just_before_a_crash_are_not_posted_again() {
    let sandbox = Sandbox::start().await;
    let mut bridge = Bridge::start(&sandbox, &[PAST_THE_WINDOW]).await;
    let events = fixture("tagged_commented_after_end");
    let id = events[0]["data"]["id"].as_u64().unwrap();
    sandbox.faults(hold("create_update")).await;
    bridge.deliver(&events).await;
    eventually(WAIT, "an update posted, its answer held", || async {
        let items = sandbox.items_for(CALLS_BOARD, id).await;
        let posted = items
            .first()
            .and_then(|i| i["updates"].as_array())
            .is_some_and(|u| !u.is_empty());
        (posted && served(&sandbox.stats().await, "apply_then_hold") == 1).then_some(())
    })
    .await;

    // The item's create was answered but not yet committed with the link when the bridge died:
    // without the checkpoint the restart would adopt the item and post every comment again.
    bridge.kill_and_restart().await;
    thirty_one_minutes_pass(&sandbox).await;
    bridge.drained().await;
    let items = sandbox.items_for(CALLS_BOARD, id).await;
    assert_eq!(items.len(), 1, "{items:#?}");
    let bodies = update_bodies(&items[0]);
    let mut unique = bodies.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(bodies.len(), 2, "each comment once: {bodies:#?}");
    assert_eq!(unique.len(), 2, "{bodies:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_bridge_on_the_same_store_is_refused_naming_the_first() {
    if sqlite_only("the lock on the store file") {
        return;
    }
    let sandbox = Sandbox::start().await;
    let bridge = Bridge::start(&sandbox, &[]).await;
    let mut env = sandbox_env(&sandbox);
    env.push((
        "BRIDGE__STORE__PATH".into(),
        bridge.db_path().display().to_string(),
    ));
    env.push(("BRIDGE__SERVER__LISTEN".into(), "127.0.0.1:0".into()));
    env.push(("BRIDGE__SERVER__ADMIN_LISTEN".into(), "127.0.0.1:0".into()));
    let config = bridge.config_path().display().to_string();
    let (code, _out, err) = cli(&env, &["run", "--config", &config]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("in use by another running bridge"), "{err}");
    assert!(err.contains(&bridge.pid().to_string()), "{err}");
}
