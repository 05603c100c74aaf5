//! SQLite behind the store's interface: one file in WAL mode, one writer thread that commits
//! in groups (see `writer`), one read connection. The default backend: one bridge per file.
//!
//! Long on purpose: it is the one `impl Backend` for SQLite, each method a thin wrapper over the
//! writer or the reader; split, the trait's implementation would be scattered.

mod callers;
mod checkpointer;
mod health;
mod inspect;
mod intents;
mod journal;
mod payload;
mod queries;
mod schema;
mod words;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};

use crate::store::{
    Appended, Backend, Checkpoint, Claim, Completion, Entity, EntityDetail, EntityRow, EventFilter,
    EventRow, Link, NewEvent, NumberMatch, QueueStats, Replayed, Space, StoreError,
};

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Db(e.to_string())
    }
}

/// Cheap to clone; all clones share the writer thread and the read connection.
#[derive(Clone)]
pub struct SqliteStore {
    writer: writer::Writer,
    reader: Arc<Mutex<Connection>>,
    path: PathBuf,
    /// Held by the process that works the queue (`open_exclusive`): the lock on the file.
    _owner: Option<Arc<std::fs::File>>,
    health: Arc<health::Health>,
}

impl SqliteStore {
    /// Opens (creating if needed) the SQLite file and runs the migrations.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let open_err = |message: String| StoreError::Open {
            path: path.to_path_buf(),
            message,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        }
        health::check_writable(path, None)?;
        let mut conn = Connection::open(path).map_err(|e| open_err(e.to_string()))?;
        health::check_writable(path, Some(&conn))?;
        configure(&conn).map_err(|e| open_err(e.to_string()))?;
        health::configure(&conn).map_err(|e| open_err(e.to_string()))?;
        schema::migrate(&mut conn).map_err(|e| open_err(e.to_string()))?;
        let reader = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| open_err(e.to_string()))?;
        reader
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| open_err(e.to_string()))?;
        let checkpointer =
            checkpointer::Checkpointer::start(path).map_err(|e| open_err(e.to_string()))?;
        Ok(SqliteStore {
            writer: writer::Writer::start(conn, checkpointer),
            reader: Arc::new(Mutex::new(reader)),
            path: path.to_path_buf(),
            _owner: None,
            health: Arc::default(),
        })
    }

    /// Opens the store for the one process that works its queue: refuses a second one (a lock
    /// on `<path>.lock`, released by the kernel when the holder dies, SIGKILL included), then
    /// releases every lease. Any lease left is a dead predecessor's, so its claims are taken
    /// over at once instead of after `worker.lease_secs`; their open intents are settled first.
    pub async fn open_exclusive(path: &Path) -> Result<SqliteStore, StoreError> {
        // A store the service user cannot write is refused naming the path and the permission,
        // before the lock file beside it fails less clearly.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        }
        health::check_writable(path, None)?;
        let lock = lock_file(path)?;
        let mut store = SqliteStore::open(path)?;
        store._owner = Some(Arc::new(lock));
        let released = store
            .writer
            .write(|c| {
                Ok(c.execute(
                    "UPDATE entities SET lease_until_ms = 0, lease_owner = NULL
                      WHERE lease_owner IS NOT NULL",
                    [],
                )?)
            })
            .await?;
        if released > 0 {
            tracing::info!(
                released,
                "took over the claims of a bridge that stopped without finishing them"
            );
        }
        Ok(store)
    }

    /// Runs a read-only query on the reader connection, off the async threads.
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let reader = self.reader.clone();
        tokio::task::spawn_blocking(move || {
            let conn = reader
                .lock()
                .map_err(|_| StoreError::Unavailable("reader poisoned".into()))?;
            f(&conn)
        })
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?
    }
}

#[async_trait::async_trait]
impl Backend for SqliteStore {
    fn describe(&self) -> String {
        format!("SQLite at {}", self.path.display())
    }

    /// Stores one verified event; a delivery seen before is `Duplicate` and stores nothing.
    /// Returns once the event is committed to disk.
    async fn append(&self, event: NewEvent) -> Result<Appended, StoreError> {
        self.writer.append(event).await
    }

    /// Reserves the entity whose pending events are due first, for `lease_ms`.
    async fn claim(
        &self,
        now_ms: i64,
        lease_ms: i64,
        owner: &str,
    ) -> Result<Option<Claim>, StoreError> {
        let owner = owner.to_string();
        self.writer
            .write(move |c| queries::claim(c, now_ms, lease_ms, &owner))
            .await
    }

