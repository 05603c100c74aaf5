//! End-to-end tests: the real bridge, either built in this process (`app::spawn_app`) or the
//! `aircall-monday-bridge` binary as a child process (`helpers::Bridge`, for signals, crashes
//! and the CLI), the monday sandbox in this process, real HTTP between them.

#[path = "common/tools.rs"]
mod tools;

#[path = "bridge/helpers.rs"]
mod helpers;

#[path = "bridge/app.rs"]
mod app;
#[path = "bridge/app_wait.rs"]
mod app_wait;

#[path = "bridge/aircall_api.rs"]
mod aircall_api;

#[path = "bridge/admin_exposure.rs"]
mod admin_exposure;
#[path = "bridge/bad_input.rs"]
mod bad_input;
#[path = "bridge/bench_table.rs"]
mod bench_table;
#[path = "bridge/budget.rs"]
mod budget;
#[path = "bridge/calls.rs"]
mod calls;
#[path = "bridge/chaos.rs"]
mod chaos;
#[path = "bridge/cli_edges.rs"]
mod cli_edges;
#[path = "bridge/compressed_day.rs"]
mod compressed_day;
#[path = "bridge/contacts.rs"]
mod contacts;
#[path = "bridge/corpus.rs"]
mod corpus;
#[path = "bridge/credentials.rs"]
mod credentials;
#[path = "bridge/database_outage.rs"]
mod database_outage;
#[path = "bridge/delivery.rs"]
mod delivery;
#[path = "bridge/disk.rs"]
mod disk;
#[path = "bridge/exactly_once.rs"]
mod exactly_once;
#[path = "bridge/expected.rs"]
mod expected;
#[path = "bridge/features.rs"]
mod features;
#[path = "bridge/in_process.rs"]
mod in_process;
#[path = "bridge/insight_cards.rs"]
mod insight_cards;
#[path = "bridge/insights.rs"]
mod insights;
#[path = "bridge/insights_alone.rs"]
mod insights_alone;
#[path = "bridge/insights_trouble.rs"]
mod insights_trouble;
#[path = "bridge/lifecycle.rs"]
mod lifecycle;
#[path = "bridge/limits.rs"]
mod limits;
#[path = "bridge/log_safety.rs"]
mod log_safety;
#[path = "bridge/messages.rs"]
mod messages;
#[path = "bridge/metrics.rs"]
mod metrics;
#[path = "bridge/mounts.rs"]
mod mounts;
#[path = "bridge/notify.rs"]
mod notify;
#[path = "bridge/ops.rs"]
mod ops;
#[path = "bridge/outage.rs"]
mod outage;
#[path = "bridge/raw.rs"]
mod raw;
#[path = "bridge/recordings.rs"]
mod recordings;
#[path = "bridge/replicas.rs"]
mod replicas;
#[path = "bridge/screenshots.rs"]
mod screenshots;
#[path = "bridge/setup_commands.rs"]
mod setup_commands;
#[path = "bridge/status_page.rs"]
mod status_page;
#[path = "bridge/sync_health.rs"]
mod sync_health;
// The benchmark table's code, for its quick mode (bench_table.rs).
#[path = "../benches/table/mod.rs"]
mod table;
#[path = "bridge/tls.rs"]
mod tls;
#[path = "bridge/transcript_file.rs"]
mod transcript_file;
