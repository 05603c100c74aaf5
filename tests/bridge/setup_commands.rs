//! `webhook` and `backfill` against a local stand-in for Aircall's API.

use std::collections::BTreeMap;
use std::time::Duration;

use aircall_monday_bridge::aircall::{AI_EVENTS, CALL_EVENTS, CONTACT_EVENTS};
use aircall_monday_bridge::demo::day::realistic_day;
use aircall_sandbox::{self, AircallSandboxConfig, AircallSandboxHandle};
use base64::Engine;
use serde_json::Value;

use crate::helpers::*;

const API_ID: &str = "api-id-123";
const API_TOKEN: &str = "api-token-456";

async fn aircall(calls: Vec<Value>, per_window: u32, window_secs: u64) -> AircallSandboxHandle {
    aircall_sandbox::spawn(AircallSandboxConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        api_id: API_ID.into(),
        api_token: API_TOKEN.into(),
        per_minute: per_window,
        window_secs,
        calls,
        contacts: Vec::new(),
    })
    .await
    .unwrap()
}

async fn received(api: &AircallSandboxHandle) -> Value {
    reqwest::get(format!("http://{}/_aircall/requests", api.addr()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Runs a subcommand of the real binary with the example configuration and `env`; the exit
/// status and everything it printed.
fn run(args: &[&str], env: &[(&str, String)]) -> (i32, String) {
    let example = repo_path("config/example.toml").display().to_string();
    let mut args = args.to_vec();
    args.extend(["--config", &example]);
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let (code, out, err) = crate::helpers::cli(&env, &args);
    (code, out + &err)
}

fn api_env(
    api: &AircallSandboxHandle,
    dir: &tempfile::TempDir,
    per_minute: u32,
) -> Vec<(&'static str, String)> {
    vec![
        ("BRIDGE__AIRCALL__API_URL", api.api_url()),
        ("BRIDGE__AIRCALL__API_ID", API_ID.into()),
        ("BRIDGE__AIRCALL__API_TOKEN", API_TOKEN.into()),
        (
            "BRIDGE__AIRCALL__API_REQUESTS_PER_MINUTE",
            per_minute.to_string(),
        ),
        (
            "BRIDGE__AIRCALL__WEBHOOK_TOKENS_FILE",
            dir.path().join("tokens").display().to_string(),
        ),
        ("BRIDGE__AIRCALL__URL_SECRET", "s3cret".into()),
        (
            "BRIDGE__STORE__PATH",
            dir.path().join("bridge.db").display().to_string(),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn webhook_register_list_and_delete() {
    let api = aircall(Vec::new(), 100, 60).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tokens"), "old-token\n").unwrap();
    let env = api_env(&api, &dir, 600);

    let (code, out) = run(
        &[
            "webhook",
            "register",
            "--url",
            "https://bridge.example.com/webhooks/aircall",
        ],
        &env,
    );
    assert_eq!(code, 0, "{out}");
    let seen = received(&api).await;
    let post = &seen["requests"][0];
    assert_eq!(post["method"], "POST");
    assert_eq!(post["path"], "/v1/webhooks");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{API_ID}:{API_TOKEN}"));
    assert_eq!(post["authorization"], format!("Basic {basic}"));
    assert_eq!(
        post["body"]["url"],
        "https://bridge.example.com/webhooks/aircall/s3cret"
    );
    let events: Vec<&str> = post["body"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    let wanted: Vec<&str> = CALL_EVENTS
        .iter()
        .chain(AI_EVENTS)
        .chain(CONTACT_EVENTS)
        .copied()
        .collect();
    assert_eq!(
        events, wanted,
        "exactly the events the example's boards use"
    );
    let token = seen["webhooks"][0]["token"].as_str().unwrap();
    let tokens = std::fs::read_to_string(dir.path().join("tokens")).unwrap();
    assert_eq!(
        tokens,
        format!("old-token\n{token}\n"),
        "appended; the old token keeps working"
    );

    let (code, out) = run(&["webhook", "list"], &env);
    let id = seen["webhooks"][0]["webhook_id"].as_str().unwrap();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(id) && out.contains("active"), "{out}");
    let (code, out) = run(&["webhook", "delete", id], &env);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        received(&api).await["webhooks"].as_array().unwrap().len(),
        0
    );

    let mut wrong = env.clone();
    wrong.push(("BRIDGE__AIRCALL__API_TOKEN", "nope".into()));
    let (code, out) = run(&["webhook", "list"], &wrong);
    assert_ne!(code, 0);
    assert!(out.contains("refused the credentials"), "{out}");
    let (code, out) = run(
        &[
            "webhook",
            "register",
            "--url",
            "http://insecure.example.com/",
        ],
        &env,
    );
    assert_ne!(code, 0);
    assert!(out.contains("HTTPS"), "{out}");
}

/// Each call of a generated day as Aircall's API returns it: its final state.
fn final_calls(days: i64, per_day: usize) -> Vec<Value> {
    let mut by_id: BTreeMap<u64, Value> = BTreeMap::new();
    for day in 0..days {
        for e in realistic_day(
            AIRCALL_TOKEN,
            40 + day as u64,
            per_day,
            1_795_132_800 + day * 86_400,
        ) {
            if e["event"].as_str().unwrap().starts_with("call.") {
                let mut data = e["data"].clone();
                let id = data["id"].as_u64().unwrap() + day as u64 * 10_000;
                data["id"] = id.into();
                by_id.insert(id, data);
            }
        }
    }
    by_id.into_values().collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn backfill_pages_through_history_within_the_rate_limit_and_resumes() {
    let calls = final_calls(3, 60);
    // Two requests per five seconds: the backfill must wait and go on, not fail. Four pages
    // meet the limit unless five seconds pass between the first and the third; with three per
    // two seconds a machine slowed by other work spread them out and met none.
    let api = aircall(calls.clone(), 2, 5).await;
    let dir = tempfile::tempdir().unwrap();
    let mut env = api_env(&api, &dir, 6000);
    // On PostgreSQL the backfill and the bridge after it share one scratch database.
    let db = scratch_store().await;
    if let Some(db) = &db {
        env.push(("BRIDGE__STORE__URL", db.url.clone()));
    }

    let (code, out) = run(
        &[
            "backfill",
            "--since",
            "2026-11-20",
            "--until",
            "2026-11-22",
            "--quiet",
        ],
        &env,
    );
    assert_eq!(code, 0, "{out}");
    let first_two_days = calls
        .iter()
        .filter(|c| c["started_at"].as_i64().unwrap() < 1_795_132_800 + 2 * 86_400)
        .count();
    assert!(
        out.contains(&format!("{first_two_days} calls and 0 contacts read")),
        "{out}"
    );
    let seen = received(&api).await;
    assert!(
        seen["rate_limited"].as_u64().unwrap() >= 1,
        "the test should have hit the limit: {seen}"
    );
    let pages: Vec<&Value> = seen["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"] == "/v1/calls")
        .collect();
    assert!(
        pages
            .iter()
            .any(|r| r["query"].as_str().unwrap().contains("page=2")),
        "paged: {pages:?}"
    );

    // The second run starts where the first stopped, and re-reading adds nothing twice.
    let (code, out) = run(
        &[
            "backfill",
            "--since",
            "2026-11-20",
            "--until",
            "2026-11-23",
            "--quiet",
        ],
        &env,
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("resumed from"), "{out}");
    let (code, out) = run(
        &[
            "backfill",
            "--since",
            "2026-11-20",
            "--until",
            "2026-11-23",
            "--restart",
            "--quiet",
        ],
        &env,
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "{} calls and 0 contacts read from Aircall; 0 new",
            calls.len()
        )),
        "{out}"
    );

    // The bridge puts the journal on the boards: one item per call.
    let sandbox = Sandbox::start().await;
    let store = dir.path().join("bridge.db").display().to_string();
    let url = db.as_ref().map(|d| d.url.clone()).unwrap_or_default();
    let mut bridge_env = vec![("BRIDGE__STORE__PATH", store.as_str())];
    if db.is_some() {
        bridge_env.push(("BRIDGE__STORE__URL", url.as_str()));
    }
    let bridge = Bridge::start(&sandbox, &bridge_env).await;
    bridge.drained().await;
    let items = sandbox.items(CALLS_BOARD).await;
    assert_eq!(items.len(), calls.len());
    // A late webhook for a backfilled call changes its item, it does not add one.
    let late = &calls[0];
    let envelope = serde_json::json!({"resource": "call", "event": "call.tagged", "timestamp": 1_900_000_000i64,
        "token": AIRCALL_TOKEN, "data": late});
    bridge.deliver(&[envelope]).await;
    bridge.drained().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(sandbox.items(CALLS_BOARD).await.len(), calls.len());
}
