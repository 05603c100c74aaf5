use std::time::Duration;

use serde_json::json;

use crate::helpers::{spawn, CALLS};

const CREATE: &str = r#"mutation { create_item(board_id: 1000000001, item_name: "once") { id } }"#;

async fn item_count(sb: &crate::helpers::Sandbox) -> usize {
    sb.get(&format!("/_sandbox/boards/{CALLS}")).await["items"]
        .as_array()
        .map_or(0, Vec::len)
}

#[tokio::test]
async fn idempotency_key_replays_without_reapplying() {
    let sb = spawn().await;
    let req = || {
        sb.post(json!({"query": CREATE}))
            .header("Idempotency-Key", "call-1-create")
    };
    let first = sb.send(req()).await;
    let second = sb.send(req()).await;
    assert_eq!(first.body["data"], second.body["data"]);
    assert_eq!(second.header("Idempotency-Replayed"), Some("true"));
    assert_eq!(first.header("Idempotency-Replayed"), None);
    assert_eq!(item_count(&sb).await, 1);
    // Queries ignore the key.
    let q = || {
        sb.post(json!({"query": "{ me { id } }"}))
            .header("Idempotency-Key", "q")
    };
    sb.send(q()).await;
    assert_eq!(sb.send(q()).await.header("Idempotency-Replayed"), None);
    sb.handle.stop().await;
}

#[tokio::test]
async fn concurrent_duplicate_key_gets_409() {
    let sb = spawn().await;
    sb.control(
        "/_sandbox/faults",
        json!({"queue": [{"kind": "timeout", "ms": 600}]}),
    )
    .await;
    let req = || {
        sb.post(json!({"query": CREATE}))
            .header("Idempotency-Key", "k")
    };
    let slow = sb.send(req());
    let dup = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        sb.send(req()).await
    };
    let (slow, dup) = tokio::join!(slow, dup);
    assert_eq!(slow.status, 200);
    assert_eq!(dup.status, 409);
    assert_eq!(dup.code(0), "IDEMPOTENCY_CONFLICT");
    assert!(dup.header("Retry-After").is_some());
    assert_eq!(item_count(&sb).await, 1);
    sb.handle.stop().await;
}

#[tokio::test]
async fn apply_then_drop_applies_but_loses_the_answer() {
    let sb = spawn().await;
    sb.control(
        "/_sandbox/faults",
        json!({"queue": [{"kind": "apply_then_drop"}]}),
    )
    .await;
    let req = || {
        sb.post(json!({"query": CREATE}))
            .header("Idempotency-Key", "lost")
    };
    let outcome = match req().send().await {
        Ok(resp) => resp.bytes().await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(outcome.is_err(), "the client must see a transport error");
    assert_eq!(item_count(&sb).await, 1, "the write was applied");
    // The retry with the same key gets the lost answer instead of a duplicate.
    let retry = sb.send(req()).await;
    assert_eq!(retry.header("Idempotency-Replayed"), Some("true"));
    assert!(retry.body["data"]["create_item"]["id"].is_string());
    assert_eq!(item_count(&sb).await, 1);

    sb.control(
        "/_sandbox/faults",
        json!({"queue": [{"kind": "drop_connection"}, {"kind": "http_503"}, {"kind": "locked"}]}),
    )
    .await;
    let dropped = match sb.post(json!({"query": CREATE})).send().await {
        Ok(resp) => resp.bytes().await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(dropped.is_err());
    assert_eq!(item_count(&sb).await, 1, "drop_connection applies nothing");
    assert_eq!(sb.send(sb.post(json!({"query": CREATE}))).await.status, 503);
    let locked = sb.send(sb.post(json!({"query": CREATE}))).await;
    assert_eq!(locked.status, 423);
    let stats = sb.get("/_sandbox/stats").await;
    assert_eq!(stats["faults_served"]["apply_then_drop"], 1);
    assert_eq!(stats["faults_served"]["drop_connection"], 1);
    assert_eq!(stats["requests"]["idempotent_replays"], 1);
    sb.handle.stop().await;
}

#[tokio::test]
async fn outage_and_steady_modes_until_cleared() {
    let sb = spawn().await;
    sb.control("/_sandbox/faults", json!({"outage": true}))
        .await;
    assert_eq!(
        sb.send(sb.post(json!({"query": "{ me { id } }"})))
            .await
            .status,
        503
    );
    sb.control(
        "/_sandbox/faults",
        json!({"outage": false, "steady": {"kind": "rate_limited", "retry_in_seconds": 7}}),
    )
    .await;
    let a = sb.send(sb.post(json!({"query": "{ me { id } }"}))).await;
    assert_eq!(a.status, 429);
    assert_eq!(a.header("Retry-After"), Some("7"));
    let resp = sb
        .client
        .delete(sb.url("/_sandbox/faults"))
        .send()
        .await
        .expect("delete");
    assert!(resp.status().is_success());
    assert_eq!(
        sb.send(sb.post(json!({"query": "{ me { id } }"})))
            .await
            .status,
        200
    );
    sb.handle.stop().await;
}
