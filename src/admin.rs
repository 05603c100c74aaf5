//! The admin listener (loopback by default): liveness, readiness and Prometheus metrics.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::metrics::Metrics;
use crate::store::Store;
use crate::worker::{now_ms, WorkerHealth};

pub struct AdminState {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub health: Arc<WorkerHealth>,
    /// A heartbeat older than this means the worker is wedged.
    pub heartbeat_limit_ms: i64,
    pub started_ms: i64,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
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
    let paused = state.health.paused_until_ms.load(Ordering::Relaxed);
    let body = json!({
        "ready": problems.is_empty(),
        "problems": problems,
        "worker_heartbeat_age_ms": now - heartbeat,
        "monday_last_answer_age_ms": match state.health.monday_ok_ms.load(Ordering::Relaxed) {
            0 => None,
            t => Some(now - t),
        },
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
    let gauges = [
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
    ];
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render(&gauges))
}
