//! Intents: an effect monday would apply twice if its request were sent twice (creating an
//! item, posting an update, uploading a file), committed before the request leaves. An intent
//! is deleted only when its outcome is known: the answer (committed with the item's link), a
//! definite refusal, or a look-up that proves the effect absent. Whatever crash or lost answer
//! comes in between, the next claim of the entity finds the intent and settles it first.
//!
//! The store keeps the request opaque (JSON owned by the worker), as it does observed and
//! synced state.

use crate::store::Entity;
use rusqlite::{params, Connection};

use super::queries::upsert_link;
use crate::store::StoreError;
use crate::store::{Checkpoint, Intent};

pub(super) fn of_entity(
    c: &Connection,
    kind: Entity,
    entity_id: &str,
) -> Result<Vec<Intent>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT board_id, effect, target, request_key, request, position, opened_ms
           FROM intents WHERE kind = ?1 AND entity_id = ?2
          ORDER BY opened_ms, board_id, effect, target",
    )?;
    let intents = stmt
        .query_map(params![kind, entity_id], |r| {
            Ok(Intent {
                board_id: r.get(0)?,
                effect: r.get(1)?,
                target: r.get(2)?,
                request_key: r.get(3)?,
                request: r.get(4)?,
                position: r.get::<_, i64>(5)? as usize,
                opened_ms: r.get(6)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(intents)
}

pub(super) fn count_of_request(c: &Connection, request_key: &str) -> Result<usize, StoreError> {
    let n: i64 = c
        .prepare_cached("SELECT COUNT(*) FROM intents WHERE request_key = ?1")?
        .query_row([request_key], |r| r.get(0))?;
    Ok(n as usize)
}

/// Replaces the entity's open intents with `intents`.
pub(super) fn replace(
    c: &Connection,
    kind: Entity,
    entity_id: &str,
    intents: &[Intent],
) -> Result<(), StoreError> {
    c.prepare_cached("DELETE FROM intents WHERE kind = ?1 AND entity_id = ?2")?
        .execute(params![kind, entity_id])?;
    let mut insert = c.prepare_cached(
        "INSERT INTO intents (kind, entity_id, board_id, effect, target, request_key, request,
                              position, opened_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for i in intents {
        insert.execute(params![
            kind,
            entity_id,
            i.board_id,
            i.effect,
            i.target,
            i.request_key,
            i.request,
            i.position as i64,
            i.opened_ms
        ])?;
    }
    Ok(())
}

/// Commits a checkpoint, if the claim is still ours.
pub(super) fn checkpoint(c: &Connection, cp: &Checkpoint, now_ms: i64) -> Result<(), StoreError> {
    let (kind, entity_id) = super::queries::owned(c, cp.row, &cp.owner)?;
    for link in &cp.links {
        upsert_link(c, kind, &entity_id, link, now_ms)?;
    }
    replace(c, kind, &entity_id, &cp.intents)
}