    /// Reserves up to `max` due entities at once (a backlog is sent in batches).
    async fn claim_many(
        &self,
        now_ms: i64,
        lease_ms: i64,
        owner: &str,
        max: usize,
    ) -> Result<Vec<Claim>, StoreError> {
        let owner = owner.to_string();
        self.writer
            .write(move |c| {
                let mut claims = Vec::new();
                while claims.len() < max {
                    match queries::claim(c, now_ms, lease_ms, &owner)? {
                        Some(claim) => claims.push(claim),
                        None => break,
                    }
                }
                Ok(claims)
            })
            .await
    }

    /// Extends the leases `owner` still holds on `rows` to `until_ms`, while their reconcile
    /// runs; returns how many it still holds (a lease taken over is not taken back).
    async fn renew_leases(
        &self,
        rows: Vec<i64>,
        owner: &str,
        until_ms: i64,
    ) -> Result<usize, StoreError> {
        let owner = owner.to_string();
        self.writer
            .write(move |c| {
                let mut stmt = c.prepare_cached(
                    "UPDATE entities SET lease_until_ms = ?1 WHERE id = ?2 AND lease_owner = ?3",
                )?;
                let mut held = 0;
                for row in rows {
                    held += stmt.execute(rusqlite::params![until_ms, row, owner])?;
                }
                Ok(held)
            })
            .await
    }

    /// Commits what must be on disk before a request leaves: the links as they are now and the
    /// open intents, for each claim. A claim whose lease was lost fails the whole write (its
    /// request must not leave).
    async fn checkpoint(
        &self,
        checkpoints: Vec<Checkpoint>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.writer
            .write(move |c| {
                for cp in &checkpoints {
                    intents::checkpoint(c, cp, now_ms)?;
                }
                Ok(())
            })
            .await
    }

    /// How many intents of the request sent under `request_key` are still open, across every
    /// entity it served.
    async fn open_intents_of_request(&self, request_key: &str) -> Result<usize, StoreError> {
        let key = request_key.to_string();
        self.read(move |c| intents::count_of_request(c, &key)).await
    }

    /// Records several outcomes in one transaction. A claim whose lease was lost is skipped
    /// (another worker owns it now); the others are recorded.
    async fn complete_many(
        &self,
        completions: Vec<Completion>,
        now_ms: i64,
    ) -> Result<usize, StoreError> {
        self.writer
            .write(move |c| {
                let mut lost = 0;
                for done in &completions {
                    match queries::complete(c, done, now_ms) {
                        Ok(()) => {}
                        Err(StoreError::LeaseLost(what)) => {
                            tracing::warn!(%what, "claim expired before its outcome was recorded");
                            lost += 1;
                        }
                        Err(e) => return Err(e),
                    }
                }
                Ok(lost)
            })
            .await
    }

    /// Records what happened to a claim: links and observed state always, and the events as
    /// done, to retry, or dead.
    async fn complete(&self, completion: Completion, now_ms: i64) -> Result<(), StoreError> {
        self.writer
            .write(move |c| queries::complete(c, &completion, now_ms))
            .await
    }

