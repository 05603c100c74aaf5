//! The reconcile loop: claim a call or contact with pending events, fold them into its
//! observed state, plan the commands for each board, send them, and record the outcome.
//! No database transaction is held across a monday request: the claim is a lease, the outcome
//! a second short write.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::config::{BoardRule, Entity, WorkerSettings};
use crate::mapping::{self, EventInput, MappingError, Observed, Rules, SyncedItem};
use crate::metrics::Metrics;
use crate::monday::{Decision, MondayClient, MondayError};
use crate::store::{Claim, Completion, Link, Outcome, Store, StoreError};

pub fn now_ms() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64 / 1_000_000
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// One entity was reconciled (or rescheduled).
    Ran,
    /// Nothing is due.
    Empty,
    /// Sending is paused (daily limit) until the given time.
    Paused { until_ms: i64 },
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// State shared with the admin listener and the systemd watchdog.
#[derive(Default)]
pub struct WorkerHealth {
    /// Updated at every loop turn; a stale heartbeat means the worker is wedged.
    pub heartbeat_ms: AtomicI64,
    /// Last time monday answered at all (success or application error).
    pub monday_ok_ms: AtomicI64,
    /// Sending is paused until then (monday's daily limit).
    pub paused_until_ms: AtomicI64,
}

pub struct Worker {
    store: Store,
    rules: Arc<Rules>,
    monday: MondayClient,
    settings: Arc<WorkerSettings>,
    wake: Arc<Notify>,
    metrics: Arc<Metrics>,
    health: Arc<WorkerHealth>,
    owner: String,
}

/// How one board's reconcile ended.
enum BoardResult {
    InStep,
    Failed(MondayError),
}

impl Worker {
    pub fn new(
        store: Store,
        rules: Arc<Rules>,
        monday: MondayClient,
        settings: Arc<WorkerSettings>,
        wake: Arc<Notify>,
        metrics: Arc<Metrics>,
        health: Arc<WorkerHealth>,
    ) -> Worker {
        let owner = format!("{}-{:08x}", std::process::id(), rand::random::<u32>());
        Worker {
            store,
            rules,
            monday,
            settings,
            wake,
            metrics,
            health,
            owner,
        }
    }

