//! The caller look-up of insight cards on SQLite: entities by phone number, and the one card
//! each call may get.

use rusqlite::{params, Connection};

use crate::store::{Entity, NumberMatch, Numbers, StoreError};

/// Replaces the numbers indexed for one entity (inside the completion's transaction).
pub(super) fn index(
    c: &Connection,
    kind: Entity,
    entity_id: &str,
    numbers: &Numbers,
) -> Result<(), StoreError> {
    c.prepare_cached("DELETE FROM numbers WHERE kind = ?1 AND entity_id = ?2")?
        .execute(params![kind, entity_id])?;
    let mut insert = c.prepare_cached(
        "INSERT OR REPLACE INTO numbers (number, kind, entity_id, at_ms) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for number in &numbers.numbers {
        insert.execute(params![number, kind, entity_id, numbers.at_ms])?;
    }
    Ok(())
}

pub(super) fn index_missing(
    c: &Connection,
    kind: Entity,
    entries: &[(String, Numbers)],
) -> Result<usize, StoreError> {
    let mut indexed = 0;
    for (entity_id, numbers) in entries {
        let known: bool = c
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM numbers WHERE kind = ?1 AND entity_id = ?2)",
            )?
            .query_row(params![kind, entity_id], |r| r.get(0))?;
        if !known && !numbers.numbers.is_empty() {
            index(c, kind, entity_id, numbers)?;
            indexed += 1;
        }
    }
    Ok(indexed)
}

pub(super) fn by_number(
    c: &Connection,
    kind: Entity,
    number: &str,
    limit: usize,
) -> Result<Vec<NumberMatch>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT n.entity_id, n.at_ms, e.observed FROM numbers n
           LEFT JOIN entities e ON e.kind = n.kind AND e.entity_id = n.entity_id
          WHERE n.number = ?1 AND n.kind = ?2
          ORDER BY n.at_ms DESC, n.entity_id DESC LIMIT ?3",
    )?;
    let rows = stmt
        .query_map(params![number, kind, limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get(1)?,
                r.get::<_, Option<super::payload::Payload>>(2)?.map(|p| p.0),
            ))
        })?
        .collect::<Result<Vec<(String, i64, Option<String>)>, _>>()?;
    rows.into_iter()
        .map(|(entity_id, at_ms, observed)| {
            Ok(NumberMatch {
                links: super::queries::links(c, kind, &entity_id)?,
                entity_id,
                at_ms,
                observed,
            })
        })
        .collect()
}

pub(super) fn claim_card(c: &Connection, call_id: &str, now_ms: i64) -> Result<bool, StoreError> {
    let inserted = c
        .prepare_cached(
            "INSERT INTO insight_cards (call_id, claimed_ms) VALUES (?1, ?2)
             ON CONFLICT (call_id) DO NOTHING",
        )?
        .execute(params![call_id, now_ms])?;
    Ok(inserted == 1)
}

pub(super) fn prune_card_claims(
    c: &Connection,
    before_ms: i64,
    batch: usize,
) -> Result<usize, StoreError> {
    Ok(c.prepare_cached(
        "DELETE FROM insight_cards WHERE call_id IN (
            SELECT call_id FROM insight_cards WHERE claimed_ms < ?1 LIMIT ?2)",
    )?
    .execute(params![before_ms, batch as i64])?)
}
