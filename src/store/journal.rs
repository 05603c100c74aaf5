//! The operator's view of the journal: list and show events, replay dead letters, drop events.
//! Used by `events list|show|replay|drop` (on the SQLite file directly, beside a running
//! bridge: WAL lets a second process in) and by the status page.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use super::StoreError;

/// Which events an operator means. Every field left `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// pending, done or dead.
    pub state: Option<String>,
    /// call or contact.
    pub kind: Option<String>,
    /// The Aircall call or contact id.
    pub entity_id: Option<String>,
    /// The webhook's event name, e.g. call.ended.
    pub event: Option<String>,
    /// Received at or before this time (events at least this old).
    pub received_before_ms: Option<i64>,
    /// Received at or after this time (events at most this old).
    pub received_after_ms: Option<i64>,
    /// One event by its journal id.
    pub id: Option<i64>,
}

impl EventFilter {
    /// True when the filter would match every event (`events drop` refuses that without --all).
    pub fn is_empty(&self) -> bool {
        self.state.is_none()
            && self.kind.is_none()
            && self.entity_id.is_none()
            && self.event.is_none()
            && self.received_before_ms.is_none()
            && self.received_after_ms.is_none()
            && self.id.is_none()
    }

    fn where_clause(&self) -> (String, Vec<SqlValue>) {
        let mut clauses = vec!["1 = 1".to_string()];
        let mut args: Vec<SqlValue> = Vec::new();
        let mut push = |sql: &str, v: SqlValue| {
            args.push(v);
            clauses.push(format!("{sql} ?{}", args.len()));
        };
        if let Some(v) = &self.state {
            push("state =", SqlValue::Text(v.clone()));
        }
        if let Some(v) = &self.kind {
            push("entity_kind =", SqlValue::Text(v.clone()));
        }
        if let Some(v) = &self.entity_id {
            push("entity_id =", SqlValue::Text(v.clone()));
        }
        if let Some(v) = &self.event {
            push("event =", SqlValue::Text(v.clone()));
        }
        if let Some(v) = self.received_before_ms {
            push("received_ms <=", SqlValue::Integer(v));
        }
        if let Some(v) = self.received_after_ms {
            push("received_ms >=", SqlValue::Integer(v));
        }
        if let Some(v) = self.id {
            push("id =", SqlValue::Integer(v));
        }
        (clauses.join(" AND "), args)
    }
}

/// One journal row as an operator sees it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EventRow {
    pub id: i64,
    pub kind: String,
    pub entity_id: String,
    pub event: String,
    pub event_ts: i64,
    pub received_ms: i64,
    pub state: String,
    pub error: Option<String>,
    pub done_ms: Option<i64>,
    /// The payload; filled by `event` (show), left out of lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

/// What a replay did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Replayed {
    pub events: usize,
    pub entities: usize,
}

/// A call or contact with its latest state, for the status page.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityRow {
    pub kind: String,
    pub entity_id: String,
    /// pending, dead or synced.
    pub state: &'static str,
    pub last_error: Option<String>,
    pub updated_ms: i64,
    /// (board id, item id) of each board the entity reached.
    pub items: Vec<(String, String)>,
}

pub(super) const COLUMNS: &str =
    "id, entity_kind, entity_id, event, event_ts, received_ms, state, error, done_ms";

pub(super) fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EventRow> {
    Ok(EventRow {
        id: r.get(0)?,
        kind: r.get(1)?,
        entity_id: r.get(2)?,
        event: r.get(3)?,
        event_ts: r.get(4)?,
        received_ms: r.get(5)?,
        state: r.get(6)?,
        error: r.get(7)?,
        done_ms: r.get(8)?,
        data: None,
    })
}

