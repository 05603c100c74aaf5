//! The bridge in the test's own process: the real application (store, receiver, worker, admin
//! listener) built by `Application::build_with_clock` on port 0, with a temp store, the
//! sandbox in this process, fast retries and a clock the test moves itself. No binary is
//! spawned and no time passes that the test did not ask for: a retry becomes due when the test
//! advances the clock, not after a sleep.
//!
//! What needs a real process (SIGKILL, SIGTERM, SIGHUP, sd_notify, the bridge's log) is
//! `helpers::Bridge`. An operator command (`App::cli`) is a process of its own beside this
//! bridge, as it is beside the service.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use aircall_monday_bridge::clock::{Clock, ManualClock, SystemClock};
use aircall_monday_bridge::config::{Settings, StoreSettings};
use aircall_monday_bridge::reload::SharedRules;
use aircall_monday_bridge::startup::Application;
use aircall_monday_bridge::store::{EventFilter, EventRow, EventState, QueueStats, Role, Store};
use reqwest::StatusCode;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

pub struct App {
    pub public: SocketAddr,
    /// The admin listener (health, metrics, status page).
    pub admin: SocketAddr,
    /// The bridge's clock: it stands still until the test moves it.
    pub clock: Arc<ManualClock>,
    store: Store,
    stop: CancellationToken,
    running: tokio::task::JoinHandle<std::io::Result<()>>,
    http: reqwest::Client,
    sandbox_url: String,
    /// The settings it was built with, for an operator command beside it.
    env: Vec<(String, String)>,
    config: PathBuf,
    sqlite_path: PathBuf,
    rules: SharedRules,
    _dir: tempfile::TempDir,
    db: Option<test_support::ScratchDatabase>,
}

/// The bridge with config/example.toml, in process, pointed at `sandbox`.
pub async fn spawn_app(sandbox: &Sandbox) -> App {
    spawn_app_with(sandbox, &[]).await
}

/// As [`spawn_app`] with some settings changed (`BRIDGE__…` names, as in the environment).
pub async fn spawn_app_with(sandbox: &Sandbox, changes: &[(&str, &str)]) -> App {
    let example = std::fs::read_to_string(repo_path("config/example.toml")).unwrap();
    spawn_app_with_config(sandbox, &example, changes).await
}

/// As [`spawn_app_with`] with this configuration text instead of config/example.toml.
pub async fn spawn_app_with_config(sandbox: &Sandbox, toml: &str, changes: &[(&str, &str)]) -> App {
    spawn_app_at(sandbox, toml, changes, SystemClock.now_ms()).await
}

/// As [`spawn_app_with_config`], the bridge's clock standing at `start_ms`.
pub async fn spawn_app_at(
    sandbox: &Sandbox,
    toml: &str,
    changes: &[(&str, &str)],
    start_ms: i64,
) -> App {
    let dir = memory_backed_dir();
    let config = dir.path().join("bridge.toml");
    std::fs::write(&config, toml).unwrap();
    let mut env = test_env(sandbox, dir.path());
    for (k, v) in changes {
        env.retain(|(key, _)| key != k);
        env.push((k.to_string(), v.to_string()));
    }
    let db = scratch_store().await;
    if let Some(db) = &db {
        env.push(("BRIDGE__STORE__URL".into(), db.url.clone()));
    }
    let settings = Settings::load_with_env(Some(&config), env.clone())
        .and_then(|s| s.require_secrets().map(|()| s))
        .expect("the test configuration is valid");
    let sqlite_path = settings.store.path.clone();
    let clock = ManualClock::at(start_ms);
    let app = Application::build_with_clock(settings, clock.clone())
        .await
        .expect("the bridge starts");
    let (public, admin, rules) = (app.public_addr(), app.admin_addr(), app.rules());
    let stop = CancellationToken::new();
    let stopped = stop.clone();
    let running = tokio::spawn(app.run_until(async move { stopped.cancelled().await }));
    App {
        public,
        admin,
        clock,
        // Read beside the bridge, as an operator command would.
        store: match &db {
            Some(db) => Store::connect(&StoreSettings::for_url(&db.url), Role::Tool)
                .await
                .unwrap(),
            None => Store::open(&sqlite_path).unwrap(),
        },
        stop,
        running,
        http: reqwest::Client::new(),
        sandbox_url: format!("http://{}", sandbox.handle.addr()),
        env,
        config,
        sqlite_path,
        rules,
        _dir: dir,
        db,
    }
}

