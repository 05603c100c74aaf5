//! The SQL behind `Store`. Each function runs inside the writer's transaction (or on the
//! reader) and is small enough to read in one go.

use crate::store::Entity;
use rusqlite::{params, Connection, OptionalExtension};

use super::intents;
use super::payload::{compress, Payload};
use crate::store::StoreError;
use crate::store::{Appended, Claim, Completion, Link, NewEvent, Outcome, QueueStats, StoredEvent};

pub(super) fn append(c: &Connection, e: &NewEvent) -> Result<Appended, StoreError> {
    // Prepared once per connection: at a burst's rate, parsing the SQL again costs more than
    // running it.
    let inserted = c
        .prepare_cached(
            "INSERT OR IGNORE INTO events
                (dedup_key, entity_kind, entity_id, event, event_ts, received_ms, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            dedup_bytes(&e.dedup_key),
            e.kind,
            e.entity_id,
            e.event,
            e.timestamp,
            e.received_ms,
            compress(&e.data)
        ])?;
    if inserted == 0 {
        return Ok(Appended::Duplicate);
    }
    // A new event gives a dead entity another chance; an entity waiting for a retry keeps
    // its due time, so a burst of events cannot hammer a monday that is failing.
    c.prepare_cached(
        "INSERT INTO entities (kind, entity_id, pending, due_ms, updated_ms)
         VALUES (?1, ?2, 1, ?3, ?3)
         ON CONFLICT (kind, entity_id) DO UPDATE SET
            pending = 1,
            due_ms = CASE WHEN dead = 1 THEN ?3 ELSE due_ms END,
            attempts = CASE WHEN dead = 1 THEN 0 ELSE attempts END,
            dead = 0,
            updated_ms = ?3",
    )?
    .execute(params![e.kind, e.entity_id, e.received_ms])?;
    Ok(Appended::Stored)
}

/// The dedup key as stored: the first 128 bits of the SHA-256 the receiver hands in hex, as
/// 16 bytes instead of 64 characters (twice: in the row and in its unique index). Collisions
/// at 128 bits are out of reach. Any other key (tests, hand-made events) is kept whole. A
/// delivery stored before this form (64 characters of text) is not recognised as a repeat by
/// a later one: that costs one more event folded, whose diff is empty.
fn dedup_bytes(key: &str) -> Vec<u8> {
    match key.get(..32).map(hex::decode) {
        Some(Ok(bytes)) if key.len() == 64 => bytes,
        _ => key.as_bytes().to_vec(),
    }
}

