//! monday allows 1,000–25,000 API calls a day (DESIGN.md, "monday side"): the plan sends only
//! what changed, nothing at all when nothing did, and it compares against what the bridge last
//! wrote, never against the board, so a person's edit survives.

use std::collections::BTreeMap;

use aircall_monday_bridge::config::Entity;
use aircall_monday_bridge::mapping::MondayCommand;
use serde_json::{json, Value};

use super::helpers::*;

/// The column ids a command writes (`name` included when it renames).
fn columns(command: &Option<MondayCommand>) -> Vec<&str> {
    match command {
        Some(MondayCommand::ChangeColumnValues { column_values, .. }) => {
            column_values.keys().map(String::as_str).collect()
        }
        other => panic!("expected a change, got {other:?}"),
    }
}

fn without_nulls(columns: &BTreeMap<String, Value>) -> BTreeMap<String, Value> {
    columns
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Idempotent by construction: once the final state is synced, planning again (the same
/// state, the state after a restart, every event redelivered) sends nothing. And the live
/// path (one event at a time) leaves the board as one create from the final state would.
#[test]
fn a_synced_item_needs_no_command() {
    let rules = rules();
    for (name, envelopes) in all_fixtures() {
        let entity = entity_of(&envelopes);
        let state = fold(entity, &envelopes);
        for board in boards_for(&rules, entity) {
            let mut at_once = Link::default();
            sync(&rules, &board, &state, &mut at_once);
            assert_eq!(sync(&rules, &board, &state, &mut at_once), None, "{name}");
            let redelivered = fold_onto(entity, Some(through_store(state.clone())), &envelopes);
            let again = sync(&rules, &board, &redelivered, &mut at_once);
            assert_eq!(again, None, "{name}: redelivered after a restart");

            let mut live = Link::default();
            let mut so_far = None;
            for e in &envelopes {
                let next = fold_onto(entity, so_far.take(), [e]);
                sync(&rules, &board, &next, &mut live);
                so_far = Some(next);
            }
            assert_eq!(
                sync(&rules, &board, &state, &mut live),
                None,
                "{name}: live"
            );
            if at_once.item_id.is_none() {
                // Deleted before the first plan: no item at once; an item the live path
                // created before the deletion is archived.
                assert!(desired(&rules, board.0, &state).archived, "{name}");
                let archived = live.item_id.is_none() || live.synced.archived;
                assert!(archived, "{name}: live item not archived");
            } else {
                assert_eq!(live.synced.name, at_once.synced.name, "{name}");
                let (l, a) = (&live.synced.columns, &at_once.synced.columns);
                assert_eq!(
                    without_nulls(l),
                    without_nulls(a),
                    "{name}: live vs at once"
                );
            }
        }
    }
}

/// A person edits the agent column on the board. The bridge does not see the board, only
/// what it last wrote, so later events leave the edit alone, until the agent that the bridge
/// derives from Aircall changes: then it writes the new agent.
#[test]
fn a_persons_edit_survives_until_the_derived_value_changes() {
    let rules = rules();
    let board = the_board(&rules, Entity::Call);
    let e = fixture("transferred.json");
    let transferred = e
        .iter()
        .position(|x| x.event == "call.transferred")
        .unwrap();
    let mut link = Link::default();
    let mut state = fold(Entity::Call, &e[..=transferred]);
    sync(&rules, &board, &state, &mut link);
    assert_eq!(link.synced.columns["agent"], json!("Priya Shah"));

    // The board as people see it: what the bridge wrote, plus an edit.
    let mut on_board = link.synced.columns.clone();
    let edit = json!("Priya Shah (covering for Marcus)");
    on_board.insert("agent".into(), edit.clone());
    for later in &e[transferred + 1..] {
        state = fold_onto(Entity::Call, Some(state), [later]);
        if let Some(MondayCommand::ChangeColumnValues { column_values, .. }) =
            sync(&rules, &board, &state, &mut link)
        {
            assert!(
                !column_values.contains_key("agent"),
                "{} rewrote",
                later.event
            );
            on_board.extend(column_values);
        }
    }
    assert_eq!(on_board["agent"], edit);

    // Aircall now says the call is Marcus's: the derived value changed, so it is written.
    let mut back = e.last().unwrap().clone();
    back.timestamp += 600;
    back.data["user"] = e[transferred].data["transferred_by"].clone();
    state = fold_onto(Entity::Call, Some(state), [&back]);
    let command = sync(&rules, &board, &state, &mut link);
    assert_eq!(columns(&command), ["agent"]);
    assert_eq!(link.synced.columns["agent"], json!("Marcus Reed"));
}

/// Tags arrive after the end (aircall.md §8): each change is a diff of the two tag columns
/// only (text and dropdown); assignment and archiving are not mapped on the example board and
/// comments go out as updates, so they change no column.
#[test]
fn changing_only_the_tags_changes_only_the_tags_column() {
    let rules = rules();
    let board = the_board(&rules, Entity::Call);
    let e = fixture("tagged_commented_after_end.json");
    let ended = e.iter().position(|x| x.event == "call.ended").unwrap();
    let mut link = Link::default();
    let mut state = fold(Entity::Call, &e[..=ended]);
    sync(&rules, &board, &state, &mut link);
    assert_eq!(link.synced.columns["tags"], json!("Qualified lead"));

    let mut tags_seen = Vec::new();
    for later in &e[ended + 1..] {
        state = fold_onto(Entity::Call, Some(state), [later]);
        let command = sync(&rules, &board, &state, &mut link);
        if later.event.ends_with("tagged") {
            assert_eq!(columns(&command), ["tag_list", "tags"], "{}", later.event);
            tags_seen.push(link.synced.columns["tags"].clone());
        } else {
            assert_eq!(command, None, "{} changed nothing mapped", later.event);
        }
    }
    assert_eq!(
        tags_seen,
        [
            json!("Qualified lead, Demo requested"),
            json!("Qualified lead")
        ]
    );
}

/// The recording arrives last (`call.comm_assets_generated`): a one-column diff, not a
/// rewrite of the whole item.
#[test]
fn a_late_recording_is_a_one_column_diff() {
    let rules = rules();
    let board = the_board(&rules, Entity::Call);
    let e = fixture("inbound_answered.json");
    let (last, before) = e.split_last().unwrap();
    assert_eq!(last.event, "call.comm_assets_generated");
    let mut link = Link::default();
    let state = fold(Entity::Call, before);
    sync(&rules, &board, &state, &mut link);
    let state = fold_onto(Entity::Call, Some(state), [last]);
    let command = sync(&rules, &board, &state, &mut link);
    assert_eq!(columns(&command), ["recording"]);
    assert_eq!(
        link.synced.columns["recording"],
        json!({"url": "https://assets.aircall.io/calls/1843200101/recording", "text": "Recording"})
    );
}
