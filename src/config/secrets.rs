//! Secrets come from the TOML file, the environment, a `*_file`, or systemd credentials
//! (`$CREDENTIALS_DIRECTORY/<name>`, set by `LoadCredential=`), in that order of preference
//! for the last two. They stay in `SecretString`, so `Debug` never prints them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{ConfigError, Settings};

pub(super) fn resolve(settings: &mut Settings) -> Result<(), ConfigError> {
    let credentials = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
    refuse_hiding_placeholders(settings, credentials.as_deref())?;
    super::tls::resolve(
        &mut settings.server.tls,
        &settings.source,
        credentials.as_deref(),
    )?;

    // Webhook tokens are a list: the file's and the credential's both count, so setting one
    // never hides the other.
    let token_files = [
        settings
            .aircall
            .webhook_tokens_file
            .clone()
            .map(|p| (p, "aircall.webhook_tokens_file")),
        credential(credentials.as_deref(), "aircall_token")
            .map(|p| (p, "the credential aircall_token")),
    ];
    for (path, what) in token_files.into_iter().flatten() {
        // A missing tokens file is no error yet: `webhook register` creates it. `run` still
        // needs a token and says so (require_secrets).
        let Some(text) = read_if_present(&path, what)? else {
            continue;
        };
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
        let token = read(&path, "the monday API token")?.trim().to_string();
        settings.monday.api_token = SecretString::from(token);
    }
    let admin_file = settings.admin.token_file.clone().or_else(|| {
        credential(credentials.as_deref(), "admin_token")
            .filter(|_| settings.admin.token.expose_secret().is_empty())
    });
    if let Some(path) = admin_file {
        let token = read(&path, "the admin listener's bearer token")?
            .trim()
            .to_string();
        settings.admin.token = SecretString::from(token);
    }
    let api_file = settings.aircall.api_token_file.clone().or_else(|| {
        credential(credentials.as_deref(), "aircall_api_token")
            .filter(|_| settings.aircall.api_token.expose_secret().is_empty())
    });
    if let Some(path) = api_file {
        let token = read(&path, "the Aircall API token")?.trim().to_string();
        settings.aircall.api_token = SecretString::from(token);
    }
    let store_file = settings
        .store
        .password_file
        .clone()
        .or_else(|| credential(credentials.as_deref(), "store_password"));
    if let Some(path) = store_file {
        let password = read(&path, "the PostgreSQL password")?.trim().to_string();
        settings.store.password = SecretString::from(password);
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

fn read(path: &Path, what: &str) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| unreadable(path, what, &e))
}

/// The file's text, or `None` when there is no such file.
fn read_if_present(path: &Path, what: &str) -> Result<Option<String>, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(unreadable(path, what, &e)),
    }
}

/// Why a secret file cannot be read, and what to do. Under the unit's `DynamicUser=` the
/// service is a user of its own that cannot read root-only files such as
/// /etc/aircall-monday-bridge/credentials/: there the tokens come in as credentials.
pub(super) fn unreadable(path: &Path, what: &str, e: &std::io::Error) -> ConfigError {
    let message = match e.kind() {
        std::io::ErrorKind::PermissionDenied => format!(
            "cannot read (permission denied) {what}. The systemd service runs as a dynamic user \
             that cannot read root-only files: leave the *_file keys unset and let the unit load \
             the tokens from /etc/aircall-monday-bridge/credentials/ as credentials \
             (LoadCredential=, README \"Install\"); run commands outside the service with sudo \
             and CREDENTIALS_DIRECTORY=/etc/aircall-monday-bridge/credentials"
        ),
        std::io::ErrorKind::NotFound => format!("{what}: no such file"),
        _ => format!("cannot read {what}: {e}"),
    };
    ConfigError::Secret {
        path: path.to_path_buf(),
        message,
    }
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

/// Whether `given` is one of the secrets in `wanted`, in constant time: every secret is
/// compared (no early exit), and both sides are hashed first so that not even the length of a
/// secret leaks through timing. The one comparison of secrets in the bridge: webhook tokens,
/// the webhook URL's secret, the admin bearer token and the replay form's token.
pub fn is_one_of<'a>(given: &str, wanted: impl IntoIterator<Item = &'a str>) -> bool {
    let given = Sha256::digest(given.as_bytes());
    let mut ok = subtle::Choice::from(0u8);
    for want in wanted {
        ok |= given
            .as_slice()
            .ct_eq(Sha256::digest(want.as_bytes()).as_slice());
    }
    bool::from(ok)
}

/// Whether `given` is the secret `want`, in constant time (see [`is_one_of`]).
pub fn same_secret(given: &str, want: &str) -> bool {
    is_one_of(given, [want])
}

#[cfg(test)]
mod compare_tests {
    use super::{is_one_of, same_secret};

    #[test]
    fn compares_whole_secrets_against_every_candidate() {
        assert!(same_secret("s3cret", "s3cret"));
        assert!(!same_secret("s3cre", "s3cret"));
        assert!(!same_secret("", "s3cret"));
        assert!(is_one_of("new", ["old", "new"]));
        assert!(!is_one_of("other", ["old", "new"]));
        assert!(!is_one_of("any", []));
    }
}
