//! The queue's SQL on PostgreSQL: append, claim, checkpoint and complete. Each function runs
//! on a pooled connection or inside the caller's transaction.
//!
//! Long on purpose: append, claim, checkpoint and complete share their lease check and link/intent
//! writes, which must stay side by side with the queries that rely on them.

use super::words::word;
use crate::store::Entity;
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::{db_err, stored_payload, stored_text};
use crate::store::payload::compress;
use crate::store::{
    Appended, Checkpoint, Claim, Completion, Intent, Link, NewEvent, Outcome, StoreError,
    StoredEvent,
};

/// Stores the event and marks its entity pending in one statement, so one round trip and one
/// commit (shared with concurrent ones by the server) acknowledge a webhook. A duplicate
/// delivery inserts nothing and touches no entity.
pub(super) async fn append(c: &impl GenericClient, e: &NewEvent) -> Result<Appended, StoreError> {
    let stmt = c
        .prepare_cached(
            "WITH stored AS (
                INSERT INTO events
                    (dedup_key, entity_kind, entity_id, event, event_ts, received_ms, data_z)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (dedup_key) DO NOTHING
                RETURNING entity_kind, entity_id, received_ms)
             INSERT INTO entities (kind, entity_id, pending, due_ms, updated_ms)
             SELECT entity_kind, entity_id, TRUE, received_ms, received_ms FROM stored
             ON CONFLICT (kind, entity_id) DO UPDATE SET
                pending = TRUE,
                due_ms = CASE WHEN entities.dead THEN EXCLUDED.due_ms ELSE entities.due_ms END,
                attempts = CASE WHEN entities.dead THEN 0 ELSE entities.attempts END,
                dead = FALSE,
                updated_ms = EXCLUDED.updated_ms",
        )
        .await
        .map_err(db_err)?;
    let touched = c
        .execute(
            &stmt,
            &[
                &e.dedup_key,
                &e.kind,
                &e.entity_id,
                &e.event,
                &e.timestamp,
                &e.received_ms,
                &compress(&e.data),
            ],
        )
        .await
        .map_err(db_err)?;
    Ok(if touched == 0 {
        Appended::Duplicate
    } else {
        Appended::Stored
    })
}

/// Leases up to `max` due entities no other replica holds (`SKIP LOCKED`: replicas claiming
/// at once take different entities instead of waiting on each other), then reads their
/// pending events, links and intents.
pub(super) async fn claim_many(
    c: &impl GenericClient,
    now_ms: i64,
    lease_ms: i64,
    owner: &str,
    max: usize,
) -> Result<Vec<Claim>, StoreError> {
    let stmt = c
        .prepare_cached(
            "WITH due AS (
                SELECT id FROM entities
                 WHERE pending AND NOT dead AND due_ms <= $1 AND lease_until_ms <= $1
                 ORDER BY due_ms, id LIMIT $4
                 FOR UPDATE SKIP LOCKED)
             UPDATE entities e
                SET lease_until_ms = $1 + $2, lease_owner = $3, attempts = e.attempts + 1
               FROM due WHERE e.id = due.id
             RETURNING e.id, e.kind, e.entity_id, e.observed, e.attempts, e.due_ms, e.observed_z",
        )
        .await
        .map_err(db_err)?;
    let mut rows = c
        .query(&stmt, &[&now_ms, &lease_ms, &owner, &(max as i64)])
        .await
        .map_err(db_err)?;
    rows.sort_by_key(|r| (r.get::<_, i64>(5), r.get::<_, i64>(0)));
    let mut claims = Vec::with_capacity(rows.len());
    for r in rows {
        let kind: Entity = word(&r, 1)?;
        let entity_id: String = r.get(2);
        claims.push(Claim {
            row: r.get(0),
            events: pending_events(c, kind, &entity_id).await?,
            links: links(c, kind, &entity_id).await?,
            intents: intents_of(c, kind, &entity_id).await?,
            kind,
            entity_id,
            owner: owner.to_string(),
            attempts: r.get::<_, i32>(4) as u32,
            observed: stored_text(&r, 3, 6)?,
        });
    }
    Ok(claims)
}

