//! The operator's view of the journal: list and show events, replay dead letters, drop events.
//! Used by `events list|show|replay|drop` (on the SQLite file directly, beside a running
//! bridge: WAL lets a second process in) and by the status page.

use crate::store::EventState;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use crate::store::types::{EntityRow, EventFilter, EventRow, FilterValue, Replayed};
use crate::store::StoreError;

/// The filter as a WHERE clause with SQLite's numbered parameters.
pub(super) fn where_clause(filter: &EventFilter) -> (String, Vec<SqlValue>) {
    let (clause, values) = filter.where_clause('?');
    let args = values
        .into_iter()
        .map(|v| match v {
            FilterValue::Text(t) => SqlValue::Text(t),
            FilterValue::Int(i) => SqlValue::Integer(i),
        })
        .collect();
    (clause, args)
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
    let (clause, mut args) = where_clause(filter);
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
                e.data = Some(r.get::<_, super::payload::Payload>(9)?.0);
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
    dead.state = Some(EventState::Dead);
    let (clause, args) = where_clause(&dead);
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
    let (clause, args) = where_clause(filter);
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
