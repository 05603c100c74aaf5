//! `calls show ID` and `calls find PHONE|NAME`: a call explained from the store alone. Its
//! events, the state they fold into, what each call board's `when` and routes made of it, its
//! items with their links, its last error and next retry.
//!
//! Long on purpose: `calls show` and `calls find` read the same trace of a call; one file keeps
//! that trace one.

use std::fmt::Write;

use serde_json::Value;

use super::events::{short, time_of};
use super::OpsError;
use crate::clock::now_ms;
use crate::config::{BoardRule, CallFilter, Entity, LinkPreference, Settings};
use crate::mapping::{self, CallState, EventInput, FieldValue, Fields, Observed};
use crate::store::{EventRow, EventState, Store};

/// Calls `find` looks through: the most recently updated ones.
const SEARCHED: usize = 20_000;

/// The call's state: the stored fold, with every journal event applied again (the fold is
/// monotonic, so events already in it change nothing and pending ones bring it up to date).
fn fold(observed: Option<&str>, events: &[EventRow]) -> Option<CallState> {
    let previous = observed.and_then(|o| serde_json::from_str::<Observed>(o).ok());
    let payloads: Vec<(String, i64, Value)> = events
        .iter()
        .filter_map(|e| {
            let data = serde_json::from_str(e.data.as_deref()?).ok()?;
            Some((e.event.clone(), e.event_ts, data))
        })
        .collect();
    let inputs: Vec<EventInput<'_>> = payloads
        .iter()
        .map(|(event, timestamp, data)| EventInput {
            event,
            timestamp: *timestamp,
            data,
        })
        .collect();
    match mapping::fold(Entity::Call, previous, &inputs).ok()? {
        Observed::Call(state) => Some(state),
        Observed::Contact(_) => None,
    }
}

fn text(fields: &Fields, name: &str) -> String {
    fields
        .get(name)
        .map(FieldValue::to_text)
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| "-".into())
}

