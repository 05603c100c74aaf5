//! The reconcile loop, in phases: claim the calls and contacts with pending events; fold each
//! into its observed state (`job`); resolve what the planner needs looked up (`resolve`: the
//! columns' facts first, the items on the boards once the effects an earlier attempt left in
//! doubt are settled (`intents`) and what the daily budget cannot afford is held back
//! (`budget`)); plan and send (`plan`: several items in one request when a backlog builds
//! up); record the outcomes (`record`). Every command comes out of
//! `mapping::plan`; the worker knows no column kinds. No database transaction is held across
//! a monday request: the claim is a lease, the outcome a second short write.

mod budget;
mod caches;
mod health;
mod insights;
mod intents;
mod job;
mod leases;
mod pause;
mod plan;
mod record;
mod recordings;
mod resolve;
mod retry;

pub use health::WorkerHealth;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::aircall::api::AircallApi;
use crate::aircall::download::Downloads;
use crate::clock::SharedClock;
use crate::config::WorkerSettings;
use crate::mapping::Step;
use crate::metrics::Metrics;
use crate::monday::{MondayClient, MondayError};
use crate::reload::SharedRules;
use crate::store::{Completion, Store, StoreError};
use job::Job;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// Some calls or contacts were reconciled (or rescheduled).
    Ran,
    /// Nothing is due.
    Empty,
    /// Sending is paused (monday's daily limit) until the given time.
    Paused { until_ms: i64 },
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Worker {
    store: Store,
    /// Swapped by a reload; each reconcile works with one snapshot.
    rules: SharedRules,
    monday: MondayClient,
    settings: Arc<WorkerSettings>,
    max_batch: usize,
    /// Commands per request now: halved when monday says a batch exceeded the complexity
    /// budget, grown back one by one on success.
    batch_limit: AtomicUsize,
    wake: Arc<Notify>,
    metrics: Arc<Metrics>,
    health: Arc<WorkerHealth>,
    /// This process's part of every lease owner; each claim adds its own number, so two loops
    /// of one process never both pass the owner check for one call.
    owner: String,
    claims_made: std::sync::atomic::AtomicU64,
    /// monday users by agent email, for people columns.
    users: caches::UserCache,
    /// monday tag ids by name, for tags columns.
    tags: caches::TagCache,
    /// Recordings and voicemails for file columns (with Aircall's API for fresh links, when
    /// configured).
    recordings: Downloads,
    /// Aircall's API (`None`: no credentials), shared with `recordings` so that one pace
    /// keeps every request within Aircall's rate limit: AI insights are fetched through it.
    aircall: Option<Arc<AircallApi>>,
    /// Aircall said "no AI Assist" (a 403 while the credentials work): until then, AI
    /// insights are taken as unavailable without asking again (`insights`).
    no_ai_assist_until_ms: std::sync::atomic::AtomicI64,
    clock: SharedClock,
}

/// One planned command: which job, which of its boards.
struct Planned {
    job: usize,
    board: usize,
    step: Step,
}

/// What a worker is built from: the store it claims from, the rules it plans with, the monday
/// client it sends through, and the signals it shares with the rest of the process.
pub struct WorkerParts {
    pub store: Store,
    pub rules: SharedRules,
    pub monday: MondayClient,
    pub settings: Arc<WorkerSettings>,
    /// Most commands in one request (`monday.max_batch`).
    pub max_batch: usize,
    /// Notified when an event is stored.
    pub wake: Arc<Notify>,
    pub metrics: Arc<Metrics>,
    pub health: Arc<WorkerHealth>,
    /// Aircall's API, for fresh links of expired recordings (`None`: no credentials; an upload
    /// whose link expired is retried, then dead-lettered with that reason).
    pub aircall: Option<Arc<AircallApi>>,
    /// What "now" is for due times, leases and the budget (a test may move its own).
    pub clock: SharedClock,
}

impl Worker {
    pub fn new(parts: WorkerParts) -> Worker {
        let owner = format!("{}-{:08x}", std::process::id(), rand::random::<u32>());
        let max_batch = parts.max_batch.max(1);
        let aircall = parts.aircall;
        Worker {
            store: parts.store,
            rules: parts.rules,
            monday: parts.monday,
            settings: parts.settings,
            max_batch,
            batch_limit: AtomicUsize::new(max_batch),
            wake: parts.wake,
            metrics: parts.metrics,
            health: parts.health,
            owner,
            claims_made: Default::default(),
            users: Default::default(),
            tags: Default::default(),
            recordings: Downloads::new(aircall.clone()),
            aircall,
            no_ai_assist_until_ms: Default::default(),
            clock: parts.clock,
        }
    }

