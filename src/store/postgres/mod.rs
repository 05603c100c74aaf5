//! PostgreSQL behind the store's interface, for several replicas sharing one queue. Every
//! acknowledged event is committed with `synchronous_commit = on` (PostgreSQL lets concurrent
//! commits share a flush); claims take due entities `FOR UPDATE SKIP LOCKED` under leases, so
//! one call is worked by one replica at a time and different calls spread across replicas.
//!
//! tokio-postgres with deadpool: a small, well-kept async driver without compile-time query
//! macros (no database needed to build), and a pool that hands out a fresh connection after
//! the server restarts.
//!
//! Long on purpose: it is the one `impl Backend` for PostgreSQL (the trait's every method, each a
//! short delegation); split, the implementation would be scattered.

pub(crate) mod budget;
mod callers;
mod journal;
mod queries;
mod schema;
mod words;

use crate::store::Entity;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use secrecy::ExposeSecret;
use tokio_postgres::NoTls;

use crate::config::StoreSettings;
use crate::store::{
    Appended, Backend, Checkpoint, Claim, Completion, EntityDetail, EntityRow, EventFilter,
    EventRow, Link, NewEvent, QueueStats, Replayed, Space, StoreError,
};

/// How long a request waits for a pooled connection before the store counts as unavailable
/// (the webhook then gets 503 with Retry-After).
const CONNECTION_WAIT: Duration = Duration::from_secs(5);

pub(super) struct PgStore {
    pool: Pool,
    describe: String,
}

/// A driver error: unavailable when the connection is gone (the database restarted or is
/// unreachable), a database error otherwise. The server's words and SQLSTATE go into the text:
/// the driver's own `Display` is only "db error", which says nothing in a log.
/// A payload or state kept as a pair of columns (`store::payload`): the text written before
/// compression, or the zstd frame written since. `None` when both are NULL.
pub(super) fn stored_text(
    row: &tokio_postgres::Row,
    text: usize,
    frame: usize,
) -> Result<Option<String>, StoreError> {
    if let Some(text) = row.try_get::<_, Option<String>>(text).map_err(db_err)? {
        return Ok(Some(text));
    }
    match row.try_get::<_, Option<Vec<u8>>>(frame).map_err(db_err)? {
        Some(bytes) => super::payload::decompress(&bytes)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(e.to_string())),
        None => Ok(None),
    }
}

/// As [`stored_text`], for an event's payload, which is never missing.
pub(super) fn stored_payload(
    row: &tokio_postgres::Row,
    text: usize,
    frame: usize,
) -> Result<String, StoreError> {
    stored_text(row, text, frame)?
        .ok_or_else(|| StoreError::Corrupt("an event without its payload".into()))
}

pub(super) fn db_err(e: tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) if !e.is_closed() => {
            StoreError::Db(format!("PostgreSQL {db} (SQLSTATE {})", db.code().code()))
        }
        Some(db) => StoreError::Unavailable(format!("PostgreSQL: {db}")),
        None => StoreError::Unavailable(format!("PostgreSQL: {e}")),
    }
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    StoreError::Unavailable(format!("PostgreSQL: {e}"))
}

impl PgStore {
    /// Connects to `store.url` and runs the migrations.
    pub(super) async fn connect(settings: &StoreSettings) -> Result<PgStore, StoreError> {
        let url = settings.postgres_url().unwrap_or_default();
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Db(format!("store.url: {e}")))?;
        if !settings.password.expose_secret().is_empty() {
            config.password(settings.password.expose_secret());
        }
        config
            .application_name("aircall-monday-bridge")
            .options("-c synchronous_commit=on")
            .connect_timeout(CONNECTION_WAIT);
        let describe = describe(&config);
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Verified,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(settings.pool_size.max(1))
            .wait_timeout(Some(CONNECTION_WAIT))
            .create_timeout(Some(CONNECTION_WAIT))
            .recycle_timeout(Some(CONNECTION_WAIT))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Db(e.to_string()))?;
        let store = PgStore { pool, describe };
        let mut client = store.client().await.map_err(|e| StoreError::Open {
            path: store.describe.clone().into(),
            message: e.to_string(),
        })?;
        schema::migrate(&mut client).await?;
        Ok(store)
    }

    async fn client(&self) -> Result<deadpool_postgres::Client, StoreError> {
        self.pool.get().await.map_err(pool_err)
    }
}

