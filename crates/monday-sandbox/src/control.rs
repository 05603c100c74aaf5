//! Control endpoints under `/_sandbox/`: inspect boards and stats, script faults, move the
//! clock, delete an item as a person would, change limits, reset. JSON in, JSON out.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::faults::FaultUpdate;
use super::limits::Limits;
use super::nodes::fmt_time;
use super::state::{ItemState, State};
use super::Shared;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/_sandbox")
            .route("/boards", web::get().to(boards))
            .route("/boards/{id}", web::get().to(board))
            .route("/stats", web::get().to(stats))
            .route("/faults", web::get().to(get_faults))
            .route("/faults", web::post().to(set_faults))
            .route("/faults", web::delete().to(clear_faults))
            .route("/clock", web::get().to(get_clock))
            .route("/clock", web::post().to(set_clock))
            .route("/items/{id}/delete", web::post().to(delete_item))
            .route("/limits", web::get().to(get_limits))
            .route("/limits", web::post().to(set_limits))
            .route("/usage", web::post().to(charge_usage))
            .route("/reset", web::post().to(reset)),
    );
}

fn bad(message: impl Into<String>) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({ "error": message.into() }))
}

/// A board with its groups, columns and every item (any state), for tests and the page.
pub fn board_snapshot(state: &State, id: u64) -> Value {
    let Some(b) = state.boards.get(&id) else {
        return Value::Null;
    };
    json!({
        "id": id.to_string(),
        "name": b.name,
        "groups": b.groups.iter().map(|g| json!({"id": g.id, "title": g.title})).collect::<Vec<_>>(),
        "columns": b.columns.iter().map(|c| json!({
            "id": c.id, "title": c.title, "type": c.column_type.api_name(), "settings": c.settings()
        })).collect::<Vec<_>>(),
        "items": b.item_ids.iter().map(|i| item_snapshot(state, *i)).collect::<Vec<_>>(),
    })
}

async fn boards(shared: web::Data<Shared>) -> HttpResponse {
    let inner = shared.lock();
    let boards: Vec<Value> = inner
        .state
        .boards
        .keys()
        .map(|id| board_snapshot(&inner.state, *id))
        .collect();
    HttpResponse::Ok().json(json!({ "boards": boards, "now": fmt_time(inner.clock.now()) }))
}

async fn board(path: web::Path<String>, shared: web::Data<Shared>) -> HttpResponse {
    let inner = shared.lock();
    match path
        .parse::<u64>()
        .ok()
        .map(|id| board_snapshot(&inner.state, id))
    {
        Some(v) if !v.is_null() => HttpResponse::Ok().json(v),
        _ => HttpResponse::NotFound().json(json!({ "error": "no such board" })),
    }
}

async fn stats(shared: web::Data<Shared>) -> HttpResponse {
    let inner = shared.lock();
    HttpResponse::Ok().json(json!({
        "requests": &inner.stats,
        "faults_served": &inner.faults.served,
        "complexity_used": inner.limiter.complexity_used_total,
        "peak_minute_requests": inner.limiter.peak_minute_requests,
        "daily_used": inner.limiter.daily_used(),
        "in_flight": shared.in_flight.load(std::sync::atomic::Ordering::SeqCst),
    }))
}

async fn get_faults(shared: web::Data<Shared>) -> HttpResponse {
    HttpResponse::Ok().json(shared.lock().faults.describe())
}

async fn set_faults(body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    match serde_json::from_slice::<FaultUpdate>(&body) {
        Ok(update) => {
            let mut inner = shared.lock();
            inner.faults.update(update);
            HttpResponse::Ok().json(inner.faults.describe())
        }
        Err(e) => bad(format!("invalid fault settings: {e}")),
    }
}

async fn clear_faults(shared: web::Data<Shared>) -> HttpResponse {
    let mut inner = shared.lock();
    inner.faults.clear();
    HttpResponse::Ok().json(inner.faults.describe())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    advance_secs: Option<i64>,
    advance_ms: Option<i64>,
    set: Option<String>,
    freeze: Option<bool>,
}

async fn get_clock(shared: web::Data<Shared>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "now": fmt_time(shared.lock().clock.now()) }))
}

