//! Benchmarks of the real binary against the sandbox, on 127.0.0.1 only. Run:
//!
//!     cargo bench --bench bridge
//!
//! Prints figures and their ratio to a baseline measured in the same run:
//! - requests to monday per call, live and under a backlog, against one request per webhook
//!   (what a Zapier/Make zap does);
//! - backlog drain under a small rate limit, as a fraction of the sandbox's allowed budget;
//! - webhook acknowledgement throughput and latency percentiles, against a bare HTTP endpoint
//!   that stores nothing (the cost of HTTP on this machine);
//! - the bridge's memory, against its own idle footprint;
//! - the time from a restart after SIGKILL to the first reconcile of a call the dead process
//!   had claimed, against the lease the claim would otherwise have waited out;
//! - intake and drain of one, two and three replicas on PostgreSQL, against one bridge on
//!   SQLite (`replicas`);
//! - insight card latency and the Aircall requests AI insights cost per call (`cards`).

#[path = "bridge/cards.rs"]
mod cards;
#[path = "../tests/bridge/compressed_day.rs"]
mod compressed_day;
#[path = "../tests/bridge/expected.rs"]
mod expected;
#[path = "../tests/bridge/helpers.rs"]
mod helpers;
#[path = "bridge/replicas.rs"]
mod replicas;
// The measurements this file shares with the one-table benchmark (benches/table.rs).
#[path = "table/mod.rs"]
mod table;

use std::time::{Duration, Instant};

use aircall_monday_bridge::demo::day::realistic_day;
use helpers::*;
use serde_json::{json, Value};
use table::drain::PlanLimits;
use table::load::{cpu_time, noop_server, percentile, status_kib as rss_kib};
use table::requests::START_TS;

async fn requests_per_call_live() {
    let live = table::requests::live(40).await;
    println!(
        "requests per call, live:       {:>6.2}   (one per webhook: {:.2}; ratio {:.2}); a hold and an unhold: {} requests",
        live.requests_per_call,
        live.webhooks_per_call,
        live.requests_per_call / live.webhooks_per_call,
        live.for_unmapped_events
    );
}

async fn requests_per_call_backlog() {
    let backlog = table::requests::backlog(200).await;
    println!(
        "requests per call, backlog:    {:>6.3}   (one per webhook: {:.2}; ratio {:.3}); {} calls drained in {:.2} s",
        backlog.requests_per_call,
        backlog.webhooks_per_call,
        backlog.requests_per_call / backlog.webhooks_per_call,
        backlog.calls,
        backlog.drained_in.as_secs_f64()
    );
}

async fn drain_under_rate_limit() {
    // A small budget: 30 requests and 400,000 complexity points per 10 s, about 60 calls.
    let limits = PlanLimits {
        name: "small",
        window_secs: 10,
        requests: 30,
        complexity: 400_000,
    };
    let d = table::drain::run(370, limits).await;
    println!(
        "rate-limited drain:            {:>6.2} s for {} calls (fastest possible under the budget: {:.0} s; ratio {:.2}); {} complexity points, {} requests, {} answered 429",
        d.took.as_secs_f64(),
        d.calls,
        d.ideal.as_secs_f64(),
        d.ideal.as_secs_f64() / d.took.as_secs_f64(),
        d.complexity,
        d.requests,
        d.answered_429
    );
}