/// A filter as the operator wrote it: `direction = "inbound", outcome = ["missed", "voicemail"]`.
fn filter_text(filter: &CallFilter) -> String {
    let conditions = [
        ("direction", &filter.direction),
        ("line_number", &filter.line_number),
        ("line_name", &filter.line_name),
        ("team", &filter.team),
        ("outcome", &filter.outcome),
    ];
    conditions
        .iter()
        .filter_map(|(key, c)| {
            let values: Vec<String> = c
                .as_ref()?
                .values()
                .iter()
                .map(|v| format!("{v:?}"))
                .collect();
            Some(match values.as_slice() {
                [one] => format!("{key} = {one}"),
                many => format!("{key} = [{}]", many.join(", ")),
            })
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What one board made of the call, and where its item is.
fn board_line(
    out: &mut String,
    board: &BoardRule,
    state: &CallState,
    item: Option<&str>,
    item_link: &str,
) {
    let decision = mapping::decide_route(board, state);
    let _ = write!(out, "  {} (board {}): ", board.name, board.board_id);
    if !decision.mirrored {
        let when = board.when.as_ref().map(filter_text).unwrap_or_default();
        let _ = write!(out, "left out by when = {{ {when} }}");
        if item.is_some() {
            out.push_str(" (its item, made earlier, is still kept up to date)");
        }
    } else {
        let group = decision.group.as_deref().unwrap_or("monday's first group");
        let why = match decision.route {
            Some(i) => format!(
                "routes[{i}] (when = {{ {} }})",
                filter_text(&board.routes[i].when)
            ),
            None => "no route matched: the board's group_id".into(),
        };
        let _ = write!(out, "mirrored, group {group:?} by {why}");
    }
    match item {
        Some(id) => {
            let url = item_link
                .replace("{board_id}", &board.board_id)
                .replace("{item_id}", id);
            let _ = writeln!(out, "\n    item {id}  {url}");
        }
        None if decision.mirrored => {
            let _ = writeln!(out, "\n    no item yet");
        }
        None => out.push('\n'),
    }
}

/// Prints everything the store knows of one call.
pub async fn show(store: &Store, settings: Option<&Settings>, id: &str) -> Result<(), OpsError> {
    let boards = settings.map(|s| s.boards.as_slice());
    let item_link = settings
        .map(|s| s.server.item_link.as_str())
        .unwrap_or_default();
    match trace(store, boards, item_link, id).await? {
        Some(text) => {
            print!("{text}");
            Ok(())
        }
        None => Err(OpsError::Usage(format!(
            "no call {id} in the journal (`calls find PHONE|NAME` looks calls up by number or name)"
        ))),
    }
}

/// Everything the store knows of one call as text (`None`: no such call), with what each of
/// `boards` made of it when they are known; the status page shows the same.
pub async fn trace(
    store: &Store,
    boards: Option<&[BoardRule]>,
    item_link: &str,
    id: &str,
) -> Result<Option<String>, crate::store::StoreError> {
    let detail = store.entity(Entity::Call, id).await?;
    let events = store.entity_events(Entity::Call, id).await?;
    if detail.is_none() && events.is_empty() {
        return Ok(None);
    }
    let now = now_ms();
    let state = fold(detail.as_ref().and_then(|d| d.observed.as_deref()), &events);
    let mut out = String::new();
    let fields = state
        .as_ref()
        .map(|s| mapping::call_fields(s, LinkPreference::Asset))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "call {id}: {} call with {} ({}), {}, started {}",
        text(&fields, "direction"),
        text(&fields, "counterpart"),
        text(&fields, "phone"),
        text(&fields, "outcome"),
        text(&fields, "started_at"),
    );
    let pending = events
        .iter()
        .filter(|e| e.state == EventState::Pending)
        .count();
    let dead = events
        .iter()
        .filter(|e| e.state == EventState::Dead)
        .count();
    let sync = match (pending, dead) {
        (0, 0) => "synced: every event is on the boards".to_string(),
        (p, 0) => format!("{p} event(s) pending"),
        (0, d) => {
            format!("{d} event(s) in the dead letter (`events replay --call {id}` after a fix)")
        }
        (p, d) => format!("{p} event(s) pending, {d} in the dead letter"),
    };
    let _ = writeln!(out, "state: {sync}");
    if let Some(d) = &detail {
        if let Some(error) = &d.last_error {
            let _ = writeln!(out, "last error: {error}");
        }
        if pending > 0 {
            let when = if d.due_ms > now {
                format!(
                    "in {} s ({} UTC)",
                    (d.due_ms - now + 999) / 1000,
                    time_of(d.due_ms)
                )
            } else {
                "now (at the worker's next turn)".into()
            };
            let _ = writeln!(out, "next attempt: {when}; attempts so far: {}", d.attempts);
        }
    }

    out.push_str("\nboards:\n");
    let links = store.links(Entity::Call, id).await?;
    match (boards, &state) {
        (Some(boards), Some(state)) => {
            let boards: Vec<&BoardRule> =
                boards.iter().filter(|b| b.entity == Entity::Call).collect();
            if boards.is_empty() {
                out.push_str("  no call board is mapped\n");
            }
            for board in boards {
                let item = links
                    .iter()
                    .find(|l| l.board_id == board.board_id)
                    .and_then(|l| l.item_id.as_deref());
                board_line(&mut out, board, state, item, item_link);
            }
        }
        _ => {
            out.push_str("  (give --config to see what each board's when and routes make of it)\n");
            for l in &links {
                let _ = writeln!(
                    out,
                    "  board {}: item {}",
                    l.board_id,
                    l.item_id.as_deref().unwrap_or("none yet")
                );
            }
        }
    }

    let _ = writeln!(out, "\nevents ({}):", events.len());
    for e in &events {
        let _ = writeln!(
            out,
            "  {:>7}  {:<7}  {:<28} {} UTC  {}",
            e.id,
            e.state,
            e.event,
            time_of(e.received_ms),
            e.error.as_deref().map(short).unwrap_or_default()
        );
    }

    out.push_str("\nobserved state (the fields the mapping reads):\n");
    for (name, value) in &fields {
        let value = value.to_text();
        if !value.trim().is_empty() {
            let _ = writeln!(out, "  {name:<24} {}", short(&value));
        }
    }
    Ok(Some(out))
}

/// Whether the call's number or names match `query`: a number by its digits (any writing:
/// "06 12 34 56 78" finds +33612345678), a name case-insensitively within.
pub fn matches(fields: &Fields, query: &str) -> bool {
    let digits: String = query.chars().filter(char::is_ascii_digit).collect();
    let is_number = digits.len() >= 4
        && query
            .chars()
            .all(|c| c.is_ascii_digit() || " +-.()".contains(c));
    let value = |n: &str| fields.get(n).map(FieldValue::to_text).unwrap_or_default();
    if is_number {
        let national = digits.trim_start_matches('0');
        ["phone", "raw_digits"].iter().any(|n| {
            let have: String = value(n).chars().filter(char::is_ascii_digit).collect();
            !have.is_empty() && (have.contains(&digits) || have.ends_with(national))
        })
    } else {
        let q = query.trim().to_lowercase();
        !q.is_empty()
            && [
                "counterpart",
                "contact_name",
                "contact_company",
                "contact_email",
            ]
            .iter()
            .any(|n| value(n).to_lowercase().contains(&q))
    }
}

/// The calls whose number or name matches (an Aircall id matches its call), newest first,
/// with their fields.
pub async fn search(
    store: &Store,
    query: &str,
    limit: usize,
) -> Result<Vec<(String, Fields)>, crate::store::StoreError> {
    let mut found = Vec::new();
    for (id, observed) in store.observed_states(Entity::Call, SEARCHED).await? {
        let Some(state) = fold(Some(&observed), &[]) else {
            continue;
        };
        let fields = mapping::call_fields(&state, LinkPreference::Asset);
        if id == query.trim() || matches(&fields, query) {
            found.push((id, fields));
            if found.len() == limit {
                break;
            }
        }
    }
    Ok(found)
}

/// (caller, outcome) of a call for a list, from its stored state; `None` before its first
/// reconcile.
pub async fn summary(
    store: &Store,
    id: &str,
) -> Result<Option<(String, String)>, crate::store::StoreError> {
    let detail = store.entity(Entity::Call, id).await?;
    let state = detail.and_then(|d| fold(d.observed.as_deref(), &[]));
    Ok(state.map(|s| {
        let f = mapping::call_fields(&s, LinkPreference::Asset);
        (text(&f, "counterpart"), text(&f, "outcome"))
    }))
}

/// The value of a field for a list, "-" when empty.
pub fn field(fields: &Fields, name: &str) -> String {
    text(fields, name)
}

/// Lists the calls whose number or name matches, newest first.
pub async fn find(store: &Store, query: &str, limit: usize) -> Result<(), OpsError> {
    let found = search(store, query, limit).await?;
    if found.is_empty() {
        return Err(OpsError::Usage(format!(
            "no call matches {query:?} (a number in any writing, or part of a contact's name)"
        )));
    }
    println!(
        "{:<14} {:<20} {:<9} {:<12} {:<16} counterpart",
        "call", "started (UTC)", "direction", "outcome", "phone"
    );
    for (id, f) in &found {
        println!(
            "{:<14} {:<20} {:<9} {:<12} {:<16} {}",
            id,
            text(f, "started_at"),
            text(f, "direction"),
            text(f, "outcome"),
            text(f, "phone"),
            text(f, "counterpart")
        );
    }
    eprintln!("{} call(s); `calls show ID` explains one", found.len());
    Ok(())
}
