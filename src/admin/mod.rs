//! The admin listener (loopback by default): liveness, readiness, Prometheus metrics, and the
//! status page with its replay button (`status_page`). Every route sits behind `guard`.

mod guard;
mod readiness;
mod status_page;

pub use guard::{guard, Guard};
pub use readiness::Readiness;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde_json::json;
use tokio::sync::Notify;

use crate::listener::ConnectionCount;
use crate::metrics::Metrics;
use crate::monday::MondayClient;
use crate::reload::SharedRules;
use crate::store::Store;
use crate::worker::{now_ms, WorkerHealth};

/// monday may be unreachable this long before readiness says so: short outages are normal
/// and cost nothing (events wait in the store), a long one deserves a page.
const MONDAY_GRACE_MS: i64 = 10 * 60 * 1000;

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
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics))
        .configure(status_page::routes);
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "alive", "version": env!("CARGO_PKG_VERSION") }))
}

async fn readyz(state: web::Data<AdminState>) -> HttpResponse {
    let now = now_ms();
    let mut problems = Vec::new();
    if let Err(e) = state.readiness.store(&state.store).await {
        problems.push(e);
    }
    let heartbeat = state.health.heartbeat_ms.load(Ordering::Relaxed);
    if now - heartbeat > state.heartbeat_limit_ms {
        problems.push(format!("worker heartbeat is {} ms old", now - heartbeat));
    }
    let failing_since = state.health.monday_failing_since_ms.load(Ordering::Relaxed);
    if failing_since != 0 && now - failing_since > MONDAY_GRACE_MS {
        problems.push(format!(
            "monday unreachable for {} s (events are kept and sent once it answers)",
            (now - failing_since) / 1000
        ));
    }
    let paused = state.health.paused_until_ms.load(Ordering::Relaxed);
    let body = json!({
        "ready": problems.is_empty(),
        "problems": problems,
        "worker_heartbeat_age_ms": now - heartbeat,
        "monday_last_answer_age_ms": match state.health.monday_ok_ms.load(Ordering::Relaxed) {
            0 => None,
            t => Some(now - t),
        },
        "monday_unreachable_for_ms": (failing_since != 0).then(|| now - failing_since),
        "sending_paused_until_ms": (paused > now).then_some(paused),
        "uptime_ms": now - state.started_ms,
    });
    if problems.is_empty() {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

async fn metrics(state: web::Data<AdminState>) -> HttpResponse {
    let stats = state.store.stats(now_ms()).await.unwrap_or_default();
    let mut gauges = vec![
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
            (state.health.paused_until_ms.load(Ordering::Relaxed) > now_ms()) as u8 as f64,
        ),
    ];
    let space = state.store.space().ok();
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
