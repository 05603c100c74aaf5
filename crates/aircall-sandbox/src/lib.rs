//! A local stand-in for Aircall's public API (reference/aircall.md §5), for the tests of
//! `webhook`, `backfill` and recording refreshes: Basic auth (401 without credentials, 403
//! with wrong ones), paged calls and contacts, webhooks, a per-minute rate limit answered with
//! 429 and the `X-AircallApi-*` headers, and recording files whose links expire.
//! AI insights per call (`insights`: 404 when not generated, 403 without AI Assist), and the
//! insight cards pushed onto calls (`cards`: recorded with their arrival time, faults on
//! demand).
//! `/_aircall/*` lets tests seed data and read the requests it received (recording downloads
//! included).

#![forbid(unsafe_code)]

mod cards;
mod events;
mod insights;
mod recordings;
mod routes;

pub use cards::ReceivedCard;
pub use events::EVENTS;
pub use insights::{sample_insights, RESOURCES as INSIGHT_RESOURCES};
pub use recordings::{recording_bytes, recording_url, with_fresh_links};

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Mutex;

use actix_web::{web, App, HttpServer};
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct AircallSandboxConfig {
    pub listen: SocketAddr,
    pub api_id: String,
    pub api_token: String,
    /// Requests allowed per window (Aircall: per minute) before 429.
    pub per_minute: u32,
    /// The window's length in seconds: 60 like Aircall, shorter in tests.
    pub window_secs: u64,
    pub calls: Vec<Value>,
    pub contacts: Vec<Value>,
}

/// A request as received, for tests to check what the bridge sent.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub query: String,
    pub authorization: Option<String>,
    pub body: Value,
}

pub(crate) struct State {
    pub config: AircallSandboxConfig,
    pub calls: Vec<Value>,
    pub contacts: Vec<Value>,
    pub webhooks: Vec<Value>,
    pub received: Vec<Received>,
    /// Times (ms) of the requests in the last minute.
    pub window: VecDeque<i64>,
    pub rate_limited: u64,
    pub next_id: u64,
    /// `http://<addr>`: the base of the recording links it hands out.
    pub base_url: String,
    /// AI insights by (call id, resource), served by `insights`.
    pub insights: std::collections::HashMap<(u64, String), Value>,
    /// `false`: the account has no AI Assist (403 on the insight endpoints).
    pub ai_assist: bool,
    /// Insight cards accepted, in arrival order, and the faults their endpoint injects.
    pub cards: Vec<ReceivedCard>,
    pub card_faults: cards::CardFaults,
}

pub struct AircallSandboxHandle {
    addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
}

impl AircallSandboxHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to configure as `aircall.api_url`.
    pub fn api_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}

pub async fn spawn(config: AircallSandboxConfig) -> std::io::Result<AircallSandboxHandle> {
    let listener = std::net::TcpListener::bind(config.listen)?;
    let addr = listener.local_addr()?;
    let state = web::Data::new(Mutex::new(State {
        calls: config.calls.clone(),
        contacts: config.contacts.clone(),
        config,
        webhooks: Vec::new(),
        received: Vec::new(),
        window: VecDeque::new(),
        rate_limited: 0,
        next_id: 1,
        base_url: format!("http://{addr}"),
        insights: Default::default(),
        ai_assist: true,
        cards: Vec::new(),
        card_faults: Default::default(),
    }));
    let server =
        HttpServer::new(move || App::new().app_data(state.clone()).configure(routes::routes))
            .workers(1)
            .disable_signals()
            .listen(listener)?
            .run();
    let handle = server.handle();
    tokio::spawn(server);
    Ok(AircallSandboxHandle { addr, handle })
}
