//! Whether the store can take one more event: its files are writable, its filesystem has room
//! for the write-ahead log, and a real commit reaches the disk. Also gives space back when it
//! runs short: a checkpoint that truncates the WAL.
//!
//! SQLite opens a file it may not write read-only without a word, and its WAL grows to about
//! 4 MiB between checkpoints and is never shrunk by default: both turned a full or read-only
//! disk into a bridge that said it was ready and answered every webhook 503.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::{Connection, MAIN_DB};
use rustix::fs::{access, statvfs, Access, StatVfsMountFlags};

use super::SqliteStore;
use crate::store::{Space, StoreError};

/// After a checkpoint, the WAL is cut back to this size (SQLite otherwise keeps it at its
/// largest, reusing it).
const WAL_SIZE_LIMIT: i64 = 1 << 20;

/// A WAL smaller than this is not worth a checkpoint: it would give back next to nothing.
const WAL_WORTH_RECLAIMING: u64 = 64 << 10;

#[derive(Default)]
pub(super) struct Health {
    /// One checkpoint at a time, however many requests find space short together.
    reclaiming: AtomicBool,
}

/// Refuses a store SQLite could only open read-only, naming the path and what it needs.
/// Runs before the connection opens (a missing file in a read-only directory) and after
/// (an existing file SQLite opened read-only).
pub(super) fn check_writable(path: &Path, conn: Option<&Connection>) -> Result<(), StoreError> {
    let dir = directory(path);
    let refuse = |what: &Path, why: String| StoreError::Open {
        path: path.to_path_buf(),
        message: format!(
            "{} is not writable ({why}): the service user (uid {}) needs write permission on \
             the database file and its directory, where SQLite creates {}-wal and {}-shm",
            what.display(),
            rustix::process::getuid().as_raw(),
            path.display(),
            path.display()
        ),
    };
    access(&dir, Access::WRITE_OK).map_err(|e| refuse(&dir, e.to_string()))?;
    if path.exists() {
        access(path, Access::WRITE_OK).map_err(|e| refuse(path, e.to_string()))?;
    }
    if let Some(conn) = conn {
        if conn.is_readonly(MAIN_DB).unwrap_or(true) {
            return Err(refuse(path, "SQLite opened it read-only".into()));
        }
    }
    Ok(())
}

/// Settings of the write connection that keep the WAL small.
pub(super) fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)
}

fn directory(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

impl SqliteStore {
    /// Free space and mount state of the filesystem holding the store (one `statvfs`).
    pub fn space(&self) -> Result<Space, StoreError> {
        let s = statvfs(directory(&self.path)).map_err(|e| {
            StoreError::Unavailable(format!("cannot stat {}: {e}", self.path.display()))
        })?;
        Ok(Space {
            free_bytes: s.f_bavail.saturating_mul(s.f_frsize),
            read_only: s.f_flag.contains(StatVfsMountFlags::RDONLY),
        })
    }

    /// Ok when `reserve` bytes are free. When they are not, checkpoints and truncates the WAL
    /// (when it holds enough to matter, one checkpoint at a time) and looks again. The caller refuses the write on an error, so
    /// the disk never fills under a commit that is half written.
    pub async fn ensure_space(&self, reserve: u64) -> Result<(), StoreError> {
        let space = self.space()?;
        if space.read_only {
            return Err(StoreError::Unavailable(format!(
                "the filesystem of {} is read-only",
                self.path.display()
            )));
        }
        if space.free_bytes >= reserve {
            return Ok(());
        }
        let mut free = space.free_bytes;
        if self.wal_bytes() >= WAL_WORTH_RECLAIMING
            && self
                .health
                .reclaiming
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            let done = self.reclaim_wal().await;
            self.health.reclaiming.store(false, Ordering::Release);
            free = self.space()?.free_bytes;
            match done {
                Ok(()) => tracing::info!(
                    free_before = space.free_bytes,
                    free_after = free,
                    reserve,
                    "space short: WAL checkpointed and truncated"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "space short and the WAL could not be truncated")
                }
            }
            if free >= reserve {
                return Ok(());
            }
        }
        Err(StoreError::Unavailable(format!(
            "{free} bytes free beside the store, below store.reserve_bytes = {reserve}"
        )))
    }

    fn wal_bytes(&self) -> u64 {
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        std::fs::metadata(wal).map_or(0, |m| m.len())
    }

    /// Copies the WAL into the database and truncates it to zero. Runs on a connection of its
    /// own: a checkpoint cannot run inside the writer's transactions.
    pub async fn reclaim_wal(&self) -> Result<(), StoreError> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let conn = Connection::open(&path)?;
            conn.busy_timeout(Duration::from_secs(2))?;
            let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
            if busy != 0 {
                return Err(StoreError::Unavailable(
                    "the checkpoint was blocked by a reader or writer".into(),
                ));
            }
            Ok(())
        })
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?
    }

    /// A commit that reaches the disk: one small row rewritten under `synchronous = FULL`, so
    /// the WAL is appended and fsynced as for an event. Fails on a full or read-only disk,
    /// which a commit with nothing in it would not notice.
    pub async fn probe_write(&self, now_ms: i64) -> Result<(), StoreError> {
        self.writer
            .write(move |c| {
                c.execute(
                    "INSERT INTO meta (key, value) VALUES ('readiness_probe', ?1)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [now_ms.to_string()],
                )?;
                Ok(())
            })
            .await
    }
}