    /// Runs `worker.concurrency` loops until `cancel` fires; each finishes its reconcile first.
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        let mut loops = tokio::task::JoinSet::new();
        for _ in 0..self.settings.concurrency.max(1) {
            loops.spawn(self.clone().run_loop(cancel.clone()));
        }
        while loops.join_next().await.is_some() {}
        tracing::info!("worker stopped");
    }

    async fn run_loop(self: Arc<Self>, cancel: CancellationToken) {
        let poll = Duration::from_millis(self.settings.poll_interval_ms.max(1));
        loop {
            self.health
                .heartbeat_ms
                .store(self.clock.now_ms(), Ordering::Relaxed);
            // Register for a wake-up before looking for work, so an event stored between the
            // look and the wait is not missed.
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let wait = match self.try_run_one().await {
                Ok(RunOutcome::Ran) if !cancel.is_cancelled() => continue,
                Ok(RunOutcome::Ran) => break,
                Ok(RunOutcome::Empty) => poll,
                Ok(RunOutcome::Paused { until_ms }) => Duration::from_millis(
                    (until_ms - self.clock.now_ms()).clamp(1, poll.as_millis() as i64) as u64,
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
    }

    /// Reconciles what is due: one call or contact when traffic is live, up to `max_batch` of
    /// them in one request when a backlog built up. Tests call this to drain the queue.
    pub async fn try_run_one(&self) -> Result<RunOutcome, WorkerError> {
        let now = self.clock.now_ms();
        let recorded_pause = self.pause_of_others().await;
        let paused = self.health.paused_until_ms.load(Ordering::Relaxed);
        if now < paused {
            return Ok(RunOutcome::Paused { until_ms: paused });
        }
        let lease_ms = (self.settings.lease_secs * 1000) as i64;
        let batch = self.batch_size();
        let owner = format!(
            "{}-{}",
            self.owner,
            self.claims_made.fetch_add(1, Ordering::Relaxed)
        );
        let claims = self.store.claim_many(now, lease_ms, &owner, batch).await?;
        if claims.is_empty() {
            return Ok(RunOutcome::Empty);
        }
        let rows = claims.iter().map(|c| c.row).collect();
        let _renewing = leases::renew_while_held(
            self.store.clone(),
            rows,
            owner,
            lease_ms,
            self.clock.clone(),
        );
        // One snapshot for the whole reconcile: a reload between two steps must not shift the
        // board indexes the jobs hold.
        let rules = self.rules.current();
        // Fold, and read each entity's items from its links.
        let mut jobs: Vec<Job> = claims
            .into_iter()
            .map(|c| Job::prepare(c, &rules))
            .collect();
        // The AI insights whose events have settled, from Aircall, before anything is planned.
        self.fetch_insights(&mut jobs).await;
        // What the columns need (users, tags, the contact's item); then the open intents:
        // nothing is planned on a board whose last effect is in doubt; then the budget; then
        // the items on the boards, which depend on what the intents settled.
        let mut found = self.resolve_facts(&rules, &mut jobs).await?;
        self.settle_intents(&rules, &mut jobs).await;
        self.hold_for_budget(&mut jobs).await;
        self.resolve_board_items(&rules, &mut jobs, &mut found)
            .await;
        self.plan_and_send(&rules, &mut jobs, &found).await;
        let completions: Vec<Completion> =
            jobs.into_iter().map(|j| self.finish(&rules, j)).collect();
        self.store
            .complete_many(completions, self.clock.now_ms())
            .await?;
        self.share_pause(recorded_pause).await;
        Ok(RunOutcome::Ran)
    }

    /// Commands per request: the adaptive limit, and no more than monday's complexity budget
    /// takes now (a smaller batch now beats a full one after the budget resets).
    fn batch_size(&self) -> usize {
        let limit = self.batch_limit.load(Ordering::Relaxed).max(1);
        match self.monday.commands_that_fit() {
            Some(fit) => limit.min(fit.max(1)),
            None => limit,
        }
    }

    fn adapt_batch(&self, sent: usize, results: &[Result<crate::monday::Applied, MondayError>]) {
        let over_budget = results.iter().any(
            |r| matches!(r, Err(e) if e.kind().eq_ignore_ascii_case("COMPLEXITY_BUDGET_EXHAUSTED")),
        );
        let current = self.batch_limit.load(Ordering::Relaxed);
        let next = if over_budget && sent > 1 {
            (sent / 2).max(1)
        } else if results.iter().all(Result::is_ok) && sent >= current {
            (current + 1).min(self.max_batch)
        } else {
            current
        };
        if next != current {
            tracing::debug!(from = current, to = next, "batch size adjusted");
            self.batch_limit.store(next, Ordering::Relaxed);
        }
    }
}
