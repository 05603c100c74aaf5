//! What the worker tells the admin listener and the systemd watchdog about itself.

use std::sync::atomic::{AtomicI64, Ordering};

use crate::monday::MondayError;

/// State shared with the admin listener and the systemd watchdog.
#[derive(Default)]
pub struct WorkerHealth {
    /// Updated at every loop turn; a stale heartbeat means the worker is wedged.
    pub heartbeat_ms: AtomicI64,
    /// Last time monday answered at all (success or application error).
    pub monday_ok_ms: AtomicI64,
    /// Since when monday has not answered (no connection, timeouts, HTTP errors); 0 while it
    /// answers. Readiness reports monday unreachable when this gets old.
    pub monday_failing_since_ms: AtomicI64,
    /// Sending is paused until then (monday's daily limit).
    pub paused_until_ms: AtomicI64,
    /// When the day's request count was last written to the store (0: not yet read back).
    pub budget_saved_ms: AtomicI64,
}

impl WorkerHealth {
    /// Records whether monday answered at all (an application error is an answer; no
    /// connection, a timeout or an HTTP error is not), for readiness.
    pub fn monday_answered<T>(&self, result: &Result<T, MondayError>, now: i64) {
        // A request held back by our own throttle says nothing about monday.
        if matches!(result, Err(MondayError::Throttled { .. })) {
            return;
        }
        if matches!(
            result,
            Err(MondayError::Transport { .. } | MondayError::Http { .. })
        ) {
            // Keep the start of the outage: only the first failure sets it.
            let _ = self.monday_failing_since_ms.compare_exchange(
                0,
                now,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        } else {
            self.monday_ok_ms.store(now, Ordering::Relaxed);
            self.monday_failing_since_ms.store(0, Ordering::Relaxed);
        }
    }
}
