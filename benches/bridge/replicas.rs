//! Intake and drain of replicas on PostgreSQL beside one bridge on SQLite, the same day each
//! time: first the webhooks while monday is down (the intake alone, spread round-robin over
//! the replicas), then monday comes back and the clock runs until the shared queue is empty.
//! The baseline is one bridge on its SQLite file, measured in the same run.

use std::time::Instant;

use aircall_monday_bridge::demo::day::realistic_day;
use serde_json::{json, Value};

use crate::blast;
use crate::helpers::*;
use crate::table::requests::{calls_in, START_TS};

struct Run {
    acks_per_sec: f64,
    drain_secs: f64,
}

async fn run(day: &[Value], replicas: usize, url: Option<&str>) -> Run {
    let sandbox = Sandbox::start().await;
    sandbox.faults(json!({ "outage": true })).await;
    let mut env = vec![
        ("BRIDGE__MONDAY__GOVERNOR", "false"),
        ("BRIDGE__WORKER__LEASE_SECS", "15"),
    ];
    if let Some(url) = url {
        env.push(("BRIDGE__STORE__URL", url));
    }
    let mut bridges = Vec::new();
    for _ in 0..replicas {
        bridges.push(Bridge::start(&sandbox, &env).await);
    }
    let urls: Vec<String> = bridges
        .iter()
        .map(|b| format!("http://{}/webhooks/aircall", b.public))
        .collect();
    let (acks_per_sec, _) = blast(&urls, day, 16).await;
    sandbox.faults(json!({ "outage": false })).await;
    let started = Instant::now();
    bridges[0].drained().await;
    Run {
        acks_per_sec,
        drain_secs: started.elapsed().as_secs_f64(),
    }
}

pub async fn ingest_and_drain() {
    let day = realistic_day(AIRCALL_TOKEN, 31, 400, START_TS);
    let calls = calls_in(&day);
    let sqlite = run(&day, 1, None).await;
    println!(
        "SQLite, 1 bridge:              {:>6.0} acks/s ({} webhooks, 16 clients); {} calls drained in {:.2} s ({:.0} calls/s)",
        sqlite.acks_per_sec,
        day.len(),
        calls,
        sqlite.drain_secs,
        calls as f64 / sqlite.drain_secs
    );
    for n in 1..=3 {
        let Some(db) = test_support::scratch_postgres().await else {
            return;
        };
        let pg = run(&day, n, Some(&db.url)).await;
        println!(
            "PostgreSQL, {n} replica{}:        {:>6.0} acks/s (ratio {:.2}); drained in {:.2} s ({:.0} calls/s, ratio {:.2})",
            if n == 1 { " " } else { "s" },
            pg.acks_per_sec,
            pg.acks_per_sec / sqlite.acks_per_sec,
            pg.drain_secs,
            calls as f64 / pg.drain_secs,
            sqlite.drain_secs / pg.drain_secs
        );
    }
}
