//! A compressed day for the daily-budget governor, for the benchmark table
//! (benches/table/budget.rs): the sandbox's day and the bridge's budget day both last a few
//! real seconds (aligned on the epoch), and calls arrive over it with a morning peak. The tests
//! (tests/bridge/budget.rs) run a whole simulated day instead, on clocks they move, with the
//! same schedule of calls.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;
use std::time::{Duration, Instant};

use aircall_monday_bridge::demo::day::realistic_day;
use serde_json::{json, Value};

use crate::expected::expected;
use crate::helpers::*;

/// What a day is made of.
pub struct DayPlan {
    /// The account's daily limit on the sandbox.
    pub limit: u64,
    pub calls: usize,
    /// Calls another integration of the account spends a quarter into the day.
    pub other_integration: Option<u64>,
    pub seed: u64,
    /// false: the bridge runs with `monday.governor = false` (always live).
    pub governor: bool,
    /// The day's length in seconds is the one of these whose next start is closest.
    pub day_secs: RangeInclusive<u64>,
}

impl DayPlan {
    pub fn new(limit: u64, calls: usize, seed: u64) -> DayPlan {
        DayPlan {
            limit,
            calls,
            other_integration: None,
            seed,
            governor: true,
            day_secs: 20..=40,
        }
    }
}

pub struct Day {
    pub day_secs: u64,
    /// Requests the account spent that day (the bridge's and any other integration's), as the
    /// sandbox counted them at the last look before the day ended.
    pub requests: u64,
    /// Requests the bridge sent the sandbox, failed and refused ones included.
    pub bridge_requests: u64,
    pub daily_limit_refusals: u64,
    pub calls: usize,
    /// Calls whose item showed the final status of all their events by the day's end.
    pub calls_final_by_day_end: usize,
    /// The same, 15 s into the next day (a live bridge paused by the limit resumes then).
    pub calls_final: usize,
    pub live_calls: usize,
    pub held: f64,
    pub finished_before_day_end: bool,
}

/// Unix ms now.
fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// A day length (s) out of `lengths` whose next start is close, and that start (ms).
fn next_day(lengths: RangeInclusive<u64>) -> (u64, i64) {
    let now = now_ms() + 300;
    lengths
        .map(|d| {
            let ms = d as i64 * 1000;
            (d, now + (ms - now.rem_euclid(ms)))
        })
        .min_by_key(|(_, start)| *start)
        .unwrap()
}

/// Calls of the day without recording links (nothing to download), spread over the first
/// 70 % of the day with a peak at a third of it; each call's events keep their order.
pub fn schedule(day_ms: i64, seed: u64, calls: usize) -> (Vec<(i64, Value)>, Vec<Value>) {
    let mut envelopes: Vec<Value> = realistic_day(AIRCALL_TOKEN, seed, calls, 1_795_168_800)
        .into_iter()
        .filter(|e| e["event"].as_str().unwrap_or("").starts_with("call."))
        .collect();
    for e in &mut envelopes {
        let data = e["data"].as_object_mut().unwrap();
        data.remove("recording");
        data.remove("voicemail");
    }
    let mut by_call: BTreeMap<u64, Vec<Value>> = BTreeMap::new();
    for e in &envelopes {
        by_call
            .entry(e["data"]["id"].as_u64().unwrap())
            .or_default()
            .push(e.clone());
    }
    let n = by_call.len();
    let mut timed = Vec::new();
    for (i, events) in by_call.into_values().enumerate() {
        // Inverse of a peaked distribution: dense around 0.33, thin at both ends.
        let u = (i as f64 + 0.5) / n as f64;
        let x = if u < 0.6 {
            0.33 * (u / 0.6).sqrt()
        } else {
            0.33 + 0.37 * ((u - 0.6) / 0.4).powi(2)
        };
        let start = (x * day_ms as f64) as i64;
        // A call's events within a fortieth of the day.
        let gap = day_ms / 40 / events.len().max(1) as i64;
        for (k, e) in events.into_iter().enumerate() {
            timed.push((start + k as i64 * gap, e));
        }
    }
    timed.sort_by_key(|(t, _)| *t);
    (timed, envelopes)
}

