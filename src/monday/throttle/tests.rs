//! Tests of `throttle`.

use reqwest::header::HeaderValue;

use super::*;

const LONG: Duration = Duration::from_secs(3600);

fn headers(policy: &str, state: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("ratelimit-policy", HeaderValue::from_str(policy).unwrap());
    h.insert("ratelimit", HeaderValue::from_str(state).unwrap());
    h
}

#[test]
fn reads_monday_rate_limit_headers() {
    let t = Throttle::new(4, 1);
    let snap = t.observe(
        &headers(
            "\"minuteRate\";q=5000;w=60, \"concurrency\";q=250;qu=\"concurrent-requests\", \"complexityMinute\";q=5000000;w=60;qu=\"content-bytes\"",
            "\"minuteRate\";r=4999, \"concurrency\";r=249, \"complexityMinute\";r=4950000;t=45",
        ),
        1,
    );
    assert_eq!(
        snap,
        Snapshot {
            minute_left: Some(4999),
            complexity_left: Some(4_950_000)
        }
    );
}

#[tokio::test(start_paused = true)]
async fn waits_instead_of_exceeding_the_minute_quota() {
    let t = Throttle::new(4, 4);
    t.observe(&headers("\"minuteRate\";q=3;w=60", "\"minuteRate\";r=3"), 1);
    let start = Instant::now();
    for _ in 0..3 {
        drop(t.acquire(&[], 1, LONG).await.unwrap());
    }
    assert!(start.elapsed() < Duration::from_secs(1));
    drop(t.acquire(&[], 1, LONG).await.unwrap());
    assert!(
        start.elapsed() >= Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn waits_for_the_complexity_budget_to_reset() {
    let t = Throttle::new(4, 4);
    // Two answers 20,000 points apart around a request of two commands: 10,000 each.
    let policy = "\"complexityMinute\";q=100000;w=60";
    t.observe(&headers(policy, "\"complexityMinute\";r=25000;t=30"), 1);
    t.observe(&headers(policy, "\"complexityMinute\";r=5000;t=30"), 2);
    assert_eq!(t.commands_that_fit(), Some(0));
    let start = Instant::now();
    drop(t.acquire(&[], 1, LONG).await.unwrap());
    assert!(
        start.elapsed() >= Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn another_clients_spending_does_not_inflate_the_cost_of_a_command() {
    let t = Throttle::new(4, 4);
    let policy = "\"complexityMinute\";q=1000000;w=60";
    // Our one-command requests cost 10,000; between the last two answers another replica
    // spent 500,000 of the account's budget.
    t.observe(&headers(policy, "\"complexityMinute\";r=900000;t=30"), 1);
    t.observe(&headers(policy, "\"complexityMinute\";r=890000;t=30"), 1);
    t.observe(&headers(policy, "\"complexityMinute\";r=380000;t=30"), 1);
    assert_eq!(t.commands_that_fit(), Some(38));
}

#[tokio::test(start_paused = true)]
async fn a_wait_longer_than_allowed_is_handed_back_instead_of_slept() {
    let t = Throttle::new(4, 4);
    t.back_off(Duration::from_secs(600));
    let start = Instant::now();
    let err = t
        .acquire(&[], 1, Duration::from_secs(20))
        .await
        .err()
        .unwrap();
    assert!(err > Duration::from_secs(590), "{err:?}");
    assert!(start.elapsed() < Duration::from_secs(1));
}

/// Failed before: nothing held a request after monday stopped answering, so each call of
/// a backlog sent its own retry into the outage.
#[tokio::test(start_paused = true)]
async fn an_outage_holds_requests_until_a_probe_gets_an_answer() {
    let t = Arc::new(Throttle::new(8, 8));
    for _ in 0..3 {
        drop(t.acquire(&[], 1, LONG).await.unwrap());
        t.reached(false);
    }
    let start = Instant::now();
    let probe = t.acquire(&[], 1, LONG).await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "the probe waits a second"
    );
    let held = tokio::spawn({
        let t = t.clone();
        async move { t.acquire(&[], 1, LONG).await.map(drop) }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!held.is_finished(), "held while the probe is out");
    let answered_at = Instant::now();
    t.reached(true);
    drop(probe);
    held.await.unwrap().unwrap();
    assert!(
        answered_at.elapsed() < Duration::from_millis(10),
        "released by the answer, not by a timer: {:?}",
        answered_at.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn waits_that_add_up_past_the_limit_are_handed_back() {
    let t = Throttle::new(8, 8);
    for _ in 0..3 {
        drop(t.acquire(&[], 1, LONG).await.unwrap());
        t.reached(false);
    }
    // The probe fails too: the next one in a second. A 429 meanwhile says wait half of
    // it. A caller allowed 750 ms in all sleeps through the 429's wait and is handed the
    // rest of the probe's back.
    drop(t.acquire(&[], 1, LONG).await.unwrap());
    t.reached(false);
    t.back_off(Duration::from_millis(500));
    let start = Instant::now();
    let err = t.acquire(&[], 1, Duration::from_millis(750)).await.err();
    assert_eq!(err, Some(Duration::from_millis(500)));
    assert_eq!(start.elapsed(), Duration::from_millis(500));
}

#[tokio::test(start_paused = true)]
async fn a_back_off_holds_every_request() {
    let t = Throttle::new(4, 4);
    t.back_off(Duration::from_secs(7));
    let start = Instant::now();
    drop(t.acquire(&[], 1, LONG).await.unwrap());
    assert!(start.elapsed() >= Duration::from_secs(7));
}

#[tokio::test(start_paused = true)]
async fn one_request_at_a_time_per_board() {
    let t = Arc::new(Throttle::new(8, 1));
    let first = t.acquire(&["1"], 1, LONG).await.unwrap();
    let other_board =
        tokio::time::timeout(Duration::from_secs(1), t.acquire(&["2"], 1, LONG)).await;
    assert!(other_board.is_ok(), "another board is not held up");
    let same_board = tokio::time::timeout(Duration::from_secs(1), t.acquire(&["1"], 1, LONG)).await;
    assert!(
        same_board.is_err(),
        "a second request on the same board waited"
    );
    drop(first);
    assert!(
        tokio::time::timeout(Duration::from_secs(1), t.acquire(&["1"], 1, LONG))
            .await
            .is_ok()
    );
}
