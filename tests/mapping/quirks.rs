//! Aircall's payloads disagree with its docs and with themselves (aircall.md §2, §6, §8). Each
//! test pins one quirk with a plain assert that fails if the mapping stops handling it.
//!
//! Long on purpose: one test per quirk of Aircall's payloads, each short, listed together as
//! aircall.md lists them.

use aircall_monday_bridge::config::Entity;
use aircall_monday_bridge::mapping::{self, FieldValue, MondayCommand, Observed, SyncedItem};
use serde_json::{json, Value};

use super::helpers::*;

fn call_state(observed: &Observed) -> &mapping::CallState {
    match observed {
        Observed::Call(s) => s,
        Observed::Contact(_) => panic!("expected a call"),
    }
}

/// Renames keys of `data` (top level), e.g. to respell a payload.
fn respell(envelopes: &[Envelope], from: &str, to: &str) -> Vec<Envelope> {
    let mut out = envelopes.to_vec();
    for e in &mut out {
        let map = e.data.as_object_mut().unwrap();
        if let Some(v) = map.remove(from) {
            map.insert(to.into(), v);
        }
    }
    out
}

#[test]
fn transfered_spelling_reads_like_transferred() {
    let rules = rules();
    let envelopes = fixture("transfered_spelling.json");
    assert!(envelopes
        .iter()
        .all(|e| e.data.get("transferred_to").is_none()));
    let observed = fold(Entity::Call, &envelopes);
    assert_eq!(
        field(&rules, &observed, "transferred_to_name"),
        text("Harry Okafor")
    );
    let by = call_state(&observed).call.transferred_by.as_ref();
    assert_eq!(by.and_then(|u| u.name.as_deref()), Some("Olivia Bennett"));
    // The same payloads spelled as the docs spell them fold to the very same state.
    let docs = respell(&envelopes, "transfered_to", "transferred_to");
    let docs = respell(&docs, "transfered_by", "transferred_by");
    assert_eq!(fold(Entity::Call, &docs), observed);
}

#[test]
fn comment_posted_at_as_number_and_as_string_both_parse() {
    let envelopes = fixture("tagged_commented_after_end.json");
    let last = &envelopes.last().unwrap().data["comments"];
    assert!(last[0]["posted_at"].is_i64() && last[1]["posted_at"].is_string());
    let observed = fold(Entity::Call, &envelopes);
    let posted: Vec<Option<i64>> = call_state(&observed)
        .comments
        .values()
        .map(|c| c.posted_at)
        .collect();
    assert_eq!(posted, [Some(1795200894), Some(1795200976)]);
    let rules = rules();
    assert_eq!(
        field(&rules, &observed, "comments_count"),
        Some(FieldValue::Number(2))
    );
}

#[test]
fn contact_created_at_as_number_and_as_string_both_parse() {
    let rules = rules();
    let numeric = fixture("contact_numeric_dates.json");
    assert!(numeric[0].data["created_at"].is_i64());
    let created =
        |envelopes: &[Envelope]| field(&rules, &fold(Entity::Contact, envelopes), "created_at");
    assert_eq!(created(&numeric), Some(FieldValue::Time(1795191605)));
    // ISO string, as in contact_lifecycle.json: 2026-11-20T16:02:11Z.
    let iso = fixture("contact_lifecycle.json");
    assert_eq!(iso[0].data["created_at"], json!("2026-11-20T16:02:11Z"));
    assert_eq!(created(&iso[..1]), Some(FieldValue::Time(1795190531)));
    // The same moment as a numeric string and as an ISO string reads the same.
    for form in [json!("1795191605"), json!("2026-11-20T16:20:05Z")] {
        let mut e = numeric.clone();
        e[0].data["created_at"] = form.clone();
        assert_eq!(created(&e), Some(FieldValue::Time(1795191605)), "{form}");
    }
}

