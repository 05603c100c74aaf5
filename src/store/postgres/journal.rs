//! The operator's views on PostgreSQL: queue figures, events by filter, replay and drop, the
//! entities touched last, and one entity with everything known of it.

use super::words::word;
use crate::store::{Entity, EventState};
use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use super::db_err;
use crate::store::{
    EntityDetail, EntityRow, EventFilter, EventRow, FilterValue, QueueStats, Replayed, StoreError,
};

const COLUMNS: &str =
    "id, entity_kind, entity_id, event, event_ts, received_ms, state, error, done_ms";

fn row(r: &Row, with_data: bool) -> Result<EventRow, StoreError> {
    Ok(EventRow {
        id: r.get(0),
        kind: word(r, 1)?,
        entity_id: r.get(2),
        event: r.get(3),
        event_ts: r.get(4),
        received_ms: r.get(5),
        state: word(r, 6)?,
        error: r.get(7),
        done_ms: r.get(8),
        data: with_data
            .then(|| super::stored_payload(r, 9, 10))
            .transpose()?,
    })
}

type Params = Vec<Box<dyn ToSql + Sync + Send>>;

/// The filter as a WHERE clause with PostgreSQL's numbered parameters.
fn where_clause(filter: &EventFilter) -> (String, Params) {
    let (clause, values) = filter.where_clause('$');
    let args = values
        .into_iter()
        .map(|v| -> Box<dyn ToSql + Sync + Send> {
            match v {
                FilterValue::Text(t) => Box::new(t),
                FilterValue::Int(i) => Box::new(i),
            }
        })
        .collect();
    (clause, args)
}

