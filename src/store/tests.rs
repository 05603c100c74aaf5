//! The store's behaviour, one test list run on both backends: every test below the macro
//! runs once on a SQLite file and once on a scratch PostgreSQL database. The last tests are
//! SQLite's own (its file lock and reopening the file).
//!
//! Long on purpose: the one list of store tests that the macro below runs on both backends.

use super::*;

mod callers;
use callers::*;
mod postgres_payloads;

/// Runs each named test on SQLite and on PostgreSQL.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let store = super::Store::open(&dir.path().join("nested/bridge.db")).unwrap();
                    super::$name(store).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $name() {
                    let Some((_db, store)) = super::postgres_store().await else { return };
                    super::$name(store).await
                }
            )*
        }
    };
}

on_both_backends!(
    duplicates_are_stored_once,
    a_claimed_entity_is_not_claimed_twice_until_its_lease_expires,
    a_renewed_lease_keeps_its_claim_and_a_lost_one_is_not_taken_back,
    events_arriving_during_an_attempt_stay_pending,
    retries_wait_for_their_due_time_and_dead_work_is_kept,
    concurrent_appends_all_commit,
    pruning_removes_old_done_events_only,
    replay_revives_only_dead_events_and_makes_their_entity_due_now,
    drop_deletes_only_what_the_filter_names,
    a_checkpoint_survives_until_the_completion_replaces_its_intents,
    a_checkpoint_of_a_lost_claim_is_refused_and_writes_nothing,
    entities_are_found_by_number_newest_first,
    a_call_s_card_is_claimed_once,
    old_card_claims_go_with_the_retention,
);

/// A store on a scratch PostgreSQL database (dropped with the first half).
pub(crate) async fn postgres_store() -> Option<(test_support::ScratchDatabase, Store)> {
    let db = test_support::scratch_postgres().await?;
    let settings = crate::config::StoreSettings::for_url(&db.url);
    let store = Store::connect(&settings, Role::Worker).await.unwrap();
    Some((db, store))
}

/// One call's webhooks as Aircall sends them, as text (about 11 KB).
pub(super) fn day_of_webhooks() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/aircall/inbound_answered.json"
    ))
    .unwrap()
}

/// The `data` of that call's `call.ended`: 1,554 bytes of JSON.
pub(super) fn call_ended_payload() -> String {
    let day: Vec<serde_json::Value> = serde_json::from_str(&day_of_webhooks()).unwrap();
    let ended = day.iter().find(|e| e["event"] == "call.ended").unwrap();
    ended["data"].to_string()
}

