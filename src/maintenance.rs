//! Housekeeping beside the worker: prunes events that reached their boards, and insight-card
//! claims, once they are older than `store.keep_done`, so neither table grows for ever.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::clock::now_ms;
use crate::store::{Store, StoreError};

const EVERY: Duration = Duration::from_secs(3600);
const BATCH: usize = 5_000;

/// What one pass removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub events: usize,
    pub card_claims: usize,
}

pub async fn run(store: Store, keep_done: Duration, cancel: CancellationToken) {
    loop {
        let before = now_ms() - keep_done.as_millis() as i64;
        match prune(&store, before, &cancel).await {
            Ok(pruned) if pruned != Pruned::default() => tracing::info!(
                events = pruned.events,
                card_claims = pruned.card_claims,
                "old done events and card claims pruned"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pruning failed; will try again"),
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(EVERY) => {}
        }
    }
}

/// One pass: everything done (events) or claimed (cards) before `before_ms`, in batches so the
/// store's writer is never held long.
pub async fn prune(
    store: &Store,
    before_ms: i64,
    cancel: &CancellationToken,
) -> Result<Pruned, StoreError> {
    let mut pruned = Pruned::default();
    loop {
        let n = store.prune_done(before_ms, BATCH).await?;
        pruned.events += n;
        if n == 0 || cancel.is_cancelled() {
            break;
        }
    }
    loop {
        let n = store.prune_card_claims(before_ms, BATCH).await?;
        pruned.card_claims += n;
        if n == 0 || cancel.is_cancelled() {
            break;
        }
    }
    Ok(pruned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_pass_prunes_old_card_claims_with_the_events() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("bridge.db")).unwrap();
        assert!(store.claim_card("1", 1_000).await.unwrap());
        assert!(store.claim_card("2", 9_000).await.unwrap());
        let pruned = prune(&store, 5_000, &CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(pruned.card_claims, 1);
        assert!(!store.claim_card("2", 10_000).await.unwrap(), "kept");
        assert!(store.claim_card("1", 10_000).await.unwrap(), "pruned");
    }
}
