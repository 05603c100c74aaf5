//! The caller look-up of insight cards on PostgreSQL: entities by phone number, and the one
//! card each call may get (the same tables as SQLite's).

use deadpool_postgres::GenericClient;

use super::db_err;
use crate::store::{Entity, NumberMatch, Numbers, StoreError};

/// Replaces the numbers indexed for one entity (inside the completion's transaction).
pub(super) async fn index(
    c: &impl GenericClient,
    kind: Entity,
    entity_id: &str,
    numbers: &Numbers,
) -> Result<(), StoreError> {
    c.execute(
        "DELETE FROM numbers WHERE kind = $1 AND entity_id = $2",
        &[&kind, &entity_id],
    )
    .await
    .map_err(db_err)?;
    if numbers.numbers.is_empty() {
        return Ok(());
    }
    c.execute(
        "INSERT INTO numbers (number, kind, entity_id, at_ms)
         SELECT DISTINCT n, $2::TEXT, $3::TEXT, $4::BIGINT FROM UNNEST($1::TEXT[]) AS n
         ON CONFLICT (number, kind, entity_id) DO UPDATE SET at_ms = EXCLUDED.at_ms",
        &[&numbers.numbers, &kind, &entity_id, &numbers.at_ms],
    )
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(super) async fn index_missing(
    c: &impl GenericClient,
    kind: Entity,
    entries: &[(String, Numbers)],
) -> Result<usize, StoreError> {
    let mut indexed = 0;
    for (entity_id, numbers) in entries {
        let known = c
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM numbers WHERE kind = $1 AND entity_id = $2)",
                &[&kind, entity_id],
            )
            .await
            .map_err(db_err)?
            .get::<_, bool>(0);
        if !known && !numbers.numbers.is_empty() {
            index(c, kind, entity_id, numbers).await?;
            indexed += 1;
        }
    }
    Ok(indexed)
}

pub(super) async fn by_number(
    c: &impl GenericClient,
    kind: Entity,
    number: &str,
    limit: usize,
) -> Result<Vec<NumberMatch>, StoreError> {
    let stmt = c
        .prepare_cached(
            "SELECT n.entity_id, n.at_ms, e.observed, e.observed_z FROM numbers n
               LEFT JOIN entities e ON e.kind = n.kind AND e.entity_id = n.entity_id
              WHERE n.number = $1 AND n.kind = $2
              ORDER BY n.at_ms DESC, n.entity_id DESC LIMIT $3",
        )
        .await
        .map_err(db_err)?;
    let rows = c
        .query(&stmt, &[&number, &kind, &(limit as i64)])
        .await
        .map_err(db_err)?;
    let mut found = Vec::with_capacity(rows.len());
    for row in rows {
        let entity_id: String = row.get(0);
        found.push(NumberMatch {
            links: super::queries::links(c, kind, &entity_id).await?,
            entity_id,
            at_ms: row.get(1),
            observed: super::stored_text(&row, 2, 3)?,
        });
    }
    Ok(found)
}

pub(super) async fn claim_card(
    c: &impl GenericClient,
    call_id: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let inserted = c
        .execute(
            "INSERT INTO insight_cards (call_id, claimed_ms) VALUES ($1, $2)
             ON CONFLICT (call_id) DO NOTHING",
            &[&call_id, &now_ms],
        )
        .await
        .map_err(db_err)?;
    Ok(inserted == 1)
}

pub(super) async fn prune_card_claims(
    c: &impl GenericClient,
    before_ms: i64,
    batch: usize,
) -> Result<usize, StoreError> {
    let n = c
        .execute(
            "DELETE FROM insight_cards WHERE call_id IN (
                SELECT call_id FROM insight_cards WHERE claimed_ms < $1 LIMIT $2)",
            &[&before_ms, &(batch as i64)],
        )
        .await
        .map_err(db_err)?;
    Ok(n as usize)
}
