//! The named fields of a call or a contact that columns and templates can use. The lists
//! below are the contract with the operator: the README documents them, and
//! `Rules::compile` refuses a configuration that names anything else.
//! (Over 300 lines: the field lists are that contract, kept next to the code that fills them.)

use std::collections::BTreeMap;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::boards::LinkPreference;
use super::observed::{CallState, ContactState, Phase};
use super::phone::{self, Phone};

/// A field's value, typed so each column kind can encode it properly.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Text(String),
    Number(i64),
    /// UNIX seconds, UTC.
    Time(i64),
    Phone(Phone),
    /// Several names (tags): a dropdown column takes them all, a status column the first that
    /// has a label, text reads them comma separated.
    List(Vec<String>),
    /// Results by name, in Aircall's order (custom summaries by template insight name): the
    /// whole reads "name: content" lines, `field.<name>` picks one (see [`lookup`]).
    Named(Vec<(String, String)>),
}

impl FieldValue {
    /// How the value reads in a template or a text column.
    pub fn to_text(&self) -> String {
        match self {
            FieldValue::Text(s) => s.clone(),
            FieldValue::Number(n) => n.to_string(),
            FieldValue::Time(t) => OffsetDateTime::from_unix_timestamp(*t)
                .ok()
                .and_then(|t| t.format(&Rfc3339).ok())
                .unwrap_or_default(),
            FieldValue::Phone(p) => p.e164.clone(),
            FieldValue::List(items) => items.join(", "),
            FieldValue::Named(results) => {
                let lines: Vec<String> = results.iter().map(|(n, c)| format!("{n}: {c}")).collect();
                lines.join("\n")
            }
        }
    }

    /// The result named `name` of a named field. Names are matched as the operator is likely
    /// to type them from Aircall's template editor: trimmed, and in any case when no result
    /// has the exact name.
    pub fn named(&self, name: &str) -> Option<&str> {
        let FieldValue::Named(results) = self else {
            return None;
        };
        let name = name.trim();
        let exact = results.iter().find(|(n, _)| n.trim() == name);
        exact
            .or_else(|| {
                results
                    .iter()
                    .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            })
            .map(|(_, content)| content.as_str())
    }
}

/// The fields that hold results by name, so that `<field>.<name>` is a field of its own.
pub const NAMED_FIELDS: &[&str] = &["custom_summary"];

/// `custom_summary.Budget` → `("custom_summary", "Budget")`: a named field and the result's
/// name (which may itself hold dots or spaces). `None` for a plain field name.
pub fn split_named(field: &str) -> Option<(&str, &str)> {
    let (base, name) = field.split_once('.')?;
    NAMED_FIELDS.contains(&base).then_some((base, name))
}

/// A configured field's value: a plain field, or one result of a named field.
pub fn lookup(fields: &Fields, field: &str) -> Option<FieldValue> {
    match split_named(field) {
        Some((base, name)) => {
            let content = fields.get(base)?.named(name)?;
            Some(FieldValue::Text(content.to_string()))
        }
        None => fields.get(field).cloned(),
    }
}

pub type Fields = BTreeMap<&'static str, FieldValue>;

/// Every field a call has, with what it means (the README's table is generated from this).
pub const CALL_FIELDS: &[(&str, &str)] = &[
    ("id", "Aircall call id"),
    ("direction", "inbound or outbound"),
    ("status", "Aircall's status: initial, answered or done"),
    ("outcome", "ringing, in_progress, answered, transferred, missed, unanswered (outbound), abandoned, voicemail"),
    ("missed_call_reason", "Aircall's reason for a missed inbound call, e.g. agents_did_not_answer"),
    ("phone", "the other party's number in E.164 (empty for anonymous callers)"),
    ("phone_country", "ISO country of that number, e.g. FR"),
    ("raw_digits", "the number as Aircall wrote it, or \"anonymous\""),
    ("counterpart", "the contact's name, else the number, else \"Anonymous\""),
    ("started_at", "when the call started (date columns; RFC 3339 in text)"),
    ("answered_at", "when it was answered"),
    ("ended_at", "when it ended"),
    ("duration", "seconds from start to end, ringing included (Aircall's duration)"),
    ("talk_time", "seconds from answer to end"),
    ("agent_name", "the Aircall user who took or made the call"),
    ("agent_email", "that user's email"),
    ("line_name", "the Aircall number's name, e.g. \"Paris Sales\""),
    ("line_number", "the Aircall number in E.164"),
    ("contact_id", "Aircall contact id of the other party, when known"),
    ("contact_name", "that contact's name"),
    ("contact_company", "that contact's company"),
    ("contact_email", "that contact's first email"),
    ("contact_item", "the contact's item on the (first) contact board once it exists, for a board_relation column"),
    ("recording", "the recording link, per the board's recording_link preference"),
    ("recording_url", "the direct recording MP3 URL (expires after about an hour)"),
    ("recording_short_url", "the short recording URL (expires after a few hours)"),
    ("voicemail", "the voicemail link, per the board's recording_link preference"),
    ("voicemail_url", "the direct voicemail MP3 URL"),
    ("voicemail_short_url", "the short voicemail URL"),
    ("asset_url", "Aircall's permanent page for the recording or voicemail (needs a login)"),
    ("tags", "tag names (comma separated in text; every tag in a dropdown or tags column; the first with a label in a status column)"),
    ("archived", "\"yes\" when the call is archived in Aircall, else empty"),
    ("assigned_to_name", "the user the call is assigned to"),
    ("transferred_to_name", "the user the call was transferred to"),
    ("external_transferred_to", "the external number the call was transferred to"),
    ("teams", "teams the call was routed to, comma separated"),
    ("comments_count", "number of notes on the call"),
    ("summary", "Aircall's AI call summary (AI Assist; fetched after summary.created)"),
    ("custom_summary", "the custom summary results (AI Assist Pro), \"name: content\" lines; `custom_summary.<template insight name>` is one result (a column's field, or `{{ custom_summary[\"Next steps\"] }}` in a template)"),
    ("sentiment", "the caller's sentiment: positive, neutral or negative (AI Assist)"),
    ("topics", "the call's AI topics (a list, like tags: every topic in a dropdown or tags column, comma separated in text)"),
    ("action_items", "the AI action items, one per line (AI Assist)"),
    ("transcript", "the transcript as \"Agent: text\" / \"Caller: text\" lines (AI Assist)"),
    ("insights", "what became of the AI insights: fetched, not_generated or no_ai_assist (empty before any AI event)"),
];

