//! Test harness: a sandbox (in this process) with the example boards, and the bridge binary
//! started on random ports with the example configuration pointed at that sandbox.
//!
//! Long on purpose: the process harness (sandbox, bridge child process, CLI, load senders) every
//! process test uses; the in-process harness is app.rs.

#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aircall_monday_bridge::config::StoreSettings;
use aircall_monday_bridge::store::{EventFilter, EventRow, Role, Store};
use monday_sandbox::{self as sandbox, Limits, SandboxConfig, SandboxHandle};
use serde_json::{json, Value};

pub const AIRCALL_TOKEN: &str = "test-aircall-token";
pub const MONDAY_TOKEN: &str = "test-monday-token";
pub const CALLS_BOARD: &str = "1000000001";
pub const CONTACTS_BOARD: &str = "1000000002";

pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A mixed sequence of call and contact envelopes (tests/fixtures/aircall/sequences/).
pub fn sequence(name: &str) -> Vec<Value> {
    fixture(&format!("sequences/{name}"))
}

/// Envelopes of a fixture file, in delivery order.
pub fn fixture(name: &str) -> Vec<Value> {
    let text =
        std::fs::read_to_string(repo_path(&format!("tests/fixtures/aircall/{name}.json"))).unwrap();
    let mut envelopes: Vec<Value> = serde_json::from_str(&text).unwrap();
    for e in &mut envelopes {
        e["token"] = json!(AIRCALL_TOKEN);
    }
    envelopes
}

/// Polls `check` until it returns `Some`, or panics with `what` after `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub struct Sandbox {
    pub handle: SandboxHandle,
    pub http: reqwest::Client,
}

impl Sandbox {
    pub async fn start() -> Sandbox {
        Self::start_with(Limits::default()).await
    }

