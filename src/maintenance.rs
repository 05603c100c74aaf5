//! Housekeeping beside the worker: prunes events that reached their boards once they are
//! older than `store.keep_done`, so the journal does not grow for ever.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::clock::now_ms;
use crate::store::Store;

const EVERY: Duration = Duration::from_secs(3600);
const BATCH: usize = 5_000;

pub async fn run(store: Store, keep_done: Duration, cancel: CancellationToken) {
    loop {
        let before = now_ms() - keep_done.as_millis() as i64;
        let mut pruned = 0;
        loop {
            match store.prune_done(before, BATCH).await {
                Ok(0) => break,
                Ok(n) => pruned += n,
                Err(e) => {
                    tracing::warn!(error = %e, "pruning old events failed; will try again");
                    break;
                }
            }
            if cancel.is_cancelled() {
                return;
            }
        }
        if pruned > 0 {
            tracing::info!(pruned, "old done events pruned");
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(EVERY) => {}
        }
    }
}
