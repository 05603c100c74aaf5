//! Figures 1, 2 and the first two of 6: durable acknowledgements against the no-op ceiling and
//! against what SQLite and the disk allow, latency at a steady 1,000 requests/s, memory idle
//! and under the load. Bridge and baseline take turns (A, B, A, B) so that the machine's other
//! work weighs on both alike; each side keeps its best round.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::load::{self, closed_loop, open_loop, FreshCalls, Load, Until};
use super::probes;
use super::report::{mib, ms, per_sec, Row};
use super::Scale;
use crate::helpers::*;

const PATH: &str = "/webhooks/aircall";

/// The environment of a bridge measured for its intake alone: monday unreachable (refused at
/// once, not answered by the sandbox in this process, which would take CPU from the load
/// generator), and a first retry an hour away so the worker leaves the store alone.
pub const INTAKE_ONLY: [(&str, &str); 2] = [
    ("BRIDGE__MONDAY__API_URL", "http://127.0.0.1:9/v2"),
    ("BRIDGE__WORKER__RETRY_SCHEDULE", "1h"),
];

fn best(a: Option<Load>, b: Load) -> Load {
    match a {
        Some(a) if a.rate >= b.rate => a,
        _ => b,
    }
}

fn quantiles(l: &Load) -> String {
    format!(
        "{} (p50/p99/p999 {:.2}/{:.2}/{:.2} ms)",
        per_sec(l.rate),
        l.ms(0.5),
        l.ms(0.99),
        l.ms(0.999)
    )
}

async fn closed(addr: SocketAddr, bodies: &Arc<FreshCalls>, clients: usize, s: &Scale) -> Load {
    closed_loop(
        addr,
        PATH,
        bodies.clone(),
        clients,
        Until::Elapsed(s.load_run),
    )
    .await
}

pub async fn figures(s: &Scale, rows: &mut Vec<Row>) {
    let sandbox = Sandbox::start().await;
    let bridge = Bridge::start(&sandbox, &INTAKE_ONLY).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let idle_kib = load::status_kib(bridge.pid(), "VmRSS:");
    let noop = load::noop_server();
    let bodies = Arc::new(FreshCalls::new(AIRCALL_TOKEN));
    let store_dir = bridge.dir.path().to_path_buf();

    // One client: each webhook waits for its own commit, so the disk sets the pace.
    let (mut ceiling, mut ours, mut sqlite, mut fsync, mut store) = (None, None, 0f64, 0f64, 0f64);
    for _ in 0..s.rounds {
        store = store.max(probes::store_appends_per_sec(&store_dir, &bodies, s.probe_run).await);
        ceiling = Some(best(ceiling, closed(noop, &bodies, 1, s).await));
        sqlite = sqlite.max(probes::sqlite_commits_per_sec(
            &store_dir,
            bodies.body_len(),
            s.probe_run,
        ));
        ours = Some(best(ours, closed(bridge.public, &bodies, 1, s).await));
        fsync = fsync.max(probes::fsyncs_per_sec(&store_dir, s.probe_run));
    }
    let (ceiling, ours) = (ceiling.unwrap(), ours.unwrap());
    rows.push(
        Row::new("1", "durable acks/s, 1 client, vs SQLite's own commits")
            .bridge(quantiles(&ours))
            .baseline(format!(
                "SQLite 1-row txns {} (raw fsync {})",
                per_sec(sqlite),
                per_sec(fsync)
            ))
            .ratio(ours.rate / sqlite)
            .target(">= 0.8", ours.rate / sqlite >= 0.8),
    );
    rows.push(
        Row::new(
            "1",
            "durable acks/s, 1 client, vs the bridge's store alone (no HTTP)",
        )
        .bridge(per_sec(ours.rate))
        .baseline(format!("store appends {}", per_sec(store)))
        .ratio(ours.rate / store),
    );
    rows.push(
        Row::new("1", "durable acks/s, 1 client, vs no-op")
            .bridge(per_sec(ours.rate))
            .baseline(format!("no-op {}", quantiles(&ceiling)))
            .ratio(ours.rate / ceiling.rate),
    );

    // Many clients: group commit lets one fsync serve many; the CPU is what remains.
    for clients in [16, 64] {
        let (mut ceiling, mut ours) = (None, None);
        let cpu_before = load::cpu_time(bridge.pid());
        let mut answered = 0;
        for _ in 0..s.rounds {
            ceiling = Some(best(ceiling, closed(noop, &bodies, clients, s).await));
            let run = closed(bridge.public, &bodies, clients, s).await;
            answered += run.latencies.len();
            ours = Some(best(ours, run));
        }
        let cpu = load::cpu_time(bridge.pid()) - cpu_before;
        let (ceiling, ours) = (ceiling.unwrap(), ours.unwrap());
        let ratio = ours.rate / ceiling.rate;
        let row = Row::new("1", format!("durable acks/s, {clients} clients, vs no-op"))
            .bridge(format!(
                "{}; CPU {:.0} µs/ack",
                quantiles(&ours),
                cpu.as_secs_f64() * 1e6 / answered.max(1) as f64
            ))
            .baseline(format!("no-op {}", quantiles(&ceiling)))
            .ratio(ratio);
        rows.push(if clients == 64 {
            row.target(">= 0.5", ratio >= 0.5)
        } else {
            row
        });
    }

    // A steady 1,000 requests/s, latency counted from when each request was due.
    let (mut ceiling_p99, mut ours_p99) = (f64::MAX, f64::MAX);
    for _ in 0..s.rounds {
        let c = open_loop(noop, PATH, bodies.clone(), 1000, s.steady_run).await;
        ceiling_p99 = ceiling_p99.min(c.ms(0.99));
        let o = open_loop(bridge.public, PATH, bodies.clone(), 1000, s.steady_run).await;
        ours_p99 = ours_p99.min(o.ms(0.99));
    }
    rows.push(
        Row::new("2", "p99 ack latency at a steady 1,000 req/s")
            .bridge(ms(ours_p99))
            .baseline(format!("no-op {}", ms(ceiling_p99)))
            .ratio(ours_p99 / ceiling_p99)
            .target("< 5 ms", ours_p99 < 5.0),
    );

    let peak_kib = load::status_kib(bridge.pid(), "VmHWM:");
    rows.push(
        Row::new("6", "resident memory idle (after start)")
            .bridge(mib(idle_kib))
            .target("< 30 MiB", idle_kib < 30 * 1024),
    );
    rows.push(
        Row::new("6", "resident memory under the ingest load (peak)")
            .bridge(mib(peak_kib))
            .baseline(format!("idle {}", mib(idle_kib)))
            .ratio(peak_kib as f64 / idle_kib.max(1) as f64),
    );
}
