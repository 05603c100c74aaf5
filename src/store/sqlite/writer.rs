//! One thread owns the write connection. Callers send it jobs; it runs every job that is
//! waiting in one transaction and commits once, so a burst of webhooks shares a single fsync.
//!
//! A general job runs in its own savepoint, so one failure does not undo the others. Appends,
//! the one job a burst is made of, run together under a single savepoint: if one of them
//! fails, that savepoint is rolled back and they run again each in its own, so the outcome is
//! the same as job by job while the common case pays two statements per batch, not per event.
//! The WAL is checkpointed by `checkpointer`'s thread; here only the few frames a pass left.

use std::sync::mpsc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::checkpointer::Checkpointer;
use super::queries;
use crate::store::{Appended, NewEvent, StoreError};

type Finisher = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
type Closure = Box<dyn FnOnce(Option<&Connection>) -> (bool, Finisher) + Send>;
type AppendReply = oneshot::Sender<Result<Appended, StoreError>>;

enum Job {
    Append(Box<NewEvent>, oneshot::Sender<Result<Appended, StoreError>>),
    Other(Closure),
}

/// The most jobs that share one commit; bounds the latency of the first one.
const MAX_BATCH: usize = 512;

#[derive(Clone)]
pub(super) struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    pub(super) fn start(conn: Connection, checkpointer: Checkpointer) -> Writer {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || run(conn, rx, checkpointer))
            .expect("spawning the store writer thread");
        Writer { tx }
    }

    fn send(&self, job: Job) -> Result<(), StoreError> {
        self.tx
            .send(job)
            .map_err(|_| StoreError::Unavailable("the store writer has stopped".into()))
    }

    /// Stores one event (see `queries::append`) and answers once it is committed.
    pub(super) async fn append(&self, event: NewEvent) -> Result<Appended, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::Append(Box::new(event), reply))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the store writer has stopped".into()))?
    }

    /// Runs `f` inside a write transaction and answers once that transaction is committed.
    pub(super) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<T, StoreError>>();
        let job: Closure = Box::new(move |conn| match conn {
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
        self.send(Job::Other(job))?;
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

/// `body` inside savepoint `name`: released when it succeeds, rolled back when it fails.
fn in_savepoint<T>(
    conn: &Connection,
    name: &str,
    body: impl FnOnce() -> Result<T, StoreError>,
) -> Result<Result<T, StoreError>, StoreError> {
    control(conn, &format!("SAVEPOINT {name}"))?;
    let result = body();
    if result.is_err() {
        control(conn, &format!("ROLLBACK TO {name}"))?;
    }
    control(conn, &format!("RELEASE {name}"))?;
    Ok(result)
}

/// What a batch leaves to do once its transaction's outcome is known.
enum Reply {
    Append(
        oneshot::Sender<Result<Appended, StoreError>>,
        Result<Appended, StoreError>,
    ),
    Other(Finisher),
}

/// Runs a run of consecutive appends: all under one savepoint, or, when one fails, again each
/// under its own. An `Err` breaks the transaction.
fn appends(
    conn: &Connection,
    events: Vec<(Box<NewEvent>, AppendReply)>,
    replies: &mut Vec<Reply>,
) -> Result<(), StoreError> {
    let together = in_savepoint(conn, "appends", || {
        events
            .iter()
            .map(|(e, _)| queries::append(conn, e))
            .collect::<Result<Vec<_>, _>>()
    })?;
    if let Ok(outcomes) = together {
        for ((_, reply), outcome) in events.into_iter().zip(outcomes) {
            replies.push(Reply::Append(reply, Ok(outcome)));
        }
        return Ok(());
    }
    for (event, reply) in events {
        let outcome = in_savepoint(conn, "job", || queries::append(conn, &event))?;
        replies.push(Reply::Append(reply, outcome));
    }
    Ok(())
}

/// Runs the batch's jobs in order inside the open transaction, queueing their replies.
fn run_jobs(conn: &Connection, batch: Vec<Job>, replies: &mut Vec<Reply>) -> Option<StoreError> {
    let mut pending_appends = Vec::new();
    let mut broken: Option<StoreError> = None;
    let mut jobs = batch.into_iter().peekable();
    while let Some(job) = jobs.next() {
        match job {
            Job::Append(event, reply) => {
                pending_appends.push((event, reply));
                let run_ends = !matches!(jobs.peek(), Some(Job::Append(..)));
                if run_ends {
                    let run = std::mem::take(&mut pending_appends);
                    if broken.is_some() {
                        // Answered with the transaction's error once it is rolled back.
                        for (_, reply) in run {
                            replies.push(Reply::Append(reply, Ok(Appended::Duplicate)));
                        }
                    } else if let Err(e) = appends(conn, run, replies) {
                        broken = Some(e);
                    }
                }
            }
            Job::Other(job) => {
                if broken.is_some() {
                    let (_, finish) = job(None);
                    replies.push(Reply::Other(finish));
                    continue;
                }
                if let Err(e) = control(conn, "SAVEPOINT job") {
                    broken = Some(e.into());
                    let (_, finish) = job(None);
                    replies.push(Reply::Other(finish));
                    continue;
                }
                let (ok, finish) = job(Some(conn));
                let end = if ok {
                    control(conn, "RELEASE job")
                } else {
                    control(conn, "ROLLBACK TO job").and_then(|()| control(conn, "RELEASE job"))
                };
                if let Err(e) = end {
                    broken = Some(e.into());
                }
                replies.push(Reply::Other(finish));
            }
        }
    }
    broken
}

fn run(conn: Connection, rx: mpsc::Receiver<Job>, checkpointer: Checkpointer) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        checkpointer.take_tail(&conn);
        let mut replies = Vec::with_capacity(batch.len());
        let outcome = match control(&conn, "BEGIN IMMEDIATE") {
            Err(e) => {
                // No transaction: every job is answered with why.
                for job in batch {
                    match job {
                        Job::Append(_, reply) => {
                            replies.push(Reply::Append(reply, Ok(Appended::Duplicate)))
                        }
                        Job::Other(job) => replies.push(Reply::Other(job(None).1)),
                    }
                }
                Err(StoreError::from(e))
            }
            Ok(()) => match run_jobs(&conn, batch, &mut replies) {
                Some(e) => Err(e),
                None => control(&conn, "COMMIT").map_err(StoreError::from),
            },
        };
        if outcome.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        } else {
            checkpointer.committed();
        }
        for reply in replies {
            match reply {
                Reply::Append(reply, result) => {
                    let _ = reply.send(outcome.clone().and(result));
                }
                Reply::Other(finish) => finish(outcome.clone()),
            }
        }
    }
}
