//! Tests of the pure mapping layer (`aircall_monday_bridge::mapping`) over the realistic Aircall
//! payloads in `tests/fixtures/aircall/`, mapped with the boards of `config/example.toml`.
//!
//! The design is "reconcile state, don't replay events" (DESIGN.md): events fold into one
//! observed state, the rules turn it into a desired item, and the plan is the difference from
//! what was last synced. The snapshots below show what an operator would see on the board;
//! the submodules check the properties that make the reconcile safe.
//!
//! Snapshots live in `tests/snapshots/`; review them with the fixture next to them. Create or
//! update them with `INSTA_UPDATE=always cargo test --test mapping`.

#[path = "mapping/helpers.rs"]
mod helpers;

/// Delivery order, reversal, duplicates and permutations give the same item.
#[path = "mapping/order.rs"]
mod order;

/// Aircall's payload quirks (aircall.md §2, §6, §8), one plain assert each.
#[path = "mapping/quirks.rs"]
mod quirks;

/// Only differences are sent, and only when the value derived from Aircall changes.
#[path = "mapping/economy.rs"]
mod economy;

/// Aircall comments become monday updates, each exactly once.
#[path = "mapping/comments.rs"]
mod comments;

/// Board filters, routes to groups, and moves when the route changes.
#[path = "mapping/routing.rs"]
mod routing;

/// Looked-up facts (contact item, users) and file uploads.
#[path = "mapping/lookups.rs"]
mod lookups;

/// Values from Aircall cut to monday's limits.
#[path = "mapping/limits.rs"]
mod limits;
/// The planner's entry over whole entities: what it needs looked up, and what it plans.
#[path = "mapping/planner.rs"]
mod planner;

use aircall_monday_bridge::mapping::{self, Observed, SyncedItem};
use serde_json::{json, Map, Value};

use helpers::*;

/// Outcome for calls only: contacts have none.
fn outcome_of(observed: &Observed) -> Option<&'static str> {
    match observed {
        Observed::Call(s) => Some(mapping::outcome(s)),
        Observed::Contact(_) => None,
    }
}

/// The whole lifecycle: every envelope of a fixture folded in delivery order, then the item
/// each example board should show and the command that creates it (`null` when none is
/// needed, e.g. a contact deleted before it ever reached the board).
#[test]
fn whole_lifecycle_plans() {
    let rules = rules();
    insta::glob!("fixtures/aircall/*.json", |path| {
        let envelopes = load(path);
        let entity = entity_of(&envelopes);
        let observed = fold(entity, &envelopes);
        let mut snapshot = Map::new();
        let events: Vec<&str> = envelopes.iter().map(|e| e.event.as_str()).collect();
        snapshot.insert("events".into(), json!(events));
        if let Some(outcome) = outcome_of(&observed) {
            snapshot.insert("outcome".into(), json!(outcome));
        }
        for (index, board) in boards_for(&rules, entity) {
            let want = desired(&rules, index, &observed);
            let id = entity_id(&observed);
            let step = mapping::plan_item(&board, &id, &want, None, &SyncedItem::default());
            let plan = json!({
                "desired": want,
                "command": step.map(|s| s.command),
            });
            snapshot.insert(format!("board {}", board.name), plan);
        }
        insta::assert_json_snapshot!(Value::Object(snapshot));
    });
}

/// The live progression: the events replayed one by one as the worker sees them, the state
/// going through the store in between. Each row is the event and the command it causes per
/// board (`null`: nothing mapped changed, nothing is sent). `call.hungup` moves the status
/// live; `call.ended` / `call.comm_assets_generated` fill in the rest as a smaller diff.
#[test]
fn live_progression() {
    let rules = rules();
    insta::glob!("fixtures/aircall/*.json", |path| {
        let envelopes = load(path);
        let entity = entity_of(&envelopes);
        let boards = boards_for(&rules, entity);
        let mut links = vec![Link::default(); boards.len()];
        let mut observed: Option<Observed> = None;
        let mut rows = Vec::new();
        for envelope in &envelopes {
            let state = through_store(fold_onto(entity, observed.take(), [envelope]));
            let mut row = Map::new();
            row.insert("event".into(), json!(envelope.event));
            if let Some(outcome) = outcome_of(&state) {
                row.insert("outcome".into(), json!(outcome));
            }
            for (board, link) in boards.iter().zip(&mut links) {
                let command = sync(&rules, board, &state, link);
                row.insert(format!("board {}", board.1.name), json!(command));
                // Moves and updates once the item exists (only shown when there are some).
                let then = sync_updates(&rules, board, &state, link);
                if !then.is_empty() {
                    row.insert(format!("board {} then", board.1.name), json!(then));
                }
            }
            rows.push(Value::Object(row));
            observed = Some(state);
        }
        insta::assert_json_snapshot!(rows);
    });
}

/// Each event type alone, as the first thing the bridge hears of a call or contact: the item
/// each board should show and the command that creates it. The payload is the first envelope
/// of that type among the fixtures (in file name order); every event type has one.
#[test]
fn each_event_type_alone() {
    use aircall_monday_bridge::aircall::{CALL_EVENTS, CONTACT_EVENTS};
    let rules = rules();
    let fixtures = all_fixtures();
    for event in CALL_EVENTS.iter().chain(CONTACT_EVENTS) {
        let (name, envelope) = fixtures
            .iter()
            .find_map(|(name, all)| Some((name, all.iter().find(|e| e.event == *event)?)))
            .unwrap_or_else(|| panic!("no fixture has a {event} event"));
        let envelopes = std::slice::from_ref(envelope);
        let entity = entity_of(envelopes);
        let observed = fold(entity, envelopes);
        let mut snapshot = Map::new();
        snapshot.insert("fixture".into(), json!(name));
        if let Some(outcome) = outcome_of(&observed) {
            snapshot.insert("outcome".into(), json!(outcome));
        }
        for (index, board) in boards_for(&rules, entity) {
            let want = desired(&rules, index, &observed);
            let id = entity_id(&observed);
            let step = mapping::plan_item(&board, &id, &want, None, &SyncedItem::default());
            snapshot.insert(
                format!("board {}", board.name),
                json!({ "desired": want, "command": step.map(|s| s.command) }),
            );
        }
        insta::with_settings!({ snapshot_suffix => *event }, {
            insta::assert_json_snapshot!(Value::Object(snapshot));
        });
    }
}

/// Mutated fixtures and configurations: refused or accepted, never a panic.
#[path = "mapping/fuzz.rs"]
mod fuzz;
