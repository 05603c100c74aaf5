//! Contacts end to end: an item already on the Contacts board is adopted, not duplicated; a
//! call links to its contact's item once that item exists.

use std::time::Duration;

use serde_json::{json, Value};

use crate::app::*;
use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(15);

/// The lifecycle fixture's contact, created with its number written the way people write it.
fn created_with_spaced_number() -> Value {
    let mut created = fixture("contact_lifecycle").remove(0);
    assert_eq!(created["event"], "contact.created");
    created["data"]["phone_numbers"] =
        json!([{"id": 1, "label": "Mobile", "value": "+33 6 12 34 56 78"}]);
    created["data"]["emails"] = json!([]);
    created
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contact_already_on_the_board_is_adopted_by_its_phone_number() {
    let sandbox = Sandbox::start().await;
    let existing = sandbox
        .create_item(
            CONTACTS_BOARD,
            "Thomas (imported)",
            json!({"phone": {"phone": "+33612345678", "countryShortName": "FR"}}),
        )
        .await;
    let bridge = spawn_app(&sandbox).await;
    let created = created_with_spaced_number();
    let contact_id = created["data"]["id"].as_u64().unwrap();
    bridge.deliver(&[created]).await;
    bridge.drain().await;

    let items = sandbox.items(CONTACTS_BOARD).await;
    assert_eq!(items.len(), 1, "no second item: {items:#?}");
    let item = &items[0];
    assert_eq!(item["id"].as_str().unwrap(), existing);
    assert_eq!(text(item, "aircall_id"), Some(contact_id.to_string()));
    assert_eq!(item["name"], "Thomas Girard");
    assert_eq!(bridge.metric("bridge_dead_letters_total").await, 0.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_item_the_bridge_made_for_one_contact_is_not_adopted_by_another() {
    let sandbox = Sandbox::start().await;
    let bridge = spawn_app(&sandbox).await;
    let first = created_with_spaced_number();
    bridge.deliver(std::slice::from_ref(&first)).await;
    bridge.drain().await;
    // Another person sharing the number (a switchboard, a family line).
    let mut second = first.clone();
    second["data"]["id"] = json!(first["data"]["id"].as_u64().unwrap() + 1);
    second["data"]["first_name"] = json!("Sandrine");
    bridge.deliver(&[second]).await;
    bridge.drain().await;
    let items = sandbox.items(CONTACTS_BOARD).await;
    assert_eq!(items.len(), 2, "one item each: {items:#?}");
    let ids: Vec<Option<String>> = items.iter().map(|i| text(i, "aircall_id")).collect();
    assert_ne!(ids[0], ids[1], "{items:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_on_existing_create_the_bridge_makes_its_own_item() {
    let sandbox = Sandbox::start().await;
    sandbox
        .create_item(
            CONTACTS_BOARD,
            "Thomas (imported)",
            json!({"phone": {"phone": "+33612345678", "countryShortName": "FR"}}),
        )
        .await;
    let example = std::fs::read_to_string(repo_path("config/example.toml")).unwrap();
    let config = example.replace("# on_existing = \"adopt\"", "on_existing = \"create\"");
    assert_ne!(config, example, "the example shows on_existing");
    let bridge = spawn_app_with_config(&sandbox, &config, &[]).await;
    bridge.deliver(&[created_with_spaced_number()]).await;
    bridge.drain().await;
    let items = eventually(WAIT, "two items", || async {
        let items = sandbox.items(CONTACTS_BOARD).await;
        (items.len() == 2).then_some(items)
    })
    .await;
    assert!(
        items.iter().any(|i| i["name"] == "Thomas Girard"),
        "{items:#?}"
    );
}

/// `contact.created` for the contact that `known_contact`'s calls are with.
fn contact_of(call: &Value) -> Value {
    let mut created = fixture("contact_lifecycle").remove(0);
    created["data"] = call["data"]["contact"].clone();
    created["timestamp"] = call["timestamp"].clone();
    created
}

fn linked_ids(item: &Value) -> Vec<u64> {
    value(item, "contact_item")
        .and_then(|v| v["linkedPulseIds"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|l| l["linkedPulseId"].as_u64())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_links_to_its_contact_item_once_that_exists() {
    let sandbox = Sandbox::start().await;
    let bridge = spawn_app(&sandbox).await;
    let call = fixture("known_contact");
    let call_id = call[0]["data"]["id"].as_u64().unwrap();
    // The call rings before its contact reached the contacts board: no link yet.
    bridge.deliver(&call[..1]).await;
    bridge.drain().await;
    let item = sandbox.items_for(CALLS_BOARD, call_id).await.remove(0);
    assert!(linked_ids(&item).is_empty(), "{item:#}");

    let contact = contact_of(&call[0]);
    let contact_id = contact["data"]["id"].as_u64().unwrap();
    bridge.deliver(&[contact]).await;
    bridge.drain().await;
    let contact_item = sandbox
        .items_for(CONTACTS_BOARD, contact_id)
        .await
        .remove(0);
    let contact_item: u64 = contact_item["id"].as_str().unwrap().parse().unwrap();

    // The call's next event links it.
    bridge.deliver(&call[1..]).await;
    bridge.drain().await;
    let item = sandbox.items_for(CALLS_BOARD, call_id).await.remove(0);
    assert_eq!(linked_ids(&item), [contact_item], "{item:#}");
    assert_eq!(bridge.metric("bridge_dead_letters_total").await, 0.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_from_an_unknown_number_links_to_the_contact_created_for_it_later() {
    let sandbox = Sandbox::start().await;
    let bridge = spawn_app(&sandbox).await;
    let all = sequence("contact_unknown_then_created");
    let created = all
        .iter()
        .position(|e| e["event"] == "contact.created")
        .unwrap();
    let call_id = all[0]["data"]["id"].as_u64().unwrap();
    let contact_id = all[created]["data"]["id"].as_u64().unwrap();

    // Each step reconciled before the next arrives, as when they come minutes apart.
    for part in [
        &all[..created],
        &all[created..=created],
        &all[created + 1..],
    ] {
        bridge.deliver(part).await;
        bridge.drain().await;
    }
    let contact_item = sandbox
        .items_for(CONTACTS_BOARD, contact_id)
        .await
        .remove(0);
    let contact_item: u64 = contact_item["id"].as_str().unwrap().parse().unwrap();
    let call = sandbox.items_for(CALLS_BOARD, call_id).await.remove(0);
    assert_eq!(linked_ids(&call), [contact_item], "{call:#}");
    assert_eq!(
        text(&call, "contact").as_deref(),
        Some("Lucie Bernard (Bernard Conseil)")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_number_gets_a_contact_item_that_the_aircall_contact_then_adopts() {
    let sandbox = Sandbox::start().await;
    let example = std::fs::read_to_string(repo_path("config/example.toml")).unwrap();
    let config = example.replace(
        "# create_contact_for_unknown_numbers = true",
        "create_contact_for_unknown_numbers = true",
    );
    assert_ne!(
        config, example,
        "the example shows create_contact_for_unknown_numbers"
    );
    let bridge = spawn_app_with_config(&sandbox, &config, &[]).await;
    let all = sequence("contact_unknown_then_created");
    let created = all
        .iter()
        .position(|e| e["event"] == "contact.created")
        .unwrap();
    let call_id = all[0]["data"]["id"].as_u64().unwrap();
    let contact_id = all[created]["data"]["id"].as_u64().unwrap();

    // The call from the unknown number: a contact item named after the number, linked.
    bridge.deliver(&all[..created]).await;
    bridge.drain().await;
    let contacts = sandbox.items(CONTACTS_BOARD).await;
    assert_eq!(contacts.len(), 1, "{contacts:#?}");
    assert_eq!(contacts[0]["name"], "+33612345678");
    let made: u64 = contacts[0]["id"].as_str().unwrap().parse().unwrap();
    let call = sandbox.items_for(CALLS_BOARD, call_id).await.remove(0);
    assert_eq!(linked_ids(&call), [made], "{call:#}");

    // Aircall creates the contact: the bridge adopts that item, and the call keeps its link.
    for part in [&all[created..=created], &all[created + 1..]] {
        bridge.deliver(part).await;
        bridge.drain().await;
    }
    let contacts = sandbox.items(CONTACTS_BOARD).await;
    assert_eq!(contacts.len(), 1, "one item per person: {contacts:#?}");
    assert_eq!(contacts[0]["name"], "Lucie Bernard");
    assert_eq!(
        text(&contacts[0], "aircall_id"),
        Some(contact_id.to_string())
    );
    let call = sandbox.items_for(CALLS_BOARD, call_id).await.remove(0);
    assert_eq!(linked_ids(&call), [made], "{call:#}");
    assert_eq!(bridge.metric("bridge_dead_letters_total").await, 0.0);
}