/// Posts `bodies` with `concurrency` clients, client i to `urls[i % urls.len()]` (replicas
/// behind a balancer); returns (requests per second, latencies sorted).
pub(crate) async fn blast(
    urls: &[String],
    bodies: &[Value],
    concurrency: usize,
) -> (f64, Vec<Duration>) {
    let started = Instant::now();
    let chunk = bodies.len().div_ceil(concurrency);
    let tasks: Vec<_> = bodies
        .chunks(chunk)
        .enumerate()
        .map(|(i, part)| {
            let (url, part) = (urls[i % urls.len()].clone(), part.to_vec());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut lat = Vec::with_capacity(part.len());
                for body in part {
                    let t = Instant::now();
                    let r = http.post(&url).json(&body).send().await.unwrap();
                    assert!(r.status().is_success());
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let rate = bodies.len() as f64 / started.elapsed().as_secs_f64();
    all.sort();
    (rate, all)
}

/// One build of the bridge under the ingest load: acks/s, latencies, CPU per webhook, memory.
struct IngestRun {
    rate: f64,
    lat: Vec<Duration>,
    cpu_per_webhook: Duration,
    idle_rss: u64,
    peak_rss: u64,
}

async fn ingest_run(binary: Option<&str>, day: &[Value]) -> IngestRun {
    let sandbox = Sandbox::start().await;
    // monday is down: the worker waits, so the figures are the intake's alone.
    sandbox.faults(json!({ "outage": true })).await;
    let env: Vec<(&str, &str)> = binary.map(|b| vec![("BRIDGE_BIN", b)]).unwrap_or_default();
    let bridge = Bridge::start(&sandbox, &env).await;
    let idle_rss = rss_kib(bridge.pid(), "VmRSS:");
    let url = format!("http://{}/webhooks/aircall", bridge.public);
    let before = cpu_time(bridge.pid());
    let (rate, lat) = blast(&[url], day, 16).await;
    let cpu = cpu_time(bridge.pid()) - before;
    IngestRun {
        rate,
        lat,
        cpu_per_webhook: cpu / day.len() as u32,
        idle_rss,
        peak_rss: rss_kib(bridge.pid(), "VmHWM:"),
    }
}

/// With BENCH_BASELINE_BIN set to another build's binary, both builds are measured in turns
/// (baseline, this one, baseline, this one) and compared.
async fn ingest_throughput_and_latency() {
    let day = realistic_day(AIRCALL_TOKEN, 24, 1500, START_TS);
    let bare = format!("http://{}/", noop_server());
    let (bare_rate, bare_lat) = blast(&[bare], &day, 16).await;
    let baseline = std::env::var("BENCH_BASELINE_BIN").ok();
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..2 {
        if let Some(b) = &baseline {
            theirs.push(ingest_run(Some(b), &day).await);
        }
        ours.push(ingest_run(None, &day).await);
    }
    let best = |runs: &[IngestRun]| -> (f64, Duration) {
        let rate = runs.iter().map(|r| r.rate).fold(0.0, f64::max);
        let cpu = runs
            .iter()
            .map(|r| r.cpu_per_webhook)
            .min()
            .unwrap_or_default();
        (rate, cpu)
    };
    let (rate, cpu) = best(&ours);
    let run = &ours[ours.len() - 1];
    println!(
        "webhook acks:                  {:>6.0} /s with 16 clients ({} webhooks, best of {}); bare HTTP {:.0} /s; ratio {:.2}",
        rate,
        day.len(),
        ours.len(),
        bare_rate,
        rate / bare_rate
    );
    println!(
        "ack latency ms p50/p95/p99:    {:.2} / {:.2} / {:.2}   (bare HTTP {:.2} / {:.2} / {:.2})",
        percentile(&run.lat, 0.50),
        percentile(&run.lat, 0.95),
        percentile(&run.lat, 0.99),
        percentile(&bare_lat, 0.50),
        percentile(&bare_lat, 0.95),
        percentile(&bare_lat, 0.99)
    );
    println!(
        "bridge CPU per webhook:        {:>6.1} µs (user + system, while acknowledging)",
        cpu.as_secs_f64() * 1e6
    );
    if !theirs.is_empty() {
        let (base_rate, base_cpu) = best(&theirs);
        println!(
            "against the baseline build:    acks/s {:.0} vs {:.0} (ratio {:.2}); CPU per webhook {:.1} vs {:.1} µs (ratio {:.2})",
            rate,
            base_rate,
            rate / base_rate,
            cpu.as_secs_f64() * 1e6,
            base_cpu.as_secs_f64() * 1e6,
            cpu.as_secs_f64() / base_cpu.as_secs_f64().max(1e-9)
        );
    }
    println!(
        "bridge memory:                 {:.1} MiB peak RSS under the load; {:.1} MiB idle; ratio {:.2}",
        run.peak_rss as f64 / 1024.0,
        run.idle_rss as f64 / 1024.0,
        run.peak_rss as f64 / run.idle_rss.max(1) as f64
    );
}

/// SIGKILL while a create's answer is held back, restart, and time until the restarted bridge
/// sends the dead one's request again (the first reconcile of its claimed call).
async fn takeover_after_sigkill() {
    const RUNS: usize = 10;
    let lease_secs = 60;
    let mut ready = Vec::new();
    let mut reconciled = Vec::new();
    for run in 0..RUNS {
        let sandbox = Sandbox::start().await;
        let lease = lease_secs.to_string();
        let mut bridge = Bridge::start(&sandbox, &[("BRIDGE__WORKER__LEASE_SECS", &lease)]).await;
        let mut call = helpers::fixture("inbound_answered");
        call.truncate(1);
        call[0]["data"]["id"] = json!(9_100_000 + run as u64);
        sandbox
            .faults(json!({ "queue": [{"kind": "apply_then_hold", "ms": 60_000}], "queue_field": "create_item" }))
            .await;
        bridge.deliver(&call).await;
        eventually(Duration::from_secs(20), "the held create", || async {
            (!sandbox.items(CALLS_BOARD).await.is_empty()).then_some(())
        })
        .await;
        let replays = |s: Value| s["requests"]["idempotent_replays"].as_u64().unwrap_or(0);
        let before = replays(sandbox.stats().await);
        let killed = Instant::now();
        bridge.kill_and_restart().await;
        ready.push(killed.elapsed());
        loop {
            if replays(sandbox.stats().await) > before {
                break;
            }
            assert!(killed.elapsed() < Duration::from_secs(30), "no takeover");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        reconciled.push(killed.elapsed());
    }
    ready.sort();
    reconciled.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (ready_p50, took_p50, took_max) = (
        ms(ready[RUNS / 2]),
        ms(reconciled[RUNS / 2]),
        ms(reconciled[RUNS - 1]),
    );
    println!(
        "takeover after SIGKILL:        {:>6.0} ms median, {:.0} ms worst of {RUNS} (restart to ready {:.0} ms; reconcile {:.0} ms after ready); lease it no longer waits out {} s; ratio {:.4}",
        took_p50,
        took_max,
        ready_p50,
        took_p50 - ready_p50,
        lease_secs,
        took_p50 / 1000.0 / lease_secs as f64
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing useful: run only for real.
    if !std::env::args().any(|a| a == "--bench") {
        println!("run with: cargo bench --bench bridge");
        return;
    }
    println!(
        "aircall-monday-bridge benchmarks (127.0.0.1, {} cores)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    // `cargo bench --bench bridge -- drain` runs the benchmarks whose name contains "drain".
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .unwrap_or_default();
    let wanted = |name: &str| name.contains(&filter);
    if wanted("live") {
        requests_per_call_live().await;
    }
    if wanted("backlog") {
        requests_per_call_backlog().await;
    }
    if wanted("drain") {
        drain_under_rate_limit().await;
    }
    if wanted("ingest") {
        ingest_throughput_and_latency().await;
    }
    if wanted("takeover") {
        takeover_after_sigkill().await;
    }
    if wanted("replicas") {
        replicas::ingest_and_drain().await;
    }
    if wanted("cards") {
        cards::card_latency().await;
        cards::ai_requests_per_call().await;
    }
}