pub(super) fn list(
    c: &Connection,
    filter: &EventFilter,
    limit: usize,
) -> Result<Vec<EventRow>, StoreError> {
    let (clause, mut args) = filter.where_clause();
    args.push(SqlValue::Integer(limit as i64));
    let sql = format!(
        "SELECT {COLUMNS} FROM events WHERE {clause} ORDER BY id DESC LIMIT ?{}",
        args.len()
    );
    let mut stmt = c.prepare(&sql)?;
    let rows = stmt
        .query_map(params_from_iter(args), row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub(super) fn show(c: &Connection, id: i64) -> Result<Option<EventRow>, StoreError> {
    let found = c
        .query_row(
            &format!("SELECT {COLUMNS}, data FROM events WHERE id = ?1"),
            [id],
            |r| {
                let mut e = row(r)?;
                e.data = Some(r.get(9)?);
                Ok(e)
            },
        )
        .optional()?;
    Ok(found)
}

/// The (kind, entity id) pairs the filter's events belong to.
fn entities_of(
    c: &Connection,
    clause: &str,
    args: &[SqlValue],
) -> Result<Vec<(String, String)>, StoreError> {
    let sql = format!("SELECT DISTINCT entity_kind, entity_id FROM events WHERE {clause}");
    let mut stmt = c.prepare(&sql)?;
    let pairs = stmt
        .query_map(params_from_iter(args.iter()), |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(pairs)
}

/// Dead events matching the filter go back to pending, and their calls and contacts become
/// due now with a fresh retry schedule. The worker sends them at its next turn.
pub(super) fn replay(
    c: &Connection,
    filter: &EventFilter,
    now_ms: i64,
) -> Result<Replayed, StoreError> {
    let mut dead = filter.clone();
    dead.state = Some("dead".into());
    let (clause, args) = dead.where_clause();
    let entities = entities_of(c, &clause, &args)?;
    let events = c.execute(
        &format!(
            "UPDATE events SET state = 'pending', error = NULL, done_ms = NULL WHERE {clause}"
        ),
        params_from_iter(args.iter()),
    )?;
    let mut touched = 0;
    for (kind, id) in &entities {
        touched += c.execute(
            "UPDATE entities SET dead = 0, pending = 1, due_ms = ?3, attempts = 0,
                last_error = NULL, updated_ms = ?3
              WHERE kind = ?1 AND entity_id = ?2",
            params![kind, id, now_ms],
        )?;
    }
    Ok(Replayed {
        events,
        entities: touched,
    })
}

/// Deletes the matching events for good, then brings their calls and contacts in line with
/// what is left (nothing pending: not pending; no dead event left: not dead).
pub(super) fn drop_events(c: &Connection, filter: &EventFilter) -> Result<usize, StoreError> {
    let (clause, args) = filter.where_clause();
    let entities = entities_of(c, &clause, &args)?;
    let dropped = c.execute(
        &format!("DELETE FROM events WHERE {clause}"),
        params_from_iter(args.iter()),
    )?;
    for (kind, id) in &entities {
        c.execute(
            "UPDATE entities SET
                pending = EXISTS (SELECT 1 FROM events e WHERE e.entity_kind = ?1
                                  AND e.entity_id = ?2 AND e.state = 'pending'),
                dead = dead AND EXISTS (SELECT 1 FROM events e WHERE e.entity_kind = ?1
                                  AND e.entity_id = ?2 AND e.state = 'dead')
              WHERE kind = ?1 AND entity_id = ?2",
            params![kind, id],
        )?;
    }
    Ok(dropped)
}

/// The calls and contacts touched most recently, with their items.
pub(super) fn recent_entities(c: &Connection, limit: usize) -> Result<Vec<EntityRow>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT kind, entity_id, pending, dead, last_error, updated_ms FROM entities
          ORDER BY updated_ms DESC, id DESC LIMIT ?1",
    )?;
    let mut rows = stmt
        .query_map([limit as i64], |r| {
            let pending: bool = r.get(2)?;
            let dead: bool = r.get(3)?;
            Ok(EntityRow {
                kind: r.get(0)?,
                entity_id: r.get(1)?,
                state: if dead {
                    "dead"
                } else if pending {
                    "pending"
                } else {
                    "synced"
                },
                last_error: r.get(4)?,
                updated_ms: r.get(5)?,
                items: Vec::new(),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut items = c.prepare_cached(
        "SELECT board_id, item_id FROM links
          WHERE kind = ?1 AND entity_id = ?2 AND item_id IS NOT NULL ORDER BY board_id",
    )?;
    for row in &mut rows {
        row.items = items
            .query_map(params![row.kind, row.entity_id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
    }
    Ok(rows)
}
