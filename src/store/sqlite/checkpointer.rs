//! Checkpoints the WAL on a thread and connection of their own, off the commit path.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses 1,000 WAL pages: that
//! commit, and every webhook waiting on it, waits for the database file to be written and
//! fsynced. The writer's connection has it off (`wal_autocheckpoint = 0`); after each commit
//! it wakes this thread, which runs a PASSIVE checkpoint (it never blocks the writer nor waits
//! for readers) at most once per `PACE`, so a burst's WAL is copied back in a few large steps.
//!
//! A checkpoint running beside the writer can never catch up with it while a burst lasts, and
//! SQLite starts the WAL from its beginning again only after a checkpoint that copied every
//! frame: left alone, the WAL would grow by the whole burst (and a restart after a crash would
//! read all of it). So after each pass the writer, between two transactions, copies the few
//! frames committed during the pass (`take_tail`): the next transaction then restarts the WAL.
//!
//! Durability does not depend on any of this: under `synchronous = FULL` a commit is on disk
//! once its WAL frames are fsynced.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// The shortest time between two checkpoints while commits keep coming.
const PACE: Duration = Duration::from_millis(200);

/// Wakes the checkpoint thread; cheap to call after every commit (a wake already waiting
/// stands for this one too).
pub(super) struct Checkpointer {
    wake: SyncSender<()>,
    /// Set after each pass: the writer copies what was committed meanwhile.
    tail_due: Arc<AtomicBool>,
}

impl Checkpointer {
    /// Opens the checkpointer's own connection to `path` and starts its thread, which ends
    /// when the writer (the only holder of the `Checkpointer`) does.
    pub(super) fn start(path: &Path) -> rusqlite::Result<Checkpointer> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let (wake, woken) = mpsc::sync_channel(1);
        let tail_due = Arc::new(AtomicBool::new(false));
        let passes = tail_due.clone();
        std::thread::Builder::new()
            .name("store-checkpoint".into())
            .spawn(move || run(conn, woken, passes))
            .expect("spawning the store checkpoint thread");
        Ok(Checkpointer { wake, tail_due })
    }

    /// A transaction was committed: there is WAL to copy back.
    pub(super) fn committed(&self) {
        // Full: a wake is already waiting; disconnected: the thread ended, nothing to do.
        let _ = self.wake.try_send(());
    }

    /// On the writer, between transactions: copies the frames the last pass left, if one
    /// finished since the previous call. A pass still running makes this one return at once
    /// (SQLITE_BUSY), and the next call tries again.
    pub(super) fn take_tail(&self, writer: &Connection) {
        if self.tail_due.swap(false, Ordering::AcqRel) {
            if let Err(error) = passive(writer) {
                tracing::debug!(%error, "WAL tail not checkpointed; the next pass will");
            }
        }
    }
}

fn passive(conn: &Connection) -> rusqlite::Result<()> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
}

fn run(conn: Connection, woken: Receiver<()>, tail_due: Arc<AtomicBool>) {
    let mut last = Instant::now() - PACE;
    while woken.recv().is_ok() {
        // Pacing, not waiting for an event: the commits of the next PACE ride along.
        let since = last.elapsed();
        if since < PACE {
            std::thread::sleep(PACE - since);
        }
        // Taken now: the wakes sent while sleeping are served by this pass.
        while woken.try_recv().is_ok() {}
        match passive(&conn) {
            Ok(()) => tail_due.store(true, Ordering::Release),
            Err(error) => {
                tracing::warn!(%error, "WAL checkpoint failed; the next commit will try again")
            }
        }
        last = Instant::now();
    }
}
