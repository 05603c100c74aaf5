//! Command-line interface: one subcommand per job an operator has.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "aircall-monday-bridge",
    version,
    about = "Keeps monday.com boards in step with an Aircall phone system",
    long_about = "Receives Aircall webhooks, stores them durably, and keeps one monday.com item per \
                  call and per contact up to date on the boards you map in a TOML file.",
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The `--help` examples common to every build.
macro_rules! examples {
    () => {
        "  aircall-monday-bridge boards --config bridge.toml --board 1234567890\n  \
        aircall-monday-bridge check --config /etc/aircall-monday-bridge/config.toml --live\n  \
        aircall-monday-bridge events --config /etc/aircall-monday-bridge/config.toml list --state dead\n  \
        aircall-monday-bridge run --config /etc/aircall-monday-bridge/config.toml"
    };
}

/// The `--help` examples; the packaged build has no `demo` to show.
#[cfg(feature = "sandbox")]
const EXAMPLES: &str = concat!(
    "Examples:\n  aircall-monday-bridge demo                                  # see it work, no account needed\n",
    examples!()
);
#[cfg(not(feature = "sandbox"))]
const EXAMPLES: &str = concat!("Examples:\n", examples!());

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the bridge: receive Aircall webhooks and keep the monday boards in step.
    #[command(
        after_help = "Example:\n  aircall-monday-bridge run --config config/example.toml\n\n\
        Environment variables override the file: BRIDGE__SECTION__KEY, e.g.\n  \
        BRIDGE__MONDAY__API_URL=http://127.0.0.1:8900/v2 aircall-monday-bridge run --config bridge.toml\n\n\
        Stops cleanly on SIGTERM or Ctrl-C: no new webhooks, work in flight finished."
    )]
    Run {
        /// TOML configuration laid over the built-in defaults (config/default.toml lists every key).
        #[arg(long, short, value_name = "PATH")]
        config: Option<PathBuf>,
        /// Once listening, write the bound addresses there as JSON (for scripts and tests).
        #[arg(long, value_name = "PATH")]
        ready_file: Option<PathBuf>,
    },
    /// Check a configuration offline (keys, types, templates, secrets present); with --live,
    /// against monday too (boards, groups, columns, column types, status labels).
    #[command(after_help = "Examples:\n  \
        aircall-monday-bridge check --config config/example.toml\n  \
        aircall-monday-bridge check --config /etc/aircall-monday-bridge/config.toml --live\n\n\
        Exit status: 0 valid, 2 invalid configuration (the message names the file and the key),\n\
        3 live check failed (each problem on its own line, naming the key; or monday unreachable).")]
    Check {
        /// TOML configuration to check, laid over the built-in defaults as `run` would.
        #[arg(long, short, value_name = "PATH")]
        config: Option<PathBuf>,
        /// Also ask monday whether the mapped boards, groups, columns and labels exist.
        #[arg(long)]
        live: bool,
    },
    /// List the monday boards the token can see, or print one board as a mapping skeleton.
    #[command(after_help = "Examples:\n  \
        aircall-monday-bridge boards --config bridge.toml                      # id and name of every board\n  \
        aircall-monday-bridge boards --config bridge.toml --board 1234567890 > board.toml\n\n\
        The skeleton is a [[boards]] table with a [boards.columns.<id>] block per column: type,\n\
        a guessed field, status labels for every value of the field. Put it in place of that\n\
        board's [[boards]] table in the configuration, not after it: two tables for one board\n\
        would give every call two items (check refuses that). Check the guesses, then run\n\
        `check --live`.\n\
        Exit status: 0 ok, 2 invalid configuration, 3 monday could not be asked, 1 no such board.")]
    Boards {
        /// Configuration giving monday's URL and token (api_url, api_token or the credential).
        #[arg(long, short, value_name = "PATH")]
        config: Option<PathBuf>,
        /// Print this board's groups and columns as a TOML mapping skeleton.
        #[arg(long, value_name = "ID")]
        board: Option<String>,
    },
    /// The event journal and the dead letter: list, show, replay, drop.
    #[command(after_help = "Examples:\n  \
        aircall-monday-bridge events --config bridge.toml list --state dead\n  \
        aircall-monday-bridge events --config bridge.toml list --call 1843200101\n  \
        aircall-monday-bridge events --config bridge.toml show 42\n  \
        aircall-monday-bridge events --config bridge.toml replay --all        # every dead letter\n  \
        aircall-monday-bridge events --db /var/lib/aircall-monday-bridge/bridge.db drop --state done --older-than 30d\n\n\
        Works on the SQLite file beside a running bridge; it picks replayed events up at its next poll.")]
    Events {
        /// Configuration whose store.path is the database (before or after the action).
        #[arg(long, short, value_name = "PATH", global = true)]
        config: Option<PathBuf>,
        /// The SQLite file itself, instead of --config (before or after the action).
        #[arg(long, value_name = "PATH", conflicts_with = "config", global = true)]
        db: Option<PathBuf>,
        #[command(subcommand)]
        action: EventsAction,
    },
    /// Explain a call: `show ID` (its events, observed state, what each board's when and
    /// routes made of it, its items with links, last error, next attempt), `find PHONE|NAME`.
    #[command(after_help = "Examples:\n  \
        aircall-monday-bridge calls --config /etc/aircall-monday-bridge/config.toml show 1843200101\n  \
        aircall-monday-bridge calls --config bridge.toml find \"06 12 34 56 78\"\n  \
        aircall-monday-bridge calls --config bridge.toml find dupont\n\n\
        Reads the SQLite file beside a running bridge, as `events` does.\n\
        Exit status: 0 found, 1 no such call (or no database), 2 invalid configuration.")]
    Calls {
        /// Configuration the bridge runs with: its store.path is the database, its boards say
        /// what each board makes of the call (before or after the action).
        #[arg(long, short, value_name = "PATH", global = true)]
        config: Option<PathBuf>,
        /// The SQLite file itself, instead of store.path (board decisions then need --config).
        #[arg(long, value_name = "PATH", global = true)]
        db: Option<PathBuf>,
        #[command(subcommand)]
        action: CallsAction,
    },
    /// Manage the Aircall webhook through Aircall's API (needs aircall.api_id and api_token).
    #[command(after_help = "Examples:\n  \
        aircall-monday-bridge webhook register --config bridge.toml --url https://bridge.example.com/webhooks/aircall\n  \
        aircall-monday-bridge webhook list --config bridge.toml\n  \
        aircall-monday-bridge webhook delete --config bridge.toml c2501111-8a69-4342-bb34-bcd6cfe564ab")]
    Webhook {
        /// Configuration with aircall.api_id and the API token (api_token, api_token_file or
        /// the credential aircall_api_token), and where register stores the webhook's token.
        #[arg(long, short, value_name = "PATH", global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        action: WebhookAction,
    },
    /// Pull calls (and contacts) from Aircall's API onto the boards: history, or events Aircall
    /// gave up delivering. Safe to run again; resumes where it stopped.
    #[command(after_help = "Example:\n  \
        aircall-monday-bridge backfill --config bridge.toml --since 2026-11-01 --until 2026-11-29\n\n\
        Calls go into the bridge's journal; a running bridge (or the next start) puts them on the boards.")]
    Backfill {
        /// Configuration the bridge runs with: Aircall's API credentials, the boards (which
        /// events to pull) and store.path (the journal the calls go into).
        #[arg(long, short, value_name = "PATH")]
        config: Option<PathBuf>,
        /// First day (2026-11-01, midnight UTC) or moment (RFC 3339) of calls to pull.
        #[arg(long, value_name = "DATE")]
        since: String,
        /// End (exclusive); now when absent.
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
        /// Pull contacts too (all of them; Aircall has no date filter for contacts).
        #[arg(long)]
        contacts: bool,
        /// Start at --since even if an earlier run got further.
        #[arg(long)]
        restart: bool,
        /// No progress bar (for logs and scripts).
        #[arg(long)]
        quiet: bool,
    },
    /// Run the local stand-in for monday.com's API, with a board page, limits and fault injection.
    #[cfg(feature = "sandbox")]
    #[command(
        after_help = "Example:\n  aircall-monday-bridge sandbox --listen 127.0.0.1:8900\n  \
        then open http://127.0.0.1:8900/ and point the bridge at BRIDGE__MONDAY__API_URL=http://127.0.0.1:8900/v2"
    )]
    Sandbox {
        #[arg(long, default_value = "127.0.0.1:8900", value_name = "ADDR")]
        listen: std::net::SocketAddr,
        /// Boards to start with (crates/monday-sandbox/boards.toml shows the format); the
        /// example boards when absent.
        #[arg(long, value_name = "PATH")]
        boards: Option<PathBuf>,
        /// Token that requests must send in Authorization; any token is accepted when absent.
        #[arg(long, value_name = "TOKEN")]
        token: Option<String>,
        /// Limits and cost model as TOML (minute_requests, daily_requests, ...).
        #[arg(long, value_name = "PATH")]
        limits: Option<PathBuf>,
        /// Once listening, write the bound address there as JSON (for scripts and tests).
        #[arg(long, value_name = "PATH")]
        ready_file: Option<PathBuf>,
    },
    /// See it work with no account anywhere: sandbox + bridge + a realistic day of calls.
    #[cfg(feature = "sandbox")]
    #[command(after_help = "Example:\n  aircall-monday-bridge demo\n  \
        then open the board page it prints, and watch items appear and change.")]
    Demo {
        /// Where the sandbox (and its board page) listens.
        #[arg(long, default_value = "127.0.0.1:8900", value_name = "ADDR")]
        sandbox_listen: std::net::SocketAddr,
        /// Where the demo keeps its SQLite file.
        #[arg(long, default_value = "data", value_name = "DIR")]
        data_dir: PathBuf,
        /// How many calls the day has.
        #[arg(long, default_value_t = 40)]
        calls: usize,
        /// Pause between two webhooks, in milliseconds.
        #[arg(long, default_value_t = 40)]
        pace_ms: u64,
        /// Seed of the generated day (the same seed gives the same day).
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Exit once every webhook is on the boards instead of keeping the page up.
        #[arg(long)]
        exit_when_done: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CallsAction {
    /// Everything the store knows of one call, and what each call board made of it.
    Show {
        /// The Aircall call id.
        id: String,
    },
    /// Calls whose number (any writing) or contact name matches, newest first.
    Find {
        /// A phone number ("+33 6 12 34 56 78", "0612345678") or part of a name or company.
        query: String,
        /// At most this many calls.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum WebhookAction {
    /// Create the webhook, subscribed to the events the boards use, and store its token in
    /// aircall.webhook_tokens_file (or --token-file).
    Register {
        /// The bridge's public webhook URL (HTTPS); the URL secret is appended when configured.
        #[arg(long, value_name = "URL")]
        url: String,
        #[arg(long, default_value = "aircall-monday-bridge")]
        name: String,
        /// Append the token to this file instead of aircall.webhook_tokens_file.
        #[arg(long, value_name = "PATH")]
        token_file: Option<PathBuf>,
    },
    /// List the account's webhooks.
    List,
    /// Delete a webhook by its id (see `list`).
    Delete { id: String },
}

#[derive(Debug, Subcommand)]
pub enum EventsAction {
    /// Events matching the filter, newest first.
    #[command(
        after_help = "Example:\n  aircall-monday-bridge events --config bridge.toml list --state dead --newer-than 1d"
    )]
    List {
        #[command(flatten)]
        filter: EventFilterArgs,
        /// At most this many events.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// One JSON object per line, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// One event with its payload and error.
    #[command(
        after_help = "Example:\n  aircall-monday-bridge events --config bridge.toml show 42"
    )]
    Show {
        /// The event id (first column of `list`).
        id: i64,
    },
    /// Send dead letters again (after fixing the configuration): one, a filter, or --all.
    /// Only dead letters: pending events are retried by the bridge itself (`list --state
    /// pending` shows them with their last error).
    #[command(after_help = "Examples:\n  \
        aircall-monday-bridge events --config bridge.toml replay --id 42\n  \
        aircall-monday-bridge events --config bridge.toml replay --event call.ended --newer-than 2h\n  \
        aircall-monday-bridge events --config bridge.toml replay --all")]
    Replay {
        #[command(flatten)]
        filter: ReplayFilterArgs,
        /// Every dead letter.
        #[arg(long)]
        all: bool,
    },
    /// Delete events for good: needs a filter or --all, and says how many it dropped.
    #[command(
        after_help = "Example:\n  aircall-monday-bridge events --config bridge.toml drop --state done --older-than 30d"
    )]
    Drop {
        #[command(flatten)]
        filter: EventFilterArgs,
        /// Every event matching nothing narrower: the whole journal.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct EventFilterArgs {
    /// One event by id.
    #[arg(long)]
    pub id: Option<i64>,
    /// pending, done or dead.
    #[arg(long)]
    pub state: Option<String>,
    /// Events of this Aircall call id.
    #[arg(long, value_name = "ID")]
    pub call: Option<String>,
    /// Events of this Aircall contact id.
    #[arg(long, value_name = "ID")]
    pub contact: Option<String>,
    /// Events of this type, e.g. call.ended.
    #[arg(long)]
    pub event: Option<String>,
    /// Received at least this long ago, e.g. 30m, 2h, 7d.
    #[arg(long, value_name = "AGE", value_parser = humantime::parse_duration)]
    pub older_than: Option<std::time::Duration>,
    /// Received at most this long ago.
    #[arg(long, value_name = "AGE", value_parser = humantime::parse_duration)]
    pub newer_than: Option<std::time::Duration>,
}