fn event(entity_id: &str, key: &str, ts: i64) -> NewEvent {
    NewEvent {
        kind: Entity::Call,
        entity_id: entity_id.into(),
        event: "call.created".into(),
        timestamp: ts,
        received_ms: ts * 1000,
        data: format!(r#"{{"id":{entity_id}}}"#),
        dedup_key: key.into(),
    }
}

fn synced(claim: &Claim) -> Completion {
    Completion {
        row: claim.row,
        owner: claim.owner.clone(),
        event_ids: claim.events.iter().map(|e| e.id).collect(),
        observed: "{}".into(),
        links: vec![Link {
            board_id: "1".into(),
            item_id: Some("99".into()),
            synced: "{}".into(),
        }],
        intents: Vec::new(),
        outcome: Outcome::Synced,
        numbers: None,
    }
}

async fn duplicates_are_stored_once(store: Store) {
    assert_eq!(
        store.append(event("1", "a", 10)).await.unwrap(),
        Appended::Stored
    );
    assert_eq!(
        store.append(event("1", "a", 10)).await.unwrap(),
        Appended::Duplicate
    );
    assert_eq!(store.stats(0).await.unwrap().pending_events, 1);
}

async fn a_claimed_entity_is_not_claimed_twice_until_its_lease_expires(store: Store) {
    store.append(event("1", "a", 10)).await.unwrap();
    store.append(event("1", "b", 11)).await.unwrap();
    let first = store.claim(20_000, 1_000, "w1").await.unwrap().unwrap();
    assert_eq!(
        first.events.len(),
        2,
        "all pending events of the entity come together"
    );
    assert!(store.claim(20_500, 1_000, "w2").await.unwrap().is_none());
    let again = store.claim(21_000, 1_000, "w2").await.unwrap().unwrap();
    assert_eq!(again.entity_id, "1");
    assert_eq!(again.attempts, 2);
    // The first worker lost its lease: its completion is refused.
    let err = store.complete(synced(&first), 21_100).await.unwrap_err();
    assert!(matches!(err, StoreError::LeaseLost(_)), "{err}");
    store.complete(synced(&again), 21_200).await.unwrap();
    let stats = store.stats(21_200).await.unwrap();
    assert_eq!((stats.pending_events, stats.done_events), (0, 2));
    assert_eq!(
        store.links(Entity::Call, "1").await.unwrap()[0]
            .item_id
            .as_deref(),
        Some("99")
    );
}

async fn a_renewed_lease_keeps_its_claim_and_a_lost_one_is_not_taken_back(store: Store) {
    store.append(event("1", "a", 10)).await.unwrap();
    let first = store.claim(20_000, 1_000, "w1").await.unwrap().unwrap();
    assert_eq!(
        store
            .renew_leases(vec![first.row], "w1", 21_900)
            .await
            .unwrap(),
        1
    );
    // Past the first lease, inside the renewed one: nobody else may claim it.
    assert!(store.claim(21_500, 1_000, "w2").await.unwrap().is_none());
    let second = store.claim(21_900, 1_000, "w2").await.unwrap().unwrap();
    // w1's renewal after the takeover changes nothing: w2 keeps the call.
    assert_eq!(
        store
            .renew_leases(vec![first.row], "w1", 30_000)
            .await
            .unwrap(),
        0
    );
    assert!(store.claim(22_900, 1_000, "w3").await.unwrap().is_some());
    let err = store.complete(synced(&second), 23_000).await.unwrap_err();
    assert!(matches!(err, StoreError::LeaseLost(_)), "{err}");
}

async fn events_arriving_during_an_attempt_stay_pending(store: Store) {
    store.append(event("1", "a", 10)).await.unwrap();
    let claim = store.claim(20_000, 5_000, "w").await.unwrap().unwrap();
    store.append(event("1", "late", 12)).await.unwrap();
    store.complete(synced(&claim), 20_100).await.unwrap();
    let next = store.claim(20_200, 5_000, "w").await.unwrap().unwrap();
    assert_eq!(next.events.len(), 1);
    assert_eq!(next.events[0].timestamp, 12);
}

async fn retries_wait_for_their_due_time_and_dead_work_is_kept(store: Store) {
    store.append(event("1", "a", 10)).await.unwrap();
    let claim = store.claim(20_000, 5_000, "w").await.unwrap().unwrap();
    let mut retry = synced(&claim);
    retry.outcome = Outcome::Retry {
        due_ms: 30_000,
        error: "monday 503".into(),
        counts: true,
    };
    store.complete(retry, 20_100).await.unwrap();
    // Waiting is not being due: nothing for the worker until the due time.
    assert_eq!(store.stats(29_999).await.unwrap().due_entities, 0);
    assert_eq!(store.stats(30_000).await.unwrap().due_entities, 1);
    assert!(store.claim(29_999, 5_000, "w").await.unwrap().is_none());
    let claim = store.claim(30_000, 5_000, "w").await.unwrap().unwrap();
    // Being worked counts as due until the outcome is recorded.
    assert_eq!(store.stats(30_000).await.unwrap().due_entities, 1);
    let mut dead = synced(&claim);
    dead.outcome = Outcome::Dead {
        error: "ColumnValueException".into(),
    };
    store.complete(dead, 30_100).await.unwrap();
    let stats = store.stats(30_100).await.unwrap();
    assert_eq!((stats.pending_events, stats.dead_events), (0, 1));
    assert!(store.claim(99_000, 5_000, "w").await.unwrap().is_none());
    // A new event revives the entity.
    store.append(event("1", "b", 40)).await.unwrap();
    assert!(store.claim(99_000, 5_000, "w").await.unwrap().is_some());
}

async fn concurrent_appends_all_commit(store: Store) {
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .append(event(&(i % 20).to_string(), &i.to_string(), i))
                    .await
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), Appended::Stored);
    }
    let stats = store.stats(0).await.unwrap();
    assert_eq!((stats.pending_events, stats.pending_entities), (200, 20));
}

