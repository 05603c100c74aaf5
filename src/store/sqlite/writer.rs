//! One thread owns the write connection. Callers send it closures; it runs every closure that
//! is waiting in one transaction (each in its own savepoint, so one failure does not undo the
//! others) and commits once, so a burst of webhooks shares a single fsync.

use std::sync::mpsc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::store::StoreError;

type Finisher = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
type Job = Box<dyn FnOnce(Option<&Connection>) -> (bool, Finisher) + Send>;

/// The most closures that share one commit; bounds the latency of the first one.
const MAX_BATCH: usize = 512;

#[derive(Clone)]
pub(super) struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    pub(super) fn start(conn: Connection) -> Writer {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || run(conn, rx))
            .expect("spawning the store writer thread");
        Writer { tx }
    }

    /// Runs `f` inside a write transaction and answers once that transaction is committed.
    pub(super) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<T, StoreError>>();
        let job: Job = Box::new(move |conn| match conn {
            None => (
                false,
                Box::new(move |outcome| {
                    let _ = reply.send(Err(outcome
                        .err()
                        .unwrap_or_else(|| StoreError::Db("transaction could not start".into()))));
                }),
            ),
            Some(conn) => {
                let result = f(conn);
                let ok = result.is_ok();
                (
                    ok,
                    Box::new(move |outcome| {
                        let _ = reply.send(outcome.and(result));
                    }),
                )
            }
        });
        self.tx
            .send(job)
            .map_err(|_| StoreError::Unavailable("the store writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the store writer has stopped".into()))?
    }
}

/// Runs one transaction-control statement, prepared once per connection (`execute_batch` would
/// parse it again for every job of every commit).
fn control(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn run(conn: Connection, rx: mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = control(&conn, "BEGIN IMMEDIATE") {
            let err = StoreError::from(e);
            for job in batch {
                let (_, finish) = job(None);
                finish(Err(err.clone()));
            }
            continue;
        }
        let mut finishers = Vec::with_capacity(batch.len());
        let mut broken: Option<StoreError> = None;
        for job in batch {
            if broken.is_none() {
                if let Err(e) = control(&conn, "SAVEPOINT job") {
                    broken = Some(e.into());
                }
            }
            if broken.is_some() {
                let (_, finish) = job(None);
                finishers.push(finish);
                continue;
            }
            let (ok, finish) = job(Some(&conn));
            let end = if ok {
                control(&conn, "RELEASE job")
            } else {
                control(&conn, "ROLLBACK TO job").and_then(|()| control(&conn, "RELEASE job"))
            };
            if let Err(e) = end {
                broken = Some(e.into());
            }
            finishers.push(finish);
        }
        let outcome = match broken {
            Some(e) => Err(e),
            None => control(&conn, "COMMIT").map_err(StoreError::from),
        };
        if outcome.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for finish in finishers {
            finish(outcome.clone());
        }
    }
}
