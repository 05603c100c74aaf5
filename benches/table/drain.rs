//! Figure 5: a backlog drained against the sandbox enforcing a plan's minute and complexity
//! limits, as a fraction of the fastest any client could go under them, and the share of
//! requests answered 429. The daily limit is out of the way (the governor's matter, issue
//! 15). Also `cargo bench --bench bridge -- drain`.

use std::time::{Duration, Instant};

use aircall_monday_bridge::demo::day::realistic_day;
use serde_json::{json, Value};

use super::report::Row;
use super::requests::{calls_in, calls_only, monday_requests, AMPLE_DAY, AMPLE_DAY_ENV, START_TS};
use crate::helpers::*;

/// The limits the sandbox enforces while the backlog drains.
#[derive(Clone, Copy)]
pub struct PlanLimits {
    pub name: &'static str,
    pub window_secs: u64,
    pub requests: u64,
    pub complexity: u64,
}

/// monday's Standard plan with a personal token: 1,000 requests and 10,000,000 complexity
/// points a minute.
pub const STANDARD: PlanLimits = PlanLimits {
    name: "Standard plan's",
    window_secs: 60,
    requests: 1_000,
    complexity: 10_000_000,
};

pub struct Drain {
    pub events: usize,
    pub calls: usize,
    pub took: Duration,
    /// The fastest possible under the limits.
    pub ideal: Duration,
    pub complexity: u64,
    pub requests: u64,
    pub answered_429: u64,
}

/// The first `events` call webhooks of a generated day.
fn backlog_of(events: usize) -> Vec<Value> {
    let calls = events / 5 + 10;
    let mut day = calls_only(realistic_day(AIRCALL_TOKEN, 23, calls, START_TS));
    day.truncate(events);
    day
}

/// Waits for an empty queue; unlike `Bridge::drained`, as long as a minute-limited drain takes.
/// With `trace`, says every 2 s what the sandbox has taken and what is pending.
async fn drained_within(bridge: &Bridge, sandbox: &Sandbox, limit: Duration, trace: bool) {
    let started = Instant::now();
    let deadline = started + limit;
    let mut said = started;
    loop {
        let pending = bridge.metric("bridge_queue_pending_events ").await;
        if pending == 0.0 {
            return;
        }
        assert!(Instant::now() < deadline, "the backlog did not drain");
        if trace && said.elapsed() >= Duration::from_secs(2) {
            let stats = sandbox.stats().await;
            eprintln!(
                "drain {:>5.1} s: complexity {} requests {} pending {pending}",
                started.elapsed().as_secs_f64(),
                stats["complexity_used"],
                stats["requests"]["requests_total"],
            );
            said = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn run(events: usize, plan: PlanLimits) -> Drain {
    let sandbox = Sandbox::start().await;
    let w = plan.window_secs;
    sandbox
        .set_limits(json!({ "minute_requests": plan.requests, "minute_window_secs": w, "complexity_budget": plan.complexity, "complexity_window_secs": w, "daily_requests": AMPLE_DAY }))
        .await;
    // The backlog builds up while monday answers 503 (before its limits count anything); a
    // retry every second, for long enough that nothing goes to the dead letter meanwhile.
    let retries = vec!["1s"; 600].join(",");
    let bridge = Bridge::start(
        &sandbox,
        &[
            ("BRIDGE__WORKER__RETRY_SCHEDULE", &retries),
            ("BRIDGE__WORKER__LEASE_SECS", "60"),
            AMPLE_DAY_ENV,
        ],
    )
    .await;
    let day = backlog_of(events);
    sandbox.faults(json!({ "outage": true })).await;
    bridge.deliver(&day).await;
    let during_outage = monday_requests(&sandbox).await;
    let limited_before = answered_429(&sandbox.stats().await);
    sandbox.faults(json!({ "outage": false })).await;
    let started = Instant::now();
    let trace = std::env::var_os("BENCH_TRACE").is_some();
    drained_within(&bridge, &sandbox, Duration::from_secs(600), trace).await;
    let took = started.elapsed();
    if trace {
        eprintln!("monday requests during the outage: {during_outage}");
        for line in bridge.metrics().await.lines() {
            if line.starts_with("bridge_monday_requests_total")
                || line.starts_with("bridge_monday_request_seconds_sum")
                || line.starts_with("bridge_monday_request_seconds_count")
                || line.starts_with("bridge_retries_total")
                || line.starts_with("bridge_reconciles_total")
            {
                eprintln!("{line}");
            }
        }
    }
    if std::env::var_os("BENCH_LOG").is_some() {
        eprintln!("{}", bridge.log());
    }
    let stats = sandbox.stats().await;
    let complexity = stats["complexity_used"].as_u64().unwrap_or(0);
    let requests = monday_requests(&sandbox).await - during_outage;
    // The fastest any client could go: spend a window's budget at once, then wait a whole
    // window for every further budget's worth (the sandbox's windows slide per request).
    let windows =
        ((complexity.max(1) - 1) / plan.complexity).max((requests.max(1) - 1) / plan.requests);
    Drain {
        events: day.len(),
        calls: calls_in(&day),
        took,
        ideal: Duration::from_secs(w * windows),
        complexity,
        requests,
        answered_429: answered_429(&stats) - limited_before,
    }
}

fn answered_429(stats: &Value) -> u64 {
    stats["requests"]["rate_limited"]
        .as_object()
        .map(|m| m.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0)
}

pub async fn figures(events: usize, plan: PlanLimits, rows: &mut Vec<Row>) {
    let d = run(events, plan).await;
    let ratio = d.ideal.as_secs_f64() / d.took.as_secs_f64();
    let share_429 = d.answered_429 as f64 / d.requests.max(1) as f64;
    rows.push(
        Row::new(
            "5",
            format!(
                "drain of {} events ({} calls) under the {} limits ({} req, {} points / {} s)",
                d.events, d.calls, plan.name, plan.requests, plan.complexity, plan.window_secs
            ),
        )
        .bridge(format!(
            "{:.2} s; {} requests, {} points",
            d.took.as_secs_f64(),
            d.requests,
            d.complexity
        ))
        .baseline(format!(
            "fastest the budget allows: {:.0} s",
            d.ideal.as_secs_f64()
        ))
        .ratio(ratio)
        .target(">= 0.95", ratio >= 0.95),
    );
    rows.push(
        Row::new("5", "share of the drain's requests answered 429")
            .bridge(format!(
                "{:.2} % ({} of {})",
                share_429 * 100.0,
                d.answered_429,
                d.requests
            ))
            .target("< 1 %", share_429 < 0.01),
    );
}
