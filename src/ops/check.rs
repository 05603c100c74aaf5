//! `check`: validate the configuration offline (keys, types, templates, secrets present) and,
//! with `--live`, against the boards monday has.

use std::path::Path;
use std::process::ExitCode;

use super::{check_live, monday_client, EXIT_CONFIG, EXIT_LIVE};
use crate::config::Settings;

/// Prints what it found; the exit status says it to scripts: 0 valid, 2 invalid configuration,
/// 3 live check failed.
pub async fn run(config: Option<&Path>, live: bool) -> ExitCode {
    let settings = match offline(config) {
        Ok(s) => s,
        Err(message) => {
            eprintln!("configuration error: {message}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    println!("{}: valid", settings.source);
    match &settings.server.tls.files {
        Some(files) => println!(
            "  public listener {}: HTTPS, certificate {}",
            settings.server.listen,
            files.certificate.path.display()
        ),
        None => println!(
            "  public listener {}: plain HTTP (put an HTTPS reverse proxy in front)",
            settings.server.listen
        ),
    }
    for b in &settings.boards {
        println!(
            "  board {:<12} {} board {} group {}, {} columns",
            b.name,
            b.entity.as_str(),
            b.board_id,
            b.group_id.as_deref().unwrap_or("(first)"),
            b.columns.len()
        );
    }
    for warning in crate::config::recovery_warnings(&settings.boards) {
        eprintln!("warning: {warning}");
    }
    if !live {
        return ExitCode::SUCCESS;
    }
    if settings.store.postgres_url().is_some() {
        use crate::store::{Role, Store};
        match Store::connect(&settings.store, Role::Tool).await {
            Ok(store) => println!("live: {} answers, schema up to date", store.describe()),
            Err(e) => {
                eprintln!("live check failed: store.url: cannot use the database: {e}");
                return ExitCode::from(EXIT_LIVE);
            }
        }
    }
    let problems = match monday_client(&settings) {
        Ok(client) => check_live::check(&client, &settings.boards).await,
        Err(e) => Err(e),
    };
    match problems {
        Ok(problems) if problems.is_empty() => {
            println!(
                "live: every board, group, column and status label exists on monday ({})",
                settings.monday.api_url
            );
            ExitCode::SUCCESS
        }
        Ok(problems) => {
            for p in &problems {
                eprintln!("live check: {p}");
            }
            eprintln!("live check failed: {} problem(s)", problems.len());
            ExitCode::from(EXIT_LIVE)
        }
        Err(e) => {
            eprintln!("live check failed: cannot ask monday: {e}");
            ExitCode::from(EXIT_LIVE)
        }
    }
}

/// Loads the settings and compiles the rules, as `run` does at start.
pub fn offline(config: Option<&Path>) -> Result<Settings, String> {
    let settings = Settings::load(config)
        .and_then(|s| s.require_secrets().map(|()| s))
        .map_err(|e| e.to_string())?;
    settings.compile_rules().map_err(|e| e.to_string())?;
    // The certificate and key as the listener will load them (PEM, key matches certificate),
    // so `ExecStartPre=` and `ExecReload=` catch a bad pair before it stops a start or a reload.
    crate::tls::load(&settings).map_err(|e| e.to_string())?;
    Ok(settings)
}
