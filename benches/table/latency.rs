//! Figure 3: end-to-end latency, from a webhook's arrival to the sandbox applying the change,
//! at a steady load far below every limit, against the sandbox's own latency (the same create
//! sent to it directly). The sandbox stamps each item with the millisecond it created it.
//! "Well below the limits" includes the daily one: 20 calls a second would be 1.7 million
//! calls a day, so both sides get a daily limit that fits it (the governor stays live).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::load::percentile;
use super::report::{ms, Row};
use super::requests::{sandbox_with_an_ample_day, AMPLE_DAY_ENV};
use crate::helpers::*;

fn unix_ms() -> f64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    now.as_secs_f64() * 1000.0
}

fn sorted_ms(mut v: Vec<f64>) -> Vec<Duration> {
    v.sort_by(f64::total_cmp);
    v.into_iter()
        .map(|x| Duration::from_secs_f64(x.max(0.0) / 1000.0))
        .collect()
}

/// `calls` call.created webhooks, one every `gap`; each one's delay until its item existed.
async fn through_the_bridge(sandbox: &Sandbox, calls: usize, gap: Duration) -> Vec<Duration> {
    let bridge = Bridge::start(sandbox, &[AMPLE_DAY_ENV]).await;
    let created = fixture("inbound_answered")
        .into_iter()
        .find(|e| e["event"] == "call.created")
        .unwrap();
    let mut sent: BTreeMap<u64, f64> = BTreeMap::new();
    let started = Instant::now();
    for i in 0..calls {
        let id = 7_700_000_000 + i as u64;
        let mut e = created.clone();
        e["data"]["id"] = json!(id);
        tokio::time::sleep_until((started + gap * i as u32).into()).await;
        sent.insert(id, unix_ms());
        bridge.deliver(std::slice::from_ref(&e)).await;
    }
    // The board's seeded items have other ids: only the calls sent here count.
    eventually(Duration::from_secs(30), "every call's item", || async {
        let items = sandbox.items(CALLS_BOARD).await;
        let delays: Vec<f64> = items
            .iter()
            .filter_map(|item| {
                let id: u64 = text(item, "aircall_id")?.parse().ok()?;
                let applied = item["created_at_unix_ms"].as_f64()?;
                Some(applied - sent.get(&id)?)
            })
            .collect();
        (delays.len() == calls).then(|| sorted_ms(delays))
    })
    .await
}

/// The same number of creates sent to the sandbox directly, at the same pace: round trips.
async fn direct(sandbox: &Sandbox, calls: usize, gap: Duration) -> Vec<Duration> {
    let started = Instant::now();
    let mut took = Vec::new();
    for i in 0..calls {
        tokio::time::sleep_until((started + gap * i as u32).into()).await;
        let t = Instant::now();
        let _: Value = sandbox
            .gql(
                "mutation ($b: ID!, $n: String!) { create_item(board_id: $b, item_name: $n) { id } }",
                json!({ "b": CALLS_BOARD, "n": format!("direct {i}") }),
            )
            .await;
        took.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    sorted_ms(took)
}

pub async fn figures(calls: usize, rows: &mut Vec<Row>) {
    // 20 calls a second: far below the sandbox's limits and the bridge's intake.
    let gap = Duration::from_millis(50);
    let direct_sandbox = Sandbox::start().await;
    let own = direct(&direct_sandbox, calls, gap).await;
    let sandbox = sandbox_with_an_ample_day().await;
    let e2e = through_the_bridge(&sandbox, calls, gap).await;
    let (p50, p99) = (percentile(&e2e, 0.5), percentile(&e2e, 0.99));
    let (own50, own99) = (percentile(&own, 0.5), percentile(&own, 0.99));
    rows.push(
        Row::new(
            "3",
            format!("end-to-end webhook -> sandbox applied, 20 calls/s ({calls} calls)"),
        )
        .bridge(format!("p50 {} / p99 {}", ms(p50), ms(p99)))
        .baseline(format!(
            "sandbox's own create: p50 {} / p99 {}",
            ms(own50),
            ms(own99)
        ))
        .ratio(p50 / own50)
        .target(
            format!("p50 < 20 ms beyond the sandbox (is {})", ms(p50 - own50)),
            p50 - own50 < 20.0,
        ),
    );
}
