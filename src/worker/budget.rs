//! The daily-budget governor in the reconcile: read monday's limit and usage now and then,
//! keep the bridge's own count on disk, decide the mode, and hold back the calls whose
//! changes can wait (see `budget`).

use std::sync::atomic::Ordering;

use super::job::{Failure, Job};
use super::Worker;
use crate::budget::{day_label, day_start_ms, Mode};
use crate::entity::Entity;

/// The store's meta key of the bridge's own requests today.
const COUNT_KEY: &str = "monday_daily_requests";

impl Worker {
    /// Decides the mode for this reconcile and marks the calls to hold back. A call with open
    /// intents is never held: those are settled first, whatever the budget.
    pub(super) async fn hold_for_budget(&self, jobs: &mut [Job]) {
        let keeper = self.monday.keeper().clone();
        if !keeper.settings().enabled {
            return;
        }
        let now = self.clock.now_ms();
        self.keep_count(now).await;
        if keeper.read_due(now) {
            let day = keeper.settings().day_ms;
            let label = day_label(day_start_ms(now, day), day);
            match self.monday.daily_usage(&label).await {
                Ok(u) => keeper.read(now, u.limit, Some(u.used)),
                Err(error) => {
                    tracing::warn!(%error, "cannot read monday's daily usage (platform_api); the bridge counts its own");
                    keeper.read(now, None, None);
                }
            }
        }
        for job in jobs.iter().filter(|j| j.claim.kind == Entity::Call) {
            keeper.call_seen(now, &job.claim.entity_id);
        }
        let decision = keeper.decide(now);
        for job in jobs.iter_mut() {
            if job.failure.is_some() || !job.intents.is_empty() || job.claim.kind != Entity::Call {
                continue;
            }
            let is_final = job.is_final();
            if let Some(due_ms) =
                keeper.hold_until(now, &job.claim.entity_id, is_final, decision.mode)
            {
                self.metrics.inc(
                    "bridge_budget_held_total",
                    &[("mode", decision.mode.name())],
                );
                job.failure = Some(Failure::Held {
                    due_ms,
                    mode: decision.mode.name(),
                });
            }
        }
        if decision.mode != Mode::Live {
            tracing::debug!(mode = decision.mode.name(), reason = %decision.reason, "budget");
        }
    }

    /// Takes today's count back from the store once, then writes it at most once a minute of
    /// the day, so a restart does not forget what was spent.
    async fn keep_count(&self, now: i64) {
        let keeper = self.monday.keeper();
        let every = (keeper.settings().day_ms / 1440).max(1);
        let last = self.health.budget_saved_ms.load(Ordering::Relaxed);
        if last == 0 {
            if let Ok(Some(saved)) = self.store.meta(COUNT_KEY).await {
                keeper.restore(now, &saved);
            }
        } else if now - last < every {
            return;
        }
        self.health.budget_saved_ms.store(now, Ordering::Relaxed);
        if let Err(error) = self.store.set_meta(COUNT_KEY, &keeper.snapshot(now)).await {
            tracing::warn!(%error, "cannot store the day's request count");
        }
    }
}
