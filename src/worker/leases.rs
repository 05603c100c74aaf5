//! A claim's leases are renewed while its reconcile runs. A reconcile can outlive one lease
//! (a slow recording download, a board's requests queued behind another loop's); without
//! renewal another loop or replica would claim the same call meanwhile and both would work it.
//! A lease still expires within `worker.lease_secs` when the process dies, so its work moves on.

use std::time::Duration;

use crate::clock::SharedClock;
use crate::store::Store;

/// Renews until dropped.
pub(super) struct Renewal(tokio::task::JoinHandle<()>);

impl Drop for Renewal {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Renews the leases `owner` holds on `rows` every third of `lease_ms`, each time to a full
/// lease from now, until the returned guard is dropped or the leases are lost.
pub(super) fn renew_while_held(
    store: Store,
    rows: Vec<i64>,
    owner: String,
    lease_ms: i64,
    clock: SharedClock,
) -> Renewal {
    let every = Duration::from_millis((lease_ms / 3).max(1) as u64);
    Renewal(tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            match store
                .renew_leases(rows.clone(), &owner, clock.now_ms() + lease_ms)
                .await
            {
                Ok(0) => {
                    tracing::warn!(%owner, "every lease of this reconcile was taken over");
                    return;
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "cannot renew the leases of a reconcile"),
            }
        }
    }))
}
