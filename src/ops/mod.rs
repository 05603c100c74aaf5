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