    /// Runs until `cancel` fires; the reconcile in progress is finished first.
    pub async fn run(self, cancel: CancellationToken) {
        let poll = Duration::from_millis(self.settings.poll_interval_ms.max(1));
        loop {
            self.health.heartbeat_ms.store(now_ms(), Ordering::Relaxed);
            // Register for a wake-up before looking for work, so an event stored between the
            // look and the wait is not missed.
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let wait = match self.try_run_one().await {
                Ok(RunOutcome::Ran) => {
                    if cancel.is_cancelled() {
                        break;
                    }
                    continue;
                }
                Ok(RunOutcome::Empty) => poll,
                Ok(RunOutcome::Paused { until_ms }) => Duration::from_millis(
                    (until_ms - now_ms()).clamp(1, poll.as_millis() as i64) as u64,
                ),
                Err(e) => {
                    tracing::error!(error = %e, "worker could not use the store");
                    poll
                }
            };
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = &mut notified => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
        tracing::info!("worker stopped");
    }

    /// Reconciles the entity that is due first, if any. Tests call this to drain the queue.
    pub async fn try_run_one(&self) -> Result<RunOutcome, WorkerError> {
        let now = now_ms();
        let paused = self.health.paused_until_ms.load(Ordering::Relaxed);
        if now < paused {
            return Ok(RunOutcome::Paused { until_ms: paused });
        }
        let lease_ms = (self.settings.lease_secs * 1000) as i64;
        let Some(claim) = self.store.claim(now, lease_ms, &self.owner).await? else {
            return Ok(RunOutcome::Empty);
        };
        let span = tracing::info_span!("reconcile", kind = %claim.kind, entity_id = %claim.entity_id, attempt = claim.attempts);
        let completion = tracing::Instrument::instrument(self.reconcile(&claim), span).await;
        let outcome_label = match &completion.outcome {
            Outcome::Synced => "synced",
            Outcome::Retry { .. } => "retry",
            Outcome::Dead { .. } => "dead",
        };
        self.metrics
            .inc("bridge_reconciles_total", &[("outcome", outcome_label)]);
        match self.store.complete(completion, now_ms()).await {
            Ok(()) | Err(StoreError::LeaseLost(_)) => Ok(RunOutcome::Ran),
            Err(e) => Err(e.into()),
        }
    }

    async fn reconcile(&self, claim: &Claim) -> Completion {
        let mut completion = Completion {
            row: claim.row,
            owner: claim.owner.clone(),
            event_ids: claim.events.iter().map(|e| e.id).collect(),
            observed: claim.observed.clone().unwrap_or_default(),
            links: Vec::new(),
            outcome: Outcome::Synced,
        };
        let observed = match self.fold(claim) {
            Ok(o) => o,
            Err(e) => return self.dead(completion, e.to_string()),
        };
        completion.observed = serde_json::to_string(&observed).unwrap_or_default();
        let entity = Entity::parse(&claim.kind).unwrap_or(Entity::Call);
        for (index, board) in self.rules.boards_for(entity) {
            let link = claim.links.iter().find(|l| l.board_id == board.board_id);
            let mut item_id = link.and_then(|l| l.item_id.clone());
            let mut synced: SyncedItem = link
                .and_then(|l| serde_json::from_str(&l.synced).ok())
                .unwrap_or_default();
            let desired = match mapping::desired(&self.rules, index, &observed) {
                Ok(d) => d,
                Err(e) => return self.dead(completion, format!("board {}: {e}", board.name)),
            };
            let result = self
                .sync_board(board, claim, &desired, &mut item_id, &mut synced)
                .await;
            completion.links.push(Link {
                board_id: board.board_id.clone(),
                item_id,
                synced: serde_json::to_string(&synced).unwrap_or_default(),
            });
            if let BoardResult::Failed(e) = result {
                let error = format!("board {}: {e}", board.name);
                completion.outcome = self.after_failure(claim, &e, error);
                if let Outcome::Dead { error } = &completion.outcome {
                    tracing::error!(%error, "moved to the dead letter");
                    self.metrics.inc("bridge_dead_letters_total", &[]);
                }
                // One failing board is enough: monday is likely failing for the others too.
                return completion;
            }
        }
        completion
    }

    /// Brings one board in step, one command at a time. A few rounds at most: a create
    /// answered from monday's idempotency cache, or a recreated item, needs a second command.
    async fn sync_board(
        &self,
        board: &BoardRule,
        claim: &Claim,
        desired: &mapping::DesiredItem,
        item_id: &mut Option<String>,
        synced: &mut SyncedItem,
    ) -> BoardResult {
        for _round in 0..3 {
            if item_id.is_none() && claim.attempts > 1 {
                // An earlier attempt may have created the item and died before storing its id.
                match self.find_lost_item(board, claim).await {
                    Ok(Some(found)) => {
                        tracing::info!(item_id = %found, "found the item an earlier attempt created");
                        *item_id = Some(found);
                        *synced = SyncedItem::default();
                    }
                    Ok(None) => {}
                    Err(e) => return BoardResult::Failed(e),
                }
            }
            let Some(step) =
                mapping::plan(board, &claim.entity_id, desired, item_id.as_deref(), synced)
            else {
                return BoardResult::InStep;
            };
            match self.monday.execute(&step.command).await {
                Ok(applied) => {
                    self.health.monday_ok_ms.store(now_ms(), Ordering::Relaxed);
                    let created = item_id.is_none();
                    *item_id = Some(applied.item_id);
                    *synced = if created && applied.replayed {
                        // Created earlier with values we no longer know: write them all again.
                        SyncedItem::default()
                    } else {
                        step.after
                    };
                }
                Err(e) => {
                    if !matches!(e, MondayError::Transport { .. } | MondayError::Http { .. }) {
                        self.health.monday_ok_ms.store(now_ms(), Ordering::Relaxed);
                    }
                    if e.decision() == Decision::ItemGone && item_id.is_some() {
                        tracing::warn!(item_id = ?item_id, "the item was deleted on monday");
                        if self.settings.recreate_deleted_items {
                            *item_id = None;
                            *synced = SyncedItem::default();
                        } else {
                            // Leave the board alone: remember the item as done with.
                            synced.archived = true;
                            return BoardResult::InStep;
                        }
                        continue;
                    }
                    return BoardResult::Failed(e);
                }
            }
        }
        BoardResult::InStep
    }

    async fn find_lost_item(
        &self,
        board: &BoardRule,
        claim: &Claim,
    ) -> Result<Option<String>, MondayError> {
        let Some(column) = &board.aircall_id_column else {
            return Ok(None);
        };
        let items = self
            .monday
            .find_items(&board.board_id, column, &claim.entity_id)
            .await?;
        Ok(items.into_iter().find(|i| i.active).map(|i| i.id))
    }

    fn fold(&self, claim: &Claim) -> Result<Observed, MappingError> {
        let entity = Entity::parse(&claim.kind).ok_or_else(|| MappingError::Payload {
            event: claim.kind.clone(),
            message: "unknown entity kind".into(),
        })?;
        let previous: Option<Observed> = claim
            .observed
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok());
        let data: Vec<(String, i64, serde_json::Value)> = claim
            .events
            .iter()
            .map(|e| {
                let value = serde_json::from_str(&e.data).map_err(|err| MappingError::Payload {
                    event: e.event.clone(),
                    message: err.to_string(),
                })?;
                Ok((e.event.clone(), e.timestamp, value))
            })
            .collect::<Result<_, MappingError>>()?;
        let inputs: Vec<EventInput<'_>> = data
            .iter()
            .map(|(event, timestamp, data)| EventInput {
                event,
                timestamp: *timestamp,
                data,
            })
            .collect();
        mapping::fold(entity, previous, &inputs)
    }

