//! aircall-monday-bridge: keeps monday.com boards in step with an Aircall phone system.
//!
//! Aircall webhooks come in through `ingest`, are stored durably by `store`, folded into the
//! state of each call or contact and turned into monday commands by `mapping` (pure), and sent
//! by `worker` through the `monday` client. `sandbox` is a local stand-in for monday's API.

#![forbid(unsafe_code)]

pub mod admin;
pub mod aircall;
pub mod aircall_sandbox;
pub mod cli;
pub mod commands;
pub mod config;
pub mod demo;
pub mod ingest;
pub mod listener;
pub mod maintenance;
pub mod mapping;
pub mod metrics;
pub mod monday;
pub mod ops;
pub mod reload;
pub mod sandbox;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod worker;