#[tokio::test]
async fn reopening_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bridge.db");
    {
        let store = Store::open(&path).unwrap();
        store.append(event("1", "a", 10)).await.unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(
        store.append(event("1", "a", 10)).await.unwrap(),
        Appended::Duplicate
    );
    assert!(store.claim(20_000, 1_000, "w").await.unwrap().is_some());
}

async fn pruning_removes_old_done_events_only(store: Store) {
    store.append(event("1", "old", 10)).await.unwrap();
    store.append(event("2", "dead", 11)).await.unwrap();
    let claim = store.claim(20_000, 5_000, "w").await.unwrap().unwrap();
    store.complete(synced(&claim), 20_100).await.unwrap();
    let claim = store.claim(20_200, 5_000, "w").await.unwrap().unwrap();
    let mut dead = synced(&claim);
    dead.outcome = Outcome::Dead { error: "x".into() };
    store.complete(dead, 20_300).await.unwrap();
    store.append(event("3", "new", 50)).await.unwrap();
    // Received at 10 s and 11 s; the pending one at 50 s.
    assert_eq!(store.prune_done(40_000, 100).await.unwrap(), 1);
    let stats = store.stats(60_000).await.unwrap();
    assert_eq!(
        (stats.done_events, stats.dead_events, stats.pending_events),
        (0, 1, 1)
    );
}

fn dead(claim: &Claim) -> Completion {
    Completion {
        outcome: Outcome::Dead {
            error: "ColumnValueException".into(),
        },
        ..synced(claim)
    }
}

async fn replay_revives_only_dead_events_and_makes_their_entity_due_now(store: Store) {
    store.append(event("1", "a", 10)).await.unwrap();
    store.append(event("2", "b", 10)).await.unwrap();
    let one = store.claim(20_000, 1_000, "w").await.unwrap().unwrap();
    store.complete(dead(&one), 20_000).await.unwrap();
    let two = store.claim(20_000, 1_000, "w").await.unwrap().unwrap();
    store.complete(synced(&two), 20_000).await.unwrap();
    assert!(
        store.claim(30_000, 1_000, "w").await.unwrap().is_none(),
        "dead is not claimed"
    );

    // A filter matching a done event replays nothing.
    let done = EventFilter {
        entity_id: Some(two.entity_id.clone()),
        ..EventFilter::default()
    };
    assert_eq!(
        store.replay(done, 30_000).await.unwrap(),
        Replayed::default()
    );

    let all = store.replay(EventFilter::default(), 30_000).await.unwrap();
    assert_eq!((all.events, all.entities), (1, 1));
    let again = store.claim(30_000, 1_000, "w").await.unwrap().unwrap();
    assert_eq!(again.entity_id, one.entity_id);
    assert_eq!(again.attempts, 1, "a fresh retry schedule");
    assert_eq!(again.events.len(), 1);
    let stats = store.stats(30_000).await.unwrap();
    assert_eq!((stats.dead_events, stats.pending_events), (0, 1));
}

