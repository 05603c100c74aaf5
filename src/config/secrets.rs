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
    refuse_hiding_placeholders(settings, credentials.as_deref())?;

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

/// A value such as the example's "replace-with-your-monday-api-token": never a real token.
fn is_placeholder(token: &str) -> bool {
    let t = token.trim().to_ascii_lowercase();
    t.starts_with("replace-with") || t.starts_with("your-") || t.contains("placeholder")
}

/// A placeholder token left in the TOML wins over the credential beside it, and monday or
/// Aircall then answer "Unauthorized" with no word of why: refuse it, naming both.
fn refuse_hiding_placeholders(
    settings: &Settings,
    credentials: Option<&Path>,
) -> Result<(), ConfigError> {
    let checks = [
        (
            "aircall.webhook_tokens",
            settings
                .aircall
                .webhook_tokens
                .iter()
                .any(|t| is_placeholder(t.expose_secret()))
                && settings.aircall.webhook_tokens_file.is_none(),
            "aircall_token",
        ),
        (
            "monday.api_token",
            is_placeholder(settings.monday.api_token.expose_secret())
                && settings.monday.api_token_file.is_none(),
            "monday_token",
        ),
        (
            "aircall.api_token",
            is_placeholder(settings.aircall.api_token.expose_secret())
                && settings.aircall.api_token_file.is_none(),
            "aircall_api_token",
        ),
    ];
    for (key, placeholder, name) in checks {
        if let (true, Some(path)) = (placeholder, credential(credentials, name)) {
            return Err(ConfigError::Invalid {
                source_name: settings.source.clone(),
                key: key.to_string(),
                message: format!(
                    "is the example's placeholder, and a token set here hides the credential \
                     {name} ({}): delete the {} line from the file so the credential is used",
                    path.display(),
                    key.rsplit('.').next().unwrap_or(key)
                ),
            });
        }
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
