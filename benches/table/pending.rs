//! Figures 6 (with a backlog), 7 and 8: a store holding many pending events. Start-up to
//! ready with an empty store and with the backlog (against the bare cost of starting the
//! binary), memory with the backlog, and disk per acknowledged event against its body.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::ingest::INTAKE_ONLY;
use super::load::{self, closed_loop, FreshCalls, Until};
use super::report::{mib, ms, Row};
use crate::helpers::*;

/// Bytes of the SQLite file and its sidecars (WAL, shared memory).
fn store_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("bridge.db"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// Where the bytes are: each file's size, and each table's and index's pages (`dbstat`).
fn trace_store(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        eprintln!(
            "store file {:?}: {} B",
            e.file_name(),
            e.metadata().unwrap().len()
        );
    }
    let out = Command::new("sqlite3")
        .arg(dir.join("bridge.db"))
        .arg("SELECT name, count(*), sum(pgsize), sum(unused) FROM dbstat GROUP BY name ORDER BY 3 DESC")
        .arg("SELECT 'entities with a stored state', count(observed), count(*), avg(length(observed)) FROM entities")
        .output();
    match out {
        Ok(o) => eprintln!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => eprintln!("sqlite3: {e}"),
    }
}

/// The binary started for nothing but `--version`: what any start-up costs here.
fn bare_start() -> Duration {
    let bin = bridge_command(&[]).get_program().to_owned();
    (0..5)
        .map(|_| {
            let t = Instant::now();
            let out = Command::new(&bin).arg("--version").output().unwrap();
            assert!(out.status.success());
            t.elapsed()
        })
        .min()
        .unwrap()
}

pub async fn figures(pending: u64, rows: &mut Vec<Row>) {
    let exec = bare_start();
    let sandbox = Sandbox::start().await;
    let mut bridge = Bridge::start(&sandbox, &INTAKE_ONLY).await;
    let empty_ready = bridge.ready_after;
    let before = store_bytes(bridge.dir.path());
    let bodies = Arc::new(FreshCalls::new(AIRCALL_TOKEN));
    let url = bridge.public;
    let posted = closed_loop(
        url,
        "/webhooks/aircall",
        bodies.clone(),
        64,
        Until::Requests(pending),
    )
    .await;
    assert_eq!(posted.latencies.len() as u64, pending);
    let per_event = (store_bytes(bridge.dir.path()) - before) as f64 / pending as f64;
    let body = bodies.body_len() as f64;
    let in_store = bridge.metric("bridge_queue_pending_events ").await as u64;
    if std::env::var_os("BENCH_TRACE").is_some() {
        trace_store(bridge.dir.path());
    }

    let posting_peak = load::status_kib(bridge.pid(), "VmHWM:");
    // kill -9 and start again on the same store, monday still unreachable.
    bridge.kill_and_restart().await;
    let pending_ready = bridge.ready_after;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss = load::status_kib(bridge.pid(), "VmRSS:");
    let peak = load::status_kib(bridge.pid(), "VmHWM:");

    rows.push(
        Row::new(
            "6",
            format!("resident memory with {pending} pending events"),
        )
        .bridge(format!(
            "{} (peak {}) 2 s after a restart; peak while posting them at 64 clients {}",
            mib(rss),
            mib(peak),
            mib(posting_peak)
        ))
        .target("< 100 MiB", peak < 100 * 1024),
    );
    let exec_ms = exec.as_secs_f64() * 1000.0;
    for (what, took) in [
        ("start-up to ready, empty store".to_string(), empty_ready),
        (
            format!("start-up to ready, {pending} pending events"),
            pending_ready,
        ),
    ] {
        let took = took.as_secs_f64() * 1000.0;
        rows.push(
            Row::new("7", what)
                .bridge(ms(took))
                .baseline(format!("the binary's --version: {}", ms(exec_ms)))
                .ratio(took / exec_ms)
                .target("< 200 ms", took < 200.0),
        );
    }
    rows.push(
        Row::new(
            "8",
            format!("disk per acknowledged event ({in_store} pending in the store)"),
        )
        .bridge(format!("{:.0} B", per_event))
        .baseline(format!("body: {body:.0} B"))
        .ratio(per_event / body)
        .target("<= 1.0x the body", per_event <= body),
    );
}