fn refs(args: &Params) -> Vec<&(dyn ToSql + Sync)> {
    args.iter()
        .map(|a| a.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

pub(super) async fn stats(c: &impl GenericClient, now_ms: i64) -> Result<QueueStats, StoreError> {
    let mut stats = QueueStats::default();
    for r in c
        .query("SELECT state, COUNT(*) FROM events GROUP BY state", &[])
        .await
        .map_err(db_err)?
    {
        let n: i64 = r.get(1);
        match r.get::<_, &str>(0) {
            "pending" => stats.pending_events = n,
            "dead" => stats.dead_events = n,
            "done" => stats.done_events = n,
            _ => {}
        }
    }
    stats.pending_entities = c
        .query_one(
            "SELECT COUNT(*) FROM entities WHERE pending AND NOT dead",
            &[],
        )
        .await
        .map_err(db_err)?
        .get(0);
    stats.due_entities = c
        .query_one(
            "SELECT COUNT(*) FROM entities WHERE pending AND NOT dead AND due_ms <= $1",
            &[&now_ms],
        )
        .await
        .map_err(db_err)?
        .get(0);
    let oldest: Option<i64> = c
        .query_one(
            "SELECT MIN(received_ms) FROM events WHERE state = 'pending'",
            &[],
        )
        .await
        .map_err(db_err)?
        .get(0);
    stats.oldest_pending_age_ms = oldest.map(|t| (now_ms - t).max(0));
    Ok(stats)
}

pub(super) async fn list(
    c: &impl GenericClient,
    filter: &EventFilter,
    limit: usize,
) -> Result<Vec<EventRow>, StoreError> {
    let (clause, mut args) = where_clause(filter);
    args.push(Box::new(limit as i64));
    let sql = format!(
        "SELECT {COLUMNS} FROM events WHERE {clause} ORDER BY id DESC LIMIT ${}",
        args.len()
    );
    let rows = c.query(&sql, &refs(&args)).await.map_err(db_err)?;
    rows.iter().map(|r| row(r, false)).collect()
}

pub(super) async fn show(c: &impl GenericClient, id: i64) -> Result<Option<EventRow>, StoreError> {
    let found = c
        .query_opt(
            &format!("SELECT {COLUMNS}, data, data_z FROM events WHERE id = $1"),
            &[&id],
        )
        .await
        .map_err(db_err)?;
    found.map(|r| row(&r, true)).transpose()
}

/// The (kind, entity id) pairs the filter's events belong to.
async fn entities_of(
    c: &impl GenericClient,
    clause: &str,
    args: &Params,
) -> Result<Vec<(String, String)>, StoreError> {
    let sql = format!("SELECT DISTINCT entity_kind, entity_id FROM events WHERE {clause}");
    let rows = c.query(&sql, &refs(args)).await.map_err(db_err)?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

pub(super) async fn replay(
    c: &impl GenericClient,
    filter: &EventFilter,
    now_ms: i64,
) -> Result<Replayed, StoreError> {
    let mut dead = filter.clone();
    dead.state = Some(EventState::Dead);
    let (clause, args) = where_clause(&dead);
    let entities = entities_of(c, &clause, &args).await?;
    let events = c
        .execute(
            &format!(
                "UPDATE events SET state = 'pending', error = NULL, done_ms = NULL WHERE {clause}"
            ),
            &refs(&args),
        )
        .await
        .map_err(db_err)?;
    let mut touched = 0;
    for (kind, id) in &entities {
        touched += c
            .execute(
                "UPDATE entities SET dead = FALSE, pending = TRUE, due_ms = $3, attempts = 0,
                    last_error = NULL, updated_ms = $3
                  WHERE kind = $1 AND entity_id = $2",
                &[kind, id, &now_ms],
            )
            .await
            .map_err(db_err)?;
    }
    Ok(Replayed {
        events: events as usize,
        entities: touched as usize,
    })
}

pub(super) async fn drop_events(
    c: &impl GenericClient,
    filter: &EventFilter,
) -> Result<usize, StoreError> {
    let (clause, args) = where_clause(filter);
    let entities = entities_of(c, &clause, &args).await?;
    let dropped = c
        .execute(&format!("DELETE FROM events WHERE {clause}"), &refs(&args))
        .await
        .map_err(db_err)?;
    for (kind, id) in &entities {
        c.execute(
            "UPDATE entities SET
                pending = EXISTS (SELECT 1 FROM events e WHERE e.entity_kind = $1
                                  AND e.entity_id = $2 AND e.state = 'pending'),
                dead = dead AND EXISTS (SELECT 1 FROM events e WHERE e.entity_kind = $1
                                  AND e.entity_id = $2 AND e.state = 'dead')
              WHERE kind = $1 AND entity_id = $2",
            &[kind, id],
        )
        .await
        .map_err(db_err)?;
    }
    Ok(dropped as usize)
}

pub(super) async fn recent_entities(
    c: &impl GenericClient,
    limit: usize,
) -> Result<Vec<EntityRow>, StoreError> {
    let rows = c
        .query(
            "SELECT kind, entity_id, pending, dead, last_error, updated_ms FROM entities
              ORDER BY updated_ms DESC, id DESC LIMIT $1",
            &[&(limit as i64)],
        )
        .await
        .map_err(db_err)?;
    let mut entities = Vec::with_capacity(rows.len());
    for r in rows {
        let (pending, dead): (bool, bool) = (r.get(2), r.get(3));
        let (kind, entity_id): (Entity, String) = (word(&r, 0)?, r.get(1));
        let items = c
            .query(
                "SELECT board_id, item_id FROM links
                  WHERE kind = $1 AND entity_id = $2 AND item_id IS NOT NULL ORDER BY board_id",
                &[&kind, &entity_id],
            )
            .await
            .map_err(db_err)?
            .iter()
            .map(|l| (l.get(0), l.get(1)))
            .collect();
        entities.push(EntityRow {
            kind,
            entity_id,
            state: if dead {
                "dead"
            } else if pending {
                "pending"
            } else {
                "synced"
            },
            last_error: r.get(4),
            updated_ms: r.get(5),
            items,
        });
    }
    Ok(entities)
}

pub(super) async fn entity(
    c: &impl GenericClient,
    kind: Entity,
    id: &str,
) -> Result<Option<EntityDetail>, StoreError> {
    let row = c
        .query_opt(
            "SELECT kind, entity_id, observed, pending, dead, attempts, due_ms, lease_until_ms,
                    last_error, updated_ms, observed_z
               FROM entities WHERE kind = $1 AND entity_id = $2",
            &[&kind, &id],
        )
        .await
        .map_err(db_err)?;
    row.map(|r| {
        Ok(EntityDetail {
            kind: word(&r, 0)?,
            entity_id: r.get(1),
            observed: super::stored_text(&r, 2, 10)?,
            pending: r.get::<_, bool>(3) as i64,
            dead: r.get::<_, bool>(4) as i64,
            attempts: r.get::<_, i32>(5) as i64,
            due_ms: r.get(6),
            lease_until_ms: r.get(7),
            last_error: r.get(8),
            updated_ms: r.get(9),
        })
    })
    .transpose()
}

pub(super) async fn entity_events(
    c: &impl GenericClient,
    kind: Entity,
    id: &str,
) -> Result<Vec<EventRow>, StoreError> {
    let rows = c
        .query(
            &format!(
                "SELECT {COLUMNS}, data, data_z FROM events WHERE entity_kind = $1 AND entity_id = $2 \
                 ORDER BY id"
            ),
            &[&kind, &id],
        )
        .await
        .map_err(db_err)?;
    rows.iter().map(|r| row(r, true)).collect()
}

pub(super) async fn observed_states(
    c: &impl GenericClient,
    kind: Entity,
    limit: usize,
) -> Result<Vec<(String, String)>, StoreError> {
    let rows = c
        .query(
            "SELECT entity_id, observed, observed_z FROM entities
              WHERE kind = $1 AND (observed IS NOT NULL OR observed_z IS NOT NULL)
              ORDER BY updated_ms DESC LIMIT $2",
            &[&kind, &(limit as i64)],
        )
        .await
        .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            let state = super::stored_text(r, 1, 2)?.unwrap_or_default();
            Ok((r.get(0), state))
        })
        .collect()
}