    /// Deletes done events received before `before_ms`, a batch at a time so the writer is
    /// never held long. Pending and dead events are never pruned.
    async fn prune_done(&self, before_ms: i64, batch: usize) -> Result<usize, StoreError> {
        self.writer
            .write(move |c| {
                Ok(c.execute(
                    "DELETE FROM events WHERE id IN (
                        SELECT id FROM events WHERE state = 'done' AND received_ms < ?1 LIMIT ?2)",
                    rusqlite::params![before_ms, batch as i64],
                )?)
            })
            .await
    }

    /// Which Aircall entity (kind, id) an item on a board mirrors, if any: an item the bridge
    /// made for one contact must not be adopted by another.
    async fn item_owner(
        &self,
        board_id: &str,
        item_id: &str,
    ) -> Result<Option<(Entity, String)>, StoreError> {
        let (board_id, item_id) = (board_id.to_string(), item_id.to_string());
        self.read(move |c| {
            use rusqlite::OptionalExtension;
            Ok(c.query_row(
                "SELECT kind, entity_id FROM links WHERE board_id = ?1 AND item_id = ?2 LIMIT 1",
                [board_id, item_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
        })
        .await
    }

    /// A small durable fact (e.g. a backfill checkpoint).
    async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = key.to_string();
        self.read(move |c| {
            use rusqlite::OptionalExtension;
            Ok(
                c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                    .optional()?,
            )
        })
        .await
    }

    async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let (key, value) = (key.to_string(), value.to_string());
        self.writer
            .write(move |c| {
                c.execute(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [key, value],
                )?;
                Ok(())
            })
            .await
    }

    /// A write that proves the database accepts commits (for readiness checks).
    async fn ping(&self) -> Result<(), StoreError> {
        self.writer
            .write(|c| {
                c.query_row("SELECT 1", [], |_| Ok(()))?;
                Ok(())
            })
            .await
    }

    async fn stats(&self, now_ms: i64) -> Result<QueueStats, StoreError> {
        self.read(move |c| queries::stats(c, now_ms)).await
    }

    /// Events matching `filter`, newest first.
    async fn events(&self, filter: EventFilter, limit: usize) -> Result<Vec<EventRow>, StoreError> {
        self.read(move |c| journal::list(c, &filter, limit)).await
    }

    /// One event with its payload.
    async fn event(&self, id: i64) -> Result<Option<EventRow>, StoreError> {
        self.read(move |c| journal::show(c, id)).await
    }

    /// Dead events matching `filter` go back to pending, their calls and contacts due now
    /// with a fresh retry schedule. Other events are left alone.
    async fn replay(&self, filter: EventFilter, now_ms: i64) -> Result<Replayed, StoreError> {
        self.writer
            .write(move |c| journal::replay(c, &filter, now_ms))
            .await
    }

    /// Deletes the matching events for good; the only way events leave the journal.
    async fn drop_events(&self, filter: EventFilter) -> Result<usize, StoreError> {
        self.writer
            .write(move |c| journal::drop_events(c, &filter))
            .await
    }

    /// The calls and contacts touched most recently, with their monday items.
    async fn recent_entities(&self, limit: usize) -> Result<Vec<EntityRow>, StoreError> {
        self.read(move |c| journal::recent_entities(c, limit)).await
    }

    /// Links of one entity, e.g. to show where a call landed.
    async fn links(&self, kind: Entity, entity_id: &str) -> Result<Vec<Link>, StoreError> {
        let entity_id = entity_id.to_string();
        self.read(move |c| queries::links(c, kind, &entity_id))
            .await
    }

    async fn probe_write(&self, now_ms: i64) -> Result<(), StoreError> {
        SqliteStore::probe_write(self, now_ms).await
    }

    fn space(&self) -> Result<Option<Space>, StoreError> {
        SqliteStore::space(self).map(Some)
    }

    async fn ensure_space(&self, reserve: u64) -> Result<(), StoreError> {
        SqliteStore::ensure_space(self, reserve).await
    }

    async fn entity(&self, kind: Entity, id: &str) -> Result<Option<EntityDetail>, StoreError> {
        let id = id.to_string();
        self.read(move |c| inspect::entity(c, kind, &id)).await
    }

    async fn entity_events(&self, kind: Entity, id: &str) -> Result<Vec<EventRow>, StoreError> {
        let id = id.to_string();
        self.read(move |c| inspect::entity_events(c, kind, &id))
            .await
    }

    async fn observed_states(
        &self,
        kind: Entity,
        limit: usize,
    ) -> Result<Vec<(String, String)>, StoreError> {
        self.read(move |c| inspect::observed_states(c, kind, limit))
            .await
    }

    async fn by_number(
        &self,
        kind: Entity,
        number: &str,
        limit: usize,
    ) -> Result<Vec<NumberMatch>, StoreError> {
        let number = number.to_string();
        self.read(move |c| callers::by_number(c, kind, &number, limit))
            .await
    }

    async fn index_missing(
        &self,
        kind: Entity,
        entries: Vec<(String, crate::store::Numbers)>,
    ) -> Result<usize, StoreError> {
        self.writer
            .write(move |c| callers::index_missing(c, kind, &entries))
            .await
    }

    async fn claim_card(&self, call_id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let call_id = call_id.to_string();
        self.writer
            .write(move |c| callers::claim_card(c, &call_id, now_ms))
            .await
    }

    async fn prune_card_claims(&self, before_ms: i64, batch: usize) -> Result<usize, StoreError> {
        self.writer
            .write(move |c| callers::prune_card_claims(c, before_ms, batch))
            .await
    }

    fn is_shared(&self) -> bool {
        false
    }

    async fn reserve_request(&self, _quota: Option<(u64, i64)>) -> Result<Option<i64>, StoreError> {
        Ok(None)
    }
}

/// Takes the exclusive lock on `<path>.lock`, writing our pid into it for the next one's error.
fn lock_file(path: &Path) -> Result<std::fs::File, StoreError> {
    use std::io::{Read, Seek, Write};
    let open_err = |message: String| StoreError::Open {
        path: path.to_path_buf(),
        message,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
    }
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock");
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(|e| open_err(format!("cannot open its lock file: {e}")))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            return Err(StoreError::InUse {
                path: path.to_path_buf(),
                holder: holder.trim().to_string(),
            });
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(open_err(format!("cannot lock it: {e}")))
        }
    }
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = write!(file, "{}", std::process::id());
    Ok(file)
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    // WAL lets readers work while the writer commits; FULL makes every acknowledged event
    // survive a power cut, and group commit keeps that affordable.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // Checkpoints run on their own thread (`checkpointer`), not inside a commit.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    // Every statement the writer runs stays prepared (the default keeps 16).
    conn.set_prepared_statement_cache_capacity(64);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}
