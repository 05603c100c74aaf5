//! The admin listener (loopback by default): liveness, readiness, Prometheus metrics, and the
//! status page with its replay button (`status_page`).

mod status_page;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde_json::json;
use tokio::sync::Notify;

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
    if let Err(e) = state.store.ping().await {
        problems.push(format!("store not writable: {e}"));
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
    let keeper = state.monday.keeper();
    gauges.push((
        "bridge_budget_requests_today",
        "Requests the bridge sent to monday today (UTC), as monday counts them",
        keeper.own_used(now_ms()) as f64,
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
