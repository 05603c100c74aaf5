//! PostgreSQL stops under load and comes back: while it is down, webhooks get 503 with
//! Retry-After (Aircall delivers them again) and `/readyz` says the store is lost; once it is
//! back, both replicas take webhooks and drain the queue by themselves, and every webhook that
//! got a 200 is on the boards. A server of the test's own, so the machine's shared one stays up
//! for the other tests.

use std::time::Duration;

use aircall_monday_bridge::demo::day::realistic_day;
use test_support::PrivateServer;

use crate::delivery::assert_boards_match;
use crate::helpers::*;

async fn readyz(bridge: &Bridge) -> u16 {
    reqwest::get(format!("http://{}/readyz", bridge.admin))
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// Webhooks a replica answered 503 because the store could not take them.
async fn refused(bridge: &Bridge) -> f64 {
    bridge
        .metrics()
        .await
        .lines()
        .filter(|l| l.starts_with("bridge_webhooks_total") && l.contains("outcome=\"store_"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_restart_under_load_loses_nothing_and_the_replicas_recover_alone() {
    let Some(server) = PrivateServer::start() else {
        return;
    };
    let sandbox = Sandbox::start().await;
    let url = server.url();
    let env = [
        ("BRIDGE__STORE__URL", url.as_str()),
        ("BRIDGE__WORKER__LEASE_SECS", "3"),
        ("BRIDGE__MONDAY__GOVERNOR", "false"),
    ];
    let replicas = [
        Bridge::start(&sandbox, &env).await,
        Bridge::start(&sandbox, &env).await,
    ];
    let day = realistic_day(AIRCALL_TOKEN, 23, 60, 1_795_168_800);
    let urls: Vec<String> = replicas
        .iter()
        .map(|b| format!("http://{}/webhooks/aircall", b.public))
        .collect();
    let senders = Senders::start_through_outages(&urls, day.clone(), 4);
    senders.reached(day.len() / 3).await;

    server.stop();
    // Down: the senders' webhooks are refused (and sent again), readiness says why.
    for replica in &replicas {
        eventually(Duration::from_secs(20), "/readyz failing", || async {
            (readyz(replica).await == 503).then_some(())
        })
        .await;
    }
    eventually(
        Duration::from_secs(20),
        "webhooks refused while down",
        || async {
            (refused(&replicas[0]).await + refused(&replicas[1]).await >= 5.0).then_some(())
        },
    )
    .await;
    let r = replicas[0].post(&day[0]).await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "5");

    server.start_again();
    let retried = senders.finish().await;
    assert!(
        retried >= 5,
        "only {retried} deliveries were refused and sent again"
    );
    for replica in &replicas {
        eventually(Duration::from_secs(20), "/readyz recovering", || async {
            (readyz(replica).await == 200).then_some(())
        })
        .await;
    }
    replicas[0].drained().await;
    assert_eq!(replicas[0].metric("bridge_dead_events ").await, 0.0);
    assert_boards_match(&sandbox, &day).await;
    for replica in &replicas {
        assert!(!replica.log().contains("panicked"), "{}", replica.log());
    }
}