async fn drop_deletes_only_what_the_filter_names(store: Store) {
    store.append(event("1", "a", 10)).await.unwrap();
    store.append(event("2", "b", 10)).await.unwrap();
    let one = store.claim(20_000, 1_000, "w").await.unwrap().unwrap();
    store.complete(dead(&one), 20_000).await.unwrap();
    let dead_only = EventFilter {
        state: Some(EventState::Dead),
        ..EventFilter::default()
    };
    assert_eq!(store.drop_events(dead_only).await.unwrap(), 1);
    let stats = store.stats(20_000).await.unwrap();
    assert_eq!((stats.dead_events, stats.pending_events), (0, 1));
    let listed = store.events(EventFilter::default(), 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].entity_id, "2");
    assert!(store
        .event(listed[0].id)
        .await
        .unwrap()
        .unwrap()
        .data
        .is_some());
}

fn intent(board: &str, target: &str, opened_ms: i64) -> Intent {
    Intent {
        board_id: board.into(),
        effect: "create_update".into(),
        target: target.into(),
        request_key: "amb-key".into(),
        request: "[]".into(),
        position: 0,
        opened_ms,
    }
}

async fn a_checkpoint_survives_until_the_completion_replaces_its_intents(store: Store) {
    store.append(event("1", "a", 10)).await.unwrap();
    let claim = store.claim(20_000, 60_000, "w").await.unwrap().unwrap();
    assert!(claim.intents.is_empty());
    let link = Link {
        board_id: "1".into(),
        item_id: Some("42".into()),
        synced: "{}".into(),
    };
    let open = vec![intent("1", "c1", 20_001), intent("1", "c2", 20_001)];
    store
        .checkpoint(
            vec![Checkpoint {
                row: claim.row,
                owner: "w".into(),
                links: vec![link.clone()],
                intents: open.clone(),
            }],
            20_001,
        )
        .await
        .unwrap();
    // The process dies here: the next claim (after the lease) sees both intents and the link.
    let again = store.claim(90_000, 60_000, "w2").await.unwrap().unwrap();
    assert_eq!(again.intents, open);
    assert_eq!(again.links, vec![link]);
    // One settled, one still open.
    let mut done = synced(&again);
    done.intents = vec![open[1].clone()];
    done.outcome = Outcome::Retry {
        due_ms: 0,
        error: "answer lost".into(),
        counts: true,
    };
    store.complete(done, 90_001).await.unwrap();
    let third = store.claim(90_002, 60_000, "w3").await.unwrap().unwrap();
    assert_eq!(third.intents, vec![open[1].clone()]);
}

async fn a_checkpoint_of_a_lost_claim_is_refused_and_writes_nothing(store: Store) {
    store.append(event("1", "a", 10)).await.unwrap();
    let claim = store.claim(20_000, 1_000, "w").await.unwrap().unwrap();
    let _taken = store.claim(30_000, 1_000, "other").await.unwrap().unwrap();
    let refused = store
        .checkpoint(
            vec![Checkpoint {
                row: claim.row,
                owner: "w".into(),
                links: Vec::new(),
                intents: vec![intent("1", "c1", 30_001)],
            }],
            30_001,
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::LeaseLost(_))),
        "{refused:?}"
    );
    let next = store.claim(40_000, 1_000, "third").await.unwrap().unwrap();
    assert!(next.intents.is_empty());
}

#[tokio::test]
async fn one_process_per_store_and_a_restart_takes_over_the_claims_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bridge.db");
    let first = Store::open_exclusive(&path).await.unwrap();
    first.append(event("1", "a", 10)).await.unwrap();
    let far = 1_000_000_000;
    assert!(first.claim(20_000, far, "dead").await.unwrap().is_some());
    match Store::open_exclusive(&path).await {
        Err(e @ StoreError::InUse { .. }) => {
            let text = e.to_string();
            assert!(text.contains(&std::process::id().to_string()), "{text}");
            assert!(text.contains("bridge.db"), "{text}");
        }
        Err(e) => panic!("unexpected error: {e}"),
        Ok(_) => panic!("a second process opened the store"),
    }
    drop(first);
    // The lease runs for far longer, but nobody else can hold it now.
    let second = Store::open_exclusive(&path).await.unwrap();
    assert!(second.claim(20_001, 1_000, "new").await.unwrap().is_some());
}

