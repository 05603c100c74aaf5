//! monday's daily limit is the account's: when one replica learns that it is spent, every
//! replica on the same database pauses sending until it resets. The pause travels through
//! the store's meta table; on a store one process has to itself there is nothing to share.

use std::sync::atomic::Ordering;

use super::Worker;

const PAUSE_KEY: &str = "monday_paused_until_ms";

impl Worker {
    /// Takes up a pause another replica recorded; returns what was recorded (0: none).
    pub(super) async fn pause_of_others(&self) -> i64 {
        if !self.store.is_shared() {
            return 0;
        }
        let recorded = match self.store.meta(PAUSE_KEY).await {
            Ok(v) => v.and_then(|v| v.parse::<i64>().ok()).unwrap_or(0),
            Err(error) => {
                tracing::warn!(%error, "cannot read the replicas' shared pause");
                0
            }
        };
        self.health
            .paused_until_ms
            .fetch_max(recorded, Ordering::Relaxed);
        recorded
    }

    /// Records this replica's pause for the others when it is newer than the one recorded.
    pub(super) async fn share_pause(&self, recorded: i64) {
        let paused = self.health.paused_until_ms.load(Ordering::Relaxed);
        if !self.store.is_shared() || paused <= recorded {
            return;
        }
        if let Err(error) = self.store.set_meta(PAUSE_KEY, &paused.to_string()).await {
            tracing::warn!(%error, "cannot share monday's daily-limit pause with the other replicas");
        }
    }
}