#[test]
fn anonymous_caller_has_no_phone_and_reads_anonymous() {
    let rules = rules();
    let envelopes = fixture("anonymous_caller.json");
    assert!(envelopes
        .iter()
        .all(|e| e.data["raw_digits"] == "anonymous"));
    let observed = fold(Entity::Call, &envelopes);
    assert_eq!(field(&rules, &observed, "phone"), None);
    assert_eq!(field(&rules, &observed, "counterpart"), text("Anonymous"));
    let (index, _) = the_board(&rules, Entity::Call);
    let item = desired(&rules, index, &observed);
    assert_eq!(item.name, "Inbound call with Anonymous");
    assert_eq!(item.columns["phone"], None);
}

/// aircall.md §2.2/§8: `user` is absent or null on missed calls and on many ringing, decline
/// and hangup events. A missed call has no agent (the agents it rang did not take it); an
/// agent once known is never blanked by a later payload without one.
#[test]
fn a_missing_user_never_blanks_a_known_agent() {
    let rules = rules();
    let (index, _) = the_board(&rules, Entity::Call);
    let missed = fixture("inbound_missed_no_voicemail.json");
    assert!(missed.iter().all(|e| e.data.get("user").is_none()));
    let item = desired(&rules, index, &fold(Entity::Call, &missed));
    assert_eq!(item.columns["agent"], None);
    // Rung but not answered: the agent rung (`call.ringing_on_agent`) did not take the call.
    for name in ["inbound_missed_voicemail.json", "abandoned_short.json"] {
        let envelopes = fixture(name);
        assert!(
            envelopes.iter().any(|e| e.data["user"].is_object()),
            "{name}"
        );
        let item = desired(&rules, index, &fold(Entity::Call, &envelopes));
        assert_eq!(item.columns["agent"], None, "{name}");
    }

    for (name, envelopes) in all_fixtures() {
        if entity_of(&envelopes) != Entity::Call {
            continue;
        }
        let mut state = None;
        let mut known: Option<Value> = None;
        for e in &envelopes {
            let next = fold_onto(Entity::Call, state.take(), [e]);
            let agent = desired(&rules, index, &next).columns["agent"].clone();
            if known.is_some() {
                assert!(agent.is_some(), "{name}: {} blanked the agent", e.event);
            }
            known = agent.or(known);
            state = Some(next);
        }
    }
    // The two payloads that drop the user after it was known: no key, and `null`.
    let answered = fixture("inbound_answered.json");
    assert!(answered[4].event == "call.hungup" && answered[4].data.get("user").is_none());
    let state = fold(Entity::Call, &answered[..5]);
    assert_eq!(field(&rules, &state, "agent_name"), text("Julien Moreau"));
    let anonymous = fixture("anonymous_caller.json");
    assert!(anonymous[3].event == "call.hungup" && anonymous[3].data["user"].is_null());
    let state = fold(Entity::Call, &anonymous[..4]);
    assert_eq!(field(&rules, &state, "agent_name"), text("Harry Okafor"));
}

/// The fold keeps the newest agent: after a transfer the agent is the one the call went to
/// (Priya), even when a newer payload without a `user` (`call.hungup`) arrived first and the
/// older `call.answered` (Marcus) after it. Today Marcus wins: `fill` lets a value replace
/// another only when its event is newer than *every* event folded so far (`fill_ts`), not
/// newer than the event behind the value it replaces.
#[test]
fn an_older_agent_does_not_override_a_newer_one() {
    let rules = rules();
    let e = fixture("transferred.json");
    let (answered, transferred, hungup) = (&e[2], &e[3], &e[4]);
    assert_eq!(answered.data["user"]["name"], "Marcus Reed");
    assert_eq!(transferred.data["user"]["name"], "Priya Shah");
    assert!(hungup.event == "call.hungup" && hungup.data.get("user").is_none());
    let in_order = fold(Entity::Call, [answered, transferred, hungup]);
    assert_eq!(field(&rules, &in_order, "agent_name"), text("Priya Shah"));
    let shuffled = fold(Entity::Call, [hungup, answered, transferred]);
    assert_eq!(field(&rules, &shuffled, "agent_name"), text("Priya Shah"));
}