/// PostgreSQL's own: replicas starting together migrate once, and claim different calls.
mod postgres_replicas {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn replicas_starting_at_once_migrate_once_and_claim_different_calls() {
        let Some(db) = test_support::scratch_postgres().await else {
            return;
        };
        let mut opening = tokio::task::JoinSet::new();
        for _ in 0..4 {
            let settings = crate::config::StoreSettings::for_url(&db.url);
            opening.spawn(async move { Store::connect(&settings, Role::Worker).await });
        }
        let mut stores: Vec<Store> = Vec::new();
        while let Some(opened) = opening.join_next().await {
            stores.push(opened.unwrap().expect("every replica starts"));
        }
        for i in 0..8 {
            stores[i % 4]
                .append(event(&i.to_string(), &format!("k{i}"), 10))
                .await
                .unwrap();
        }
        let mut claiming = tokio::task::JoinSet::new();
        for (i, store) in stores.iter().cloned().enumerate() {
            let owner = format!("replica-{i}");
            claiming.spawn(async move { store.claim_many(20_000, 10_000, &owner, 3).await });
        }
        let mut claims: Vec<Claim> = Vec::new();
        while let Some(claimed) = claiming.join_next().await {
            claims.extend(claimed.unwrap().unwrap());
        }
        // What the concurrent round left (a locked row is skipped, not waited for) goes to
        // whoever claims next; no call is ever held by two.
        claims.extend(
            stores[0]
                .claim_many(20_000, 10_000, "last", 8)
                .await
                .unwrap(),
        );
        let mut ids: Vec<&str> = claims.iter().map(|c| c.entity_id.as_str()).collect();
        ids.sort();
        let before = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), before, "a call was claimed twice: {ids:?}");
        assert_eq!(before, 8, "every due call was claimed once");
    }
}

