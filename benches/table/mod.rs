//! The benchmark table of issues 14 and 15: every figure beside its baseline from the same
//! run, the target and whether it was met. Run by `cargo bench --bench table`
//! (`-- --quick` for a short run that checks it works, not its figures) and, quick, by the
//! test `bench_table::quick_mode_fills_every_row` on the debug build.
//!
//! Everything is on 127.0.0.1: the bridge binary as a child process with a fresh store in a
//! temporary directory, the monday sandbox and the no-op ceiling server in this process.

#![allow(dead_code)]

pub mod budget;
pub mod drain;
pub mod ingest;
pub mod latency;
pub mod load;
pub mod pending;
pub mod probes;
pub mod report;
pub mod requests;

use std::time::Duration;

use report::Row;

/// How big and long each measurement is.
pub struct Scale {
    pub quick: bool,
    /// Turns each side (bridge, baseline) gets; each keeps its best.
    pub rounds: usize,
    /// One closed-loop load run.
    pub load_run: Duration,
    /// One run of the SQLite and fsync probes.
    pub probe_run: Duration,
    /// One run at a steady 1,000 requests/s.
    pub steady_run: Duration,
    pub e2e_calls: usize,
    pub live_calls: usize,
    pub backlog_calls: usize,
    pub drain_events: usize,
    pub drain_limits: drain::PlanLimits,
    pub pending: u64,
}

impl Scale {
    pub fn full() -> Scale {
        Scale {
            quick: false,
            rounds: 2,
            load_run: Duration::from_secs(3),
            probe_run: Duration::from_secs(2),
            steady_run: Duration::from_secs(5),
            e2e_calls: 200,
            live_calls: 40,
            backlog_calls: 200,
            drain_events: 10_000,
            drain_limits: drain::STANDARD,
            pending: 100_000,
        }
    }

    pub fn quick() -> Scale {
        Scale {
            quick: true,
            rounds: 1,
            load_run: Duration::from_millis(300),
            probe_run: Duration::from_millis(200),
            steady_run: Duration::from_millis(300),
            e2e_calls: 10,
            live_calls: 3,
            backlog_calls: 20,
            drain_events: 200,
            // Two windows of a second for about 40 creates: the limits are reached, quickly.
            drain_limits: drain::PlanLimits {
                name: "quick run's",
                window_secs: 1,
                requests: 1_000,
                complexity: 200_000,
            },
            pending: 1_000,
        }
    }
}

/// The sections `--only` can name, in the order they run.
pub const SECTIONS: [&str; 6] = [
    "ingest", "latency", "requests", "drain", "pending", "budget",
];

/// Every figure of the sections `only` names (all of them when it is empty), in the issue's
/// order. A change is measured on the rows it moves without waiting for the whole table.
pub async fn run(scale: &Scale, only: &[String]) -> Vec<Row> {
    let mut rows = Vec::new();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let section = |name: &str| eprintln!("bench: {name}");
    if wanted("ingest") {
        section("1, 2, 6: acknowledgements and memory under the load");
        ingest::figures(scale, &mut rows).await;
    }
    if wanted("latency") {
        section("3: end-to-end latency");
        latency::figures(scale.e2e_calls, &mut rows).await;
    }
    // The budget's rows compare against the live requests per call, so they need this section.
    let live = if wanted("requests") || wanted("budget") {
        section("4: requests per call");
        Some(requests::figures(scale.live_calls, scale.backlog_calls, &mut rows).await)
    } else {
        None
    };
    if wanted("drain") {
        section("5: rate-limited drain");
        drain::figures(scale.drain_events, scale.drain_limits, &mut rows).await;
    }
    if wanted("pending") {
        section("6, 7, 8: a store with a backlog");
        pending::figures(scale.pending, &mut rows).await;
    }
    if let (true, Some(live)) = (wanted("budget"), live) {
        section("15: the daily budget");
        budget::figures(scale.quick, live.requests_per_call, &mut rows).await;
    }
    rows
}

/// The header printed above the table: the machine it ran on.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map(|kib| kib / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    format!("{cores} cores ({cpu}), {mem_gib:.0} GiB, Linux; everything on 127.0.0.1")
}
