//! Aircall delivers at least once and in no particular order (aircall.md §3.3). The fold is
//! meant to be monotonic, so any delivery order, any number of duplicates, and any split into
//! batches must give the item that the delivery order gives.

use aircall_monday_bridge::config::Entity;
use aircall_monday_bridge::mapping::{self, DesiredItem, Observed};
use serde_json::json;

use super::helpers::*;

/// What the boards would show: the outcome (calls) and every board's desired item.
fn view(entity: Entity, envelopes: &[&Envelope]) -> (Option<&'static str>, Vec<DesiredItem>) {
    let rules = rules();
    let observed = fold(entity, envelopes.iter().copied());
    let outcome = match &observed {
        Observed::Call(s) => Some(mapping::outcome(s)),
        Observed::Contact(_) => None,
    };
    let items = boards_for(&rules, entity)
        .into_iter()
        .map(|(i, _)| desired(&rules, i, &observed))
        .collect();
    (outcome, items)
}

fn names(order: &[&Envelope]) -> Vec<String> {
    order
        .iter()
        .map(|e| format!("{}@{}", e.event, e.timestamp))
        .collect()
}

#[test]
fn any_order_and_any_duplicates_give_the_same_item() {
    for (name, envelopes) in all_fixtures() {
        let entity = entity_of(&envelopes);
        let delivery: Vec<&Envelope> = envelopes.iter().collect();
        let expected = view(entity, &delivery);
        let mut orders: Vec<(String, Vec<&Envelope>)> = vec![
            ("reversed".into(), delivery.iter().rev().copied().collect()),
            (
                "each delivered twice".into(),
                delivery.iter().flat_map(|e| [*e, *e]).collect(),
            ),
            (
                "the whole batch redelivered".into(),
                delivery.iter().chain(&delivery).copied().collect(),
            ),
            (
                "reversed, then redelivered in order".into(),
                delivery.iter().rev().chain(&delivery).copied().collect(),
            ),
        ];
        let mut lcg = Lcg(0x00C0_FFEE);
        for i in 0..12 {
            let mut order = delivery.clone();
            lcg.shuffle(&mut order);
            if i % 3 == 0 {
                // Some duplicates mixed in as well.
                let again = order[..order.len() / 2].to_vec();
                order.extend(again);
            }
            orders.push((format!("permutation {i}"), order));
        }
        for (label, order) in orders {
            assert_eq!(
                view(entity, &order),
                expected,
                "{name}, {label}: {:?}",
                names(&order)
            );
        }
    }
}

/// The worker folds a backlog in batches onto the stored state: any split must coalesce to
/// the same state as one fold of everything.
#[test]
fn folding_in_batches_equals_folding_at_once() {
    for (name, envelopes) in all_fixtures() {
        let entity = entity_of(&envelopes);
        let at_once = fold(entity, &envelopes);
        for split in 0..=envelopes.len() {
            let (head, tail) = envelopes.split_at(split);
            let stored = through_store(fold(entity, head));
            let batched = fold_onto(entity, Some(stored), tail);
            assert_eq!(batched, at_once, "{name}, split after {split} events");
        }
    }
}

/// The worker stores the observed state as JSON and reads it back for the next claim
/// (`worker/job.rs`): it must read back exactly as it was written, comments included (their
/// ids are string keys, which an internally tagged enum can read back), or the next claim
/// would fold onto a state that lost what only earlier events carried.
#[test]
fn the_stored_state_reads_back() {
    for (name, envelopes) in all_fixtures() {
        let state = fold(entity_of(&envelopes), &envelopes);
        let json = serde_json::to_string(&state).unwrap();
        let back = serde_json::from_str::<Observed>(&json).map_err(|e| e.to_string());
        assert_eq!(back, Ok(state), "{name}");
    }
}

/// While a call is still going on, what the board shows must not depend on which of the
/// events so far came first. Envelopes with the same timestamp keep their arrival order
/// (DESIGN.md: ties go to the later arrival), everything else is shuffled.
#[test]
fn any_prefix_in_any_order_gives_the_same_item() {
    for (name, envelopes) in all_fixtures() {
        let entity = entity_of(&envelopes);
        for len in 1..=envelopes.len() {
            let prefix: Vec<&Envelope> = envelopes[..len].iter().collect();
            let expected = view(entity, &prefix);
            // Group by timestamp, keeping arrival order inside a group; shuffle the groups.
            let mut groups: Vec<Vec<&Envelope>> = Vec::new();
            for e in &prefix {
                match groups.iter_mut().find(|g| g[0].timestamp == e.timestamp) {
                    Some(g) => g.push(e),
                    None => groups.push(vec![e]),
                }
            }
            let mut lcg = Lcg(len as u64);
            for i in 0..12 {
                lcg.shuffle(&mut groups);
                let order: Vec<&Envelope> = groups.concat();
                assert_eq!(
                    view(entity, &order),
                    expected,
                    "{name}, first {len} events, shuffle {i}: {:?}",
                    names(&order)
                );
            }
        }
    }
}

/// DESIGN.md: "A deleted contact stays deleted unless a newer event says otherwise."
/// `contact_lifecycle.json` ends with the deletion, so every order archives the item.
#[test]
fn a_deleted_contact_stays_deleted_unless_a_newer_event_says_otherwise() {
    let rules = rules();
    let (index, _) = the_board(&rules, Entity::Contact);
    let envelopes = fixture("contact_lifecycle.json");
    let deleted = envelopes.last().unwrap();
    assert_eq!(deleted.event, "contact.deleted");
    let updated = envelopes[1].clone();
    let archived =
        |order: Vec<&Envelope>| desired(&rules, index, &fold(Entity::Contact, order)).archived;

    assert!(archived(envelopes.iter().collect()));
    assert!(archived(envelopes.iter().rev().collect()));
    // An update that happened before the deletion but arrives after it changes nothing.
    assert!(archived(vec![deleted, &updated]));
    // Same second: the deletion wins (a tie stays deleted), whatever the arrival order.
    let same_second = envelope("contact.updated", deleted.timestamp, updated.data.clone());
    assert!(archived(vec![deleted, &same_second]));
    assert!(archived(vec![&same_second, deleted]));
    // A newer update brings the contact back, in either order.
    let newer = envelope(
        "contact.updated",
        deleted.timestamp + 60,
        updated.data.clone(),
    );
    assert!(!archived(vec![deleted, &newer]));
    assert!(!archived(vec![&newer, deleted]));
    // The id-only deletion of a contact the bridge never saw: nothing to show either way.
    let id_only = fixture("contact_deleted_id_only.json");
    assert_eq!(id_only[0].data, json!({"id": 98214530}));
    assert!(archived(id_only.iter().collect()));
}
