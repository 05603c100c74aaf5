//! Typed settings: built-in defaults, then one TOML file, then `BRIDGE__SECTION__KEY`
//! environment variables, then secrets read from files. Everything is checked in
//! [`Settings::validate`] so that a wrong configuration fails at start-up, naming the key.

mod cards;
mod env_keys;
mod limits;
mod load;
mod secrets;
mod tls;
mod validate;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

pub use cards::{CardColumn, CardSettings, MAX_CARD_LINES};
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
    pub insight_card: CardSettings,
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
    /// A board mapping names a field the entity does not have, or a template does not parse.
    #[error("{source_name}: {error}")]
    Rules {
        source_name: String,
        error: crate::mapping::MappingError,
    },
}

impl Settings {
    /// The board mappings compiled (field names checked, templates parsed): the one place
    /// start-up, `check` and a reload get them from. Not part of [`Settings::load`] itself,
    /// because a reload applies the certificate and the mappings independently: a bad template
    /// must not keep a renewed certificate out.
    pub fn compile_rules(&self) -> Result<crate::mapping::Rules, ConfigError> {
        crate::mapping::Rules::compile(&self.boards).map_err(|error| ConfigError::Rules {
            source_name: self.source.clone(),
            error,
        })
    }

    /// The entities some board mirrors; events of other kinds are acknowledged and not stored.
    pub fn mirrors(&self, entity: Entity) -> bool {
        self.boards.iter().any(|b| b.entity == entity)
    }
}

pub use load::default_store_path;

#[cfg(test)]
mod card_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod valid_tests;
