//! Recordings uploaded into a file column: once per call, through a fresh link from Aircall's
//! API when the one in the events has expired.
//!
//! Long on purpose: every recording and voicemail path (link, upload, expiry, crash windows) in one
//! place.

use std::time::Duration;

use aircall_sandbox::{recording_bytes, recording_url, AircallSandboxHandle};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::aircall_api::{aircall_knowing, last_error, requests_to, API_TOKEN};
use crate::app::*;
use crate::helpers::*;

/// The example configuration with its commented file column switched on.
pub fn with_file_column() -> String {
    crate::aircall_api::example_with(&[
        "# [boards.columns.recording_file]\n# type = \"file\"\n# upload = \"recording\"",
    ])
}

/// The answered outbound call, its recording link expired ten seconds ago; and Aircall's
/// stand-in, which knows the call.
async fn expired_call() -> (Vec<Value>, u64, AircallSandboxHandle) {
    let mut events = fixture("outbound_answered");
    let id = events[0]["data"]["id"].as_u64().unwrap();
    let last = events.last().unwrap()["data"].clone();
    let api = aircall_knowing(100, 60, vec![last]).await;
    let expired = time::OffsetDateTime::now_utc().unix_timestamp() - 10;
    let url = recording_url(&format!("http://{}", api.addr()), id, false, expired);
    for e in &mut events {
        if e["data"]["recording"].is_string() {
            e["data"]["recording"] = Value::String(url.clone());
        }
    }
    (events, id, api)
}

/// The bridge's settings for Aircall's stand-in at `api_url` (fresh recording links).
fn with_api(api_url: &str) -> Vec<(&'static str, &str)> {
    crate::aircall_api::with_api(api_url, API_TOKEN)
}

