use monday_sandbox::Limits;
use serde_json::json;

use crate::helpers::spawn_with;

#[tokio::test]
async fn minute_limit_answers_429_with_retry_after_and_ratelimit_headers() {
    let limits = Limits {
        minute_requests: 3,
        minute_window_secs: 2,
        ..Limits::default()
    };
    let sb = spawn_with(None, limits).await;
    for i in 0..3 {
        let a = sb.gql("{ me { id } }", json!({})).await;
        assert_eq!(a.status, 200, "request {i}");
        let policy = a.header("RateLimit-Policy").expect("policy header");
        assert!(policy.contains("\"minuteRate\";q=3;w=2"), "{policy}");
        assert!(policy.contains("\"concurrency\";q=250"), "{policy}");
        let state = a.header("RateLimit").expect("state header");
        assert!(
            state.starts_with(&format!("\"minuteRate\";r={}", 2 - i)),
            "{state}"
        );
    }
    let a = sb.gql("{ me { id } }", json!({})).await;
    assert_eq!(a.status, 429);
    assert_eq!(a.code(0), "RATE_LIMIT_EXCEEDED");
    let retry = a.body["errors"][0]["extensions"]["retry_in_seconds"]
        .as_u64()
        .expect("retry");
    assert!((1..=2).contains(&retry), "{retry}");
    assert_eq!(a.header("Retry-After"), Some(retry.to_string().as_str()));
    assert!(a
        .header("RateLimit")
        .expect("state")
        .contains("\"minuteRate\";r=0;t="));
    // Moving the sandbox clock past the window frees the quota.
    sb.control("/_sandbox/clock", json!({"advance_secs": 3}))
        .await;
    assert_eq!(sb.gql("{ me { id } }", json!({})).await.status, 200);
    let stats = sb.get("/_sandbox/stats").await;
    assert_eq!(stats["requests"]["rate_limited"]["RATE_LIMIT_EXCEEDED"], 1);
    sb.handle.stop().await;
}

#[tokio::test]
async fn daily_limit_resets_at_midnight_utc_of_the_sandbox_clock() {
    let limits = Limits {
        daily_requests: 2,
        ..Limits::default()
    };
    let sb = spawn_with(None, limits).await;
    sb.control("/_sandbox/clock", json!({"set": "2026-06-15T23:59:00Z"}))
        .await;
    for _ in 0..2 {
        assert_eq!(sb.gql("{ me { id } }", json!({})).await.status, 200);
    }
    let a = sb.gql("{ me { id } }", json!({})).await;
    assert_eq!(a.status, 429);
    assert_eq!(a.code(0), "DAILY_LIMIT_EXCEEDED");
    let retry: u64 = a
        .header("Retry-After")
        .expect("retry-after")
        .parse()
        .expect("number");
    assert!((1..=60).contains(&retry), "{retry}");
    sb.control("/_sandbox/clock", json!({"advance_secs": 61}))
        .await;
    assert_eq!(sb.gql("{ me { id } }", json!({})).await.status, 200);
    sb.handle.stop().await;
}

#[tokio::test]
async fn complexity_budget_is_reported_and_enforced() {
    let limits = Limits {
        complexity_budget: 25_000,
        ..Limits::default()
    };
    let sb = spawn_with(None, limits).await;
    let q = r#"mutation { c: create_item(board_id: 1000000001, item_name: "x") { id } complexity { before after query reset_in_x_seconds } }"#;
    let a = sb.gql(q, json!({})).await;
    let c = &a.body["data"]["complexity"];
    assert_eq!(c["before"], 25_000, "{}", a.body);
    assert_eq!(c["query"], 10_000);
    assert_eq!(c["after"], 15_000);
    sb.gql(q, json!({})).await;
    let a = sb.gql(q, json!({})).await;
    assert_eq!(a.status, 429);
    assert_eq!(a.code(0), "COMPLEXITY_BUDGET_EXHAUSTED");
    assert!(a.body["errors"][0]["extensions"]["retry_in_seconds"]
        .as_u64()
        .is_some());
    assert!(a.header("Retry-After").is_some());
    sb.handle.stop().await;
}

const PLATFORM: &str =
    "{ platform_api { daily_limit { base total } daily_analytics { by_day { day usage } last_updated } } }";

#[tokio::test]
async fn platform_api_reports_the_limit_and_every_clients_usage_of_the_day() {
    let limits = Limits {
        daily_requests: 1_000,
        ..Limits::default()
    };
    let sb = spawn_with(None, limits).await;
    sb.control("/_sandbox/clock", json!({"set": "2026-06-15T10:00:00Z"}))
        .await;
    for _ in 0..3 {
        assert_eq!(sb.gql("{ me { id } }", json!({})).await.status, 200);
    }
    // Another integration of the same account spends 40 calls.
    let charged = sb.control("/_sandbox/usage", json!({"calls": 40})).await;
    assert_eq!(charged["daily_used"], 43);
    let a = sb.gql(PLATFORM, json!({})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let p = &a.body["data"]["platform_api"];
    assert_eq!(p["daily_limit"], json!({"base": 1000, "total": 1000}));
    let by_day = p["daily_analytics"]["by_day"].as_array().expect("by_day");
    // The platform_api request itself counts too.
    assert_eq!(
        by_day.last(),
        Some(&json!({"day": "2026-06-15", "usage": 44}))
    );
    assert!(p["daily_analytics"]["last_updated"]
        .as_str()
        .is_some_and(|t| t.starts_with("2026-06-15T10:00")));
    // An unknown field of the new types is refused like any other.
    let bad = sb
        .gql("{ platform_api { daily_limit { extra } } }", json!({}))
        .await;
    assert!(bad.body["errors"].is_array(), "{}", bad.body);
    sb.handle.stop().await;
}

#[tokio::test]
async fn a_compressed_day_resets_the_daily_limit_at_its_own_midnight() {
    let limits = Limits {
        daily_requests: 2,
        day_secs: 60,
        ..Limits::default()
    };
    let sb = spawn_with(None, limits).await;
    sb.control("/_sandbox/clock", json!({"set": "2026-06-15T10:00:10Z"}))
        .await;
    for _ in 0..2 {
        assert_eq!(sb.gql("{ me { id } }", json!({})).await.status, 200);
    }
    let a = sb.gql("{ me { id } }", json!({})).await;
    assert_eq!(a.code(0), "DAILY_LIMIT_EXCEEDED");
    let retry = a.body["errors"][0]["extensions"]["retry_in_seconds"]
        .as_u64()
        .expect("retry");
    assert!((49..=50).contains(&retry), "{retry}");
    sb.control("/_sandbox/clock", json!({"advance_secs": 50}))
        .await;
    let a = sb.gql(PLATFORM, json!({})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let by_day = &a.body["data"]["platform_api"]["daily_analytics"]["by_day"];
    assert_eq!(
        by_day,
        &json!([
            {"day": "2026-06-15T10:00:00Z", "usage": 3},
            {"day": "2026-06-15T10:01:00Z", "usage": 1}
        ])
    );
    sb.handle.stop().await;
}
