//! monday down for a while: the bridge holds its requests and sends one probe at a time
//! instead of each waiting call's retry (monday counts failed requests against the minute
//! quota and the day's limit), and once monday answers everything goes.

use std::time::{Duration, Instant};

use aircall_monday_bridge::demo::day::realistic_day;
use serde_json::json;

use crate::app::*;
use crate::delivery::assert_boards_match;
use crate::helpers::*;

/// Failed before the outage rule: in the same three seconds the backlog's calls sent their
/// retries one claim after another into the outage, hundreds of requests.
#[tokio::test(flavor = "multi_thread")]
async fn while_monday_is_down_a_backlog_sends_probes_not_a_request_per_retry() {
    let sandbox = Sandbox::start().await;
    // Enough attempts that no call is given up on within the test.
    let retries = vec!["1s"; 200].join(",");
    let app = spawn_app_with(&sandbox, &[("BRIDGE__WORKER__RETRY_SCHEDULE", &retries)]).await;
    sandbox.faults(json!({ "outage": true })).await;
    let day = realistic_day(AIRCALL_TOKEN, 6, 40, 1_795_168_800);
    let started = Instant::now();
    app.deliver(&day).await;
    app.keep_retrying_for(Duration::from_secs(3)).await;
    let down_for = started.elapsed();
    let served = sandbox.stats().await["faults_served"]["outage"]
        .as_u64()
        .unwrap_or(0);
    // Three failures begin the hold (and what the worker's loops had in flight then), after
    // which one probe a second at most.
    let allowed = 3 + 2 + down_for.as_secs() + 1;
    assert!(
        (3..=allowed).contains(&served),
        "{served} requests in {down_for:?} of outage (at most {allowed})"
    );

    sandbox.faults(json!({ "outage": false })).await;
    app.drain_through_retries().await;
    assert_boards_match(&sandbox, &day).await;
    assert!(app.dead_letters().await.is_empty());
    app.stop().await;
}
