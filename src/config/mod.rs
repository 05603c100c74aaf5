//! Typed settings: built-in defaults, then one TOML file, then `BRIDGE__SECTION__KEY`
//! environment variables, then secrets read from files. Everything is checked in
//! [`Settings::validate`] so that a wrong configuration fails at start-up, naming the key.

mod env_keys;
mod limits;
mod secrets;
mod tls;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

pub use limits::{
    is_loopback, AdminSettings, LimitSettings, ADMIN_MAX_CONNECTIONS, DESCRIPTOR_RESERVE,
};
// The board mappings' types live beside the planner that reads them.
pub use crate::mapping::boards::{
    closed_values, recovery_warnings, AnyOf, BoardRule, CallFilter, ColumnKind, ColumnSpec, Entity,
    LinkPreference, OnExisting, Route, UploadSource, DEFAULT_COMMENT_TEMPLATE, OUTCOMES,
};
pub use secrets::{is_one_of, same_secret};
pub use tls::{Origin as TlsOrigin, TlsFile, TlsFiles, TlsSettings};

/// The defaults compiled into the binary; every key is documented there.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub admin: AdminSettings,
    pub store: StoreSettings,
    pub aircall: AircallSettings,
    pub monday: MondaySettings,
    pub worker: WorkerSettings,
    pub log: LogSettings,
    #[serde(default)]
    pub boards: Vec<BoardRule>,
    /// Where the settings came from, for error messages: the file, or "built-in defaults".
    #[serde(skip)]
    pub source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    pub admin_listen: SocketAddr,
    pub body_limit_bytes: usize,
    pub workers: usize,
    /// Link from the status page to a monday item; `{board_id}` and `{item_id}` are replaced.
    pub item_link: String,
    pub limits: LimitSettings,
    /// HTTPS served by the bridge itself; plain HTTP when no certificate is given.
    pub tls: TlsSettings,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    pub path: PathBuf,
    /// Done events are kept this long for audit and replay, then pruned.
    #[serde(with = "humantime_serde")]
    pub keep_done: Duration,
    /// Free bytes kept on the store's filesystem: below it webhooks get 503 (before the disk
    /// is full, so the WAL can still commit and checkpoint) and /readyz fails.
    pub reserve_bytes: u64,
    /// PostgreSQL instead of SQLite (`postgres://user@host:5432/db`): several replicas share
    /// one queue. Empty: the SQLite file at `path`. May hold a password; never printed.
    pub url: SecretString,
    /// The PostgreSQL password, when not in `url`: from this file, or the systemd credential
    /// `store_password`.
    pub password_file: Option<PathBuf>,
    #[serde(skip)]
    pub password: SecretString,
    /// Connections to PostgreSQL per bridge process.
    pub pool_size: usize,
}

impl StoreSettings {
    /// PostgreSQL at `url` with the other settings at config/default.toml's values (for
    /// tests and benchmarks that need a store without a configuration file).
    pub fn for_url(url: &str) -> StoreSettings {
        StoreSettings {
            path: PathBuf::new(),
            keep_done: Duration::from_secs(30 * 86_400),
            reserve_bytes: 8 << 20,
            url: SecretString::from(url.to_string()),
            password_file: None,
            password: SecretString::default(),
            pool_size: 16,
        }
    }