async fn pending_events(
    c: &impl GenericClient,
    kind: Entity,
    entity_id: &str,
) -> Result<Vec<StoredEvent>, StoreError> {
    let stmt = c
        .prepare_cached(
            "SELECT id, event, event_ts, data, data_z FROM events
              WHERE entity_kind = $1 AND entity_id = $2 AND state = 'pending'
              ORDER BY event_ts, id",
        )
        .await
        .map_err(db_err)?;
    let rows = c.query(&stmt, &[&kind, &entity_id]).await.map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok(StoredEvent {
                id: r.get(0),
                event: r.get(1),
                timestamp: r.get(2),
                data: stored_payload(r, 3, 4)?,
            })
        })
        .collect()
}

pub(super) async fn links(
    c: &impl GenericClient,
    kind: Entity,
    entity_id: &str,
) -> Result<Vec<Link>, StoreError> {
    let stmt = c
        .prepare_cached(
            "SELECT board_id, item_id, synced FROM links WHERE kind = $1 AND entity_id = $2
              ORDER BY board_id",
        )
        .await
        .map_err(db_err)?;
    let rows = c.query(&stmt, &[&kind, &entity_id]).await.map_err(db_err)?;
    Ok(rows
        .iter()
        .map(|r| Link {
            board_id: r.get(0),
            item_id: r.get(1),
            synced: r.get(2),
        })
        .collect())
}

async fn intents_of(
    c: &impl GenericClient,
    kind: Entity,
    entity_id: &str,
) -> Result<Vec<Intent>, StoreError> {
    let stmt = c
        .prepare_cached(
            "SELECT board_id, effect, target, request_key, request, position, opened_ms
               FROM intents WHERE kind = $1 AND entity_id = $2
              ORDER BY opened_ms, board_id, effect, target",
        )
        .await
        .map_err(db_err)?;
    let rows = c.query(&stmt, &[&kind, &entity_id]).await.map_err(db_err)?;
    Ok(rows.iter().map(intent).collect())
}

fn intent(r: &Row) -> Intent {
    Intent {
        board_id: r.get(0),
        effect: r.get(1),
        target: r.get(2),
        request_key: r.get(3),
        request: r.get(4),
        position: r.get::<_, i64>(5) as usize,
        opened_ms: r.get(6),
    }
}

/// The entity (kind, id) of claim `row`, locked for this transaction, if `owner` still
/// holds its lease.
async fn owned(
    c: &impl GenericClient,
    row: i64,
    owner: &str,
) -> Result<(Entity, String), StoreError> {
    let stmt = c
        .prepare_cached(
            "SELECT kind, entity_id, lease_owner FROM entities WHERE id = $1 FOR UPDATE",
        )
        .await
        .map_err(db_err)?;
    let r = c.query_one(&stmt, &[&row]).await.map_err(db_err)?;
    let (kind, entity_id, holder): (Entity, String, Option<String>) =
        (word(&r, 0)?, r.get(1), r.get(2));
    if holder.as_deref() != Some(owner) {
        return Err(StoreError::LeaseLost(format!("{kind} {entity_id}")));
    }
    Ok((kind, entity_id))
}

