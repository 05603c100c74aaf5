//! Read-only look-ups for `calls show` and `calls find`: one entity with everything the store
//! knows of it, and the calls whose stored state mentions a number or a name.

use rusqlite::{params, Connection, OptionalExtension};

use super::journal;
use super::payload::Payload;
use crate::store::StoreError;
use crate::store::{Entity, EntityDetail, EventRow};

pub(super) fn entity(
    c: &Connection,
    kind: Entity,
    id: &str,
) -> Result<Option<EntityDetail>, StoreError> {
    let row = c
        .query_row(
            "SELECT kind, entity_id, observed, pending, dead, attempts, due_ms, lease_until_ms,
                    last_error, updated_ms
               FROM entities WHERE kind = ?1 AND entity_id = ?2",
            params![kind, id],
            |r| {
                Ok(EntityDetail {
                    kind: r.get(0)?,
                    entity_id: r.get(1)?,
                    observed: r.get::<_, Option<Payload>>(2)?.map(|p| p.0),
                    pending: r.get(3)?,
                    dead: r.get(4)?,
                    attempts: r.get(5)?,
                    due_ms: r.get(6)?,
                    lease_until_ms: r.get(7)?,
                    last_error: r.get(8)?,
                    updated_ms: r.get(9)?,
                })
            },
        )
        .optional()?;
    Ok(row)
}

pub(super) fn entity_events(
    c: &Connection,
    kind: Entity,
    id: &str,
) -> Result<Vec<EventRow>, StoreError> {
    let mut stmt = c.prepare(&format!(
        "SELECT {}, data FROM events WHERE entity_kind = ?1 AND entity_id = ?2 ORDER BY id",
        journal::COLUMNS
    ))?;
    let rows = stmt
        .query_map(params![kind, id], |r| {
            Ok(EventRow {
                data: Some(r.get::<_, Payload>(9)?.0),
                ..journal::row(r)?
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub(super) fn observed_states(
    c: &Connection,
    kind: Entity,
    limit: usize,
) -> Result<Vec<(String, String)>, StoreError> {
    let mut stmt = c.prepare(
        "SELECT entity_id, observed FROM entities
          WHERE kind = ?1 AND observed IS NOT NULL ORDER BY updated_ms DESC LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![kind, limit as i64], |r| {
            Ok((r.get(0)?, r.get::<_, Payload>(1)?.0))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