    /// The PostgreSQL URL, when one is configured.
    pub fn postgres_url(&self) -> Option<&str> {
        Some(self.url.expose_secret().trim()).filter(|u| !u.is_empty())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AircallSettings {
    pub webhook_tokens: Vec<SecretString>,
    pub webhook_tokens_file: Option<PathBuf>,
    pub url_secret: SecretString,
    /// Aircall's public API, for `webhook`, `backfill` and fresh recording links.
    pub api_url: url::Url,
    pub api_id: String,
    pub api_token: SecretString,
    pub api_token_file: Option<PathBuf>,
    /// Aircall allows 60 or 120 requests a minute per company, shared by every integration.
    pub api_requests_per_minute: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MondaySettings {
    pub api_url: url::Url,
    pub api_version: String,
    pub api_token: SecretString,
    pub api_token_file: Option<PathBuf>,
    pub timeout_secs: u64,
    pub max_in_flight: usize,
    pub max_in_flight_per_board: usize,
    pub max_batch: usize,
    /// Whether the daily-budget governor may hold changes back (false: always live).
    pub governor: bool,
    /// The bridge's share of the account's daily limit: calls, or a percentage ("60%").
    pub daily_budget: String,
    /// The plan's daily limit until `platform_api` says otherwise.
    pub daily_limit: u64,
    /// The length of monday's day in seconds (86,400); tests and demos shorten it.
    pub budget_day_secs: u64,
}

impl MondaySettings {
    /// The governor's settings (after `validate`).
    pub fn keeper_settings(&self) -> crate::budget::KeeperSettings {
        crate::budget::KeeperSettings {
            enabled: self.governor,
            share: crate::budget::Share::parse(&self.daily_budget).unwrap_or_default(),
            fallback_limit: self.daily_limit.max(1),
            day_ms: (self.budget_day_secs.max(1) * 1000) as i64,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSettings {
    pub poll_interval_ms: u64,
    pub lease_secs: u64,
    #[serde(deserialize_with = "secrets::durations")]
    pub retry_schedule: Vec<Duration>,
    pub recreate_deleted_items: bool,
    pub concurrency: usize,
    #[serde(with = "humantime_serde")]
    pub uncertain_create_wait: Duration,
    #[serde(with = "humantime_serde")]
    pub idempotency_window: Duration,
    /// How long after a call's newest AI event its insights are fetched (one request per
    /// resource for a burst of events).
    #[serde(with = "humantime_serde")]
    pub insights_debounce: Duration,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Where the settings beyond the built-in defaults come from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    Defaults,
    File(&'a Path),
    /// TOML text compiled into the binary (the demo's configuration).
    Text {
        name: &'a str,
        toml: &'a str,
    },
}

/// A configuration that cannot be used, with the file, the key and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{source_name}: {message}")]
    Load {
        source_name: String,
        message: String,
    },
    #[error("{source_name}: key `{key}`: {message}")]
    Invalid {
        source_name: String,
        key: String,
        message: String,
    },
    #[error("{path}: {message}")]
    Secret { path: PathBuf, message: String },
}

impl Settings {
    /// Loads defaults, then `file` (when given), then the environment, then secret files.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        Self::load_with_env(file, std::env::vars())
    }

    /// As [`Settings::load`] with an explicit environment, so tests need not touch the process's.
    pub fn load_with_env(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        match file {
            Some(path) => Self::load_from(Source::File(path), env),
            None => Self::load_from(Source::Defaults, env),
        }
    }

    /// Loads defaults, then `source`, then `env` (only its `BRIDGE__` variables), then secrets.
    /// A variable that names no setting, or whose value is refused, is named in the error
    /// instead of the file: the file is not where the mistake is.
    pub fn load_from(
        source: Source<'_>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let env: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("BRIDGE__"))
            .collect();
        let by_key = env_keys::check(&env)?;
        Self::load_layers(source, env).map_err(|e| env_keys::blame(e, &by_key))
    }

    fn load_layers(
        source: Source<'_>,
        env: Vec<(String, String)>,
    ) -> Result<Settings, ConfigError> {
        let source_name = match source {
            Source::File(path) => path.display().to_string(),
            Source::Text { name, .. } => name.to_string(),
            Source::Defaults => "built-in defaults".to_string(),
        };
        let load_err = |e: config::ConfigError| ConfigError::Load {
            source_name: source_name.clone(),
            message: e.to_string(),
        };
        let mut builder = config::Config::builder().add_source(config::File::from_str(
            DEFAULT_TOML,
            config::FileFormat::Toml,
        ));
        match source {
            Source::File(path) => {
                if !path.is_file() {
                    return Err(ConfigError::Load {
                        source_name,
                        message: "no such file (give the path of a TOML file; config/example.toml shows one)"
                            .into(),
                    });
                }
                builder = builder.add_source(
                    config::File::from(path)
                        .format(config::FileFormat::Toml)
                        .required(true),
                );
            }
            Source::Text { toml, .. } => {
                builder =
                    builder.add_source(config::File::from_str(toml, config::FileFormat::Toml));
            }
            Source::Defaults => {}
        }
        let env: config::Map<String, String> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("BRIDGE__"))
            .collect();
        builder = builder.add_source(
            config::Environment::with_prefix("BRIDGE")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("aircall.webhook_tokens")
                .with_list_parse_key("admin.hosts")
                .with_list_parse_key("worker.retry_schedule")
                .source(Some(env)),
        );
        let mut settings: Settings = builder
            .build()
            .map_err(load_err)?
            .try_deserialize()
            .map_err(|e| ConfigError::Load {
                source_name: source_name.clone(),
                message: explain(e),
            })?;
        settings.source = source_name;
        secrets::resolve(&mut settings)?;
        if settings.store.path.as_os_str().is_empty() {
            settings.store.path = default_store_path();
        }
        settings.validate()?;
        Ok(settings)
    }

    /// Checks what serde cannot: ranges, formats and the board mappings' structure.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            source_name: self.source.clone(),
            key: key.to_string(),
            message,
        };
        if let Some(url) = self.store.postgres_url() {
            // The parser's message never echoes the URL, which may hold a password.
            if let Err(e) = url.parse::<tokio_postgres::Config>() {
                return Err(invalid(
                    "store.url",
                    format!(
                        "expected a PostgreSQL URL such as \"postgres://bridge@db.internal:5432/bridge\" \
                         ({e}); leave it empty for the SQLite file at store.path"
                    ),
                ));
            }
            if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
                return Err(invalid(
                    "store.url",
                    "expected a URL starting with postgres:// (key=value strings are not \
                     accepted, so a password in one cannot be printed by mistake)"
                        .into(),
                ));
            }
        }
        if self.store.pool_size == 0 {
            return Err(invalid("store.pool_size", "expected at least 1".into()));
        }
        if !is_api_version(&self.monday.api_version) {
            return Err(invalid(
                "monday.api_version",
                format!(
                    "expected YYYY-MM with month 01, 04, 07 or 10 (e.g. \"2026-10\"), got {:?}",
                    self.monday.api_version
                ),
            ));
        }
        if !matches!(self.monday.api_url.scheme(), "http" | "https") {
            return Err(invalid("monday.api_url", "expected an http(s) URL".into()));
        }
        if self.monday.timeout_secs == 0 {
            return Err(invalid("monday.timeout_secs", "expected at least 1".into()));
        }
        if self.server.body_limit_bytes < 1024 {
            return Err(invalid(
                "server.body_limit_bytes",
                "expected at least 1024 bytes".into(),
            ));
        }
        self.server
            .limits
            .check()
            .map_err(|(key, message)| invalid(key, message))?;
        if self.admin.hosts.iter().all(|h| h.trim().is_empty()) {
            return Err(invalid(
                "admin.hosts",
                "expected at least one host name, e.g. [\"localhost\", \"127.0.0.1\"]".into(),
            ));
        }
        if self.monday.max_batch == 0 || self.monday.max_batch > 100 {
            return Err(invalid(
                "monday.max_batch",
                "expected 1 to 100 commands per request".into(),
            ));
        }
        if self.monday.max_in_flight == 0 || self.monday.max_in_flight_per_board == 0 {
            return Err(invalid(
                "monday.max_in_flight",
                "expected at least 1 request in flight".into(),
            ));
        }
        if let Err(message) = crate::budget::Share::parse(&self.monday.daily_budget) {
            return Err(invalid("monday.daily_budget", message));
        }
        if self.monday.daily_limit == 0 {
            return Err(invalid(
                "monday.daily_limit",
                "expected at least 1 call a day (1,000 on Basic and Standard, 10,000 on Pro, 25,000 on Enterprise)".into(),
            ));
        }
        if self.monday.budget_day_secs < 10 {
            return Err(invalid(
                "monday.budget_day_secs",
                "expected at least 10 seconds (monday's day is 86400)".into(),
            ));
        }
        if self.worker.concurrency == 0 {
            return Err(invalid("worker.concurrency", "expected at least 1".into()));
        }
        if self.server.workers == 0 {
            return Err(invalid("server.workers", "expected at least 1".into()));
        }
        if self.worker.retry_schedule.is_empty() {
            return Err(invalid(
                "worker.retry_schedule",
                "expected at least one delay, e.g. [\"5s\", \"1m\"]".into(),
            ));
        }
        // Renewed every third of itself while a reconcile runs: a lease need not outlive a
        // request, only the pause between two renewals.
        if self.worker.lease_secs < 3 {
            return Err(invalid(
                "worker.lease_secs",
                "expected at least 3 (a lease is renewed every third of it while its call is \
                 worked; a stopped replica's calls move on after it)"
                    .into(),
            ));
        }
        check_log_filter(&self.log.level).map_err(|m| invalid("log.level", m))?;
        for (i, board) in self.boards.iter().enumerate() {
            if let Some(j) = self.boards[..i]
                .iter()
                .position(|b| b.board_id == board.board_id && b.entity == board.entity)
            {
                return Err(invalid(
                    &format!("boards[{i}].board_id"),
                    format!(
                        "board {} is already mapped as a {} board by boards[{j}] ({:?}): every {} \
                         would get two items on it. Keep one [[boards]] table per board (when \
                         pasting a `boards --board` skeleton, replace the old table)",
                        board.board_id,
                        board.entity.as_str(),
                        self.boards[j].name,
                        board.entity.as_str()
                    ),
                ));
            }
            board
                .validate()
                .map_err(|(key, message)| invalid(&format!("boards[{i}].{key}"), message))?;
            // `contact_item` is the contact's item on the first contact board.
            let has_contacts = self.boards.iter().any(|b| b.entity == Entity::Contact);
            if board.create_contact_for_unknown_numbers {
                let contacts = self.boards.iter().find(|b| b.entity == Entity::Contact);
                let adopts_by_phone = contacts.is_some_and(|c| {
                    c.adopt_by()
                        .iter()
                        .any(|m| c.columns.get(m).map(|s| s.kind) == Some(ColumnKind::Phone))
                });
                let relates = board
                    .columns
                    .values()
                    .any(|c| c.kind == ColumnKind::BoardRelation);
                if board.entity != Entity::Call || !relates || !adopts_by_phone {
                    return Err(invalid(
                        &format!("boards[{i}].create_contact_for_unknown_numbers"),
                        "needs a call board with a board_relation column, and a contact board that adopts by a phone column (match_columns, on_existing = \"adopt\"), so the item it creates becomes the contact's when Aircall creates it".into(),
                    ));
                }
            }
            for (id, spec) in &board.columns {
                if spec.kind == ColumnKind::BoardRelation && !has_contacts {
                    return Err(invalid(
                        &format!("boards[{i}].columns.{id}"),
                        "a board_relation column links to the contact board: add one".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// What `run` needs on top of a valid configuration: the secrets to receive webhooks and
    /// to write to monday. Set-up commands (`webhook register`, ...) run without them.
    pub fn require_secrets(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: &str| ConfigError::Invalid {
            source_name: self.source.clone(),
            key: key.to_string(),
            message: message.to_string(),
        };
        if let Some(file) = &self.aircall.webhook_tokens_file {
            match std::fs::metadata(file) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(invalid(
                        "aircall.webhook_tokens_file",
                        &format!(
                            "{} does not exist (`webhook register` creates it)",
                            file.display()
                        ),
                    ))
                }
                Err(e) => return Err(secrets::unreadable(file, "the webhook tokens file", &e)),
            }
        }
        if self.aircall.webhook_tokens.is_empty() {
            return Err(invalid(
                "aircall.webhook_tokens",
                "expected at least one token (the `token` Aircall gives for the webhook; \
                 `webhook register` stores it): set it, webhook_tokens_file, or the systemd \
                 credential aircall_token",
            ));
        }
        if !is_loopback(&self.server.admin_listen) && self.admin.token.expose_secret().is_empty() {
            return Err(invalid(
                "admin.token",
                &format!(
                    "server.admin_listen = {} is reachable from other machines: set a bearer \
                     token (admin.token_file, or the systemd credential admin_token)",
                    self.server.admin_listen
                ),
            ));
        }
        if !self.boards.is_empty() && self.monday.api_token.expose_secret().trim().is_empty() {
            return Err(invalid(
                "monday.api_token",
                "expected a monday API token: set it, api_token_file, or the systemd credential \
                 monday_token",
            ));
        }
        Ok(())
    }

    /// The entities some board mirrors; events of other kinds are acknowledged and not stored.
    pub fn mirrors(&self, entity: Entity) -> bool {
        self.boards.iter().any(|b| b.entity == entity)
    }
}

/// The levels a `log.level` directive may name.
const LOG_LEVELS: &[&str] = &["trace", "debug", "info", "warn", "error", "off"];

/// A tracing filter as `log.level` takes it: comma-separated directives, each a level or
/// `target=level`. tracing itself reads a lone word that is not a level ("verbose") as a
/// target at every level, which then logs nothing at all; that is refused here.
fn check_log_filter(filter: &str) -> Result<(), String> {
    let expected = "expected a level (trace, debug, info, warn, error, off) or target=level \
                    directives separated by commas, e.g. \"info,aircall_monday_bridge::monday=debug\"";
    if filter.trim().is_empty() {
        return Err(format!("empty filter: {expected}"));
    }
    for directive in filter.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let level = match directive.rsplit_once('=') {
            Some((target, level)) if !target.trim().is_empty() => level,
            _ => directive,
        };
        if !LOG_LEVELS.contains(&level.trim().to_ascii_lowercase().as_str()) {
            return Err(format!("{directive:?} is not a level: {expected}"));
        }
    }
    tracing_subscriber::EnvFilter::try_new(filter)
        .map(|_| ())
        .map_err(|e| format!("{filter:?} does not parse ({e}): {expected}"))
}

fn is_api_version(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 7
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && matches!(&v[5..], "01" | "04" | "07" | "10")
}

/// `$STATE_DIRECTORY/bridge.db` under systemd, `./data/bridge.db` otherwise.
pub fn default_store_path() -> PathBuf {
    match std::env::var_os("STATE_DIRECTORY") {
        // systemd may pass several directories separated by ':'; the first is ours.
        Some(dirs) if !dirs.is_empty() => {
            let first = dirs
                .to_string_lossy()
                .split(':')
                .next()
                .unwrap_or("")
                .to_string();
            PathBuf::from(first).join("bridge.db")
        }
        _ => PathBuf::from("data").join("bridge.db"),
    }
}

/// serde's messages name the field but not always where it sits; config's name the key.
/// Both are kept, with a hint on the two most common mistakes.
fn explain(e: config::ConfigError) -> String {
    let text = e.to_string();
    if text.starts_with("missing field") {
        format!("{text} (the key is required; config/example.toml shows it)")
    } else if text.starts_with("unknown field") {
        format!("{text} (misspelt key? config/default.toml lists every key)")
    } else {
        text
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod valid_tests;
