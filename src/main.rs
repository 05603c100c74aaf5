//! Thin entry point: parse the command line, set up logging, hand over to the library.

use std::process::ExitCode;

use aircall_monday_bridge::cli::{CallsAction, Cli, Command, EventsAction, WebhookAction};
use aircall_monday_bridge::commands::{self, backfill, webhook};
use aircall_monday_bridge::config::Settings;
#[cfg(feature = "sandbox")]
use aircall_monday_bridge::demo;
use aircall_monday_bridge::ops::{self, OpsError};
use aircall_monday_bridge::startup::Application;
use aircall_monday_bridge::telemetry;
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
            let settings = match Settings::load(config.as_deref())
                .and_then(|s| s.require_secrets().map(|()| s))
            {
                Ok(s) => s,
                Err(e) => return Ok(config_error(e)),
            };
            telemetry::init(settings.log.format, &settings.log.level);
            // Before anything can say "ready": a SIGTERM from then on drains.
            let stop = shutdown_signal();
            let app = match Application::build(settings).await {
                Ok(app) => app.reload_on_sighup(config.clone()),
                Err(
                    e @ (aircall_monday_bridge::startup::StartupError::Config(_)
                    | aircall_monday_bridge::startup::StartupError::Tls(_)),
                ) => return Ok(config_error(e)),
                Err(e) => return Err(e.into()),
            };
            if let Some(path) = ready_file {
                let ready =
                    serde_json::json!({ "public": app.public_addr(), "admin": app.admin_addr() });
                std::fs::write(&path, ready.to_string())?;
            }
            app.run_until(stop).await?;
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
        Command::Calls { config, db, action } => Ok(report(calls(config, db, action).await)),
        Command::Webhook { config, action } => {
            let settings = match Settings::load(config.as_deref()) {
                Ok(s) => s,
                Err(e) => return Ok(config_error(e)),
            };
            match action {
                WebhookAction::Register {
                    url,
                    name,
                    token_file,
                } => {
                    let done =
                        webhook::register(&settings, &url, &name, token_file.as_deref()).await?;
                    println!(
                        "webhook {} created for {} events",
                        done.webhook.webhook_id,
                        done.webhook.events.len()
                    );
                    match (done.stored_in, done.webhook.token) {
                        (Some(path), _) => println!("its token was appended to {path}; restart the bridge to accept it (systemctl restart aircall-monday-bridge)"),
                        (None, Some(_)) => println!(
                            "set aircall.webhook_tokens_file (or pass --token-file) to store its token; \
                             `webhook list` shows it meanwhile"
                        ),
                        (None, None) => println!("Aircall returned no token"),
                    }
                }
                WebhookAction::List => {
                    for w in webhook::list(&settings).await? {
                        println!(
                            "{}  {}  {} events  {}",
                            w.webhook_id,
                            if w.active { "active  " } else { "disabled" },
                            w.events.len(),
                            w.url
                        );
                    }
                }
                WebhookAction::Delete { id } => {
                    webhook::delete(&settings, &id).await?;
                    println!("webhook {id} deleted");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Backfill {
            config,
            since,
            until,
            contacts,
            restart,
            quiet,
        } => {
            let settings = match Settings::load(config.as_deref()) {
                Ok(s) => s,
                Err(e) => return Ok(config_error(e)),
            };
            let since = commands::parse_date(&since).map_err(anyhow::Error::msg)?;
            let until = match until {
                Some(u) => commands::parse_date(&u).map_err(anyhow::Error::msg)?,
                None => time::OffsetDateTime::now_utc().unix_timestamp(),
            };
            let opts = backfill::BackfillOptions {
                since,
                until,
                contacts,
                restart,
            };
            let bar = indicatif::ProgressBar::new(0);
            if quiet {
                bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
            }
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {pos}/{len} calls {wide_bar} {elapsed}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let mut progress = |seen: u64, expected: u64| {
                bar.set_length(expected.max(seen));
                bar.set_position(seen);
            };
            let report = backfill::run(&settings, &opts, &mut progress).await?;
            bar.finish_and_clear();
            if let Some(from) = report.resumed_from {
                println!(
                    "resumed from {from} (an earlier run got that far; --restart starts over)"
                );
            }
            println!(
                "{} calls and {} contacts read from Aircall; {} new to the journal, the rest already there",
                report.calls_seen, report.contacts_seen, report.stored
            );
            Ok(ExitCode::SUCCESS)
        }

        #[cfg(feature = "sandbox")]
        Command::Sandbox {
            listen,
            boards,
            token,
            limits,
            ready_file,
        } => {
            telemetry::init(aircall_monday_bridge::config::LogFormat::Text, "info");
            let opts = demo::SandboxOptions {
                listen,
                boards,
                token,
                limits,
                ready_file,
            };
            demo::serve_sandbox(opts, shutdown_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "sandbox")]
        Command::Demo {
            sandbox_listen,
            data_dir,
            calls,
            pace_ms,
            seed,
            exit_when_done,
        } => {
            telemetry::init(aircall_monday_bridge::config::LogFormat::Text, "warn");
            let opts = demo::DemoOptions {
                sandbox_listen,
                data_dir,
                calls,
                pace: std::time::Duration::from_millis(pace_ms),
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
    let settings = match (&db, &config) {
        (None, _) => Some(ops::load(config.as_deref())?),
        (Some(_), _) => None,
    };
    let store = ops::open_store(settings.as_ref(), db.as_deref()).await?;
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

async fn calls(
    config: Option<PathBuf>,
    db: Option<PathBuf>,
    action: CallsAction,
) -> Result<(), OpsError> {
    let settings = match &config {
        Some(path) => Some(ops::load(Some(path))?),
        None => None,
    };
    let store = ops::open_store(settings.as_ref(), db.as_deref()).await?;
    match action {
        CallsAction::Show { id } => ops::calls::show(&store, settings.as_ref(), &id).await,
        CallsAction::Find { query, limit } => ops::calls::find(&store, &query, limit).await,
    }
}

fn config_error(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("configuration error: {e}");
    ExitCode::from(ops::EXIT_CONFIG)
}

/// SIGTERM (systemd) or Ctrl-C. The SIGTERM handler is installed when this is called, not
/// when the future is first polled: a stop that arrives just after the bridge said it is ready
/// (READY=1, the ready file) must drain it, not kill it with the default action.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        #[cfg(unix)]
        {
            let Some(mut term) = term else {
                return std::future::pending().await;
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
}
