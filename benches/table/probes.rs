//! What the disk under the store allows, measured in the store's own directory: SQLite
//! committing one row per transaction with the bridge's durability settings, bare fsyncs, and
//! the bridge's own store appending one webhook per transaction without HTTP in front of it.
//! These bound what one client can get: each of its webhooks must be on disk before its 200.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use aircall_monday_bridge::store::{Entity, NewEvent, Store};

use super::load::FreshCalls;

/// Commits a second: one `body_len`-byte row per transaction, WAL, `synchronous=FULL`.
pub fn sqlite_commits_per_sec(dir: &Path, body_len: usize, run: Duration) -> f64 {
    let path = dir.join("probe.db");
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
         CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, body BLOB NOT NULL);",
    )
    .unwrap();
    let body = vec![b'x'; body_len];
    let mut insert = db.prepare("INSERT INTO probe (body) VALUES (?1)").unwrap();
    let started = Instant::now();
    let mut commits = 0u64;
    while started.elapsed() < run {
        insert.execute([&body]).unwrap();
        commits += 1;
    }
    let rate = commits as f64 / started.elapsed().as_secs_f64();
    drop(insert);
    drop(db);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.join(format!("probe.db{suffix}")));
    }
    rate
}

/// Appends a second through the bridge's own store (its writer thread, the row's indexes, the
/// entity upsert, the payload's compression), one webhook per transaction as one client's
/// arrive: what the store costs a webhook, without HTTP.
pub async fn store_appends_per_sec(dir: &Path, bodies: &FreshCalls, run: Duration) -> f64 {
    let path = dir.join("probe-store.db");
    let store = Store::open(&path).unwrap();
    let started = Instant::now();
    let mut appends = 0u64;
    while started.elapsed() < run {
        let envelope: serde_json::Value = serde_json::from_slice(&bodies.body()).unwrap();
        let id = envelope["data"]["id"].to_string();
        store
            .append(NewEvent {
                kind: Entity::Call,
                entity_id: id.clone(),
                event: "call.ended".into(),
                timestamp: 1,
                received_ms: 1,
                data: envelope["data"].to_string(),
                dedup_key: id,
            })
            .await
            .unwrap();
        appends += 1;
    }
    let rate = appends as f64 / started.elapsed().as_secs_f64();
    drop(store);
    for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("probe-store.db")
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    rate
}

/// fsyncs a second of a file being appended to, 4 KiB at a time.
pub fn fsyncs_per_sec(dir: &Path, run: Duration) -> f64 {
    let path = dir.join("probe.fsync");
    let mut file = std::fs::File::create(&path).unwrap();
    let block = vec![0u8; 4096];
    let started = Instant::now();
    let mut syncs = 0u64;
    while started.elapsed() < run {
        file.write_all(&block).unwrap();
        file.sync_all().unwrap();
        syncs += 1;
    }
    let rate = syncs as f64 / started.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&path);
    rate
}