/// The filter of `replay`: that of `list` without `--state`, since only dead letters replay.
#[derive(Debug, Clone, clap::Args)]
pub struct ReplayFilterArgs {
    /// One dead event by id.
    #[arg(long)]
    pub id: Option<i64>,
    /// Dead events of this Aircall call id.
    #[arg(long, value_name = "ID")]
    pub call: Option<String>,
    /// Dead events of this Aircall contact id.
    #[arg(long, value_name = "ID")]
    pub contact: Option<String>,
    /// Dead events of this type, e.g. call.ended.
    #[arg(long)]
    pub event: Option<String>,
    /// Received at least this long ago, e.g. 30m, 2h, 7d.
    #[arg(long, value_name = "AGE", value_parser = humantime::parse_duration)]
    pub older_than: Option<std::time::Duration>,
    /// Received at most this long ago.
    #[arg(long, value_name = "AGE", value_parser = humantime::parse_duration)]
    pub newer_than: Option<std::time::Duration>,
    /// Not offered (replay takes dead letters only); kept so that `--state dead` still works
    /// and any other state gets an explanation instead of a bare usage error.
    #[arg(long, hide = true)]
    pub state: Option<String>,
}

impl ReplayFilterArgs {
    pub fn into_ops(self) -> crate::ops::events::FilterArgs {
        crate::ops::events::FilterArgs {
            id: self.id,
            state: self.state,
            call: self.call,
            contact: self.contact,
            event: self.event,
            older_than: self.older_than,
            newer_than: self.newer_than,
        }
    }
}

