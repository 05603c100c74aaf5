//! Figure 4 (and what issue 15's live column is made of): requests to monday per call
//! lifecycle, live and under a backlog, against one request per webhook (what a Zapier/Make
//! zap sends). Also shared with `cargo bench --bench bridge -- live|backlog`.

use std::time::{Duration, Instant};

use aircall_monday_bridge::demo::day::realistic_day;
use serde_json::{json, Value};

use super::report::Row;
use crate::helpers::*;

pub const START_TS: i64 = 1_795_168_800;

pub fn calls_in(day: &[Value]) -> usize {
    let ids: std::collections::BTreeSet<u64> = day
        .iter()
        .filter(|e| e["event"].as_str().unwrap_or("").starts_with("call."))
        .filter_map(|e| e["data"]["id"].as_u64())
        .collect();
    ids.len()
}

fn call_webhooks(day: &[Value]) -> usize {
    day.iter()
        .filter(|e| e["event"].as_str().unwrap_or("").starts_with("call."))
        .count()
}

pub async fn monday_requests(sandbox: &Sandbox) -> u64 {
    sandbox.stats().await["requests"]["requests_total"]
        .as_u64()
        .unwrap_or(0)
}

/// Calls only: contacts are left out so the figure is per call lifecycle.
pub fn calls_only(day: Vec<Value>) -> Vec<Value> {
    day.into_iter()
        .filter(|e| e["event"].as_str().unwrap_or("").starts_with("call."))
        .collect()
}

/// Requests per call and the one-per-webhook baseline of the same calls.
pub struct PerCall {
    pub requests_per_call: f64,
    pub webhooks_per_call: f64,
    pub calls: usize,
    /// Under a backlog: from monday's recovery to an empty queue.
    pub drained_in: Duration,
    /// Live: requests caused by a hold and an unhold, which change nothing mapped.
    pub for_unmapped_events: u64,
}

/// A daily limit no benchmark day comes near, on both sides (the sandbox's and the one the
/// bridge assumes until it has read monday's): a benchmark's minutes of traffic, projected
/// over a day, would otherwise make the governor coalesce, and the figure would be its.
pub const AMPLE_DAY: u64 = 100_000_000;

/// The bridge's side of `AMPLE_DAY`.
pub const AMPLE_DAY_ENV: (&str, &str) = ("BRIDGE__MONDAY__DAILY_LIMIT", "100000000");

pub async fn sandbox_with_an_ample_day() -> Sandbox {
    let sandbox = Sandbox::start().await;
    sandbox
        .set_limits(json!({ "daily_requests": AMPLE_DAY }))
        .await;
    sandbox
}

/// Live: the governor off, every change sent as it comes (issue 15's "live" column).
pub async fn live(calls: usize) -> PerCall {
    let sandbox = Sandbox::start().await;
    let bridge = Bridge::start(&sandbox, &[("BRIDGE__MONDAY__GOVERNOR", "false")]).await;
    let day = calls_only(realistic_day(AIRCALL_TOKEN, 21, calls, START_TS));
    // Live: each webhook is handled before the next arrives, as during a normal day.
    for envelope in &day {
        bridge.deliver(std::slice::from_ref(envelope)).await;
        bridge.drained().await;
    }
    let requests = monday_requests(&sandbox).await as f64;
    // A call put on hold and back: its hold events must cost nothing.
    let mut held = fixture("hold_unhold");
    for e in &mut held {
        e["data"]["id"] = json!(8_800_000_001u64);
    }
    let mut for_unmapped_events = 0;
    for e in &held {
        let before = monday_requests(&sandbox).await;
        bridge.deliver(std::slice::from_ref(e)).await;
        bridge.drained().await;
        if matches!(e["event"].as_str(), Some("call.hold" | "call.unhold")) {
            for_unmapped_events += monday_requests(&sandbox).await - before;
        }
    }
    let n = calls_in(&day);
    PerCall {
        requests_per_call: requests / n as f64,
        webhooks_per_call: call_webhooks(&day) as f64 / n as f64,
        calls: n,
        drained_in: Duration::ZERO,
        for_unmapped_events,
    }
}

pub async fn backlog(calls: usize) -> PerCall {
    let sandbox = sandbox_with_an_ample_day().await;
    let bridge = Bridge::start(&sandbox, &[AMPLE_DAY_ENV]).await;
    let day = calls_only(realistic_day(AIRCALL_TOKEN, 22, calls, START_TS));
    sandbox.faults(json!({ "outage": true })).await;
    bridge.deliver(&day).await;
    let during_outage = monday_requests(&sandbox).await;
    sandbox.faults(json!({ "outage": false })).await;
    let started = Instant::now();
    bridge.drained().await;
    let drained_in = started.elapsed();
    let requests = (monday_requests(&sandbox).await - during_outage) as f64;
    let n = calls_in(&day);
    PerCall {
        requests_per_call: requests / n as f64,
        webhooks_per_call: call_webhooks(&day) as f64 / n as f64,
        calls: n,
        drained_in,
        for_unmapped_events: 0,
    }
}

/// Figure 4's rows; the live figure, which issue 15's table divides the daily limits by.
pub async fn figures(live_calls: usize, backlog_calls: usize, rows: &mut Vec<Row>) -> PerCall {
    let live = live(live_calls).await;
    let backlog = backlog(backlog_calls).await;
    rows.push(
        Row::new(
            "4",
            format!(
                "monday requests per call, live, governor off ({} calls)",
                live.calls
            ),
        )
        .bridge(format!("{:.2}", live.requests_per_call))
        .baseline(format!("one per webhook: {:.2}", live.webhooks_per_call))
        .ratio(live.requests_per_call / live.webhooks_per_call),
    );
    rows.push(
        Row::new(
            "4",
            "monday requests for a hold and an unhold (change nothing mapped)",
        )
        .bridge(live.for_unmapped_events.to_string())
        .baseline("one per webhook: 2")
        .target("0", live.for_unmapped_events == 0),
    );
    rows.push(
        Row::new(
            "4",
            format!(
                "monday requests per call, backlog ({} calls)",
                backlog.calls
            ),
        )
        .bridge(format!(
            "{:.3} (drained in {:.2} s)",
            backlog.requests_per_call,
            backlog.drained_in.as_secs_f64()
        ))
        .baseline(format!("one per webhook: {:.2}", backlog.webhooks_per_call))
        .ratio(backlog.requests_per_call / backlog.webhooks_per_call)
        .target("<= 0.3 per call", backlog.requests_per_call <= 0.3),
    );
    live
}