pub const CONTACT_FIELDS: &[(&str, &str)] = &[
    ("id", "Aircall contact id"),
    ("name", "first and last name"),
    ("first_name", "first name"),
    ("last_name", "last name"),
    ("company", "company name"),
    ("information", "free-text information"),
    ("phone", "first phone number in E.164"),
    ("phone_country", "ISO country of that number"),
    ("phones", "all phone numbers in E.164, comma separated"),
    ("email", "first email address"),
    ("emails", "all email addresses, comma separated"),
    ("created_at", "when the contact was created"),
    ("updated_at", "when it was last updated"),
    ("deleted", "\"yes\" once the contact is deleted"),
];

/// What a finished (or still running) call came to, for status columns.
pub fn outcome(state: &CallState) -> &'static str {
    let call = &state.call;
    match state.phase {
        Phase::Ringing => "ringing",
        Phase::InProgress => "in_progress",
        Phase::Ended => {
            if call.voicemail.is_some()
                || call.voicemail_short_url.is_some()
                || state.seen.contains("call.voicemail_left")
            {
                "voicemail"
            } else if call.answered_at.is_some() || call.status.as_deref() == Some("answered") {
                let transferred = ["call.transferred", "call.external_transferred"]
                    .iter()
                    .any(|e| state.seen.contains(*e))
                    || call.transferred_to.is_some()
                    || call.external_transferred_to.is_some();
                if transferred {
                    "transferred"
                } else {
                    "answered"
                }
            } else if matches!(
                call.missed_call_reason.as_deref(),
                Some("short_abandoned" | "abandoned_in_ivr" | "abandoned_in_classic")
            ) {
                "abandoned"
            } else if call.direction.as_deref() == Some("outbound") {
                "unanswered"
            } else {
                "missed"
            }
        }
    }
}

