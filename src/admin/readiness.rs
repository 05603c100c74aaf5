//! The store half of `/readyz`: "a webhook sent now would be stored". It asks what ingest
//! needs: room above the reserve on a writable filesystem, and a real commit that reaches the
//! disk. The commit is rate-limited, so a load balancer polling hard costs one fsync a second.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::Store;

/// A probe result is reused this long.
const PROBE_EVERY: Duration = Duration::from_secs(1);

pub struct Readiness {
    reserve_bytes: u64,
    last: Mutex<Option<(Instant, Result<(), String>)>>,
}

impl Readiness {
    pub fn new(reserve_bytes: u64) -> Readiness {
        Readiness {
            reserve_bytes,
            last: Mutex::new(None),
        }
    }

    /// Ok, or why a webhook would not be stored now.
    pub async fn store(&self, store: &Store, now_ms: i64) -> Result<(), String> {
        if let Some((at, result)) = self.last.lock().ok().and_then(|l| l.clone()) {
            if at.elapsed() < PROBE_EVERY {
                return result;
            }
        }
        let result = self.probe(store, now_ms).await;
        if let Ok(mut last) = self.last.lock() {
            *last = Some((Instant::now(), result.clone()));
        }
        result
    }

    async fn probe(&self, store: &Store, now_ms: i64) -> Result<(), String> {
        // Space first: the write would succeed on a nearly full disk and say nothing.
        store
            .ensure_space(self.reserve_bytes)
            .await
            .map_err(|e| format!("store cannot take webhooks: {e}"))?;
        store
            .probe_write(now_ms)
            .await
            .map_err(|e| format!("store not writable: {e}"))
    }
}
