//! Secrets come from the TOML file, the environment, a `*_file`, or systemd credentials
//! (`$CREDENTIALS_DIRECTORY/<name>`, set by `LoadCredential=`), in that order of preference
//! for the last two. They stay in `SecretString`, so `Debug` never prints them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};

use super::{ConfigError, Settings};

pub(super) fn resolve(settings: &mut Settings) -> Result<(), ConfigError> {
    let credentials = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);

    let token_file = settings.aircall.webhook_tokens_file.clone().or_else(|| {
        credential(credentials.as_deref(), "aircall_token")
            .filter(|_| settings.aircall.webhook_tokens.is_empty())
    });
    // A missing tokens file is no error yet: `webhook register` creates it. `run` still needs a
    // token and says so (require_secrets).
    if let Some(path) = token_file.filter(|p| p.exists()) {
        let text = read(&path)?;
        settings.aircall.webhook_tokens.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(|l| SecretString::from(l.to_string())),
        );
    }
    settings
        .aircall
        .webhook_tokens
        .retain(|t| !t.expose_secret().trim().is_empty());

    let monday_file = settings.monday.api_token_file.clone().or_else(|| {
        credential(credentials.as_deref(), "monday_token")
            .filter(|_| settings.monday.api_token.expose_secret().is_empty())
    });
    if let Some(path) = monday_file {
        let token = read(&path)?.trim().to_string();
        settings.monday.api_token = SecretString::from(token);
    }
    let admin_file = settings.admin.token_file.clone().or_else(|| {
        credential(credentials.as_deref(), "admin_token")
            .filter(|_| settings.admin.token.expose_secret().is_empty())
    });
    if let Some(path) = admin_file {
        let token = read(&path)?.trim().to_string();
        settings.admin.token = SecretString::from(token);
    }
    let api_file = settings.aircall.api_token_file.clone().or_else(|| {
        credential(credentials.as_deref(), "aircall_api_token")
            .filter(|_| settings.aircall.api_token.expose_secret().is_empty())
    });
    if let Some(path) = api_file {
        let token = read(&path)?.trim().to_string();
        settings.aircall.api_token = SecretString::from(token);
    }
    Ok(())
}

fn credential(dir: Option<&Path>, name: &str) -> Option<PathBuf> {
    let path = dir?.join(name);
    path.is_file().then_some(path)
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError::Secret {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Reads `["5s", "2m"]` into durations, naming the string that is not one.
pub(super) fn durations<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Duration>, D::Error> {
    let raw = Vec::<String>::deserialize(d)?;
    raw.iter()
        .map(|s| {
            humantime::parse_duration(s.trim()).map_err(|e| {
                serde::de::Error::custom(format!(
                    "{s:?} is not a duration ({e}); write e.g. \"30s\", \"5m\", \"2h\""
                ))
            })
        })
        .collect()
}