pub fn call_fields(state: &CallState, links: LinkPreference) -> Fields {
    let c = &state.call;
    let mut f = Fields::new();
    let text = |f: &mut Fields, k: &'static str, v: Option<&str>| {
        if let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) {
            f.insert(k, FieldValue::Text(v.to_string()));
        }
    };
    f.insert("id", FieldValue::Number(state.id as i64));
    text(&mut f, "direction", c.direction.as_deref());
    text(&mut f, "status", c.status.as_deref());
    f.insert("outcome", FieldValue::Text(outcome(state).into()));
    text(
        &mut f,
        "missed_call_reason",
        c.missed_call_reason.as_deref(),
    );
    text(&mut f, "raw_digits", c.raw_digits.as_deref());
    let phone = c.raw_digits.as_deref().and_then(phone::normalise);
    if let Some(p) = &phone {
        text(&mut f, "phone_country", p.country.as_deref());
        f.insert("phone", FieldValue::Phone(p.clone()));
    }
    for (k, v) in [
        ("started_at", c.started_at),
        ("answered_at", c.answered_at),
        ("ended_at", c.ended_at),
    ] {
        if let Some(t) = v {
            f.insert(k, FieldValue::Time(t));
        }
    }
    if let (Some(_), Some(d)) = (c.ended_at, c.duration) {
        f.insert("duration", FieldValue::Number(d));
    }
    if let (Some(a), Some(e)) = (c.answered_at, c.ended_at) {
        f.insert("talk_time", FieldValue::Number((e - a).max(0)));
    }
    if let Some(u) = &c.user {
        text(&mut f, "agent_name", u.name.as_deref());
        text(&mut f, "agent_email", u.email.as_deref());
    }
    if let Some(line) = &c.number {
        text(&mut f, "line_name", line.name.as_deref());
        let digits = line.e164_digits.as_deref().or(line.digits.as_deref());
        let line_phone = digits.and_then(phone::normalise).map(|p| p.e164);
        text(&mut f, "line_number", line_phone.as_deref());
    }
    let contact = c.contact.as_ref();
    if let Some(id) = contact.and_then(|k| k.id) {
        f.insert("contact_id", FieldValue::Number(id as i64));
    }
    let contact_name = contact.and_then(|k| k.full_name());
    text(&mut f, "contact_name", contact_name.as_deref());
    text(&mut f, "contact_company", contact.and_then(|k| k.company()));
    text(
        &mut f,
        "contact_email",
        contact.and_then(|k| k.email_addresses().next()),
    );
    let counterpart = contact_name
        .or_else(|| phone.as_ref().map(|p| p.e164.clone()))
        .unwrap_or_else(|| "Anonymous".into());
    f.insert("counterpart", FieldValue::Text(counterpart));
    text(&mut f, "recording_url", c.recording.as_deref());
    text(
        &mut f,
        "recording_short_url",
        c.recording_short_url.as_deref(),
    );
    text(&mut f, "voicemail_url", c.voicemail.as_deref());
    text(
        &mut f,
        "voicemail_short_url",
        c.voicemail_short_url.as_deref(),
    );
    text(&mut f, "asset_url", c.asset.as_deref());
    let has_recording = c.recording.is_some() || c.recording_short_url.is_some();
    let has_voicemail = c.voicemail.is_some() || c.voicemail_short_url.is_some();
    let asset = c.asset.as_deref();
    let pick = |direct: Option<&str>, short: Option<&str>| -> Option<String> {
        let order = match links {
            LinkPreference::Asset => [asset, short, direct],
            LinkPreference::Short => [short, direct, asset],
            LinkPreference::Direct => [direct, short, asset],
        };
        order.into_iter().flatten().next().map(str::to_string)
    };
    // The asset page serves whichever of the two exists, so it only counts for that one.
    if has_recording || (asset.is_some() && !has_voicemail) {
        let link = pick(c.recording.as_deref(), c.recording_short_url.as_deref());
        text(&mut f, "recording", link.as_deref());
    }
    if has_voicemail {
        let link = pick(c.voicemail.as_deref(), c.voicemail_short_url.as_deref());
        text(&mut f, "voicemail", link.as_deref());
    }
    let tags: Vec<String> = c
        .tags
        .iter()
        .flatten()
        .filter_map(|t| t.name.as_deref().map(str::trim))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    if !tags.is_empty() {
        f.insert("tags", FieldValue::List(tags));
    }
    if c.archived == Some(true) {
        text(&mut f, "archived", Some("yes"));
    }
    text(
        &mut f,
        "assigned_to_name",
        c.assigned_to.as_ref().and_then(|u| u.name.as_deref()),
    );
    text(
        &mut f,
        "transferred_to_name",
        c.transferred_to.as_ref().and_then(|u| u.name.as_deref()),
    );
    text(
        &mut f,
        "external_transferred_to",
        c.external_transferred_to.as_deref(),
    );
    let teams: Vec<&str> = c
        .teams
        .iter()
        .flatten()
        .filter_map(|t| t.name.as_deref())
        .collect();
    text(&mut f, "teams", Some(&teams.join(", ")));
    f.insert(
        "comments_count",
        FieldValue::Number(state.comments.len() as i64),
    );
    super::insights::fields(&mut f, &state.ai);
    f
}

pub fn contact_fields(state: &ContactState) -> Fields {
    let k = &state.contact;
    let mut f = Fields::new();
    let text = |f: &mut Fields, key: &'static str, v: Option<&str>| {
        if let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) {
            f.insert(key, FieldValue::Text(v.to_string()));
        }
    };
    f.insert("id", FieldValue::Number(state.id as i64));
    text(&mut f, "name", k.full_name().as_deref());
    text(&mut f, "first_name", k.first_name.as_deref());
    text(&mut f, "last_name", k.last_name.as_deref());
    text(&mut f, "company", k.company());
    text(&mut f, "information", k.information.as_deref());
    let phones: Vec<Phone> = k.phones().filter_map(phone::normalise).collect();
    if let Some(first) = phones.first() {
        text(&mut f, "phone_country", first.country.as_deref());
        f.insert("phone", FieldValue::Phone(first.clone()));
    }
    let all: Vec<&str> = phones.iter().map(|p| p.e164.as_str()).collect();
    text(&mut f, "phones", Some(&all.join(", ")));
    let emails: Vec<&str> = k.email_addresses().collect();
    text(&mut f, "email", emails.first().copied());
    text(&mut f, "emails", Some(&emails.join(", ")));
    for (key, v) in [("created_at", k.created_at), ("updated_at", k.updated_at)] {
        if let Some(t) = v {
            f.insert(key, FieldValue::Time(t));
        }
    }
    if state.deleted() {
        text(&mut f, "deleted", Some("yes"));
    }
    f
}
