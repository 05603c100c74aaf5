//! Routing: which call boards mirror a call, which group its item goes to, and when it moves.

use aircall_monday_bridge::config::Entity;
use aircall_monday_bridge::mapping::{self, Effect, MondayCommand, SyncedItem};

use crate::helpers::*;

#[test]
fn a_missed_call_is_created_in_calls_then_moves_to_call_back_once() {
    let rules = rules();
    let board = the_board(&rules, Entity::Call);
    let envelopes = fixture("inbound_missed_no_voicemail.json");
    let ringing = fold(Entity::Call, &envelopes[..1]);
    let mut link = Link::default();
    match sync(&rules, &board, &ringing, &mut link) {
        Some(MondayCommand::CreateItem { group_id, .. }) => {
            assert_eq!(group_id.as_deref(), Some("calls"))
        }
        other => panic!("expected a create, got {other:?}"),
    }
    let ended = fold(Entity::Call, &envelopes);
    sync(&rules, &board, &ended, &mut link);
    let then = sync_updates(&rules, &board, &ended, &mut link);
    assert!(
        matches!(then.as_slice(), [MondayCommand::MoveItemToGroup { group_id, .. }] if group_id == "call_back"),
        "{then:?}"
    );
    assert_eq!(link.synced.group.as_deref(), Some("call_back"));
    // Redelivered: already there, nothing to move.
    assert!(sync_updates(&rules, &board, &ended, &mut link).is_empty());
}

#[test]
fn a_person_s_move_survives_until_the_route_changes() {
    let rules = rules();
    let (index, board) = the_board(&rules, Entity::Call);
    let envelopes = fixture("inbound_answered.json");
    let answered = fold(Entity::Call, &envelopes);
    let want = desired(&rules, index, &answered);
    assert_eq!(want.group.as_deref(), Some("calls"));
    // The bridge last put it in "calls"; a person dragged it elsewhere on the board: the bridge
    // does not know and does not care, since the route did not change.
    let synced = SyncedItem {
        group: Some("calls".into()),
        ..SyncedItem::default()
    };
    assert!(mapping::plan_extras(&board, "1", &want, Some("9"), &synced).is_empty());
    // Items synced before routing existed count as being in the board's group.
    assert!(mapping::plan_extras(&board, "1", &want, Some("9"), &SyncedItem::default()).is_empty());
}

#[test]
fn board_filters_and_route_conditions() {
    let rules = rules_with(|t| {
        t.replacen(
            "comments_as_updates = true",
            "comments_as_updates = true\nwhen = { direction = \"inbound\", line_number = [\"0033 1 99 00 42 10\", \"+44 20 7946 0123\"] }",
            1,
        )
        .replacen(
            "[[boards.routes]]",
            "[[boards.routes]]\ngroup_id = \"paris\"\nwhen = { line_name = \"paris sales\", team = [\"Nobody\"] }\n\n[[boards.routes]]\ngroup_id = \"london\"\nwhen = { line_name = \"LONDON SUPPORT\", outcome = \"ringing\" }\n\n[[boards.routes]]",
            1,
        )
    })
    .unwrap();
    let (index, board) = the_board(&rules, Entity::Call);
    let state = |name: &str, n: usize| {
        let e = fixture(name);
        fold(Entity::Call, &e[..n.min(e.len())])
    };
    // Outbound: left out by `when`, no item at all.
    let outbound = desired(&rules, index, &state("outbound_unanswered.json", 99));
    assert!(!outbound.wanted);
    assert!(mapping::plan_item(&board, "1", &outbound, None, &SyncedItem::default()).is_none());
    // Paris line written "0033 ..." matches; the Paris route needs a team it lacks: default.
    let paris = desired(&rules, index, &state("inbound_answered.json", 99));
    assert!(paris.wanted);
    assert_eq!(paris.group.as_deref(), Some("calls"));
    // London while ringing: its own route (first match wins over call_back later).
    let london = desired(&rules, index, &state("inbound_missed_voicemail.json", 1));
    assert_eq!(london.group.as_deref(), Some("london"));
    let ended = desired(&rules, index, &state("inbound_missed_voicemail.json", 99));
    assert_eq!(ended.group.as_deref(), Some("call_back"));
}

#[test]
fn a_move_is_recorded_only_when_monday_applied_it() {
    let mut synced = SyncedItem::default();
    Effect::Moved("call_back".into()).settle(&mut synced);
    // A later column change keeps the group the move recorded.
    Effect::Item(SyncedItem::default()).settle(&mut synced);
    assert_eq!(synced.group.as_deref(), Some("call_back"));
}

#[test]
fn routing_options_are_checked_at_start_up() {
    let bad_outcome = rules_with(|t| t.replacen("outcome = [\"missed\"", "outcome = [\"lost\"", 1));
    let err = bad_outcome.err().expect("an unknown outcome is refused");
    assert!(err.contains("boards[0].routes[0].when.outcome"), "{err}");
    assert!(err.contains("lost"), "{err}");

    let no_condition = rules_with(|t| {
        t.replacen(
            "when = { outcome = [\"missed\", \"abandoned\", \"voicemail\"], direction = \"inbound\" }",
            "when = {}",
            1,
        )
    });
    let err = no_condition
        .err()
        .expect("a route without condition is refused");
    assert!(err.contains("boards[0].routes[0].when"), "{err}");

    let on_contacts = rules_with(|t| {
        t.replacen(
            "entity = \"contact\"",
            "entity = \"contact\"\nwhen = { direction = \"inbound\" }",
            1,
        )
    });
    let err = on_contacts
        .err()
        .expect("a filter on a contact board is refused");
    assert!(err.contains("boards[1].when"), "{err}");

    let typo = rules_with(|t| {
        t.replacen(
            "comments_as_updates = true",
            "comments_as_updates = true\nwhen = { directoin = \"inbound\" }",
            1,
        )
    });
    assert!(typo.is_err(), "an unknown condition is refused");
}