    pub async fn start_with(limits: Limits) -> Sandbox {
        let boards = sandbox::parse_seed(sandbox::EXAMPLE_BOARDS).unwrap();
        let users = sandbox::parse_users(sandbox::EXAMPLE_BOARDS).unwrap();
        let handle = sandbox::spawn(SandboxConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            boards,
            users,
            api_token: Some(MONDAY_TOKEN.into()),
            limits,
        })
        .await
        .unwrap();
        Sandbox {
            handle,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.handle.addr())
    }

    pub async fn board(&self, id: &str) -> Value {
        self.http
            .get(self.url(&format!("/_sandbox/boards/{id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn items(&self, board: &str) -> Vec<Value> {
        self.board(board).await["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Items of a board whose Aircall id column holds `aircall_id`.
    pub async fn items_for(&self, board: &str, aircall_id: u64) -> Vec<Value> {
        self.items(board)
            .await
            .into_iter()
            .filter(|i| text(i, "aircall_id") == Some(aircall_id.to_string()))
            .collect()
    }

    pub async fn stats(&self) -> Value {
        self.http
            .get(self.url("/_sandbox/stats"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// POSTs to one of the sandbox's `/_sandbox/` control endpoints and checks it agreed.
    async fn control(&self, path: &str, body: Value) {
        let r = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "{path}: {}",
            r.text().await.unwrap()
        );
    }

    /// Another integration of the same monday account spends `calls` of today's calls.
    pub async fn charge_other_integration(&self, calls: u64) {
        self.control("/_sandbox/usage", json!({ "calls": calls }))
            .await;
    }

    pub async fn set_limits(&self, limits: Value) {
        self.control("/_sandbox/limits", limits).await;
    }

    pub async fn set_clock(&self, body: Value) {
        self.control("/_sandbox/clock", body).await;
    }

    pub async fn faults(&self, body: Value) {
        self.control("/_sandbox/faults", body).await;
    }

    /// A GraphQL request to the sandbox's monday API, as a person's tool would send it.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        let answer: Value = self
            .http
            .post(self.handle.api_url())
            .header("Authorization", MONDAY_TOKEN)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(answer.get("errors").is_none(), "{answer:#}");
        answer["data"].clone()
    }

    /// An item created on a board by hand (not by the bridge); its id.
    pub async fn create_item(&self, board: &str, name: &str, values: Value) -> String {
        let data = self
            .gql(
                "mutation ($b: ID!, $n: String!, $v: JSON) { create_item(board_id: $b, item_name: $n, column_values: $v) { id } }",
                json!({ "b": board, "n": name, "v": values.to_string() }),
            )
            .await;
        data["create_item"]["id"].as_str().unwrap().to_string()
    }

    pub async fn delete_item(&self, id: &str) {
        let r = self
            .http
            .post(self.url(&format!("/_sandbox/items/{id}/delete")))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
}

/// config/example.toml with a status label its Calls board lacks: monday refuses the voicemail
/// calls with ColumnValueException, a dead letter, while the other calls flow.
pub fn example_with_a_missing_label() -> String {
    std::fs::read_to_string(repo_path("config/example.toml"))
        .unwrap()
        .replace(
            "voicemail = \"Voicemail\"",
            "voicemail = \"Left a message\"",
        )
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A column's display text on a sandbox item.
pub fn text(item: &Value, column: &str) -> Option<String> {
    item["column_values"][column]["text"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// A column's stored monday value, parsed.
pub fn value(item: &Value, column: &str) -> Option<Value> {
    item["column_values"][column]["value"]
        .as_str()
        .and_then(|s| serde_json::from_str(s).ok())
        .filter(|v: &Value| !v.is_null())
}

pub struct Bridge {
    child: Child,
    pub public: SocketAddr,
    pub admin: SocketAddr,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
    env: Vec<(String, String)>,
    /// The scratch PostgreSQL database of a run on PostgreSQL (`BRIDGE_TEST_STORE=postgres`).
    db: Option<test_support::ScratchDatabase>,
    /// From starting the process to its ready file (listeners bound, store open).
    pub ready_after: Duration,
}

/// Whether this run's bridges keep their store on PostgreSQL (`BRIDGE_TEST_STORE=postgres`)
/// instead of a SQLite file: the same tests, the other backend.
pub fn on_postgres() -> bool {
    std::env::var("BRIDGE_TEST_STORE").as_deref() == Ok("postgres")
}

/// For a test that shows nothing more on PostgreSQL than on SQLite and costs minutes there:
/// true, after saying why, on a PostgreSQL run.
pub fn once_on_sqlite(why: &str) -> bool {
    let skip = on_postgres();
    if skip {
        eprintln!("skipped on PostgreSQL: {why}");
    }
    skip
}

/// A scratch PostgreSQL database when this run is on PostgreSQL.
pub async fn scratch_store() -> Option<test_support::ScratchDatabase> {
    if !on_postgres() {
        return None;
    }
    let db = test_support::scratch_postgres().await;
    assert!(
        db.is_some(),
        "BRIDGE_TEST_STORE=postgres needs a PostgreSQL server"
    );
    db
}

/// For a test about SQLite's file itself (disk space, permissions, the file lock): true, after
/// saying so, when this run is on PostgreSQL and the test has nothing to show there.
pub fn sqlite_only(what: &str) -> bool {
    let skip = on_postgres();
    if skip {
        eprintln!("skipped on PostgreSQL: {what} is about the SQLite file");
    }
    skip
}

/// A GET's body as text.
pub async fn get_text(http: &reqwest::Client, url: &str) -> String {
    http.get(url).send().await.unwrap().text().await.unwrap()
}

/// The sum over every series of a /metrics page whose line starts with `prefix`.
pub fn series_sum(metrics: &str, prefix: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Stands the sandbox's clock still at `at_ms` (UTC): it moves only when the test moves it.
pub async fn freeze_sandbox_clock(sandbox: &Sandbox, at_ms: i64) {
    let at = time::OffsetDateTime::from_unix_timestamp(at_ms / 1000)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    sandbox
        .set_clock(json!({ "freeze": true, "set": at }))
        .await;
}

/// The settings every test bridge runs with (on top of its configuration file), in process
/// or not: pointed at `sandbox`, its store in `dir`, random ports, fast polls and retries.
pub fn test_env(sandbox: &Sandbox, dir: &Path) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![
        ("BRIDGE__MONDAY__API_URL".into(), sandbox.handle.api_url()),
        ("BRIDGE__MONDAY__API_TOKEN".into(), MONDAY_TOKEN.into()),
        ("BRIDGE__MONDAY__TIMEOUT_SECS".into(), "5".into()),
        (
            "BRIDGE__AIRCALL__WEBHOOK_TOKENS".into(),
            AIRCALL_TOKEN.into(),
        ),
        ("BRIDGE__SERVER__LISTEN".into(), "127.0.0.1:0".into()),
        ("BRIDGE__SERVER__ADMIN_LISTEN".into(), "127.0.0.1:0".into()),
        (
            "BRIDGE__STORE__PATH".into(),
            dir.join("bridge.db").display().to_string(),
        ),
        ("BRIDGE__WORKER__POLL_INTERVAL_MS".into(), "50".into()),
        ("BRIDGE__WORKER__LEASE_SECS".into(), "10".into()),
        (
            "BRIDGE__WORKER__RETRY_SCHEDULE".into(),
            "50ms,100ms,200ms,400ms,800ms,1s".into(),
        ),
        // Longer than any delay the tests make the sandbox add to an answer.
        ("BRIDGE__WORKER__UNCERTAIN_CREATE_WAIT".into(), "2s".into()),
    ];
    if on_postgres() {
        // No file lock tells a restarted bridge that its predecessor is dead: its claims
        // move on when their lease runs out, as a dead replica's would.
        env.retain(|(k, _)| k != "BRIDGE__WORKER__LEASE_SECS");
        env.push(("BRIDGE__WORKER__LEASE_SECS".into(), "3".into()));
    }
    env
}

impl Bridge {
    /// The bridge with config/example.toml, pointed at `sandbox`, fast retries.
    pub async fn start(sandbox: &Sandbox, extra_env: &[(&str, &str)]) -> Bridge {
        let example = std::fs::read_to_string(repo_path("config/example.toml")).unwrap();
        Self::start_with_config(sandbox, &example, extra_env).await
    }

    /// As `start`, listening on fixed free ports so that a restarted bridge keeps its address.
    pub async fn start_on_fixed_ports(sandbox: &Sandbox, extra_env: &[(&str, &str)]) -> Bridge {
        let public = format!("127.0.0.1:{}", free_port());
        let admin = format!("127.0.0.1:{}", free_port());
        let mut env: Vec<(&str, &str)> = vec![
            ("BRIDGE__SERVER__LISTEN", &public),
            ("BRIDGE__SERVER__ADMIN_LISTEN", &admin),
        ];
        env.extend_from_slice(extra_env);
        Self::start(sandbox, &env).await
    }

    /// The bridge with the given configuration text instead of config/example.toml.
    pub async fn start_with_config(
        sandbox: &Sandbox,
        config: &str,
        extra_env: &[(&str, &str)],
    ) -> Bridge {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bridge.toml"), config).unwrap();
        let mut env = test_env(sandbox, dir.path());
        for (k, v) in extra_env {
            env.retain(|(key, _)| key != k);
            env.push((k.to_string(), v.to_string()));
        }
        // A test that brought its own database (shared with a CLI run before) keeps it.
        let own_url = env.iter().any(|(k, _)| k == "BRIDGE__STORE__URL");
        let db = match scratch_store().await {
            Some(db) if !own_url => {
                env.push(("BRIDGE__STORE__URL".into(), db.url.clone()));
                Some(db)
            }
            _ => None,
        };
        Self::spawn(dir, env, db).await
    }

    async fn spawn(
        dir: tempfile::TempDir,
        env: Vec<(String, String)>,
        db: Option<test_support::ScratchDatabase>,
    ) -> Bridge {
        let ready = dir.path().join("ready.json");
        let _ = std::fs::remove_file(&ready);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.path().join("bridge.log"))
            .unwrap();
        let spawned = Instant::now();
        let child = bridge_command(&env)
            .args(["run", "--config"])
            .arg(dir.path().join("bridge.toml"))
            .arg("--ready-file")
            .arg(&ready)
            .env(
                "RUST_LOG",
                std::env::var("TEST_LOG").unwrap_or_else(|_| "info".into()),
            )
            // A test's own RUST_LOG (in `env`) wins over the default.
            .envs(env.iter().cloned())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut bridge = Bridge {
            child,
            public: "127.0.0.1:0".parse().unwrap(),
            admin: "127.0.0.1:0".parse().unwrap(),
            dir,
            http: reqwest::Client::new(),
            env,
            db,
            ready_after: Duration::ZERO,
        };
        // Looked for every 2 ms, not at `eventually`'s pace: the benchmark times start-up.
        let deadline = spawned + Duration::from_secs(20);
        let addrs: Value = loop {
            let text = std::fs::read_to_string(&ready).ok();
            if let Some(addrs) = text.and_then(|t| serde_json::from_str(&t).ok()) {
                break addrs;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for the bridge to start"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        bridge.ready_after = spawned.elapsed();
        bridge.public = addrs["public"].as_str().unwrap().parse().unwrap();
        bridge.admin = addrs["admin"].as_str().unwrap().parse().unwrap();
        bridge
    }

    /// kill -9, then start again on the same store, configuration and ports.
    pub async fn kill_and_restart(&mut self) {
        self.restart_with(&[]).await;
    }

    /// kill -9, then start again on the same store with some settings changed.
    pub async fn restart_with(&mut self, changes: &[(&str, &str)]) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        let mut env = std::mem::take(&mut self.env);
        for (k, v) in changes {
            env.retain(|(key, _)| key != k);
            env.push((k.to_string(), v.to_string()));
        }
        let fresh = Self::spawn(dir, env, self.db.take()).await;
        let old = std::mem::replace(self, fresh);
        drop(old);
    }

    /// Starts the bridge again after it exited (e.g. after `terminate`).
    pub async fn start_again(&mut self) {
        self.kill_and_restart().await;
    }

    /// The configuration file the bridge runs with (rewrite it, then `hup`).
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("bridge.toml")
    }

    /// Writes `config`, sends SIGHUP, and waits until the bridge logs one more successful
    /// reload than before (counting, so an earlier reload's line cannot answer for this one).
    pub async fn reload(&self, config: &str) {
        const DONE: &str = "board mappings reloaded";
        let before = self.log().matches(DONE).count();
        std::fs::write(self.config_path(), config).unwrap();
        self.hup();
        eventually(Duration::from_secs(15), "the reload", || async {
            (self.log().matches(DONE).count() > before).then_some(())
        })
        .await;
    }

    /// `systemctl reload`: SIGHUP.
    pub fn hup(&self) {
        let status = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Runs an operator command (`events ...`, `check ...`) with the bridge's environment, so
    /// `--config` finds the same store and sandbox. Returns (exit code, stdout, stderr).
    pub fn cli(&self, args: &[&str]) -> (i32, String, String) {
        cli(&self.env, args)
    }

    /// The environment the bridge was started with.
    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }

    /// Still running (not exited, not killed)?
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("bridge.log")).unwrap_or_default()
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("bridge.db")
    }

    /// The bridge's store, opened beside it as an operator command would (SQLite or
    /// PostgreSQL, whichever this run uses): what tests read the queue's state through.
    pub async fn store(&self) -> Store {
        match &self.db {
            Some(db) => Store::connect(&StoreSettings::for_url(&db.url), Role::Tool)
                .await
                .unwrap(),
            None => Store::open(&self.db_path()).unwrap(),
        }
    }

    /// Runs SQL on the bridge's database behind its back (to damage it or make it fail), in
    /// the dialect of this run's backend; returns the rows the last statement changed.
    pub async fn execute_sql(&self, sqlite: &str, postgres: &str) -> u64 {
        execute_sql(self.db.as_ref(), &self.db_path(), sqlite, postgres).await
    }

    /// The journal's events in `state` (pending, done or dead), newest first.
    pub async fn events_in(&self, state: &str) -> Vec<EventRow> {
        let filter = EventFilter {
            state: Some(state.parse().expect("pending, done or dead")),
            ..Default::default()
        };
        self.store().await.events(filter, 100_000).await.unwrap()
    }

    pub async fn post(&self, envelope: &Value) -> reqwest::Response {
        self.post_raw("/webhooks/aircall", envelope.to_string().into_bytes())
            .await
    }

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

    pub async fn metrics(&self) -> String {
        get_text(&self.http, &format!("http://{}/metrics", self.admin)).await
    }

    /// A metric's value: the sum over every series whose line starts with `prefix`.
    pub async fn metric(&self, prefix: &str) -> f64 {
        series_sum(&self.metrics().await, prefix)
    }

    /// Waits until no event is pending; on time-out, shows the metrics and the store's state.
    pub async fn drained(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.metric("bridge_queue_pending_events ").await != 0.0 {
            if Instant::now() > deadline {
                panic!(
                    "the queue did not drain:\n{}\npending: {:#?}",
                    self.metrics().await,
                    describe_pending(&self.store().await).await
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM, then the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().unwrap()
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- bridge log ---\n{}", self.log());
        }
    }
}

/// What a test does with a bridge, whichever harness runs it: for helpers shared by tests in
/// process and tests that need the process (a kill -9 among the rest of a file).
#[allow(async_fn_in_trait)] // Only these tests implement it; no Send bound needed.
pub trait Webhooks {
    async fn post(&self, envelope: &Value) -> reqwest::Response;
    async fn deliver(&self, envelopes: &[Value]);
    async fn metric(&self, prefix: &str) -> f64;
    async fn drain(&self);
}

impl Webhooks for Bridge {
    async fn post(&self, envelope: &Value) -> reqwest::Response {
        Bridge::post(self, envelope).await
    }
    async fn deliver(&self, envelopes: &[Value]) {
        Bridge::deliver(self, envelopes).await
    }
    async fn metric(&self, prefix: &str) -> f64 {
        Bridge::metric(self, prefix).await
    }
    async fn drain(&self) {
        Bridge::drained(self).await
    }
}

/// Checks the receiver acknowledged `envelope` (200); else fails saying which event and what
/// the receiver answered. Both harnesses' `deliver`.
pub async fn assert_acknowledged(response: reqwest::Response, envelope: &Value) {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    assert_eq!(status, 200, "{}: {body}", envelope["event"]);
}

/// Each entity still pending in `store` with its last error, attempts and due time: what a
/// drain that timed out shows (both harnesses), so the failure says what is stuck and why.
pub async fn describe_pending(store: &Store) -> Vec<String> {
    let mut pending = Vec::new();
    for e in store.recent_entities(1_000).await.unwrap() {
        if e.state != "pending" {
            continue;
        }
        if let Some(d) = store.entity(e.kind, &e.entity_id).await.unwrap() {
            pending.push(format!(
                "{} {}: {} attempts {} due {}",
                d.kind,
                d.entity_id,
                d.last_error.unwrap_or_else(|| "-".into()),
                d.attempts,
                d.due_ms
            ));
        }
    }
    pending
}

/// Runs SQL on a bridge's database behind its back (to damage it or make it fail), in the
/// dialect of this run's backend: `db` on PostgreSQL, else the SQLite file at `sqlite_path`.
/// Returns the rows the last statement changed.
pub async fn execute_sql(
    db: Option<&test_support::ScratchDatabase>,
    sqlite_path: &Path,
    sqlite: &str,
    postgres: &str,
) -> u64 {
    match db {
        Some(db) => {
            let (client, connection) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(connection);
            client.execute(postgres, &[]).await.unwrap()
        }
        None => {
            let db = rusqlite::Connection::open(sqlite_path).unwrap();
            db.busy_timeout(Duration::from_secs(5)).unwrap();
            db.execute_batch(sqlite).unwrap();
            db.changes()
        }
    }
}

/// The bridge binary; under `prlimit --nofile=N:N` when `env` has `BRIDGE_TEST_NOFILE=N`, as
/// `LimitNOFILE=N` would start it; as user `N` (through setpriv, so run as root) when it has
/// `BRIDGE_TEST_UID=N`, as `DynamicUser=` would.
pub fn bridge_command(env: &[(String, String)]) -> Command {
    // BRIDGE_BIN in `env` runs another build (a benchmark's baseline) with the same harness.
    let bin = env
        .iter()
        .find(|(k, _)| k == "BRIDGE_BIN")
        .map(|(_, v)| PathBuf::from(v))
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_aircall-monday-bridge")));
    let get = |key: &str| env.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    match (get("BRIDGE_TEST_NOFILE"), get("BRIDGE_TEST_UID")) {
        (Some(n), _) => {
            let mut c = Command::new("prlimit");
            c.arg(format!("--nofile={n}:{n}")).arg("--").arg(&bin);
            c
        }
        (None, Some(uid)) => {
            let mut c = Command::new("setpriv");
            c.args([
                &format!("--reuid={uid}"),
                &format!("--regid={uid}"),
                "--clear-groups",
                "--",
            ]);
            c.arg(&bin);
            c
        }
        (None, None) => Command::new(bin),
    }
}

/// Runs the binary with `env` and `args`; (exit code, stdout, stderr).
pub fn cli(env: &[(String, String)], args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_aircall-monday-bridge"))
        .args(args)
        .envs(env.iter().cloned())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The environment a CLI command needs to reach `sandbox` (no running bridge).
pub fn sandbox_env(sandbox: &Sandbox) -> Vec<(String, String)> {
    vec![
        ("BRIDGE__MONDAY__API_URL".into(), sandbox.handle.api_url()),
        ("BRIDGE__MONDAY__API_TOKEN".into(), MONDAY_TOKEN.into()),
        (
            "BRIDGE__AIRCALL__WEBHOOK_TOKENS".into(),
            AIRCALL_TOKEN.into(),
        ),
    ]
}

/// Posts until acknowledged, as Aircall retries a failed delivery. Any answer but 200 fails
/// the test: a 503 is a bug here (`Senders::start_through_outages` sends again after one).
pub async fn deliver_until_acknowledged(
    http: &reqwest::Client,
    url: &str,
    envelope: &Value,
) -> usize {
    deliver(http, url, envelope, false).await
}

async fn deliver(http: &reqwest::Client, url: &str, envelope: &Value, outages: bool) -> usize {
    let mut failures = 0;
    loop {
        match http
            .post(url)
            .json(envelope)
            .timeout(Duration::from_secs(5))
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => return failures,
            Ok(r) if outages && r.status() == 503 && r.headers().contains_key("retry-after") => {
                failures += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Ok(r) => panic!(
                "the bridge answered {} to {}",
                r.status(),
                envelope["event"]
            ),
            Err(_) => {
                failures += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// Webhooks posted by several concurrent senders, each delivery retried until acknowledged (as
/// Aircall does); how far they got is shared, so a test can act at points of the sending
/// rather than at moments of the clock.
pub struct Senders {
    next: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    tasks: Vec<tokio::task::JoinHandle<usize>>,
    pub total: usize,
}

impl Senders {
    pub fn start(url: &str, envelopes: Vec<Value>, clients: usize) -> Senders {
        Self::start_round_robin(&[url.to_string()], envelopes, clients)
    }

    /// As `start`, the n-th envelope to `urls[n % urls.len()]`, as a load balancer in front
    /// of replicas would spread them.
    pub fn start_round_robin(urls: &[String], envelopes: Vec<Value>, clients: usize) -> Senders {
        Self::spawn(urls, envelopes, clients, false)
    }

    /// As `start_round_robin`, a 503 with `Retry-After` sent again, as Aircall does while the
    /// store is down.
    pub fn start_through_outages(
        urls: &[String],
        envelopes: Vec<Value>,
        clients: usize,
    ) -> Senders {
        Self::spawn(urls, envelopes, clients, true)
    }

    fn spawn(urls: &[String], envelopes: Vec<Value>, clients: usize, outages: bool) -> Senders {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let next = std::sync::Arc::new(AtomicUsize::new(0));
        let total = envelopes.len();
        let envelopes = std::sync::Arc::new(envelopes);
        let tasks = (0..clients)
            .map(|_| {
                let (next, envelopes, urls) = (next.clone(), envelopes.clone(), urls.to_vec());
                tokio::spawn(async move {
                    let http = reqwest::Client::new();
                    let mut refused = 0;
                    loop {
                        let n = next.fetch_add(1, Ordering::SeqCst);
                        let Some(e) = envelopes.get(n) else { break };
                        refused += deliver(&http, &urls[n % urls.len()], e, outages).await;
                    }
                    refused
                })
            })
            .collect();
        Senders { next, tasks, total }
    }

    /// Waits until the senders have taken `point` envelopes.
    pub async fn reached(&self, point: usize) {
        eventually(
            Duration::from_secs(60),
            "the senders to reach a point",
            || {
                let sent = self.next.load(std::sync::atomic::Ordering::SeqCst);
                async move { (sent >= point).then_some(()) }
            },
        )
        .await;
    }

    /// Waits for every delivery to be acknowledged; how many attempts failed on the way.
    pub async fn finish(self) -> usize {
        let mut refused = 0;
        for t in self.tasks {
            refused += t.await.unwrap();
        }
        refused
    }
}

/// `n` seeded points of a sending of `len`, one in each of the eighths 1, 3, 5, ...: all of
/// them before the end, so webhooks still arrive at every one.
pub fn kill_points(rng: &mut impl rand::Rng, len: usize, n: usize) -> Vec<usize> {
    (0..n)
        .map(|k| rng.gen_range(len * (2 * k + 1) / (2 * n + 2)..len * (2 * k + 2) / (2 * n + 2)))
        .collect()
}

/// The bodies of an item's updates, newest first as the sandbox lists them.
pub fn update_bodies(item: &Value) -> Vec<String> {
    item["updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["body"].as_str().unwrap().to_string())
        .collect()
}

/// A scratch directory on a RAM filesystem (`/dev/shm`) where the machine has one, else the
/// usual temporary directory. For the bridges built in process: they test what the bridge does,
/// not the disk, and a simulated day's tens of thousands of commits would otherwise spend most of
/// their time in fsync (a budget day took 100 s on disk, 26 s here). Tests of crashes, full disks
/// and read-only filesystems keep their stores on disk (the process harness, `disk.rs`).
pub fn memory_backed_dir() -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = tempfile::Builder::new()
            .prefix("bridge-test-")
            .tempdir_in(shm)
        {
            return dir;
        }
    }
    tempfile::tempdir().unwrap()
}
