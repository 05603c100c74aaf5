//! Observed state: the events of one call or contact folded into one record.
//!
//! The fold is monotonic so that duplicates and delivery order do not matter: a call's
//! progress only moves forward, links and times fill in and are never erased by a thinner
//! payload, and the fields that may legitimately go back (tags, archived, a contact's details)
//! take the value of the payload with the newest envelope timestamp (ties: the later arrival).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::insights::Insights;
use crate::aircall::insights::{self, Resource};
use crate::aircall::{Call, Comment, Contact};

/// How far a call has got. Ordered: a call never goes back to an earlier phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    #[default]
    Ringing,
    InProgress,
    Ended,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallState {
    pub id: u64,
    pub phase: Phase,
    /// The merged call: every field holds the best value seen so far.
    pub call: Call,
    /// Event names seen (`call.voicemail_left`, `call.transferred`, ...).
    pub seen: BTreeSet<String>,
    /// Comments by id (as a string: JSON object keys are strings), so a redelivered or
    /// replayed comment is one comment.
    pub comments: BTreeMap<String, Comment>,
    /// Envelope timestamp behind `call.tags` and `call.archived`.
    pub changeable_ts: i64,
    /// Per field, the envelope timestamp of the payload its value came from, so that a late
    /// older payload cannot replace a newer value (links, people).
    pub stamps: BTreeMap<String, i64>,
    /// Conversation Intelligence: what AI events asked for and what was fetched.
    #[serde(default, skip_serializing_if = "Insights::is_empty")]
    pub ai: Insights,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContactState {
    pub id: u64,
    pub contact: Contact,
    /// Envelope timestamp behind `contact`'s details.
    pub details_ts: i64,
    /// Newest `contact.created`/`updated` and newest `contact.deleted`.
    pub upserted_ts: Option<i64>,
    pub deleted_ts: Option<i64>,
}

impl ContactState {
    /// Deleted unless a newer event says otherwise (a tie stays deleted).
    pub fn deleted(&self) -> bool {
        match (self.deleted_ts, self.upserted_ts) {
            (Some(d), Some(u)) => d >= u,
            (Some(_), None) => true,
            _ => false,
        }
    }
}

/// The state of one entity, as the store keeps it between events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
// One value per reconcile, never in a hot collection: the size difference does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Observed {
    Call(CallState),
    Contact(ContactState),
}

/// One delivery as the fold sees it.
pub struct EventInput<'a> {
    pub event: &'a str,
    pub timestamp: i64,
    pub data: &'a serde_json::Value,
}

