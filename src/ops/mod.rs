//! The operator's set-up and maintenance commands (`check`, `boards`, `events`): their logic
//! lives here so that `main` only parses the command line and hands over. Each returns the
//! process exit status, documented in `--help` and the README.

pub mod boards;
pub mod calls;
pub mod check;
pub mod check_live;
pub mod events;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use crate::config::{ConfigError, Settings};
use crate::metrics::Metrics;
use crate::monday::{MondayClient, MondayError};

/// The configuration cannot be used (scripts and `ExecStartPre=` read it).
pub const EXIT_CONFIG: u8 = 2;
/// The configuration is valid, but monday disagrees with it (or could not be asked).
pub const EXIT_LIVE: u8 = 3;

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error("configuration error: {0}")]
    Config(#[from] ConfigError),
    /// Every monday error says "monday" itself.
    #[error("{0}")]
    Monday(#[from] MondayError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Usage(String),
}

impl OpsError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            OpsError::Config(_) => ExitCode::from(EXIT_CONFIG),
            OpsError::Monday(_) => ExitCode::from(EXIT_LIVE),
            OpsError::Store(_) | OpsError::Usage(_) => ExitCode::FAILURE,
        }
    }
}

/// A monday client built from the configuration, for one-shot commands.
pub fn monday_client(settings: &Settings) -> Result<MondayClient, OpsError> {
    Ok(MondayClient::new(
        &settings.monday,
        Arc::new(Metrics::default()),
    )?)
}

/// Loads the configuration as `run` would.
pub fn load(config: Option<&Path>) -> Result<Settings, OpsError> {
    Ok(Settings::load(config)?)
}

/// The store an operator command works on beside the running bridge: the SQLite file given
/// with `--db`, else the store of the configuration (`store.url`'s PostgreSQL, or the SQLite
/// file at `store.path`, which must exist: a command never creates an empty one by mistake).
pub async fn open_store(
    settings: Option<&Settings>,
    db: Option<&Path>,
) -> Result<crate::store::Store, OpsError> {
    use crate::store::{Role, Store};
    let path = match (db, settings) {
        (Some(path), _) => path.to_path_buf(),
        (None, Some(s)) if s.store.postgres_url().is_some() => {
            return Ok(Store::connect(&s.store, Role::Tool).await?)
        }
        (None, Some(s)) => s.store.path.clone(),
        (None, None) => {
            return Err(OpsError::Usage(
                "give --config (the bridge's configuration) or --db (its SQLite file)".into(),
            ))
        }
    };
    if !path.is_file() {
        return Err(OpsError::Usage(format!(
            "no database at {} (give --db or the --config the bridge runs with)",
            path.display()
        )));
    }
    Ok(Store::open(&path)?)
}