fn files(item: &Value) -> Vec<Value> {
    item["files"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_recording_is_uploaded_once_through_a_fresh_link() {
    let sandbox = Sandbox::start().await;
    let (events, id, api) = expired_call().await;
    let api_url = api.api_url();
    let env = with_api(&api_url);
    let bridge = spawn_app_with_config(&sandbox, &with_file_column(), &env).await;
    bridge.deliver(&events).await;
    bridge.drain().await;

    let want = recording_bytes(id, false);
    let item = sandbox.items_for(CALLS_BOARD, id).await.remove(0);
    let got = files(&item);
    assert_eq!(got.len(), 1, "{item:#}");
    assert_eq!(got[0]["column_id"], "recording_file");
    assert_eq!(got[0]["name"], format!("call-{id}-recording.mp3"));
    assert_eq!(got[0]["size"].as_u64(), Some(want.len() as u64));
    assert_eq!(got[0]["sha256"], hex::encode(Sha256::digest(&want)));
    // The expired link, then the fresh one from GET /v1/calls/:id.
    assert_eq!(requests_to(&api, &format!("/v1/calls/{id}")).await, 1);
    assert_eq!(requests_to(&api, "/recordings/").await, 2);

    // A replay of the whole call uploads nothing again.
    let replay: Vec<Value> = events
        .iter()
        .cloned()
        .map(|mut e| {
            e["timestamp"] = (e["timestamp"].as_i64().unwrap() + 3600).into();
            e
        })
        .collect();
    bridge.deliver(&replay).await;
    bridge.drain().await;
    let item = sandbox.items_for(CALLS_BOARD, id).await.remove(0);
    assert_eq!(files(&item).len(), 1, "{item:#}");
    assert_eq!(requests_to(&api, "/recordings/").await, 2);
    assert_eq!(bridge.metric("bridge_dead_letters_total").await, 0.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_aircall_credentials_an_expired_recording_ends_in_the_dead_letter_saying_why() {
    let sandbox = Sandbox::start().await;
    let (events, id, _api) = expired_call().await;
    let bridge = spawn_app_with_config(&sandbox, &with_file_column(), &[]).await;
    bridge.deliver(&events).await;
    bridge.retry_until_dead(1).await;
    let error = last_error(bridge.store(), id).await;
    assert!(
        error.contains("expired") && error.contains("aircall.api_id"),
        "{error}"
    );
    // The item itself was written; only its file is missing.
    let item = sandbox.items_for(CALLS_BOARD, id).await.remove(0);
    assert!(files(&item).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_that_landed_just_before_a_crash_is_found_not_uploaded_again() {
    let sandbox = Sandbox::start().await;
    let (events, id, api) = expired_call().await;
    let api_url = api.api_url();
    let env = with_api(&api_url);
    let mut bridge = Bridge::start_with_config(&sandbox, &with_file_column(), &env).await;
    sandbox
        .faults(serde_json::json!({
            "queue": [{"kind": "apply_then_hold", "ms": 60_000}],
            "queue_field": "add_file_to_column",
        }))
        .await;
    bridge.deliver(&events).await;
    eventually(
        Duration::from_secs(20),
        "the file on the item, its answer held",
        || async {
            let items = sandbox.items_for(CALLS_BOARD, id).await;
            let held = sandbox.stats().await["faults_served"]["apply_then_hold"] == 1;
            (held && items.first().is_some_and(|i| files(i).len() == 1)).then_some(())
        },
    )
    .await;

    bridge.kill_and_restart().await;
    bridge.drained().await;
    let item = sandbox.items_for(CALLS_BOARD, id).await.remove(0);
    assert_eq!(files(&item).len(), 1, "uploaded once: {item:#}");
    // Found on the item: not downloaded again either.
    assert_eq!(requests_to(&api, "/recordings/").await, 2);
}

/// `call.commented` after the call's last event, with one note.
fn commented(events: &[Value], comment_id: u64, content: &str) -> Value {
    let mut e = events.last().unwrap().clone();
    let ts = e["timestamp"].as_i64().unwrap() + 5;
    e["event"] = "call.commented".into();
    e["timestamp"] = ts.into();
    e["data"]["comments"] = serde_json::json!([{
        "id": comment_id, "content": content, "posted_at": ts,
        "posted_by": {"id": 1, "name": "Priya Shah", "email": "priya.shah@hexaflow.example"},
    }]);
    e
}

/// Two calls' notes go out in one request, which monday refuses (503: nothing applied). One
/// call then commits that outcome (the checkpoint before its recording's upload) and the bridge
/// dies during the upload. The other call's intent still names the whole request: sending it
/// again would post the first call's note behind its back, and the first call posts it too.
#[tokio::test(flavor = "multi_thread")]
async fn a_shared_request_is_not_sent_again_once_one_of_its_effects_is_settled() {
    use serde_json::json;
    let sandbox = Sandbox::start().await;
    let (a, a_id, api) = expired_call().await;
    let api_url = api.api_url();
    let mut env = with_api(&api_url);
    env.push(("BRIDGE__WORKER__CONCURRENCY", "1"));
    let mut bridge = Bridge::start_with_config(&sandbox, &with_file_column(), &env).await;
    let (a_rec, a_pre): (Vec<Value>, Vec<Value>) = a
        .iter()
        .cloned()
        .partition(|e| e["data"]["recording"].is_string());
    assert!(!a_rec.is_empty() && !a_pre.is_empty());
    let mut b = fixture("inbound_answered");
    for e in &mut b {
        e["data"]["recording"] = Value::Null;
        e["data"]["asset"] = Value::Null;
    }
    let b_id = b[0]["data"]["id"].as_u64().unwrap();
    assert_ne!(a_id, b_id);
    bridge.deliver(&a_pre).await;
    bridge.deliver(&b).await;
    bridge.drained().await;

    // A third call's slow create keeps the worker busy while both notes and the recording
    // arrive, so the next claim takes both calls and their notes share one request.
    sandbox
        .faults(json!({ "queue": [
            {"kind": "only", "field": "create_item", "fault": {"kind": "timeout", "ms": 1500}},
            {"kind": "only", "field": "create_update", "fault": {"kind": "http_503"}},
            {"kind": "only", "field": "add_file_to_column",
             "fault": {"kind": "apply_then_hold", "ms": 60_000}},
        ]}))
        .await;
    let mut c = fixture("inbound_missed_voicemail");
    c.truncate(1);
    c[0]["data"]["id"] = 7_300_001u64.into();
    bridge.deliver(&c).await;
    // Only once the worker is inside that create: before, it could claim the next ones with it.
    eventually(
        Duration::from_secs(20),
        "the slow create under way",
        || async { (sandbox.stats().await["faults_served"]["timeout"] == 1).then_some(()) },
    )
    .await;
    bridge.deliver(&a_rec).await;
    bridge
        .deliver(&[
            commented(&a, 6_100_001, "Note on A"),
            commented(&b, 6_100_002, "Note on B"),
        ])
        .await;
    eventually(
        Duration::from_secs(20),
        "the refused notes and the held upload",
        || async {
            let stats = sandbox.stats().await;
            let served = |f: &str| stats["faults_served"][f].as_u64().unwrap_or(0);
            let item = sandbox.items_for(CALLS_BOARD, a_id).await;
            let uploaded = item.first().is_some_and(|i| files(i).len() == 1);
            (served("http_503") == 1 && served("apply_then_hold") == 1 && uploaded).then_some(())
        },
    )
    .await;

    // The setup worked: both notes travelled in the one refused request.
    let shared = bridge.log().lines().any(|l| {
        l.contains("SERVICE_UNAVAILABLE")
            && (l.contains(&format!("{a_id},{b_id}")) || l.contains(&format!("{b_id},{a_id}")))
    });
    assert!(shared, "the notes went out apart:\n{}", bridge.log());

    bridge.kill_and_restart().await;
    bridge.drained().await;
    let a_item = sandbox.items_for(CALLS_BOARD, a_id).await.remove(0);
    let b_item = sandbox.items_for(CALLS_BOARD, b_id).await.remove(0);
    assert_eq!(
        update_bodies(&a_item),
        ["Note on A — Priya Shah"],
        "{a_item:#}"
    );
    assert_eq!(
        update_bodies(&b_item),
        ["Note on B — Priya Shah"],
        "{b_item:#}"
    );
    assert_eq!(files(&a_item).len(), 1, "{a_item:#}");
}

/// A recording server that answers its first download only after `hold`, and counts every
/// download it is asked for.
async fn slow_recording_server(
    body: Vec<u8>,
    hold: Duration,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/recording.mp3", listener.local_addr().unwrap());
    let downloads = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = downloads.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let first = counted.fetch_add(1, Ordering::SeqCst) == 0;
            let body = body.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                if first {
                    tokio::time::sleep(hold).await;
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: audio/mpeg\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body).await;
            });
        }
    });
    (url, downloads)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reconcile_that_outlives_its_lease_keeps_its_call_and_uploads_once() {
    // A process of its own: the lease is renewed on a timer in real time and expires by the
    // bridge's clock, so in process, with the clock standing still, it could never run out.
    // The download takes longer than the lease: the worker's other loop must not take the
    // call over while the first still works it (its lease is renewed), so the recording is
    // fetched and uploaded once. Before leases were renewed and owned per claim, the second
    // loop claimed the call after the lease ran out and both uploaded.
    let sandbox = Sandbox::start().await;
    let mut events = fixture("outbound_answered");
    let id = events[0]["data"]["id"].as_u64().unwrap();
    let body = recording_bytes(id, false);
    let lease = Duration::from_secs(6);
    let (url, downloads) =
        slow_recording_server(body.clone(), lease + Duration::from_secs(4)).await;
    for e in &mut events {
        if e["data"]["recording"].is_string() {
            e["data"]["recording"] = Value::String(url.clone());
        }
    }
    let bridge = Bridge::start_with_config(
        &sandbox,
        &with_file_column(),
        &[
            ("BRIDGE__MONDAY__TIMEOUT_SECS", "1"),
            ("BRIDGE__WORKER__LEASE_SECS", "6"),
            ("BRIDGE__WORKER__CONCURRENCY", "2"),
        ],
    )
    .await;
    bridge.deliver(&events).await;
    bridge.drained().await;

    let item = sandbox.items_for(CALLS_BOARD, id).await.remove(0);
    assert_eq!(files(&item).len(), 1, "{item:#}");
    assert_eq!(
        downloads.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the recording was fetched by a second claim of the same call"
    );
    assert_eq!(bridge.metric("bridge_dead_letters_total").await, 0.0);
}