impl CallState {
    pub fn apply(&mut self, ev: &EventInput<'_>) -> Result<(), serde_json::Error> {
        // An AI event is a trigger about the call, not a Call object (its `id`, if any, is
        // the insight's): it only says which resource to fetch.
        if let Some(resource) = Resource::of_event(ev.event) {
            if let Some(id) = insights::call_id(ev.data) {
                self.id = id;
            }
            self.ai.want(resource, ev.timestamp);
            return Ok(());
        }
        let new = Call::from_data(ev.data)?;
        if let Some(id) = new.id {
            self.id = id;
        }
        self.seen.insert(ev.event.to_string());
        let ts = ev.timestamp;
        let stamps = &mut self.stamps;
        let c = &mut self.call;
        // Facts that do not change once known: keep the first value, take a missing one.
        keep_first(&mut c.direction, new.direction);
        keep_first(&mut c.started_at, new.started_at);
        keep_first(&mut c.answered_at, new.answered_at);
        keep_first(&mut c.ended_at, new.ended_at);
        keep_first(&mut c.raw_digits, new.raw_digits);
        keep_first(&mut c.missed_call_reason, new.missed_call_reason);
        keep_first(&mut c.number, new.number);
        keep_first(&mut c.external_transferred_to, new.external_transferred_to);
        c.duration = c.duration.max(new.duration);
        if status_rank(new.status.as_deref()) > status_rank(c.status.as_deref()) {
            c.status = new.status;
        }
        // Links expire and people change hands (transfers): the newest non-empty value wins.
        for (name, mine, theirs) in [
            ("recording", &mut c.recording, new.recording),
            (
                "recording_short_url",
                &mut c.recording_short_url,
                new.recording_short_url,
            ),
            ("voicemail", &mut c.voicemail, new.voicemail),
            (
                "voicemail_short_url",
                &mut c.voicemail_short_url,
                new.voicemail_short_url,
            ),
            ("asset", &mut c.asset, new.asset),
        ] {
            fill(stamps, name, mine, theirs, ts);
        }
        // On these events `user` is the agent being rung or declining, not the call's agent:
        // a call nobody answered has no agent.
        if !matches!(ev.event, "call.ringing_on_agent" | "call.agent_declined") {
            fill(stamps, "user", &mut c.user, new.user, ts);
        }
        fill(stamps, "contact", &mut c.contact, new.contact, ts);
        fill(
            stamps,
            "assigned_to",
            &mut c.assigned_to,
            new.assigned_to,
            ts,
        );
        fill(
            stamps,
            "transferred_by",
            &mut c.transferred_by,
            new.transferred_by,
            ts,
        );
        fill(
            stamps,
            "transferred_to",
            &mut c.transferred_to,
            new.transferred_to,
            ts,
        );
        fill(stamps, "teams", &mut c.teams, new.teams, ts);
        // Tags and archived can go back: the payload with the newest timestamp decides.
        if ev.timestamp >= self.changeable_ts {
            let mut changed = false;
            if new.tags.is_some() {
                c.tags = new.tags;
                changed = true;
            }
            if new.archived.is_some() {
                c.archived = new.archived;
                changed = true;
            }
            if changed {
                self.changeable_ts = ev.timestamp;
            }
        }
        for comment in new.comments.into_iter().flatten() {
            if let Some(id) = comment.id {
                self.comments.entry(id.to_string()).or_insert(comment);
            }
        }
        self.phase = self.phase.max(phase_of(ev.event, c));
        Ok(())
    }
}

impl ContactState {
    pub fn apply(&mut self, ev: &EventInput<'_>) -> Result<(), serde_json::Error> {
        let new: Contact = serde_json::from_value(ev.data.clone())?;
        if let Some(id) = new.id {
            self.id = id;
        }
        let deleting = ev.event == "contact.deleted";
        let newest =
            |ts: &mut Option<i64>| *ts = Some(ts.map_or(ev.timestamp, |t| t.max(ev.timestamp)));
        if deleting {
            newest(&mut self.deleted_ts);
        } else {
            newest(&mut self.upserted_ts);
        }
        // An id-only payload (a deletion) says nothing about the details.
        let has_details = new
            != Contact {
                id: new.id,
                ..Contact::default()
            };
        if has_details && ev.timestamp >= self.details_ts {
            self.contact = new;
            self.details_ts = ev.timestamp;
        }
        Ok(())
    }
}

fn keep_first<T>(mine: &mut Option<T>, theirs: Option<T>) {
    if mine.is_none() {
        *mine = theirs;
    }
}

/// Takes a present value when the field is empty or the value is at least as new as the one
/// it replaces (ties: the later arrival).
fn fill<T>(
    stamps: &mut BTreeMap<String, i64>,
    field: &str,
    mine: &mut Option<T>,
    theirs: Option<T>,
    ts: i64,
) {
    if theirs.is_none() {
        return;
    }
    let stamp = stamps.get(field).copied();
    if mine.is_none() || stamp.is_none_or(|s| ts >= s) {
        *mine = theirs;
        stamps.insert(field.to_string(), ts);
    }
}

fn status_rank(status: Option<&str>) -> u8 {
    match status {
        Some("done") => 3,
        Some("answered") => 2,
        Some("initial") => 1,
        _ => 0,
    }
}

fn phase_of(event: &str, call: &Call) -> Phase {
    let ended = call.ended_at.is_some()
        || call.status.as_deref() == Some("done")
        || matches!(
            event,
            "call.hungup" | "call.ended" | "call.comm_assets_generated" | "call.voicemail_left"
        );
    if ended {
        Phase::Ended
    } else if call.answered_at.is_some()
        || call.status.as_deref() == Some("answered")
        || event == "call.answered"
    {
        Phase::InProgress
    } else {
        Phase::Ringing
    }
}
