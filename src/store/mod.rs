//! The durable side of the bridge: the event journal (deduplicated), per-entity state with
//! leases, the links between Aircall entities and monday items with the values last written
//! there, and the intents of effects not yet known to have happened.
//!
//! One interface (`Backend`), two databases behind it: SQLite (`sqlite`, the default: one
//! file, one bridge) and PostgreSQL (`postgres`: several replicas sharing one queue). The
//! store knows nothing of calls, mappings or monday: observed state, synced values and
//! requests are opaque JSON owned by `mapping` and `worker`.

mod payload;
pub(crate) mod postgres;
mod sqlite;
mod types;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use types::{
    Appended, Checkpoint, Claim, Completion, Entity, EntityDetail, EntityRow, EventFilter,
    EventRow, EventState, FilterValue, Intent, Link, NewEvent, NumberMatch, Numbers, Outcome,
    QueueStats, Replayed, Space, StoredEvent,
};

use crate::config::StoreSettings;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(String),
    /// A row the store wrote that it cannot read back: surfaced, never defaulted.
    #[error("unreadable row in the store: {0}")]
    Corrupt(String),
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("cannot open the store at {path}: {message}")]
    Open { path: PathBuf, message: String },
    #[error("the claim on {0} expired and was taken by another worker")]
    LeaseLost(String),
    #[error(
        "the store at {path} is in use by another running bridge (pid {holder}): one process per \
         store file; stop the other one (systemctl stop aircall-monday-bridge) or give this one \
         its own store.path"
    )]
    InUse { path: PathBuf, holder: String },
}

/// Everything the bridge asks of its database. Times are passed in (milliseconds since the
/// epoch), so the store keeps no clock of its own and tests choose theirs.
#[async_trait::async_trait]
pub trait Backend: Send + Sync {
    /// Where the data lives, for logs and errors (never a password).
    fn describe(&self) -> String;

    /// Stores one verified event; a delivery seen before is `Duplicate` and stores nothing.
    /// Returns once the event is durably committed.
    async fn append(&self, event: NewEvent) -> Result<Appended, StoreError>;

    /// Reserves the entity whose pending events are due first, for `lease_ms`.
    async fn claim(
        &self,
        now_ms: i64,
        lease_ms: i64,
        owner: &str,
    ) -> Result<Option<Claim>, StoreError>;

    /// Reserves up to `max` due entities at once (a backlog is sent in batches). Entities
    /// leased to another owner are skipped, so replicas work different calls.
    async fn claim_many(
        &self,
        now_ms: i64,
        lease_ms: i64,
        owner: &str,
        max: usize,
    ) -> Result<Vec<Claim>, StoreError>;

    /// Extends the leases `owner` still holds on `rows` to `until_ms`; returns how many it
    /// still holds (a lease taken over is not taken back).
    async fn renew_leases(
        &self,
        rows: Vec<i64>,
        owner: &str,
        until_ms: i64,
    ) -> Result<usize, StoreError>;

    /// Commits what must be durable before a request leaves: the links as they are now and
    /// the open intents, for each claim. A claim whose lease was lost fails the whole write
    /// (its request must not leave).
    async fn checkpoint(&self, checkpoints: Vec<Checkpoint>, now_ms: i64)
        -> Result<(), StoreError>;

    /// How many intents of the request sent under `request_key` are still open, across
    /// every entity it served.
    async fn open_intents_of_request(&self, request_key: &str) -> Result<usize, StoreError>;

    /// Records several outcomes in one transaction. A claim whose lease was lost is skipped
    /// (another worker owns it now) and counted in the answer; the others are recorded.
    async fn complete_many(
        &self,
        completions: Vec<Completion>,
        now_ms: i64,
    ) -> Result<usize, StoreError>;

    /// Records what happened to a claim: links and observed state always, and the events as
    /// done, to retry, or dead.
    async fn complete(&self, completion: Completion, now_ms: i64) -> Result<(), StoreError>;

    /// Deletes done events received before `before_ms`, a batch at a time. Pending and dead
    /// events are never pruned.
    async fn prune_done(&self, before_ms: i64, batch: usize) -> Result<usize, StoreError>;

    /// Which Aircall entity (kind, id) an item on a board mirrors, if any.
    async fn item_owner(
        &self,
        board_id: &str,
        item_id: &str,
    ) -> Result<Option<(Entity, String)>, StoreError>;

    /// A small durable fact (e.g. a backfill checkpoint).
    async fn meta(&self, key: &str) -> Result<Option<String>, StoreError>;
    async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError>;

    /// A round trip that proves the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// A commit that reaches the disk (for readiness): fails on a full or read-only disk,
    /// which an empty commit would not notice.
    async fn probe_write(&self, now_ms: i64) -> Result<(), StoreError>;

    /// Free space of the store's filesystem, where the bridge can see it (`None` for a
    /// database server).
    fn space(&self) -> Result<Option<Space>, StoreError>;

    /// Ok when `reserve` bytes are free for the next commit (giving space back first when
    /// it can); an error refuses the write before the disk fills under it.
    async fn ensure_space(&self, reserve: u64) -> Result<(), StoreError>;

    async fn stats(&self, now_ms: i64) -> Result<QueueStats, StoreError>;

    /// Events matching `filter`, newest first.
    async fn events(&self, filter: EventFilter, limit: usize) -> Result<Vec<EventRow>, StoreError>;

