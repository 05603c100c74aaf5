//! Comments → updates: one update per comment id, never twice, never before the item exists.

use aircall_monday_bridge::config::Entity;
use aircall_monday_bridge::mapping::{self, MondayCommand, Observed};
use serde_json::json;

use crate::helpers::*;

fn bodies(commands: &[MondayCommand]) -> Vec<String> {
    commands
        .iter()
        .map(|c| match c {
            MondayCommand::CreateUpdate { body, .. } => body.clone(),
            other => panic!("expected create_update, got {other:?}"),
        })
        .collect()
}

/// Replays the fixture the way the worker does and collects every update posted.
fn replay(rules: &Rules, envelopes: &[Envelope], link: &mut Link) -> Vec<MondayCommand> {
    let board = the_board(rules, Entity::Call);
    let mut observed: Option<Observed> = None;
    let mut posted = Vec::new();
    for e in envelopes {
        let state = fold_onto(Entity::Call, observed.take(), [e]);
        sync(rules, &board, &state, link);
        posted.extend(sync_updates(rules, &board, &state, link));
        observed = Some(state);
    }
    posted
}

use aircall_monday_bridge::mapping::Rules;

#[test]
fn each_comment_is_posted_once_even_when_redelivered_or_replayed() {
    let rules = rules();
    let envelopes = fixture("tagged_commented_after_end.json");
    let mut link = Link::default();
    let posted = replay(&rules, &envelopes, &mut link);
    assert_eq!(
        bodies(&posted),
        [
            "Wants 25 seats, decision by end of month. Send pricing for annual plan. — Priya Shah",
            "Follow-up call booked for Tue 10am PST — Marcus to take over. — Marcus Reed",
        ]
    );
    // The whole call delivered again, and the comment events once more: nothing new.
    let again = replay(&rules, &envelopes, &mut link);
    assert!(again.is_empty(), "{again:?}");
    let keys: Vec<&str> = posted.iter().map(|c| c.idempotency_key()).collect();
    assert_ne!(keys[0], keys[1], "one idempotency key per comment");
}

#[test]
fn a_comment_before_the_item_waits_for_the_create() {
    let rules = rules();
    let board = the_board(&rules, Entity::Call);
    let envelopes = fixture("tagged_commented_after_end.json");
    let state = fold(Entity::Call, &envelopes);
    let want = desired(&rules, board.0, &state);
    assert_eq!(want.updates.len(), 2);
    let synced = Default::default();
    assert!(mapping::plan_updates(&board.1, &want, None, &synced).is_empty());
    let steps = mapping::plan_updates(&board.1, &want, Some("42"), &synced);
    assert_eq!(steps.len(), 2);
    assert!(
        matches!(&steps[0].command, MondayCommand::CreateUpdate { item_id, .. } if item_id == "42")
    );
}

#[test]
fn update_bodies_are_html_escaped_with_line_breaks() {
    let rules = rules();
    let board = the_board(&rules, Entity::Call);
    let data = json!({
        "id": 77, "direction": "inbound", "status": "done",
        "comments": [
            {"id": 2, "content": "<b>25 seats</b> & \"annual\"\nCall back Tuesday", "posted_at": "1795200976",
             "posted_by": {"id": 1, "name": "Ana <Ops>"}},
            {"id": 1, "content": "first, posted by the API", "posted_at": 1795200900, "posted_by": null},
            {"id": 3, "content": "   "}
        ]
    });
    let state = fold(
        Entity::Call,
        &[envelope("call.commented", 1795200977, data)],
    );
    let want = desired(&rules, board.0, &state);
    let bodies: Vec<&str> = want.updates.iter().map(|u| u.body.as_str()).collect();
    assert_eq!(
        bodies,
        [
            "first, posted by the API",
            "&lt;b&gt;25 seats&lt;&#x2f;b&gt; &amp; &quot;annual&quot;<br>Call back Tuesday — Ana &lt;Ops&gt;",
        ],
        "oldest first, escaped, the empty note skipped"
    );
}

#[test]
fn comment_options_are_checked_at_start_up() {
    let unknown = rules_with(|t| {
        t.replacen(
            "comment_template = \"{{ content }}",
            "comment_template = \"{{ agent_name }}{{ content }}",
            1,
        )
    });
    let err = unknown.err().expect("an unknown comment field is refused");
    assert!(err.contains("boards[0].comment_template"), "{err}");
    assert!(err.contains("agent_name"), "{err}");

    let on_contacts = rules_with(|t| {
        t.replacen(
            "entity = \"contact\"",
            "entity = \"contact\"\ncomments_as_updates = true",
            1,
        )
    });
    let err = on_contacts
        .err()
        .expect("comments on a contact board are refused");
    assert!(err.contains("boards[1].comments_as_updates"), "{err}");

    let orphan = rules_with(|t| t.replacen("comments_as_updates = true\n", "", 1));
    let err = orphan
        .err()
        .expect("a template without comments_as_updates is refused");
    assert!(err.contains("boards[0].comment_template"), "{err}");
}
