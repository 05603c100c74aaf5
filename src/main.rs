//! Thin entry point: parse the command line, set up logging, hand over to the library.

use std::process::ExitCode;
use std::time::Duration;

use aircall_monday_bridge::cli::{Cli, Command, EventsAction};
use aircall_monday_bridge::config::{LogFormat, Settings};
use aircall_monday_bridge::ops::{self, OpsError};
use aircall_monday_bridge::startup::Application;
use aircall_monday_bridge::store::Store;
use aircall_monday_bridge::{demo, sandbox, telemetry};
use clap::Parser;
use std::path::PathBuf;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli.command).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run { config, ready_file } => {
            let settings = match Settings::load(config.as_deref()) {
                Ok(s) => s,
                Err(e) => return Ok(config_error(e)),
            };
            telemetry::init(settings.log.format, &settings.log.level);
            let app = match Application::build(settings).await {
                Ok(app) => app.reload_on_sighup(config.clone()),
                Err(e @ aircall_monday_bridge::startup::StartupError::Rules { .. }) => {
                    return Ok(config_error(e))
                }
                Err(e) => return Err(e.into()),
            };
            if let Some(path) = ready_file {
                let ready =
                    serde_json::json!({ "public": app.public_addr(), "admin": app.admin_addr() });
                std::fs::write(&path, ready.to_string())?;
            }
            app.run_until(shutdown_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { config, live } => Ok(ops::check::run(config.as_deref(), live).await),
        Command::Boards { config, board } => {
            let result = async {
                let settings = ops::load(config.as_deref())?;
                ops::boards::run(&ops::monday_client(&settings)?, board).await
            };
            Ok(report(result.await))
        }
        Command::Events { config, db, action } => Ok(report(events(config, db, action).await)),
        Command::Sandbox {
            listen,
            boards,
            token,
            limits,
            ready_file,
        } => {
            telemetry::init(LogFormat::Text, "info");
            let boards = match boards {
                Some(path) => sandbox::load_seed(&path)?,
                None => sandbox::parse_seed(demo::SANDBOX_BOARDS_TOML)?,
            };
            let limits = match limits {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)?;
                    toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
                }
                None => sandbox::Limits::default(),
            };
            let handle = sandbox::spawn(sandbox::SandboxConfig {
                listen,
                boards,
                api_token: token,
                limits,
            })
            .await?;
            println!(
                "monday sandbox: API {}  board page {}",
                handle.api_url(),
                handle.page_url()
            );
            if let Some(path) = ready_file {
                std::fs::write(
                    &path,
                    serde_json::json!({ "addr": handle.addr() }).to_string(),
                )?;
            }
            shutdown_signal().await;
            handle.stop().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo {
            sandbox_listen,
            data_dir,
            calls,
            pace_ms,
            seed,
            exit_when_done,
        } => {
            telemetry::init(LogFormat::Text, "warn");
            let opts = demo::DemoOptions {
                sandbox_listen,
                data_dir,
                calls,
                pace: Duration::from_millis(pace_ms),
                seed,
                exit_when_done,
            };
            demo::run(opts, shutdown_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// An operator command's outcome as an exit status, its error on stderr.
fn report(result: Result<(), OpsError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

async fn events(
    config: Option<PathBuf>,
    db: Option<PathBuf>,
    action: EventsAction,
) -> Result<(), OpsError> {
    let path = match db {
        Some(path) => path,
        None => ops::load(config.as_deref())?.store.path,
    };
    if !path.is_file() {
        return Err(OpsError::Usage(format!(
            "no database at {} (give --db or the --config the bridge runs with)",
            path.display()
        )));
    }
    let store = Store::open(&path)?;
    match action {
        EventsAction::List {
            filter,
            limit,
            json,
        } => ops::events::list(&store, &filter.into_ops(), limit, json).await,
        EventsAction::Show { id } => ops::events::show(&store, id).await,
        EventsAction::Replay { filter, all } => {
            ops::events::replay(&store, &filter.into_ops(), all).await
        }
        EventsAction::Drop { filter, all } => {
            ops::events::drop(&store, &filter.into_ops(), all).await
        }
    }
}

fn config_error(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("configuration error: {e}");
    ExitCode::from(ops::EXIT_CONFIG)
}

/// SIGTERM (systemd) or Ctrl-C.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
