//! Aircall's stand-in as the end-to-end tests use it: started, handed to the bridge as its API,
//! told which calls it knows, and asked what it was asked. One copy for the AI-insight,
//! insight-card and recording tests, which used to carry one each.

use aircall_monday_bridge::store::Store;
use aircall_sandbox::{AircallSandboxConfig, AircallSandboxHandle};
use serde_json::Value;

use crate::helpers::*;

pub(crate) const API_ID: &str = "test-api-id";
pub(crate) const API_TOKEN: &str = "test-api-token";

/// The stand-in allowing `per_minute` requests per `window_secs`, knowing no call yet.
pub(crate) async fn aircall(per_minute: u32, window_secs: u64) -> AircallSandboxHandle {
    aircall_knowing(per_minute, window_secs, Vec::new()).await
}

/// The stand-in knowing `calls` (Call objects) from the start.
pub(crate) async fn aircall_knowing(
    per_minute: u32,
    window_secs: u64,
    calls: Vec<Value>,
) -> AircallSandboxHandle {
    aircall_sandbox::spawn(AircallSandboxConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        api_id: API_ID.into(),
        api_token: API_TOKEN.into(),
        per_minute,
        window_secs,
        calls,
        contacts: Vec::new(),
    })
    .await
    .unwrap()
}

/// The bridge's settings for the stand-in at `api_url`, with `token` as its API token (a wrong
/// one to test refused credentials). The bridge's own pacing is set far above the stand-in's
/// limit, so only the stand-in's 429s pace it.
pub(crate) fn with_api<'a>(api_url: &'a str, token: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("BRIDGE__AIRCALL__API_URL", api_url),
        ("BRIDGE__AIRCALL__API_ID", API_ID),
        ("BRIDGE__AIRCALL__API_TOKEN", token),
        ("BRIDGE__AIRCALL__API_REQUESTS_PER_MINUTE", "6000"),
    ]
}

/// Aircall learns of `calls` (Call objects) after the start.
pub(crate) async fn aircall_knows(api: &AircallSandboxHandle, calls: &[Value]) {
    let answer = reqwest::Client::new()
        .post(format!("http://{}/_aircall/calls", api.addr()))
        .json(calls)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
}

/// The paths of every request the stand-in received, in order.
pub(crate) async fn request_paths(api: &AircallSandboxHandle) -> Vec<String> {
    let all: Value = reqwest::get(format!("http://{}/_aircall/requests", api.addr()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let requests = all["requests"].as_array().unwrap().iter();
    requests
        .filter_map(|r| r["path"].as_str().map(String::from))
        .collect()
}

/// How many requests went to exactly `path`.
pub(crate) async fn requests_at(api: &AircallSandboxHandle, path: &str) -> usize {
    let paths = request_paths(api).await;
    paths.iter().filter(|p| *p == path).count()
}

/// How many requests went to a path starting with `prefix`.
pub(crate) async fn requests_to(api: &AircallSandboxHandle, prefix: &str) -> usize {
    let paths = request_paths(api).await;
    paths.iter().filter(|p| p.starts_with(prefix)).count()
}

/// The error the bridge last recorded in `store` for call `id` (it must have one).
pub(crate) async fn last_error(store: &Store, id: u64) -> String {
    let entity = store
        .entity(aircall_monday_bridge::store::Entity::Call, &id.to_string())
        .await;
    entity.unwrap().unwrap().last_error.unwrap()
}

/// config/example.toml with some of its commented blocks switched on: each block as it
/// stands there, each line starting with "# ".
pub(crate) fn example_with(blocks: &[&str]) -> String {
    let mut config = std::fs::read_to_string(repo_path("config/example.toml")).unwrap();
    for block in blocks {
        let on: Vec<&str> = block
            .lines()
            .map(|l| l.strip_prefix("# ").unwrap_or(l))
            .collect();
        let before = config.clone();
        config = config.replace(block, &on.join("\n"));
        assert_ne!(config, before, "the example shows {block:?}");
    }
    config
}