    /// One event with its payload.
    async fn event(&self, id: i64) -> Result<Option<EventRow>, StoreError>;

    /// Dead events matching `filter` go back to pending, their calls and contacts due now
    /// with a fresh retry schedule. Other events are left alone.
    async fn replay(&self, filter: EventFilter, now_ms: i64) -> Result<Replayed, StoreError>;

    /// Deletes the matching events for good; the only way events leave the journal.
    async fn drop_events(&self, filter: EventFilter) -> Result<usize, StoreError>;

    /// The calls and contacts touched most recently, with their monday items.
    async fn recent_entities(&self, limit: usize) -> Result<Vec<EntityRow>, StoreError>;

    /// Links of one entity, e.g. to show where a call landed.
    async fn links(&self, kind: Entity, entity_id: &str) -> Result<Vec<Link>, StoreError>;

    /// One entity's row, or `None` when the store has never heard of it.
    async fn entity(&self, kind: Entity, id: &str) -> Result<Option<EntityDetail>, StoreError>;

    /// Every event of one entity with its payload, oldest first.
    async fn entity_events(&self, kind: Entity, id: &str) -> Result<Vec<EventRow>, StoreError>;

    /// (entity id, folded state) of the `limit` entities of `kind` updated last, newest
    /// first: what `calls find` searches.
    async fn observed_states(
        &self,
        kind: Entity,
        limit: usize,
    ) -> Result<Vec<(String, String)>, StoreError>;

    /// The entities of `kind` indexed under the normalised number `number`, newest `at_ms`
    /// first, at most `limit`: how an insight card finds its caller without asking monday.
    async fn by_number(
        &self,
        kind: Entity,
        number: &str,
        limit: usize,
    ) -> Result<Vec<NumberMatch>, StoreError>;

    /// Indexes the numbers of entities of `kind` the index has nothing for yet (reconciled
    /// before the index existed). An entity indexed already is left alone, so a completion
    /// that raced this write keeps its newer numbers. Returns how many were indexed.
    async fn index_missing(
        &self,
        kind: Entity,
        entries: Vec<(String, Numbers)>,
    ) -> Result<usize, StoreError>;

    /// Writes down that call `call_id`'s insight card is going out: true the first time, false
    /// ever after (a duplicate or a replayed `call.created` sends nothing). Committed before
    /// the card's request leaves, so a card goes out at most once, crashes included.
    async fn claim_card(&self, call_id: &str, now_ms: i64) -> Result<bool, StoreError>;

    /// Deletes card claims made before `before_ms`, a batch at a time (the retention of done
    /// events). A `call.created` that old is refused by `insight_card.max_age` before any
    /// claim is looked at, so a pruned claim can never let a second card out.
    async fn prune_card_claims(&self, before_ms: i64, batch: usize) -> Result<usize, StoreError>;

    /// Whether several bridge processes may share this store (replicas): what one of them
    /// learns of monday's budgets must then be shared through it.
    fn is_shared(&self) -> bool;

    /// Takes one monday request of the account's `quota` (requests, window in ms), across
    /// the replicas on this store: `None` when taken, else the milliseconds until one frees.
    /// The quota is remembered for a replica that has not learnt it yet (`None`). The request
    /// is counted from the store's own clock once it is the replicas' turn. Always `None` on
    /// a store one process has to itself (its own count is exact).
    async fn reserve_request(&self, quota: Option<(u64, i64)>) -> Result<Option<i64>, StoreError>;
}

/// The account's minute window for monday's client, kept in the store.
#[async_trait::async_trait]
impl crate::monday::SharedWindow for Store {
    async fn reserve(
        &self,
        quota: Option<(u64, std::time::Duration)>,
    ) -> Result<Option<std::time::Duration>, String> {
        let quota = quota.map(|(q, w)| (q, w.as_millis() as i64));
        let wait = self
            .reserve_request(quota)
            .await
            .map_err(|e| e.to_string())?;
        Ok(wait.map(|ms| std::time::Duration::from_millis(ms.max(1) as u64)))
    }
}

/// Cheap to clone; all clones share one connection pool or writer.
#[derive(Clone)]
pub struct Store(Arc<dyn Backend>);

impl std::ops::Deref for Store {
    type Target = dyn Backend;
    fn deref(&self) -> &Self::Target {
        self.0.as_ref()
    }
}

/// Who opens the store: the one process that works its queue (the daemon), or a command
/// beside it (`events`, `backfill`, `calls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Worker,
    Tool,
}

impl Store {
    /// Opens (creating if needed) the SQLite file at `path` and runs the migrations.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Ok(Store(Arc::new(sqlite::SqliteStore::open(path)?)))
    }

    /// Opens the SQLite file for the one process that works its queue (see
    /// `SqliteStore::open_exclusive`).
    pub async fn open_exclusive(path: &Path) -> Result<Store, StoreError> {
        Ok(Store(Arc::new(
            sqlite::SqliteStore::open_exclusive(path).await?,
        )))
    }

    /// The store the settings name: PostgreSQL when `store.url` is set, else the SQLite file
    /// at `store.path`.
    pub async fn connect(settings: &StoreSettings, role: Role) -> Result<Store, StoreError> {
        match (settings.postgres_url(), role) {
            (Some(_), _) => Ok(Store(Arc::new(postgres::PgStore::connect(settings).await?))),
            (None, Role::Worker) => Store::open_exclusive(&settings.path).await,
            (None, Role::Tool) => Store::open(&settings.path),
        }
    }
}