async fn set_clock(body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let change: ClockChange = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => {
            return bad(format!(
                "expected {{\"advance_secs\": N}}, {{\"advance_ms\": N}}, {{\"set\": RFC3339}} \
                 or {{\"freeze\": true|false}}: {e}"
            ))
        }
    };
    let mut inner = shared.lock();
    if let Some(frozen) = change.freeze {
        inner.clock.freeze(frozen);
    }
    if let Some(to) = change.set {
        match OffsetDateTime::parse(&to, &Rfc3339) {
            Ok(t) => inner.clock.set(t),
            Err(e) => return bad(format!("set: not RFC 3339: {e}")),
        }
    }
    if let Some(secs) = change.advance_secs {
        inner.clock.advance(time::Duration::seconds(secs));
    }
    if let Some(ms) = change.advance_ms {
        inner.clock.advance(time::Duration::milliseconds(ms));
    }
    HttpResponse::Ok().json(json!({ "now": fmt_time(inner.clock.now()) }))
}

async fn delete_item(path: web::Path<String>, shared: web::Data<Shared>) -> HttpResponse {
    let mut inner = shared.lock();
    let now = inner.clock.now();
    let item = path
        .parse::<u64>()
        .ok()
        .and_then(|id| inner.state.items.get_mut(&id));
    match item {
        Some(item) => {
            item.state = ItemState::Deleted;
            item.updated_at = now;
            let id = item.id;
            HttpResponse::Ok().json(item_snapshot(&inner.state, id))
        }
        None => HttpResponse::NotFound().json(json!({ "error": "no such item" })),
    }
}

async fn get_limits(shared: web::Data<Shared>) -> HttpResponse {
    HttpResponse::Ok().json(&shared.lock().limits)
}

async fn set_limits(body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    match serde_json::from_slice::<Limits>(&body) {
        Ok(limits) => {
            let mut inner = shared.lock();
            inner.limits = limits;
            HttpResponse::Ok().json(&inner.limits)
        }
        Err(e) => bad(format!("invalid limits: {e}")),
    }
}

/// `{"calls": n}`: another integration of the same account spent `n` calls today.
async fn charge_usage(body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let calls = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("calls").and_then(Value::as_u64));
    let Some(calls) = calls else {
        return bad("expected {\"calls\": <number>}");
    };
    let mut inner = shared.lock();
    let now = inner.clock.now();
    let limits = inner.limits.clone();
    inner.limiter.charge(&limits, now, calls);
    HttpResponse::Ok().json(json!({ "daily_used": inner.limiter.daily_used() }))
}

async fn reset(shared: web::Data<Shared>) -> HttpResponse {
    shared.reset();
    HttpResponse::Ok().json(json!({ "reset": true }))
}

/// The JSON shape of a whole item for the control endpoints and the board page.
pub fn item_snapshot(state: &State, id: u64) -> Value {
    let Some(item) = state.items.get(&id) else {
        return Value::Null;
    };
    let values: Map<String, Value> = item
        .values
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                json!({"value": v.value.to_string(), "text": v.text}),
            )
        })
        .collect();
    let updates: Vec<Value> = item
        .update_ids
        .iter()
        .filter_map(|u| state.updates.get(u))
        .map(|u| json!({"id": u.id.to_string(), "body": u.body, "created_at": fmt_time(u.created_at)}))
        .collect();
    let files: Vec<Value> = item
        .assets
        .iter()
        .map(|a| {
            json!({"id": a.id.to_string(), "column_id": a.column_id, "name": a.name,
                   "size": a.size, "sha256": a.sha256, "created_at": fmt_time(a.created_at)})
        })
        .collect();
    json!({
        "id": id.to_string(),
        "name": item.name,
        "state": item.state.as_str(),
        "group_id": item.group_id,
        "column_values": values,
        "updates": updates,
        "files": files,
        "subitems": item.subitems.iter().map(|s| {
            json!({"id": s.id.to_string(), "name": s.name, "created_at": fmt_time(s.created_at)})
        }).collect::<Vec<_>>(),
        "created_at": fmt_time(item.created_at),
        "updated_at": fmt_time(item.updated_at),
        // monday's own fields are whole seconds; benchmarks time the bridge's end-to-end
        // latency against the moment the sandbox applied the create.
        "created_at_unix_ms": (item.created_at.unix_timestamp_nanos() / 1_000_000) as i64,
    })
}
