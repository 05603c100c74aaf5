//! `BRIDGE__SECTION__KEY` variables: one that names no setting is refused up front, and an
//! error about a key some variable set names that variable, not the file.

use super::{ConfigError, DEFAULT_TOML};

/// Keys that have no default, so `config/default.toml` lists them commented out.
const OPTIONAL_KEYS: &[&str] = &[
    "aircall.webhook_tokens_file",
    "aircall.api_token_file",
    "monday.api_token_file",
    "admin.token_file",
    "server.tls.certificate_file",
    "server.tls.key_file",
];

/// Every setting a variable may set, as `section.key`.
fn known_keys() -> Vec<String> {
    let defaults: toml::Table = toml::from_str(DEFAULT_TOML).unwrap_or_default();
    let mut keys: Vec<String> = OPTIONAL_KEYS.iter().map(|k| k.to_string()).collect();
    for (section, table) in &defaults {
        if let Some(table) = table.as_table() {
            add_keys(section, table, &mut keys);
        }
    }
    keys
}

/// The keys of `table` under `prefix`, at any depth (`server.limits.body_idle_timeout`).
fn add_keys(prefix: &str, table: &toml::Table, keys: &mut Vec<String>) {
    for (k, v) in table {
        let key = format!("{prefix}.{k}");
        if let Some(inner) = v.as_table() {
            add_keys(&key, inner, keys);
        } else {
            keys.push(key);
        }
    }
}

fn key_of(var: &str) -> String {
    var.trim_start_matches("BRIDGE__")
        .split("__")
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join(".")
}

/// The variables by the key they set; an error for the first that sets no known key.
pub(super) fn check(env: &[(String, String)]) -> Result<Vec<(String, String)>, ConfigError> {
    let known = known_keys();
    let mut by_key = Vec::new();
    for (var, _) in env {
        let key = key_of(var);
        if !known.contains(&key) {
            let hint = match nearest(&key, &known) {
                Some(k) => format!(
                    "did you mean {k} (BRIDGE__{})? ",
                    k.replace('.', "__").to_ascii_uppercase()
                ),
                None => String::new(),
            };
            return Err(ConfigError::Load {
                source_name: format!("environment variable {var}"),
                message: format!(
                    "no setting {key}; {hint}variables are BRIDGE__SECTION__KEY with double \
                     underscores, and config/default.toml lists every key (board mappings \
                     belong in the file)"
                ),
            });
        }
        by_key.push((key, var.clone()));
    }
    Ok(by_key)
}

/// The known key closest to `key` in edit distance, when it is close (a typo).
fn nearest<'a>(key: &str, known: &'a [String]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (distance(key, k), k))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.as_str())
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The same error, blaming the variable when the key it is about was set by one.
pub(super) fn blame(e: ConfigError, by_key: &[(String, String)]) -> ConfigError {
    let var_of = |key: &str| {
        by_key
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| format!("environment variable {v}"))
    };
    match e {
        ConfigError::Invalid {
            source_name,
            key,
            message,
        } => ConfigError::Invalid {
            source_name: var_of(&key).unwrap_or(source_name),
            key,
            message,
        },
        ConfigError::Load {
            source_name,
            message,
        } => {
            // config names the key as "for key `monday.timeout_secs`".
            let key = message
                .split_once("for key `")
                .and_then(|(_, rest)| rest.split_once('`'))
                .map(|(k, _)| k.to_string());
            match key.as_deref().and_then(var_of) {
                Some(var) => ConfigError::Load {
                    source_name: var,
                    message: message.replace(" in the environment", ""),
                },
                None => ConfigError::Load {
                    source_name,
                    message,
                },
            }
        }
        other => other,
    }
}