/// Runs one compressed day as `plan` says, then waits (up to 15 s past the day's end) for every
/// call to show its final status, and reports what the account spent.
pub async fn compressed_day(plan: &DayPlan) -> Day {
    let (day_secs, start) = next_day(plan.day_secs.clone());
    let day_ms = day_secs as i64 * 1000;
    let sandbox = Sandbox::start().await;
    sandbox
        .set_limits(json!({ "daily_requests": plan.limit, "day_secs": day_secs }))
        .await;
    let day_env = day_secs.to_string();
    let governor = plan.governor.to_string();
    let bridge = Bridge::start(
        &sandbox,
        &[
            ("BRIDGE__MONDAY__BUDGET_DAY_SECS", &day_env),
            ("BRIDGE__MONDAY__GOVERNOR", &governor),
            ("BRIDGE__WORKER__POLL_INTERVAL_MS", "20"),
        ],
    )
    .await;
    let (timed, envelopes) = schedule(day_ms, plan.seed, plan.calls);
    let want = expected(&envelopes);
    // The day starts: its count is zero, on both sides.
    while now_ms() < start {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let day_end = start + day_ms;
    let mut live: BTreeSet<String> = BTreeSet::new();
    let mut next = 0;
    let mut charged = false;
    let mut last_look = Instant::now();
    while next < timed.len() {
        let t = now_ms() - start;
        while next < timed.len() && timed[next].0 <= t {
            bridge.deliver(std::slice::from_ref(&timed[next].1)).await;
            next += 1;
        }
        if let Some(calls) = plan
            .other_integration
            .filter(|_| !charged && t >= day_ms / 4)
        {
            sandbox.charge_other_integration(calls).await;
            charged = true;
        }
        // What the board shows while calls are still going on: a call seen ringing or in
        // progress got a live update.
        if last_look.elapsed() > Duration::from_millis(150) {
            for item in sandbox.items(CALLS_BOARD).await {
                if matches!(
                    text(&item, "status").as_deref(),
                    Some("Ringing" | "In progress")
                ) {
                    live.insert(text(&item, "aircall_id").unwrap_or_default());
                }
            }
            last_look = Instant::now();
            if std::env::var_os("BUDGET_DEBUG").is_some() {
                let m = bridge.metrics().await;
                let pick = |name: &str| {
                    m.lines()
                        .find(|l| l.starts_with(name))
                        .unwrap_or("")
                        .to_string()
                };
                eprintln!(
                    "t={t} {} {} {} {}",
                    pick("bridge_budget_mode"),
                    pick("bridge_budget_requests_left"),
                    pick("bridge_budget_projected"),
                    pick("bridge_budget_requests_today")
                );
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Every call reaches the status all its events give it, or the wait runs out (a live
    // bridge on a small limit runs out of the day's requests, and some calls never do).
    let wanted: Vec<(u64, Option<String>)> = want
        .iter()
        .filter(|((board, _), _)| board == CALLS_BOARD)
        .map(|((_, id), (_, status, _))| (*id, status.clone()))
        .collect();
    let give_up = day_end + 15_000;
    let mut by_day_end = None;
    let mut used_by_day_end = None;
    let (calls_final, finished) = loop {
        let items = sandbox.items(CALLS_BOARD).await;
        let on_board: BTreeMap<u64, Option<String>> = items
            .iter()
            .filter_map(|i| Some((text(i, "aircall_id")?.parse().ok()?, text(i, "status"))))
            .collect();
        let done = wanted
            .iter()
            .filter(|(id, status)| on_board.get(id) == Some(status))
            .count();
        let now = now_ms();
        // Seen only before the day ended; a first look after it counts nothing as on time.
        if now < day_end {
            by_day_end = Some(done);
            // Read after the end, the sandbox's count is the next day's.
            used_by_day_end = sandbox.stats().await["daily_used"].as_u64();
        }
        if done == wanted.len() || now > give_up {
            break (done, now);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let stats = sandbox.stats().await;
    if std::env::var_os("BUDGET_DEBUG").is_some() {
        eprintln!("{stats:#}");
        for l in bridge
            .metrics()
            .await
            .lines()
            .filter(|l| l.contains("budget") || l.contains("monday_requests_total"))
        {
            eprintln!("{l}");
        }
    }
    let refusals = stats["requests"]["rate_limited"]["DAILY_LIMIT_EXCEEDED"]
        .as_u64()
        .unwrap_or(0);
    let report = Day {
        day_secs,
        requests: used_by_day_end.unwrap_or_else(|| stats["daily_used"].as_u64().unwrap_or(0)),
        bridge_requests: stats["requests"]["requests_total"].as_u64().unwrap_or(0),
        daily_limit_refusals: refusals,
        calls: wanted.len(),
        calls_final_by_day_end: by_day_end.unwrap_or(0),
        calls_final,
        live_calls: live.len(),
        held: bridge.metric("bridge_budget_held_total").await,
        finished_before_day_end: calls_final == wanted.len() && finished < day_end,
    };
    eprintln!(
        "compressed day of {day_secs} s, limit {}, governor {}, other integration {:?}: {} requests for {} calls ({} final by the day's end, {} 15 s later, {} with live updates), {} holds, DAILY_LIMIT_EXCEEDED {}, final before the day's end: {}",
        plan.limit, plan.governor, plan.other_integration, report.requests, report.calls, report.calls_final_by_day_end, report.calls_final, report.live_calls, report.held, report.daily_limit_refusals, report.finished_before_day_end
    );
    report
}
