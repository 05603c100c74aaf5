//! The admin listener (loopback by default): liveness, readiness, Prometheus metrics, and the
//! status page with its replay button (`status_page`). Every route sits behind `guard`.

mod calls_page;
mod guard;
mod pages;
mod readiness;
mod status_page;
mod sync_health;

pub use guard::{guard, Guard};
pub use readiness::Readiness;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde_json::json;
use tokio::sync::Notify;

use crate::clock::SharedClock;
use crate::listener::ConnectionCount;
use crate::metrics::Metrics;
use crate::monday::MondayClient;
use crate::reload::SharedRules;
use crate::store::Store;
use crate::worker::WorkerHealth;

pub struct AdminState {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub health: Arc<WorkerHealth>,
    /// A heartbeat older than this means the worker is wedged.
    pub heartbeat_limit_ms: i64,
    pub started_ms: i64,
    /// Wakes the worker after a replay, so replayed work goes out now, not at the next poll.
    pub wake: Arc<Notify>,
    /// For the rate-limit budget monday last reported.
    pub monday: MondayClient,
    pub rules: SharedRules,
    /// `server.item_link`: a monday item's URL, `{board_id}` and `{item_id}` replaced.
    pub item_link: String,
    /// Put in the status page's forms and required by its POSTs: another site cannot know it.
    pub form_token: String,
    /// Connections of the public listener, for the metrics.
    pub connections: Arc<ConnectionCount>,
    pub connection_limit: usize,
    pub readiness: Readiness,
    /// What "now" is for ages, the budget's day and replays.
    pub clock: SharedClock,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics))
        .configure(status_page::routes)
        .configure(calls_page::routes);
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "alive", "version": env!("CARGO_PKG_VERSION") }))
}

/// Intake only: 200 while a webhook sent now would be stored (the store is writable), so a
/// load balancer keeps sending while monday is down. Sync health is in the body
/// (`sync_problems`), the metrics, the status page and the alert rules, never in the status.
async fn readyz(state: web::Data<AdminState>) -> HttpResponse {
    let now = state.clock.now_ms();
    let mut problems = Vec::new();
    if let Err(e) = state.readiness.store(&state.store, now).await {
        problems.push(e);
    }
    let stats = state.store.stats(now).await.unwrap_or_default();
    let worker = sync_health::Snapshot::of(&state.health);
    let sync = sync_health::problems(&stats, worker, state.heartbeat_limit_ms, now);
    let body = json!({
        "ready": problems.is_empty(),
        "problems": problems,
        "sync_healthy": sync.is_empty(),
        "sync_problems": sync,
        "worker_heartbeat_age_ms": now - worker.heartbeat_ms,
        "monday_last_answer_age_ms": match state.health.monday_ok_ms.load(Ordering::Relaxed) {
            0 => None,
            t => Some(now - t),
        },
        "monday_unreachable_for_ms": (worker.monday_failing_since_ms != 0)
            .then(|| worker.monday_failing_ms(now)),
        "sending_paused_until_ms": (worker.paused_until_ms > now).then_some(worker.paused_until_ms),
        "uptime_ms": now - state.started_ms,
    });
    if problems.is_empty() {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

async fn metrics(state: web::Data<AdminState>) -> HttpResponse {
    let now = state.clock.now_ms();
    let stats = state.store.stats(now).await.unwrap_or_default();
    let worker = sync_health::Snapshot::of(&state.health);
    let healthy = sync_health::problems(&stats, worker, state.heartbeat_limit_ms, now).is_empty();
    let mut gauges = vec![
        (
            "bridge_sync_healthy",
            "1 while sync is healthy (no dead letter, no late call, monday answering), as the status page says",
            healthy as u8 as f64,
        ),
        (
            "bridge_monday_failing_seconds",
            "How long monday has not answered (no connection, timeouts, HTTP errors); 0 while it answers",
            worker.monday_failing_ms(now) as f64 / 1000.0,
        ),
        (
            "bridge_worker_heartbeat_age_seconds",
            "Age of the worker's heartbeat; a stuck worker lets it grow",
            (now - worker.heartbeat_ms).max(0) as f64 / 1000.0,
        ),
        (
            "bridge_queue_pending_events",
            "Events stored and not yet reflected on monday",
            stats.pending_events as f64,
        ),
        (
            "bridge_queue_pending_entities",
            "Calls and contacts waiting to be reconciled",
            stats.pending_entities as f64,
        ),
        (
            "bridge_queue_oldest_pending_age_seconds",
            "Age of the oldest pending event",
            stats.oldest_pending_age_ms.unwrap_or(0) as f64 / 1000.0,
        ),
        (
            "bridge_dead_events",
            "Events in the dead letter",
            stats.dead_events as f64,
        ),
        (
            "bridge_sending_paused",
            "1 while sending is paused by monday's daily limit",
            (worker.paused_until_ms > now) as u8 as f64,
        ),
    ];
    let keeper = state.monday.keeper();
    gauges.push((
        "bridge_budget_requests_today",
        "Requests the bridge sent to monday today (UTC), as monday counts them",
        keeper.own_used(now) as f64,
    ));
    if let Some(d) = keeper.last() {
        gauges.push((
            "bridge_budget_mode",
            "Daily-budget governor: 0 live, 1 coalescing, 2 final states only",
            match d.mode {
                crate::budget::Mode::Live => 0.0,
                crate::budget::Mode::Coalescing { .. } => 1.0,
                crate::budget::Mode::FinalOnly { .. } => 2.0,
            },
        ));
        gauges.push((
            "bridge_budget_requests_left",
            "Requests the bridge may still send today (its share, less other integrations' use)",
            d.left as f64,
        ));
        gauges.push((
            "bridge_budget_projected_requests",
            "Requests the rest of the day is projected to need in the current mode",
            d.projected as f64,
        ));
        gauges.push((
            "bridge_budget_fits",
            "0 when the day's projected traffic does not fit the budget even with final states only",
            d.fits as u8 as f64,
        ));
        gauges.push((
            "bridge_budget_exhausts_at_seconds",
            "Unix time the budget runs out at the projected pace (0: it lasts the day)",
            d.exhausts_at_ms.map_or(0.0, |ms| ms as f64 / 1000.0),
        ));
    }
    let space = state.store.space().ok().flatten();
    gauges.extend([
        (
            "bridge_public_connections_open",
            "Connections open on the public listener",
            state.connections.open() as f64,
        ),
        (
            "bridge_public_connections_peak",
            "Most connections open at once on the public listener since start",
            state.connections.peak() as f64,
        ),
        (
            "bridge_public_connections_accepted",
            "Connections accepted by the public listener since start",
            state.connections.total() as f64,
        ),
        (
            "bridge_public_connections_limit",
            "server.limits.max_connections: beyond it, connections wait in the backlog",
            state.connection_limit as f64,
        ),
        (
            "bridge_store_free_bytes",
            "Free bytes on the store's filesystem (webhooks get 503 below store.reserve_bytes)",
            space.map_or(0.0, |s| s.free_bytes as f64),
        ),
    ]);
    // Only what monday has told us: before its first answer the budget is unknown.
    let budget = state.monday.budget();
    if let Some(left) = budget.minute_left {
        gauges.push((
            "bridge_monday_minute_requests_left",
            "Requests left in monday's current minute window, as it last said",
            left as f64,
        ));
    }
    if let Some(left) = budget.complexity_left {
        gauges.push((
            "bridge_monday_complexity_left",
            "Complexity points left in monday's current window, as it last said",
            left as f64,
        ));
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render(&gauges))
}