/// user@host:port/db, never the password.
fn describe(config: &tokio_postgres::Config) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "PostgreSQL {}@{host}:{port}/{}",
        config.get_user().unwrap_or("?"),
        config.get_dbname().unwrap_or("?")
    )
}

#[async_trait::async_trait]
impl Backend for PgStore {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    async fn append(&self, event: NewEvent) -> Result<Appended, StoreError> {
        queries::append(&self.client().await?, &event).await
    }

    async fn claim(
        &self,
        now_ms: i64,
        lease_ms: i64,
        owner: &str,
    ) -> Result<Option<Claim>, StoreError> {
        Ok(self
            .claim_many(now_ms, lease_ms, owner, 1)
            .await?
            .into_iter()
            .next())
    }

    async fn claim_many(
        &self,
        now_ms: i64,
        lease_ms: i64,
        owner: &str,
        max: usize,
    ) -> Result<Vec<Claim>, StoreError> {
        queries::claim_many(&self.client().await?, now_ms, lease_ms, owner, max).await
    }

    async fn renew_leases(
        &self,
        rows: Vec<i64>,
        owner: &str,
        until_ms: i64,
    ) -> Result<usize, StoreError> {
        let client = self.client().await?;
        // Rows are locked in id order, as the batch completions and checkpoints lock them.
        let stmt = client
            .prepare_cached(
                "WITH mine AS (
                    SELECT id FROM entities WHERE id = ANY($2) AND lease_owner = $3
                     ORDER BY id FOR UPDATE)
                 UPDATE entities e SET lease_until_ms = $1 FROM mine WHERE e.id = mine.id",
            )
            .await
            .map_err(db_err)?;
        let n = client
            .execute(&stmt, &[&until_ms, &rows, &owner])
            .await
            .map_err(db_err)?;
        Ok(n as usize)
    }

    async fn checkpoint(
        &self,
        mut checkpoints: Vec<Checkpoint>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        checkpoints.sort_by_key(|cp| cp.row);
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        for cp in &checkpoints {
            queries::checkpoint(&tx, cp, now_ms).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn open_intents_of_request(&self, request_key: &str) -> Result<usize, StoreError> {
        let client = self.client().await?;
        let n: i64 = client
            .query_one(
                "SELECT COUNT(*) FROM intents WHERE request_key = $1",
                &[&request_key],
            )
            .await
            .map_err(db_err)?
            .get(0);
        Ok(n as usize)
    }

    async fn complete_many(
        &self,
        mut completions: Vec<Completion>,
        now_ms: i64,
    ) -> Result<usize, StoreError> {
        // In the order the calls finished, two batches could each hold a row the other wants;
        // PostgreSQL then aborts whichever statement found the ring, even a webhook's append
        // queued behind one of them (the likely cause of a 503 in a three-replica CI run).
        completions.sort_by_key(|done| done.row);
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let mut lost = 0;
        for done in &completions {
            match queries::complete(&tx, done, now_ms).await {
                Ok(()) => {}
                Err(StoreError::LeaseLost(what)) => {
                    tracing::warn!(%what, "claim expired before its outcome was recorded");
                    lost += 1;
                }
                Err(e) => return Err(e),
            }
        }
        tx.commit().await.map_err(db_err)?;
        Ok(lost)
    }

    async fn complete(&self, completion: Completion, now_ms: i64) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        queries::complete(&tx, &completion, now_ms).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn prune_done(&self, before_ms: i64, batch: usize) -> Result<usize, StoreError> {
        let n = self
            .client()
            .await?
            .execute(
                "DELETE FROM events WHERE id IN (
                    SELECT id FROM events WHERE state = 'done' AND received_ms < $1 LIMIT $2)",
                &[&before_ms, &(batch as i64)],
            )
            .await
            .map_err(db_err)?;
        Ok(n as usize)
    }

    async fn item_owner(
        &self,
        board_id: &str,
        item_id: &str,
    ) -> Result<Option<(Entity, String)>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT kind, entity_id FROM links WHERE board_id = $1 AND item_id = $2 LIMIT 1",
                &[&board_id, &item_id],
            )
            .await
            .map_err(db_err)?;
        row.map(|r| Ok((words::word(&r, 0)?, r.get(1)))).transpose()
    }

    async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt("SELECT value FROM meta WHERE key = $1", &[&key])
            .await
            .map_err(db_err)?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        queries::set_meta(&self.client().await?, key, value).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.client()
            .await?
            .query_one("SELECT 1", &[])
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn probe_write(&self, now_ms: i64) -> Result<(), StoreError> {
        // A committed write under synchronous_commit: the server flushed its WAL for it.
        queries::set_meta(
            &self.client().await?,
            "readiness_probe",
            &now_ms.to_string(),
        )
        .await
    }

    fn space(&self) -> Result<Option<Space>, StoreError> {
        Ok(None)
    }

    async fn ensure_space(&self, _reserve: u64) -> Result<(), StoreError> {
        // The server's disk is the server's: a full one fails the commit, which answers 503.
        Ok(())
    }

    async fn stats(&self, now_ms: i64) -> Result<QueueStats, StoreError> {
        journal::stats(&self.client().await?, now_ms).await
    }

    async fn events(&self, filter: EventFilter, limit: usize) -> Result<Vec<EventRow>, StoreError> {
        journal::list(&self.client().await?, &filter, limit).await
    }

    async fn event(&self, id: i64) -> Result<Option<EventRow>, StoreError> {
        journal::show(&self.client().await?, id).await
    }

    async fn replay(&self, filter: EventFilter, now_ms: i64) -> Result<Replayed, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let replayed = journal::replay(&tx, &filter, now_ms).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(replayed)
    }

    async fn drop_events(&self, filter: EventFilter) -> Result<usize, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let dropped = journal::drop_events(&tx, &filter).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(dropped)
    }

    async fn recent_entities(&self, limit: usize) -> Result<Vec<EntityRow>, StoreError> {
        journal::recent_entities(&self.client().await?, limit).await
    }

    async fn links(&self, kind: Entity, entity_id: &str) -> Result<Vec<Link>, StoreError> {
        queries::links(&self.client().await?, kind, entity_id).await
    }

    async fn entity(&self, kind: Entity, id: &str) -> Result<Option<EntityDetail>, StoreError> {
        journal::entity(&self.client().await?, kind, id).await
    }

    async fn entity_events(&self, kind: Entity, id: &str) -> Result<Vec<EventRow>, StoreError> {
        journal::entity_events(&self.client().await?, kind, id).await
    }

    async fn observed_states(
        &self,
        kind: Entity,
        limit: usize,
    ) -> Result<Vec<(String, String)>, StoreError> {
        journal::observed_states(&self.client().await?, kind, limit).await
    }

    async fn by_number(
        &self,
        kind: Entity,
        number: &str,
        limit: usize,
    ) -> Result<Vec<crate::store::NumberMatch>, StoreError> {
        callers::by_number(&self.client().await?, kind, number, limit).await
    }

    async fn index_missing(
        &self,
        kind: Entity,
        entries: Vec<(String, crate::store::Numbers)>,
    ) -> Result<usize, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let indexed = callers::index_missing(&tx, kind, &entries).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(indexed)
    }

    async fn claim_card(&self, call_id: &str, now_ms: i64) -> Result<bool, StoreError> {
        callers::claim_card(&self.client().await?, call_id, now_ms).await
    }

    async fn prune_card_claims(&self, before_ms: i64, batch: usize) -> Result<usize, StoreError> {
        callers::prune_card_claims(&self.client().await?, before_ms, batch).await
    }

    fn is_shared(&self) -> bool {
        true
    }

    async fn reserve_request(&self, quota: Option<(u64, i64)>) -> Result<Option<i64>, StoreError> {
        let mut client = self.client().await?;
        budget::reserve_request(&mut client, quota).await
    }
}