impl EventFilterArgs {
    pub fn into_ops(self) -> crate::ops::events::FilterArgs {
        crate::ops::events::FilterArgs {
            id: self.id,
            state: self.state,
            call: self.call,
            contact: self.contact,
            event: self.event,
            older_than: self.older_than,
            newer_than: self.newer_than,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    fn help(path: &[&str]) -> String {
        let mut cmd = Cli::command();
        for name in path {
            cmd = cmd.find_subcommand(name).unwrap().clone();
        }
        cmd.render_long_help().to_string()
    }

    #[test]
    fn every_config_option_has_help_text() {
        let mut cmd = Cli::command();
        cmd.build();
        for sub in cmd.get_subcommands() {
            for arg in sub.get_arguments().filter(|a| a.get_id() == "config") {
                assert!(
                    arg.get_help().is_some(),
                    "{} --config has no help text",
                    sub.get_name()
                );
            }
        }
    }

    #[test]
    fn replay_does_not_offer_a_state_it_refuses() {
        let text = help(&["events", "replay"]);
        assert!(!text.contains("--state <"), "{text}");
        assert!(!text.contains("pending, done or dead"), "{text}");
    }

    #[test]
    fn boards_help_does_not_suggest_appending_to_a_configuration() {
        let text = help(&["boards"]);
        assert!(!text.contains(">>"), "{text}");
        assert!(text.contains("in place of"), "{text}");
    }
}
