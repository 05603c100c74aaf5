//! Whether sync is healthy: the same judgement for the status page's banner, the
//! `bridge_sync_healthy` gauge and (by the same thresholds) `deploy/prometheus-alerts.yml`.
//! Readiness does not use it: `/readyz` is about intake only, so that a load balancer keeps
//! sending webhooks while monday is down (they are stored and sent later).

use std::sync::atomic::Ordering;

use crate::store::QueueStats;
use crate::worker::WorkerHealth;

/// A call waiting longer than this for monday is late (the alert rule uses the same figure).
pub const PENDING_LIMIT_MS: i64 = 5 * 60 * 1000;
/// monday may fail to answer this long before it counts: short outages are normal.
pub const MONDAY_LIMIT_MS: i64 = 2 * 60 * 1000;

/// What the worker reported, read once.
#[derive(Debug, Clone, Copy, Default)]
pub struct Snapshot {
    pub heartbeat_ms: i64,
    pub monday_failing_since_ms: i64,
    pub paused_until_ms: i64,
}

impl Snapshot {
    pub fn of(health: &WorkerHealth) -> Snapshot {
        Snapshot {
            heartbeat_ms: health.heartbeat_ms.load(Ordering::Relaxed),
            monday_failing_since_ms: health.monday_failing_since_ms.load(Ordering::Relaxed),
            paused_until_ms: health.paused_until_ms.load(Ordering::Relaxed),
        }
    }

    /// How long monday has not answered, 0 while it answers.
    pub fn monday_failing_ms(&self, now_ms: i64) -> i64 {
        match self.monday_failing_since_ms {
            0 => 0,
            since => (now_ms - since).max(0),
        }
    }
}

/// Every reason sync is unhealthy now, one sentence each saying what to look at; empty: healthy.
pub fn problems(
    stats: &QueueStats,
    worker: Snapshot,
    heartbeat_limit_ms: i64,
    now_ms: i64,
) -> Vec<String> {
    let mut out = Vec::new();
    if stats.dead_events > 0 {
        out.push(format!(
            "{} event(s) in the dead letter: read their errors below, fix the cause, replay",
            stats.dead_events
        ));
    }
    if let Some(age) = stats
        .oldest_pending_age_ms
        .filter(|a| *a > PENDING_LIMIT_MS)
    {
        out.push(format!(
            "the oldest pending event has waited {} s for monday ({} event(s) pending)",
            age / 1000,
            stats.pending_events
        ));
    }
    let failing = worker.monday_failing_ms(now_ms);
    if failing > MONDAY_LIMIT_MS {
        out.push(format!(
            "monday has not answered for {} s (webhooks are still stored and will be sent)",
            failing / 1000
        ));
    }
    if worker.paused_until_ms > now_ms {
        out.push(format!(
            "sending is paused by monday's daily limit for {} more min",
            (worker.paused_until_ms - now_ms) / 60_000
        ));
    }
    if now_ms - worker.heartbeat_ms > heartbeat_limit_ms {
        out.push(format!(
            "the worker's heartbeat is {} s old: it is stuck (systemd's watchdog restarts it)",
            (now_ms - worker.heartbeat_ms) / 1000
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn fresh() -> Snapshot {
        Snapshot {
            heartbeat_ms: NOW,
            ..Snapshot::default()
        }
    }

    #[test]
    fn a_quiet_bridge_is_healthy() {
        assert!(problems(&QueueStats::default(), fresh(), 30_000, NOW).is_empty());
    }

    #[test]
    fn the_bad_day_of_the_issue_is_unhealthy_on_every_count() {
        // monday answering 503 for 14 minutes, a call waiting 831 s, dead letters present.
        let stats = QueueStats {
            pending_events: 4,
            dead_events: 2,
            oldest_pending_age_ms: Some(831_000),
            ..QueueStats::default()
        };
        let worker = Snapshot {
            monday_failing_since_ms: NOW - 14 * 60 * 1000,
            ..fresh()
        };
        let found = problems(&stats, worker, 30_000, NOW);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(
            found[0].starts_with("2 event(s) in the dead letter"),
            "{found:?}"
        );
        assert!(found[1].contains("831 s"), "{found:?}");
        assert!(found[2].contains("840 s"), "{found:?}");
    }

    #[test]
    fn a_stale_heartbeat_and_a_pause_count_short_waits_do_not() {
        let stats = QueueStats {
            oldest_pending_age_ms: Some(PENDING_LIMIT_MS),
            ..QueueStats::default()
        };
        let worker = Snapshot {
            heartbeat_ms: NOW - 60_000,
            monday_failing_since_ms: NOW - MONDAY_LIMIT_MS,
            paused_until_ms: NOW + 3_600_000,
        };
        let found = problems(&stats, worker, 30_000, NOW);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("paused"), "{found:?}");
        assert!(found[1].contains("heartbeat"), "{found:?}");
    }
}