pub(super) fn claim(
    c: &Connection,
    now_ms: i64,
    lease_ms: i64,
    owner: &str,
) -> Result<Option<Claim>, StoreError> {
    // Inside the writer's transaction: nothing changes between this look and the update.
    let due: Option<i64> = c
        .query_row(
            "SELECT id FROM entities
              WHERE pending = 1 AND dead = 0 AND due_ms <= ?1 AND lease_until_ms <= ?1
              ORDER BY due_ms, id LIMIT 1",
            params![now_ms],
            |r| r.get(0),
        )
        .optional()?;
    let Some(id) = due else {
        return Ok(None);
    };
    let row = c
        .query_row(
            "UPDATE entities
                SET lease_until_ms = ?1 + ?2, lease_owner = ?3, attempts = attempts + 1
              WHERE id = ?4
          RETURNING id, kind, entity_id, observed, attempts",
            params![now_ms, lease_ms, owner, id],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Entity>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<Payload>>(3)?.map(|p| p.0),
                    r.get::<_, u32>(4)?,
                ))
            },
        )
        .optional()?;
    let Some((row, kind, entity_id, observed, attempts)) = row else {
        return Ok(None);
    };
    let mut stmt = c.prepare_cached(
        "SELECT id, event, event_ts, data FROM events
          WHERE entity_kind = ?1 AND entity_id = ?2 AND state = 'pending'
          ORDER BY event_ts, id",
    )?;
    let events = stmt
        .query_map(params![kind, entity_id], |r| {
            Ok(StoredEvent {
                id: r.get(0)?,
                event: r.get(1)?,
                timestamp: r.get(2)?,
                data: r.get::<_, Payload>(3)?.0,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let links = links(c, kind, &entity_id)?;
    let intents = intents::of_entity(c, kind, &entity_id)?;
    Ok(Some(Claim {
        row,
        kind,
        entity_id,
        owner: owner.to_string(),
        attempts,
        observed,
        events,
        links,
        intents,
    }))
}

pub(super) fn links(
    c: &Connection,
    kind: Entity,
    entity_id: &str,
) -> Result<Vec<Link>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT board_id, item_id, synced FROM links WHERE kind = ?1 AND entity_id = ?2
          ORDER BY board_id",
    )?;
    let links = stmt
        .query_map(params![kind, entity_id], |r| {
            Ok(Link {
                board_id: r.get(0)?,
                item_id: r.get(1)?,
                synced: r.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(links)
}

/// The entity (kind, id) of claim `row`, if `owner` still holds its lease.
pub(super) fn owned(c: &Connection, row: i64, owner: &str) -> Result<(Entity, String), StoreError> {
    let (kind, entity_id, holder): (Entity, String, Option<String>) = c.query_row(
        "SELECT kind, entity_id, lease_owner FROM entities WHERE id = ?1",
        [row],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    if holder.as_deref() != Some(owner) {
        return Err(StoreError::LeaseLost(format!("{kind} {entity_id}")));
    }
    Ok((kind, entity_id))
}

pub(super) fn upsert_link(
    c: &Connection,
    kind: Entity,
    entity_id: &str,
    link: &Link,
    now_ms: i64,
) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO links (board_id, kind, entity_id, item_id, synced, updated_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (board_id, kind, entity_id) DO UPDATE SET
            item_id = excluded.item_id, synced = excluded.synced,
            updated_ms = excluded.updated_ms",
    )?
    .execute(params![
        link.board_id,
        kind,
        entity_id,
        link.item_id,
        link.synced,
        now_ms
    ])?;
    Ok(())
}

pub(super) fn complete(c: &Connection, done: &Completion, now_ms: i64) -> Result<(), StoreError> {
    let (kind, entity_id) = owned(c, done.row, &done.owner)?;
    for link in &done.links {
        upsert_link(c, kind, &entity_id, link, now_ms)?;
    }
    intents::replace(c, kind, &entity_id, &done.intents)?;
    if let Some(numbers) = &done.numbers {
        super::callers::index(c, kind, &entity_id, numbers)?;
    }
    let mark = |state: &str, error: Option<&str>| -> Result<(), StoreError> {
        let mut stmt = c.prepare_cached(
            "UPDATE events SET state = ?2, error = ?3, done_ms = ?4
              WHERE id = ?1 AND state = 'pending'",
        )?;
        for id in &done.event_ids {
            stmt.execute(params![id, state, error, now_ms])?;
        }
        Ok(())
    };
    // Compressed as the events' payloads are: the folded state is JSON of the same size.
    let observed = compress(&done.observed);
    let still_pending = "EXISTS (SELECT 1 FROM events e WHERE e.entity_kind = entities.kind
                           AND e.entity_id = entities.entity_id AND e.state = 'pending')";
    match &done.outcome {
        Outcome::Synced => {
            mark("done", None)?;
            c.execute(
                &format!(
                    "UPDATE entities SET observed = ?2, pending = {still_pending}, attempts = 0,
                        due_ms = ?3, lease_until_ms = 0, lease_owner = NULL, last_error = NULL,
                        updated_ms = ?3
                      WHERE id = ?1"
                ),
                params![done.row, observed, now_ms],
            )?;
        }
        Outcome::Retry {
            due_ms,
            error,
            counts,
        } => {
            c.execute(
                "UPDATE entities SET observed = ?2, due_ms = ?3, lease_until_ms = 0,
                    lease_owner = NULL, last_error = ?4, updated_ms = ?5,
                    attempts = CASE WHEN ?6 THEN attempts ELSE MAX(attempts - 1, 0) END
                  WHERE id = ?1",
                params![done.row, observed, due_ms, error, now_ms, counts],
            )?;
        }
        Outcome::Dead { error } => {
            mark("dead", Some(error))?;
            // Events that arrived during the attempt still get their own try.
            c.execute(
                &format!(
                    "UPDATE entities SET observed = ?2, pending = {still_pending},
                        dead = NOT {still_pending}, attempts = 0, due_ms = ?3,
                        lease_until_ms = 0, lease_owner = NULL, last_error = ?4, updated_ms = ?3
                      WHERE id = ?1"
                ),
                params![done.row, observed, now_ms, error],
            )?;
        }
    }
    Ok(())
}

pub(super) fn stats(c: &Connection, now_ms: i64) -> Result<QueueStats, StoreError> {
    let mut stats = QueueStats::default();
    let mut stmt = c.prepare_cached("SELECT state, COUNT(*) FROM events GROUP BY state")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (state, n) = row?;
        match state.as_str() {
            "pending" => stats.pending_events = n,
            "dead" => stats.dead_events = n,
            "done" => stats.done_events = n,
            _ => {}
        }
    }
    stats.pending_entities = c.query_row(
        "SELECT COUNT(*) FROM entities WHERE pending = 1 AND dead = 0",
        [],
        |r| r.get(0),
    )?;
    stats.due_entities = c.query_row(
        "SELECT COUNT(*) FROM entities WHERE pending = 1 AND dead = 0 AND due_ms <= ?1",
        [now_ms],
        |r| r.get(0),
    )?;
    let oldest: Option<i64> = c.query_row(
        "SELECT MIN(received_ms) FROM events WHERE state = 'pending'",
        [],
        |r| r.get(0),
    )?;
    stats.oldest_pending_age_ms = oldest.map(|t| (now_ms - t).max(0));
    Ok(stats)
}