async fn upsert_link(
    c: &impl GenericClient,
    kind: Entity,
    entity_id: &str,
    link: &Link,
    now_ms: i64,
) -> Result<(), StoreError> {
    let stmt = c
        .prepare_cached(
            "INSERT INTO links (board_id, kind, entity_id, item_id, synced, updated_ms)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (board_id, kind, entity_id) DO UPDATE SET
                item_id = EXCLUDED.item_id, synced = EXCLUDED.synced,
                updated_ms = EXCLUDED.updated_ms",
        )
        .await
        .map_err(db_err)?;
    c.execute(
        &stmt,
        &[
            &link.board_id,
            &kind,
            &entity_id,
            &link.item_id,
            &link.synced,
            &now_ms,
        ],
    )
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Replaces the entity's open intents with `intents`.
async fn replace_intents(
    c: &impl GenericClient,
    kind: Entity,
    entity_id: &str,
    intents: &[Intent],
) -> Result<(), StoreError> {
    c.execute(
        "DELETE FROM intents WHERE kind = $1 AND entity_id = $2",
        &[&kind, &entity_id],
    )
    .await
    .map_err(db_err)?;
    let insert = c
        .prepare_cached(
            "INSERT INTO intents (kind, entity_id, board_id, effect, target, request_key,
                                  request, position, opened_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .await
        .map_err(db_err)?;
    for i in intents {
        c.execute(
            &insert,
            &[
                &kind,
                &entity_id,
                &i.board_id,
                &i.effect,
                &i.target,
                &i.request_key,
                &i.request,
                &(i.position as i64),
                &i.opened_ms,
            ],
        )
        .await
        .map_err(db_err)?;
    }
    Ok(())
}

/// Commits a checkpoint, if the claim is still ours.
pub(super) async fn checkpoint(
    c: &impl GenericClient,
    cp: &Checkpoint,
    now_ms: i64,
) -> Result<(), StoreError> {
    let (kind, entity_id) = owned(c, cp.row, &cp.owner).await?;
    for link in &cp.links {
        upsert_link(c, kind, &entity_id, link, now_ms).await?;
    }
    replace_intents(c, kind, &entity_id, &cp.intents).await
}

/// Records a claim's outcome, if the claim is still ours. The entity row is locked first, so
/// an event appended meanwhile either is seen as pending here or marks the entity pending
/// after this commits: never lost between the two.
pub(super) async fn complete(
    c: &impl GenericClient,
    done: &Completion,
    now_ms: i64,
) -> Result<(), StoreError> {
    let (kind, entity_id) = owned(c, done.row, &done.owner).await?;
    for link in &done.links {
        upsert_link(c, kind, &entity_id, link, now_ms).await?;
    }
    replace_intents(c, kind, &entity_id, &done.intents).await?;
    if let Some(numbers) = &done.numbers {
        super::callers::index(c, kind, &entity_id, numbers).await?;
    }
    let mark = |state: &'static str, error: Option<String>| async move {
        c.execute(
            "UPDATE events SET state = $2, error = $3, done_ms = $4
              WHERE id = ANY($1) AND state = 'pending'",
            &[&done.event_ids, &state, &error, &now_ms],
        )
        .await
        .map_err(db_err)
    };
    // Compressed as the events' payloads are: the folded state is JSON of the same size.
    let observed = compress(&done.observed);
    let still_pending = "EXISTS (SELECT 1 FROM events e WHERE e.entity_kind = entities.kind
                           AND e.entity_id = entities.entity_id AND e.state = 'pending')";
    match &done.outcome {
        Outcome::Synced => {
            mark("done", None).await?;
            c.execute(
                &format!(
                    "UPDATE entities SET observed = NULL, observed_z = $2, pending = {still_pending}, attempts = 0,
                        due_ms = $3, lease_until_ms = 0, lease_owner = NULL, last_error = NULL,
                        updated_ms = $3
                      WHERE id = $1"
                ),
                &[&done.row, &observed, &now_ms],
            )
            .await
            .map_err(db_err)?;
        }
        Outcome::Retry {
            due_ms,
            error,
            counts,
        } => {
            c.execute(
                "UPDATE entities SET observed = NULL, observed_z = $2, due_ms = $3, lease_until_ms = 0,
                    lease_owner = NULL, last_error = $4, updated_ms = $5,
                    attempts = CASE WHEN $6 THEN attempts ELSE GREATEST(attempts - 1, 0) END
                  WHERE id = $1",
                &[&done.row, &observed, due_ms, error, &now_ms, counts],
            )
            .await
            .map_err(db_err)?;
        }
        Outcome::Dead { error } => {
            mark("dead", Some(error.clone())).await?;
            // Events that arrived during the attempt still get their own try.
            c.execute(
                &format!(
                    "UPDATE entities SET observed = NULL, observed_z = $2, pending = {still_pending},
                        dead = NOT {still_pending}, attempts = 0, due_ms = $3,
                        lease_until_ms = 0, lease_owner = NULL, last_error = $4, updated_ms = $3
                      WHERE id = $1"
                ),
                &[&done.row, &observed, &now_ms, error],
            )
            .await
            .map_err(db_err)?;
        }
    }
    Ok(())
}

pub(super) async fn set_meta(
    c: &impl GenericClient,
    key: &str,
    value: &str,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO meta (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        &[&key, &value],
    )
    .await
    .map_err(db_err)?;
    Ok(())
}
