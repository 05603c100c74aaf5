//! Where settings come from, in order: the built-in defaults, one TOML file (or text),
//! `BRIDGE__SECTION__KEY` environment variables, then secrets read from files; the result is
//! validated before it is handed back.

use std::path::{Path, PathBuf};

use super::{env_keys, secrets, ConfigError, Settings, Source, DEFAULT_TOML};

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