    fn dead(&self, mut completion: Completion, error: String) -> Completion {
        tracing::error!(%error, "moved to the dead letter");
        self.metrics.inc("bridge_dead_letters_total", &[]);
        completion.outcome = Outcome::Dead { error };
        completion
    }

    fn after_failure(&self, claim: &Claim, e: &MondayError, error: String) -> Outcome {
        let now = now_ms();
        match e.decision() {
            Decision::DeadLetter | Decision::ItemGone => Outcome::Dead { error },
            Decision::PauseUntilMidnight => {
                let until = next_midnight_utc_ms(now);
                self.health.paused_until_ms.store(until, Ordering::Relaxed);
                tracing::warn!(
                    until_ms = until,
                    "monday's daily limit is spent: sending paused until midnight UTC"
                );
                self.metrics
                    .inc("bridge_retries_total", &[("reason", "daily_limit")]);
                Outcome::Retry {
                    due_ms: until,
                    error,
                    counts: false,
                }
            }
            Decision::Retry { hint } => {
                let schedule = &self.settings.retry_schedule;
                let attempt = claim.attempts.max(1) as usize;
                // A rate limit means "not processed": wait as told, without using up attempts.
                let rate_limited = hint.is_some() && e.kind() != "IDEMPOTENCY_CONFLICT";
                if !rate_limited && attempt > schedule.len() {
                    return Outcome::Dead {
                        error: format!("gave up after {attempt} attempts: {error}"),
                    };
                }
                let base = match hint {
                    Some(h) => h.clamp(Duration::from_millis(50), Duration::from_secs(3600)),
                    None => schedule[(attempt - 1).min(schedule.len() - 1)],
                };
                let jitter = base.mul_f64(rand::thread_rng().gen_range(0.0..0.2));
                let due = now + (base + jitter).as_millis() as i64;
                let reason = if rate_limited {
                    "rate_limited"
                } else {
                    "error"
                };
                self.metrics
                    .inc("bridge_retries_total", &[("reason", reason)]);
                tracing::warn!(%error, retry_in_ms = due - now, "will retry");
                Outcome::Retry {
                    due_ms: due,
                    error,
                    counts: !rate_limited,
                }
            }
        }
    }
}

fn next_midnight_utc_ms(now_ms: i64) -> i64 {
    const DAY: i64 = 86_400_000;
    (now_ms / DAY + 1) * DAY
}
