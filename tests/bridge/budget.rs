//! The daily-budget governor over a compressed day: the sandbox's day and the bridge's budget
//! day both last `day_secs` real seconds (aligned on the epoch), and calls arrive over it with
//! a morning peak.
//!
//! Scaled down to keep each test under a minute: a Standard plan's 1,000 calls a day and
//! about 2,000 calls become 250 and 500 (the same ratio of two calls per request); the day
//! lasts 20 to 40 s. The Enterprise day carries 150 calls: fully live, each change is its own
//! request, and more would measure this machine rather than the governor.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use aircall_monday_bridge::demo::day::realistic_day;
use serde_json::{json, Value};

use crate::expected::expected;
use crate::helpers::*;

const STANDARD: u64 = 250;
const CALLS: usize = 500;

struct Day {
    requests: u64,
    daily_limit_refusals: u64,
    calls: usize,
    live_calls: usize,
    held: f64,
    finished_before_day_end: bool,
}

/// Unix ms now.
fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// A day length (s) whose next start is close, and that start (ms).
fn next_day() -> (u64, i64) {
    let now = now_ms() + 300;
    (20..=40u64)
        .map(|d| {
            let ms = d as i64 * 1000;
            (d, now + (ms - now.rem_euclid(ms)))
        })
        .min_by_key(|(_, start)| *start)
        .unwrap()
}

/// Calls of the day without recording links (nothing to download), spread over the first
/// 70 % of the day with a peak at a third of it; each call's events keep their order.
fn schedule(day_ms: i64, seed: u64, calls: usize) -> (Vec<(i64, Value)>, Vec<Value>) {
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

async fn compressed_day(
    limit: u64,
    calls: usize,
    other_integration: Option<u64>,
    seed: u64,
) -> Day {
    let (day_secs, start) = next_day();
    let day_ms = day_secs as i64 * 1000;
    let sandbox = Sandbox::start().await;
    sandbox
        .set_limits(json!({ "daily_requests": limit, "day_secs": day_secs }))
        .await;
    let day_env = day_secs.to_string();
    let bridge = Bridge::start(
        &sandbox,
        &[
            ("BRIDGE__MONDAY__BUDGET_DAY_SECS", &day_env),
            ("BRIDGE__WORKER__POLL_INTERVAL_MS", "20"),
        ],
    )
    .await;
    let (timed, envelopes) = schedule(day_ms, seed, calls);
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
        if let Some(calls) = other_integration.filter(|_| !charged && t >= day_ms / 4) {
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
    // Every call reaches the status all its events give it.
    let finished = eventually(
        Duration::from_millis((day_end - now_ms()).max(0) as u64 + 15_000),
        "every call in its final state",
        || async {
            let items = sandbox.items(CALLS_BOARD).await;
            let on_board: BTreeMap<u64, Option<String>> = items
                .iter()
                .filter_map(|i| Some((text(i, "aircall_id")?.parse().ok()?, text(i, "status"))))
                .collect();
            let all = want
                .iter()
                .filter(|((board, _), _)| board == CALLS_BOARD)
                .all(|((_, id), (_, status, _))| on_board.get(id) == Some(status));
            all.then(now_ms)
        },
    )
    .await;
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
        requests: stats["daily_used"].as_u64().unwrap_or(0),
        daily_limit_refusals: refusals,
        calls: want.keys().filter(|(b, _)| b == CALLS_BOARD).count(),
        live_calls: live.len(),
        held: bridge.metric("bridge_budget_held_total").await,
        finished_before_day_end: finished < day_end,
    };
    eprintln!(
        "compressed day of {day_secs} s, limit {limit}, other integration {other_integration:?}: {} requests for {} calls ({} with live updates), {} holds, DAILY_LIMIT_EXCEEDED {}, final before the day's end: {}",
        report.requests, report.calls, report.live_calls, report.held, report.daily_limit_refusals, report.finished_before_day_end
    );
    report
}

#[tokio::test(flavor = "multi_thread")]
async fn a_standard_plan_day_fits_every_call_with_live_updates_while_they_are_affordable() {
    // A Standard plan's day compressed into seconds: the drain must keep pace with it.
    if tuned_for_sqlite("a compressed Standard-plan day") {
        return;
    }
    let day = compressed_day(STANDARD, CALLS, None, 31).await;
    assert!(day.calls >= 400, "{} calls", day.calls);
    assert_eq!(day.daily_limit_refusals, 0);
    assert!(day.requests <= STANDARD, "{} requests", day.requests);
    assert!(day.finished_before_day_end);
    assert!(day.held > 0.0, "the governor never held anything back");
    assert!(day.live_calls > 0, "no call got a live update");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_enterprise_day_is_live_all_day() {
    // Fewer calls: live, every change is a request of its own, and 500 calls' worth would
    // measure this machine's speed within a 20 s day rather than the governor.
    let day = compressed_day(25_000, 150, None, 32).await;
    assert_eq!(day.daily_limit_refusals, 0);
    assert!(day.finished_before_day_end);
    assert_eq!(
        day.held, 0.0,
        "the governor held changes back with an ample budget"
    );
    assert!(
        day.live_calls > day.calls / 10,
        "{} live of {}",
        day.live_calls,
        day.calls
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn another_integration_spending_the_account_is_seen_and_the_day_still_fits() {
    // A Standard plan's day compressed into seconds: the drain must keep pace with it.
    if tuned_for_sqlite("a compressed Standard-plan day") {
        return;
    }
    // A quarter into the day another integration takes 40 % of the account's calls.
    let day = compressed_day(STANDARD, CALLS, Some(STANDARD * 4 / 10), 33).await;
    assert_eq!(day.daily_limit_refusals, 0);
    assert!(day.requests <= STANDARD, "{} requests", day.requests);
    assert!(day.finished_before_day_end);
}
