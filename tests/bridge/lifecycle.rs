//! Calls and contacts reach the boards: one item per call, its status moving live, the later
//! events filling in what they carry, whatever the order and however often they arrive.

use std::time::Duration;

use serde_json::Value;

use crate::app::*;
use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(15);

fn call_id(envelopes: &[Value]) -> u64 {
    envelopes[0]["data"]["id"].as_u64().unwrap()
}

/// Waits until the call has exactly one item whose `column` reads `want`, and returns it.
async fn item_when(sandbox: &Sandbox, board: &str, id: u64, column: &str, want: &str) -> Value {
    eventually(WAIT, &format!("{column} = {want} for {id}"), || async {
        let items = sandbox.items_for(board, id).await;
        assert!(items.len() <= 1, "more than one item for {id}: {items:#?}");
        items
            .into_iter()
            .find(|i| text(i, column).as_deref() == Some(want))
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_inbound_answered_call_is_one_item_whose_status_moves_live() {
    let sandbox = Sandbox::start().await;
    let bridge = spawn_app(&sandbox).await;
    let events = fixture("inbound_answered");
    let id = call_id(&events);
    let by_event = |name: &str| {
        events
            .iter()
            .filter(|e| e["event"] == name)
            .cloned()
            .collect::<Vec<_>>()
    };

    bridge.deliver(&by_event("call.created")).await;
    item_when(&sandbox, CALLS_BOARD, id, "status", "Ringing").await;
    bridge.deliver(&by_event("call.ringing_on_agent")).await;
    bridge.deliver(&by_event("call.answered")).await;
    let live = item_when(&sandbox, CALLS_BOARD, id, "status", "In progress").await;
    assert_eq!(text(&live, "agent").as_deref(), Some("Julien Moreau"));
    bridge.deliver(&by_event("call.hungup")).await;
    item_when(&sandbox, CALLS_BOARD, id, "status", "Answered").await;
    bridge.deliver(&by_event("call.ended")).await;
    bridge
        .deliver(&by_event("call.comm_assets_generated"))
        .await;
    bridge.drain().await;

    let items = sandbox.items_for(CALLS_BOARD, id).await;
    assert_eq!(items.len(), 1, "{items:#?}");
    let item = &items[0];
    assert_eq!(text(item, "status").as_deref(), Some("Answered"));
    assert_eq!(text(item, "direction").as_deref(), Some("Inbound"));
    assert_eq!(text(item, "duration").as_deref(), Some("254"));
    assert_eq!(text(item, "talk_time").as_deref(), Some("245"));
    assert_eq!(value(item, "phone").unwrap()["phone"], "+33612345678");
    assert_eq!(
        value(item, "recording").unwrap()["url"],
        "https://assets.aircall.io/calls/1843200101/recording"
    );
    assert_eq!(item["name"], "Inbound call with +33612345678");
    assert_eq!(item["group_id"], "calls");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missed_call_with_voicemail_gets_its_voicemail_link_and_no_agent() {
    let sandbox = Sandbox::start().await;
    let bridge = spawn_app(&sandbox).await;
    let events = fixture("inbound_missed_voicemail");
    let id = call_id(&events);
    bridge.deliver(&events).await;
    let item = item_when(&sandbox, CALLS_BOARD, id, "status", "Voicemail").await;
    bridge.drain().await;
    let item = sandbox
        .items_for(CALLS_BOARD, id)
        .await
        .pop()
        .unwrap_or(item);
    assert!(value(&item, "voicemail").unwrap()["url"]
        .as_str()
        .unwrap()
        .contains(&id.to_string()));
    assert_eq!(
        text(&item, "missed_reason").as_deref(),
        Some("agents_did_not_answer")
    );
    assert_eq!(text(&item, "agent"), None, "a missed call has no agent");
    assert_eq!(text(&item, "recording"), None);
    assert_eq!(text(&item, "talk_time"), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outbound_call_shows_its_agent_direction_and_recording() {
    let sandbox = Sandbox::start().await;
    let bridge = spawn_app(&sandbox).await;
    let events = fixture("outbound_answered");
    let id = call_id(&events);
    bridge.deliver(&events).await;
    bridge.drain().await;
    let item = item_when(&sandbox, CALLS_BOARD, id, "status", "Answered").await;
    assert_eq!(text(&item, "direction").as_deref(), Some("Outbound"));
    assert!(text(&item, "agent").is_some());
    assert!(value(&item, "recording").is_some(), "{item:#?}");
    assert!(text(&item, "duration").is_some());

    let unanswered = fixture("outbound_unanswered");
    bridge.deliver(&unanswered).await;
    item_when(
        &sandbox,
        CALLS_BOARD,
        call_id(&unanswered),
        "status",
        "Missed",
    )
    .await;
}

/// What a board shows (its active items), without ids and times that differ between runs.
/// A contact deleted before it ever reached the board has no item, one deleted later an
/// archived item: either way nothing active, which is what an operator sees.
async fn board_view(sandbox: &Sandbox, board: &str) -> Vec<Value> {
    let mut items: Vec<Value> = sandbox
        .items(board)
        .await
        .into_iter()
        .filter(|i| i["state"] == "active")
        .map(|i| {
            let columns: serde_json::Map<String, Value> = i["column_values"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v["text"].clone()))
                .collect();
            serde_json::json!({ "name": i["name"], "group": i["group_id"], "columns": columns })
        })
        .collect();
    items.sort_by_key(|i| i.to_string());
    items
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicates_and_reverse_order_give_the_same_board() {
    let scenarios = [
        "inbound_answered",
        "inbound_missed_voicemail",
        "transferred",
        "known_contact",
        "contact_lifecycle",
        "contact_numeric_dates",
    ];
    let in_order: Vec<Value> = scenarios.iter().flat_map(|s| fixture(s)).collect();
    let mut shuffled: Vec<Value> = in_order
        .iter()
        .rev()
        .flat_map(|e| [e.clone(), e.clone()])
        .collect();
    shuffled.rotate_left(7);

    let mut views = Vec::new();
    for delivery in [&in_order, &shuffled] {
        let sandbox = Sandbox::start().await;
        let bridge = spawn_app(&sandbox).await;
        bridge.deliver(delivery).await;
        bridge.drain().await;
        views.push((
            board_view(&sandbox, CALLS_BOARD).await,
            board_view(&sandbox, CONTACTS_BOARD).await,
        ));
    }
    assert_eq!(views[0].0.len(), 4, "one item per call: {:#?}", views[0].0);
    assert_eq!(
        views[0].1.len(),
        1,
        "the contact that was not deleted: {:#?}",
        views[0].1
    );
    assert_eq!(views[0], views[1]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contact_is_created_updated_and_archived_when_deleted() {
    let sandbox = Sandbox::start().await;
    let bridge = spawn_app(&sandbox).await;
    let events = fixture("contact_lifecycle");
    let id = call_id(&events);

    bridge.deliver(&events[..1]).await;
    let created = eventually(WAIT, "the contact item", || async {
        sandbox.items_for(CONTACTS_BOARD, id).await.pop()
    })
    .await;
    assert_eq!(created["state"], "active");
    assert!(value(&created, "email").is_some());

    bridge.deliver(&events[1..2]).await;
    let company = events[1]["data"]["company_name"]
        .as_str()
        .unwrap()
        .to_string();
    let updated = item_when(&sandbox, CONTACTS_BOARD, id, "company", &company).await;
    assert_eq!(
        updated["id"], created["id"],
        "an update changes the same item"
    );

    bridge.deliver(&events[2..]).await;
    eventually(WAIT, "the contact item to be archived", || async {
        let items = sandbox.items_for(CONTACTS_BOARD, id).await;
        (items.len() == 1 && items[0]["state"] == "archived").then_some(())
    })
    .await;
}
