//! monday's minute quota is the account's, not a replica's: every request of every replica
//! is counted in one table, under one advisory lock, so together they send no more than the
//! quota in any window. The quota monday last stated is kept beside it, for a replica that
//! has just started and not heard it yet. A request is stamped with the database's clock
//! once the lock is held: one clock for every replica, and never the time a replica began to
//! wait (a stamp from before a queue on the lock leaves the window early, and one more request
//! than monday allows gets through).

use deadpool_postgres::Client;

use super::db_err;
use crate::store::StoreError;

/// The advisory lock that orders replicas taking a request slot ("monday").
pub(crate) const WINDOW_LOCK: i64 = 0x6d6f_6e64_6179; // "monday"
const QUOTA_KEY: &str = "monday_minute_quota";

pub(super) async fn reserve_request(
    client: &mut Client,
    quota: Option<(u64, i64)>,
) -> Result<Option<i64>, StoreError> {
    let tx = client.transaction().await.map_err(db_err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WINDOW_LOCK])
        .await
        .map_err(db_err)?;
    let now_ms: i64 = tx
        .query_one(
            "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint",
            &[],
        )
        .await
        .map_err(db_err)?
        .get(0);
    let stored: Option<String> = tx
        .query_opt("SELECT value FROM meta WHERE key = $1", &[&QUOTA_KEY])
        .await
        .map_err(db_err)?
        .map(|r| r.get(0));
    let parsed = stored.as_deref().and_then(|s| {
        let (q, w) = s.split_once(' ')?;
        Some((q.parse::<u64>().ok()?, w.parse::<i64>().ok()?))
    });
    if let Some((q, w)) = quota.filter(|given| Some(*given) != parsed) {
        super::queries::set_meta(&tx, QUOTA_KEY, &format!("{q} {w}")).await?;
    }
    let wait = match quota.or(parsed) {
        Some((quota, window_ms)) => {
            tx.execute(
                "DELETE FROM monday_requests WHERE sent_ms <= $1",
                &[&(now_ms - window_ms)],
            )
            .await
            .map_err(db_err)?;
            let row = tx
                .query_one("SELECT COUNT(*), MIN(sent_ms) FROM monday_requests", &[])
                .await
                .map_err(db_err)?;
            let (sent, oldest): (i64, Option<i64>) = (row.get(0), row.get(1));
            ((sent as u64) >= quota).then(|| (oldest.unwrap_or(now_ms) + window_ms - now_ms).max(1))
        }
        // Nobody has heard monday's quota yet: count the request, wait for nothing.
        None => None,
    };
    if wait.is_none() {
        tx.execute(
            "INSERT INTO monday_requests (sent_ms) VALUES ($1)",
            &[&now_ms],
        )
        .await
        .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(wait)
}