impl App {
    /// Posts one envelope to the webhook endpoint; the receiver's answer.
    pub async fn post_webhook(&self, envelope: &Value) -> StatusCode {
        self.post(envelope).await.status()
    }

    /// As [`App::post_webhook`], the whole response.
    pub async fn post(&self, envelope: &Value) -> reqwest::Response {
        self.post_raw("/webhooks/aircall", envelope.to_string().into_bytes())
            .await
    }

    /// Posts `body` as JSON to `path` on the public listener, whatever the bytes are.
    pub async fn post_raw(&self, path: &str, body: Vec<u8>) -> reqwest::Response {
        self.http
            .post(format!("http://{}{path}", self.public))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// Posts every envelope and checks each was acknowledged.
    pub async fn deliver(&self, envelopes: &[Value]) {
        for e in envelopes {
            assert_acknowledged(self.post(e).await, e).await;
        }
    }

    /// The store, opened beside the bridge as an operator command would.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The configuration file the bridge was built from (what `--config` names).
    pub fn config_path(&self) -> &std::path::Path {
        &self.config
    }

    /// Runs an operator command with the bridge's settings, so `--config` finds the same store
    /// and sandbox. Returns (exit code, stdout, stderr).
    pub fn cli(&self, args: &[&str]) -> (i32, String, String) {
        cli(&self.env, args)
    }

    /// Writes `config` and reloads the board mappings from it, as SIGHUP does in the service
    /// (the same `reload::reload`); fails if the reload is refused.
    pub fn reload(&self, config: &str) {
        std::fs::write(&self.config, config).unwrap();
        let reloaded = aircall_monday_bridge::reload::reload(Some(&self.config), &self.rules, None);
        assert!(reloaded, "the reload of the board mappings failed");
    }

    /// Runs SQL on the bridge's database behind its back; see [`execute_sql`].
    pub async fn execute_sql(&self, sqlite: &str, postgres: &str) -> u64 {
        execute_sql(self.db.as_ref(), &self.sqlite_path, sqlite, postgres).await
    }

    pub async fn stats(&self) -> QueueStats {
        self.store.stats(self.clock.now_ms()).await.unwrap()
    }

    /// What /readyz answers (its JSON body).
    pub async fn ready(&self) -> Value {
        let body = get_text(&self.http, &format!("http://{}/readyz", self.admin)).await;
        serde_json::from_str(&body).unwrap()
    }

    /// The status page's HTML.
    pub async fn status_page(&self) -> String {
        get_text(&self.http, &format!("http://{}/", self.admin)).await
    }

    /// The journal's events in `state`, newest first.
    pub async fn events_in(&self, state: EventState) -> Vec<EventRow> {
        let filter = EventFilter {
            state: Some(state),
            ..Default::default()
        };
        self.store.events(filter, 100_000).await.unwrap()
    }

    pub async fn dead_letters(&self) -> Vec<EventRow> {
        self.events_in(EventState::Dead).await
    }

    /// The items of a sandbox board.
    pub async fn items(&self, board: &str) -> Vec<Value> {
        let board: Value = self
            .http
            .get(format!("{}/_sandbox/boards/{board}", self.sandbox_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        board["items"].as_array().cloned().unwrap_or_default()
    }

    /// The admin listener's /metrics page.
    pub async fn metrics(&self) -> String {
        get_text(&self.http, &format!("http://{}/metrics", self.admin)).await
    }

    /// A metric from the admin listener: the sum over every series whose line starts with
    /// `prefix`.
    pub async fn metric(&self, prefix: &str) -> f64 {
        series_sum(&self.metrics().await, prefix)
    }

    /// Items of a sandbox board whose Aircall id column holds `aircall_id`.
    pub async fn items_for(&self, board: &str, aircall_id: u64) -> Vec<Value> {
        self.items(board)
            .await
            .into_iter()
            .filter(|i| text(i, "aircall_id") == Some(aircall_id.to_string()))
            .collect()
    }

    /// Stops taking webhooks, lets the worker finish, and waits for the bridge to stop.
    pub async fn stop(self) {
        self.stop.cancel();
        self.running.await.unwrap().unwrap();
    }
}

/// For helpers shared with tests on the process harness.
impl Webhooks for App {
    async fn post(&self, envelope: &Value) -> reqwest::Response {
        App::post(self, envelope).await
    }
    async fn deliver(&self, envelopes: &[Value]) {
        App::deliver(self, envelopes).await
    }
    async fn metric(&self, prefix: &str) -> f64 {
        App::metric(self, prefix).await
    }
    async fn drain(&self) {
        App::drain(self).await
    }
}
