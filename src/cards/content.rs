//! What an insight card says: pure, from what the store knows of the caller. The body is
//! Aircall's `{"contents": [...]}` of one `title` (linked to the monday item) and `shortText`
//! lines (shared/reference/aircall-ai-and-insight-cards.md §3.1). Aircall documents no length
//! limit; its phone app shows narrow lines, so labels and values are cut to what fits (§3.2).

use serde::Serialize;
use time::OffsetDateTime;

/// One line of a card, as Aircall takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub enum Line {
    #[serde(rename = "title")]
    Title {
        text: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        link: Option<String>,
    },
    #[serde(rename = "shortText")]
    ShortText { label: String, text: String },
}

/// The body of `POST /v1/calls/{id}/insight_cards`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Card {
    pub contents: Vec<Line>,
}

/// The caller as the bridge knows them, looked up in its own store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Caller {
    /// The number, as the card shows it (E.164).
    pub number: String,
    /// The contact's item on the contact board, when one is mirrored for the number.
    pub contact: Option<ContactItem>,
    /// Earlier calls of the number, newest first (the ringing call left out).
    pub calls: Vec<PastCall>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactItem {
    pub name: String,
    /// The item's page on monday.
    pub link: Option<String>,
    /// (label, value) of the configured columns, in order; empty values are left out.
    pub columns: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PastCall {
    /// Start, UNIX seconds.
    pub started_at: Option<i64>,
    /// The planner's outcome (`answered`, `missed`, ...).
    pub outcome: String,
    pub direction: Option<String>,
}

/// What the card is asked to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub recent_calls: usize,
    /// `Some(title)`: a card for a caller no contact item is mirrored for.
    pub unknown_caller: Option<String>,
}

/// Longest label and value sent; longer ones end in "…". The phone app wraps little.
pub const LABEL_MAX: usize = 20;
pub const TEXT_MAX: usize = 40;

/// Why a caller gets no card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoCard {
    /// No mirrored contact has the number, and no unknown-caller card is configured.
    Unknown,
}

/// The card for `caller`, or why there is none.
pub fn build(caller: &Caller, layout: &Layout) -> Result<Card, NoCard> {
    let mut contents = Vec::new();
    match (&caller.contact, &layout.unknown_caller) {
        (Some(contact), _) => {
            contents.push(Line::Title {
                text: cut(&contact.name, 60),
                link: contact.link.clone(),
            });
            for (label, value) in &contact.columns {
                if !value.trim().is_empty() {
                    contents.push(short(label, value));
                }
            }
        }
        (None, Some(title)) => {
            contents.push(Line::Title {
                text: cut(title, 60),
                link: None,
            });
            contents.push(short("Number", &caller.number));
        }
        (None, None) => return Err(NoCard::Unknown),
    }
    let calls = &caller.calls[..caller.calls.len().min(layout.recent_calls)];
    if calls.is_empty() && layout.recent_calls > 0 {
        contents.push(short("Last call", "first call"));
    }
    for (i, call) in calls.iter().enumerate() {
        let label = if i == 0 { "Last call" } else { "Before" };
        contents.push(short(label, &describe(call)));
    }
    Ok(Card { contents })
}

/// "28 Nov 14:05 UTC, missed" (outbound calls say so: "…, outbound, unanswered").
fn describe(call: &PastCall) -> String {
    let when = call
        .started_at
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
        .map(|t| {
            format!(
                "{} {} {:02}:{:02} UTC",
                t.day(),
                &format!("{}", t.month())[..3],
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_else(|| "date unknown".into());
    let outcome = call.outcome.replace('_', " ");
    match call.direction.as_deref() {
        Some("outbound") => format!("{when}, outbound, {outcome}"),
        _ => format!("{when}, {outcome}"),
    }
}

fn short(label: &str, text: &str) -> Line {
    Line::ShortText {
        label: cut(label, LABEL_MAX),
        text: cut(text, TEXT_MAX),
    }
}

/// At most `max` characters (not bytes), the last one "…" when cut.
fn cut(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests;
