//! aircall-monday-bridge: keeps monday.com boards in step with an Aircall phone system.
//!
//! Aircall webhooks come in through `ingest`, are stored durably by `store`, folded into the
//! state of each call or contact and turned into monday commands by `mapping` (pure), and sent
//! by `worker` through the `monday` client. `admin` serves health, metrics and the status page;
//! `ops` and `commands` are the operator's subcommands. `demo` (feature `sandbox`, on in the
//! checkout's build, off in the packaged daemon) runs the bridge against the stand-ins, which
//! are crates of their own: `crates/monday-sandbox` and, for tests, `crates/aircall-sandbox`.

#![forbid(unsafe_code)]

pub mod admin;
pub mod aircall;
pub mod budget;
pub mod cards;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
#[cfg(feature = "sandbox")]
pub mod demo;
pub mod entity;
pub mod ingest;
pub mod listener;
pub mod maintenance;
pub mod mapping;
pub mod metrics;
pub mod monday;
pub mod ops;
pub mod reload;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod tls;
pub mod worker;