/// One `call.ringing_on_agent` per agent rung (aircall.md §3.3): still one item per call.
#[test]
fn several_ringing_on_agent_make_one_item() {
    let rules = rules();
    let board = the_board(&rules, Entity::Call);
    let envelopes = fixture("inbound_answered.json");
    let ringing: Vec<&Envelope> = envelopes
        .iter()
        .filter(|e| e.event == "call.ringing_on_agent")
        .collect();
    assert_eq!(ringing.len(), 2);
    // With and without the `call.created` before them (it may be late or lost).
    for start in [0, 1] {
        let mut link = Link::default();
        let mut state = None;
        let mut creates = 0;
        for e in &envelopes[start..] {
            let next = fold_onto(Entity::Call, state.take(), [e]);
            let command = sync(&rules, &board, &next, &mut link);
            creates += matches!(command, Some(MondayCommand::CreateItem { .. })) as usize;
            state = Some(next);
        }
        assert_eq!(creates, 1, "starting at event {start}");
        assert_eq!(link.item_id.as_deref(), Some("1"));
    }
}

/// Keys the bridge reads anywhere in a Call (payload.rs); everything else is unknown to it.
const KNOWN: &[&str] = &[
    "id",
    "direction",
    "status",
    "missed_call_reason",
    "started_at",
    "answered_at",
    "ended_at",
    "duration",
    "raw_digits",
    "voicemail",
    "voicemail_short_url",
    "recording",
    "recording_short_url",
    "asset",
    "archived",
    "user",
    "contact",
    "number",
    "assigned_to",
    "transferred_by",
    "transferred_to",
    "external_transferred_to",
    "tags",
    "comments",
    "teams",
    "name",
    "email",
    "digits",
    "e164_digits",
    "country",
    "first_name",
    "last_name",
    "company_name",
    "company",
    "information",
    "phone_numbers",
    "emails",
    "created_at",
    "updated_at",
    "label",
    "value",
    "content",
    "posted_at",
    "posted_by",
];

fn strip_unknown(v: &mut Value) -> usize {
    match v {
        Value::Object(map) => {
            let before = map.len();
            map.retain(|k, _| KNOWN.contains(&k.as_str()));
            before - map.len() + map.values_mut().map(strip_unknown).sum::<usize>()
        }
        Value::Array(items) => items.iter_mut().map(strip_unknown).sum(),
        _ => 0,
    }
}

#[test]
fn extra_unknown_fields_are_ignored() {
    let rules = rules();
    let (index, _) = the_board(&rules, Entity::Call);
    let envelopes = fixture("extra_unknown_fields.json");
    let mut stripped = envelopes.clone();
    let removed: usize = stripped
        .iter_mut()
        .map(|e| strip_unknown(&mut e.data))
        .sum();
    assert!(
        removed > 50,
        "the fixture should carry many unknown keys, found {removed}"
    );
    let with = fold(Entity::Call, &envelopes);
    assert_eq!(
        desired(&rules, index, &with),
        desired(&rules, index, &fold(Entity::Call, &stripped))
    );
    // Nested objects with unknown keys (user, number) are still read.
    assert_eq!(field(&rules, &with, "agent_name"), text("Olivia Bennett"));
    assert_eq!(field(&rules, &with, "line_name"), text("UK Main Line"));
    assert_eq!(mapping::outcome(call_state(&with)), "answered");
}