/// PostgreSQL's own: the account's minute window shared by replicas.
/// A second session on the store's database, as another replica or an operator would have.
async fn another_session(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

/// Returns once some session waits for a lock matching `which` (a `pg_locks` condition): an
/// event PostgreSQL shows, not a guess at how long the other side takes to get there.
async fn until_a_lock_is_awaited(client: &tokio_postgres::Client, which: &str, never: &str) {
    let query = format!("SELECT COUNT(*) FROM pg_locks WHERE NOT granted AND {which}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let waiters: i64 = client.query_one(&query, &[]).await.unwrap().get(0);
        if waiters > 0 {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{never}");
        tokio::task::yield_now().await;
    }
}

mod postgres_window {
    use super::*;
    use crate::store::postgres::budget::WINDOW_LOCK;

    /// The database's clock, in milliseconds.
    async fn db_now_ms(client: &tokio_postgres::Client) -> i64 {
        client
            .query_one(
                "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint",
                &[],
            )
            .await
            .unwrap()
            .get(0)
    }

    /// A replica that waits for the window's lock counts its request from when it got the
    /// lock, not from when it began to wait. Stamped with the earlier time, the request would
    /// leave the window early and let one more through than monday allows: three replicas
    /// under a full quota queue on this lock, and met monday's 429 at the window's edge.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_request_is_counted_from_when_the_window_lock_is_taken() {
        let Some((db, store)) = postgres_store().await else {
            return;
        };
        let holder = another_session(&db.url).await;
        // Another replica is inside the window's lock.
        holder.batch_execute("BEGIN").await.unwrap();
        holder
            .execute("SELECT pg_advisory_xact_lock($1)", &[&WINDOW_LOCK])
            .await
            .unwrap();
        let waiting = tokio::spawn({
            let store = store.clone();
            async move { store.reserve_request(Some((2, 1_000))).await }
        });
        until_a_lock_is_awaited(&holder, "locktype = 'advisory'", "the request never waited").await;
        // The other replica's turn takes a while (a slow commit under load).
        holder.execute("SELECT pg_sleep(0.2)", &[]).await.unwrap();
        let released = db_now_ms(&holder).await;
        holder.batch_execute("COMMIT").await.unwrap();
        assert_eq!(waiting.await.unwrap().unwrap(), None, "a slot was free");
        let stamped: i64 = holder
            .query_one("SELECT MAX(sent_ms) FROM monday_requests", &[])
            .await
            .unwrap()
            .get(0);
        assert!(
            stamped >= released,
            "counted from {stamped}, {} ms before the lock was free at {released}",
            released - stamped
        );
    }
}

mod postgres_lock_order {
    use super::*;

    /// Statements that lock several entity rows take them in id order, so two never wait on
    /// each other in a ring. Here another transaction holds the lower row; a batch completion
    /// given the rows the other way round must wait for it holding nothing, so the other
    /// transaction can still take the higher row. Locked in the order given, the completion
    /// held the higher row while waiting for the lower: PostgreSQL found the ring and aborted
    /// one side (any append queued on those rows could be that side, answered 503).
    #[tokio::test(flavor = "multi_thread")]
    async fn a_batch_completion_locks_its_rows_in_id_order() {
        let Some((db, store)) = postgres_store().await else {
            return;
        };
        store.append(event("1", "a", 10)).await.unwrap();
        store.append(event("2", "b", 10)).await.unwrap();
        let mut claims = store.claim_many(20_000, 60_000, "w", 2).await.unwrap();
        claims.sort_by_key(|c| c.row);
        let [low, high] = &claims[..] else {
            panic!("two claims: {claims:?}")
        };
        let other = another_session(&db.url).await;
        other
            .batch_execute("BEGIN; SET LOCAL lock_timeout = '5s'")
            .await
            .unwrap();
        other
            .execute(
                "SELECT 1 FROM entities WHERE id = $1 FOR UPDATE",
                &[&low.row],
            )
            .await
            .unwrap();
        let completing = tokio::spawn({
            let store = store.clone();
            let batch = vec![synced(high), synced(low)];
            async move { store.complete_many(batch, 20_001).await }
        });
        until_a_lock_is_awaited(&other, "TRUE", "the completion never waited").await;
        let took_high = other
            .execute(
                "SELECT 1 FROM entities WHERE id = $1 FOR UPDATE",
                &[&high.row],
            )
            .await;
        other.batch_execute("COMMIT").await.ok();
        let completed = completing.await.unwrap();
        assert!(
            took_high.is_ok(),
            "the completion held the higher row while it waited: {took_high:?}"
        );
        assert_eq!(completed.unwrap(), 0, "both claims were still the worker's");
    }
}

/// A row whose kind is not one the bridge writes (a hand edit, a newer version's row) is an
/// error at the boundary: before the kinds were typed it came out as a claim of kind
/// "calls", which the worker then took for a call.
mod unreadable_rows {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn a_row_of_an_unknown_kind_is_an_error_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bridge.db");
        let store = Store::open(&path).unwrap();
        store.append(event("1", "a", 10)).await.unwrap();
        let db = rusqlite::Connection::open(&path).unwrap();
        db.execute_batch("UPDATE entities SET kind = 'calls'")
            .unwrap();
        let claimed = store.claim(20_000, 1_000, "w").await;
        assert!(
            matches!(&claimed, Err(StoreError::Db(m)) if m.contains("unknown kind \"calls\"")),
            "{claimed:?}"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_row_of_an_unknown_kind_is_an_error_on_postgres() {
        let Some((db, store)) = postgres_store().await else {
            return;
        };
        store.append(event("1", "a", 10)).await.unwrap();
        let client = another_session(&db.url).await;
        client
            .batch_execute("UPDATE entities SET kind = 'calls'")
            .await
            .unwrap();
        let claimed = store.claim(20_000, 1_000, "w").await;
        assert!(
            matches!(&claimed, Err(StoreError::Corrupt(m)) if m.contains("unknown kind \"calls\"")),
            "{claimed:?}"
        );
    }
}
