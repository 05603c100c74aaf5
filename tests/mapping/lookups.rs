//! Columns that need what the worker looked up (contact item, monday users) and file columns:
//! still pure functions of their inputs.

use aircall_monday_bridge::config::Entity;
use aircall_monday_bridge::mapping::{self, Known, MondayCommand, SyncedItem};
use serde_json::json;

use crate::helpers::*;

#[test]
fn known_facts_fill_the_relation_and_people_columns_and_nothing_else_changes() {
    let rules = rules();
    let (index, _) = the_board(&rules, Entity::Call);
    let observed = fold(Entity::Call, &fixture("known_contact.json"));
    let bare = desired(&rules, index, &observed);
    assert_eq!(bare.columns["contact_item"], None);
    assert_eq!(bare.columns["agent_person"], None);
    let known = Known {
        contact_item: Some("4000000123".into()),
        users: [("camille.lefevre@hexaflow.example".to_string(), 51000001)].into(),
        ..Known::default()
    };
    let full = mapping::desired_with(&rules, index, &observed, &known).unwrap();
    assert_eq!(
        full.columns["contact_item"],
        Some(json!({"item_ids": [4000000123u64]}))
    );
    assert_eq!(
        full.columns["agent_person"],
        Some(json!({"personsAndTeams": [{"id": 51000001, "kind": "person"}]}))
    );
    let mut others = full.columns.clone();
    others.insert("contact_item".into(), None);
    others.insert("agent_person".into(), None);
    assert_eq!(others, bare.columns);
}

#[test]
fn a_tags_column_holds_the_ids_of_the_calls_current_tags_and_clears_without() {
    let rules = rules();
    let (index, _) = the_board(&rules, Entity::Call);
    let observed = fold(Entity::Call, &fixture("tagged_commented_after_end.json"));
    let bare = desired(&rules, index, &observed);
    assert_eq!(
        bare.columns["tag_ids"], None,
        "no id known: nothing written"
    );
    // Keyed by the name monday stores: "Qualified lead" without its space; the untagged
    // "Demo requested" is no longer the call's, so its id is not written.
    let known = Known {
        tags: [
            ("Demorequested".to_string(), 295002),
            ("Qualifiedlead".to_string(), 295001),
        ]
        .into(),
        ..Known::default()
    };
    let full = mapping::desired_with(&rules, index, &observed, &known).unwrap();
    assert_eq!(full.columns["tag_ids"], Some(json!({"tag_ids": [295001]})));
    let mut others = full.columns.clone();
    others.insert("tag_ids".into(), None);
    assert_eq!(others, bare.columns);
}

#[test]
fn a_recording_is_planned_for_upload_once_the_item_exists_and_only_once() {
    let rules = rules_with(|t| {
        t.replace(
            "# [boards.columns.recording_file]\n# type = \"file\"\n# upload = \"recording\"",
            "[boards.columns.recording_file]\ntype = \"file\"\nupload = \"recording\"",
        )
    })
    .unwrap();
    let (index, board) = the_board(&rules, Entity::Call);
    let observed = fold(Entity::Call, &fixture("outbound_answered.json"));
    let want = desired(&rules, index, &observed);
    // Never a column value: monday accepts files only through /v2/file.
    assert!(!want.columns.contains_key("recording_file"));
    assert_eq!(want.uploads.len(), 1);
    let id = entity_id(&observed);
    let none = mapping::plan_extras(&board, &id, &want, None, &SyncedItem::default());
    assert!(none.is_empty(), "nothing before the item exists");
    let steps = mapping::plan_extras(&board, &id, &want, Some("7"), &SyncedItem::default());
    let [step] = &steps[..] else {
        panic!("{steps:#?}")
    };
    assert!(
        matches!(&step.command, MondayCommand::AddFile { column_id, call_id, .. }
        if column_id == "recording_file" && *call_id == id)
    );
    let mut synced = SyncedItem::default();
    step.effect.clone().settle(&mut synced);
    assert!(mapping::plan_extras(&board, &id, &want, Some("7"), &synced).is_empty());
}