/// A `contact.deleted` may carry only the id (aircall.md §9 q4): it archives an item that
/// exists, keeps the details it knew, and creates nothing when there is no item.
#[test]
fn id_only_contact_deletion_archives_or_does_nothing() {
    let rules = rules();
    let (index, board) = the_board(&rules, Entity::Contact);
    let deletion = fixture("contact_deleted_id_only.json");
    let gone = fold(Entity::Contact, &deletion);
    let want = desired(&rules, index, &gone);
    assert!(want.archived);
    let none = mapping::plan_item(&board, "98214530", &want, None, &SyncedItem::default());
    assert_eq!(
        none, None,
        "a contact deleted before it reached the board needs no item"
    );

    // Sophie Marchand, as `known_contact.json` shows her, created an hour before the deletion.
    let sophie = fixture("known_contact.json")[0].data["contact"].clone();
    assert_eq!(sophie["id"], deletion[0].data["id"]);
    let created = envelope("contact.created", deletion[0].timestamp - 3600, sophie);
    let contact_board = (index, board.clone());
    let mut link = Link::default();
    let state = fold(Entity::Contact, [&created]);
    let create = sync(&rules, &contact_board, &state, &mut link);
    assert!(matches!(create, Some(MondayCommand::CreateItem { .. })));
    let state = fold_onto(Entity::Contact, Some(state), &deletion);
    assert_eq!(field(&rules, &state, "name"), text("Sophie Marchand"));
    let archive = sync(&rules, &contact_board, &state, &mut link);
    match &archive {
        Some(MondayCommand::ArchiveItem {
            board_id, item_id, ..
        }) => {
            assert_eq!(
                (board_id.as_str(), item_id.as_str()),
                (board.board_id.as_str(), "1")
            )
        }
        other => panic!("expected ArchiveItem, got {other:?}"),
    }
    assert!(link.synced.archived);
    assert_eq!(
        sync(&rules, &contact_board, &state, &mut link),
        None,
        "archived once"
    );
}

/// aircall.md §2.2: `duration` is `ended_at - started_at` (ringing included); talk time is
/// `ended_at - answered_at`; with `recording_link = "asset"` the link is the asset page.
#[test]
fn durations_and_links_follow_aircall_definitions() {
    let rules = rules();
    let (index, _) = the_board(&rules, Entity::Call);
    for (name, envelopes) in all_fixtures() {
        if entity_of(&envelopes) != Entity::Call {
            continue;
        }
        let item = desired(&rules, index, &fold(Entity::Call, &envelopes));
        let last = &envelopes.last().unwrap().data;
        let secs = |k: &str| last[k].as_i64();
        let number = |n: i64| Some(json!(n.to_string()));
        let (started, ended) = (secs("started_at").unwrap(), secs("ended_at").unwrap());
        assert_eq!(item.columns["duration"], number(ended - started), "{name}");
        let talk = secs("answered_at").map(|a| ended - a).and_then(number);
        assert_eq!(item.columns["talk_time"], talk, "{name}");
        let link = |text: &str| json!({"url": last["asset"], "text": text});
        let has_voicemail = last["voicemail"].is_string();
        let recording = (last["asset"].is_string() && !has_voicemail).then(|| link("Recording"));
        let voicemail = has_voicemail.then(|| link("Voicemail"));
        assert_eq!(item.columns["recording"], recording, "{name}");
        assert_eq!(item.columns["voicemail"], voicemail, "{name}");
    }
}

/// Tags go to a dropdown column by name, every one of them; untagging removes the label.
#[test]
fn tags_fill_a_dropdown_by_name_and_untagging_removes_them() {
    let rules = rules();
    let (index, _) = the_board(&rules, Entity::Call);
    let e = fixture("tagged_commented_after_end.json");
    let tagged = e.iter().position(|x| x.event == "call.tagged").unwrap();
    let both = desired(&rules, index, &fold(Entity::Call, &e[..=tagged]));
    assert_eq!(
        both.columns["tag_list"],
        Some(serde_json::json!({"labels": ["Qualified lead", "Demo requested"]}))
    );
    let after = desired(&rules, index, &fold(Entity::Call, &e));
    assert_eq!(
        after.columns["tag_list"],
        Some(serde_json::json!({"labels": ["Qualified lead"]}))
    );
    let none = desired(&rules, index, &fold(Entity::Call, &e[..1]));
    assert_eq!(none.columns["tag_list"], None);
}
