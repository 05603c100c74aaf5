//! `events list|show|replay|drop`: the journal and the dead letter, on the SQLite file itself
//! (beside a running bridge: WAL lets a second process in, and the worker finds replayed work
//! at its next poll).

use std::io::Write;
use std::time::Duration;

use super::OpsError;
use crate::clock::now_ms;
use crate::store::{Entity, EventFilter, EventRow, EventState, Store};

/// The filter as typed on the command line.
#[derive(Debug, Clone, Default)]
pub struct FilterArgs {
    pub id: Option<i64>,
    pub state: Option<String>,
    pub call: Option<String>,
    pub contact: Option<String>,
    pub event: Option<String>,
    pub older_than: Option<Duration>,
    pub newer_than: Option<Duration>,
}

impl FilterArgs {
    pub fn to_filter(&self, now_ms: i64) -> Result<EventFilter, OpsError> {
        let state = match &self.state {
            Some(s) => Some(s.parse::<EventState>().map_err(|_| {
                OpsError::Usage(format!("--state {s}: expected pending, done or dead"))
            })?),
            None => None,
        };
        if self.call.is_some() && self.contact.is_some() {
            return Err(OpsError::Usage("give --call or --contact, not both".into()));
        }
        let (kind, entity_id) = match (&self.call, &self.contact) {
            (Some(id), _) => (Some(Entity::Call), Some(id.clone())),
            (_, Some(id)) => (Some(Entity::Contact), Some(id.clone())),
            _ => (None, None),
        };
        let ago = |d: &Duration| now_ms - d.as_millis() as i64;
        Ok(EventFilter {
            state,
            kind,
            entity_id,
            event: self.event.clone(),
            received_before_ms: self.older_than.as_ref().map(ago),
            received_after_ms: self.newer_than.as_ref().map(ago),
            id: self.id,
        })
    }
}

pub async fn list(
    store: &Store,
    args: &FilterArgs,
    limit: usize,
    json: bool,
) -> Result<(), OpsError> {
    let rows = store.events(args.to_filter(now_ms())?, limit).await?;
    let mut out = std::io::stdout().lock();
    match write_rows(&mut out, &rows, json) {
        Ok(()) => {}
        // The reader has gone (`| head`): what it wanted, it got.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
        Err(e) => return Err(OpsError::Usage(format!("cannot write the list: {e}"))),
    }
    if !json {
        eprintln!(
            "{} event(s), newest first (at most {limit}: --limit)",
            rows.len()
        );
    }
    Ok(())
}

fn write_rows(out: &mut impl Write, rows: &[EventRow], json: bool) -> std::io::Result<()> {
    if json {
        for r in rows {
            writeln!(out, "{}", serde_json::to_string(r).unwrap_or_default())?;
        }
        return out.flush();
    }
    writeln!(
        out,
        "{:>7}  {:<7}  {:<8} {:<14} {:<28} {:<20}  error",
        "id", "state", "kind", "entity", "event", "received (UTC)"
    )?;
    for r in rows {
        writeln!(
            out,
            "{:>7}  {:<7}  {:<8} {:<14} {:<28} {:<20}  {}",
            r.id,
            r.state,
            r.kind,
            r.entity_id,
            r.event,
            time_of(r.received_ms),
            r.error.as_deref().map(short).unwrap_or_default()
        )?;
    }
    out.flush()
}

pub async fn show(store: &Store, id: i64) -> Result<(), OpsError> {
    let Some(e) = store.event(id).await? else {
        return Err(OpsError::Usage(format!(
            "no event {id} (see `events list`)"
        )));
    };
    print_event(&e);
    Ok(())
}

fn print_event(e: &EventRow) {
    println!("id        {}", e.id);
    println!("state     {}", e.state);
    println!("{:<9} {}", e.kind, e.entity_id);
    println!("event     {}", e.event);
    println!("timestamp {} (Aircall's envelope)", e.event_ts);
    println!("received  {}", time_of(e.received_ms));
    if let Some(done) = e.done_ms {
        println!("settled   {}", time_of(done));
    }
    if let Some(error) = &e.error {
        println!("error     {error}");
    }
    let data = e.data.as_deref().unwrap_or("null");
    let pretty = serde_json::from_str::<serde_json::Value>(data)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| data.to_string());
    println!("data\n{pretty}");
}

/// Replays dead letters: a filter, one id, or `--all` of them.
pub async fn replay(store: &Store, args: &FilterArgs, all: bool) -> Result<(), OpsError> {
    let filter = args.to_filter(now_ms())?;
    if filter.is_empty() && !all {
        return Err(OpsError::Usage(
            "say which dead letters to replay: --id, --call, --event, --older-than, ... or --all"
                .into(),
        ));
    }
    match filter.state {
        None | Some(EventState::Dead) => {}
        Some(EventState::Pending) => {
            return Err(OpsError::Usage(
                "--state pending: replay sends dead letters only; pending events are retried by \
                 the bridge at their next attempt (`events list --state pending` shows them with \
                 their last error)"
                    .into(),
            ))
        }
        Some(other @ EventState::Done) => {
            return Err(OpsError::Usage(format!(
                "--state {other}: replay sends dead letters only (leave --state out)"
            )))
        }
    }
    let done = store.replay(filter, now_ms()).await?;
    println!(
        "replayed {} dead event(s) of {} call(s)/contact(s); the running bridge sends them at its next poll",
        done.events, done.entities
    );
    Ok(())
}

/// Deletes events for good: needs a filter or `--all`, and says how many went.
pub async fn drop(store: &Store, args: &FilterArgs, all: bool) -> Result<(), OpsError> {
    let filter = args.to_filter(now_ms())?;
    if filter.is_empty() && !all {
        return Err(OpsError::Usage(
            "events drop deletes for good: give a filter (--state dead, --call, --older-than, ...) or --all"
                .into(),
        ));
    }
    let dropped = store.drop_events(filter).await?;
    println!("dropped {dropped} event(s)");
    Ok(())
}

pub(super) fn time_of(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]"
            ))
            .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

pub(super) fn short(s: &str) -> String {
    let one_line = s.replace('\n', " ");
    if one_line.chars().count() > 80 {
        format!("{}…", one_line.chars().take(79).collect::<String>())
    } else {
        one_line
    }
}
