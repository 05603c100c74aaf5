//! The routes of the Aircall stand-in. Every API request is authenticated, rate limited and
//! logged before it is answered.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use serde_json::{json, Value};

use super::events::EVENTS;
use super::{Received, State};

pub(super) type Shared = web::Data<Mutex<State>>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/ping", web::get().to(ping))
        .route("/v1/calls/{id}", web::get().to(get_call))
        .route(
            "/v1/calls/{id}/insight_cards",
            web::post().to(super::cards::push),
        )
        .route(
            "/v1/calls/{id}/{resource}",
            web::get().to(super::insights::get),
        )
        .route("/v1/calls", web::get().to(list_calls))
        .route("/v1/contacts", web::get().to(list_contacts))
        .route("/v1/webhooks", web::post().to(create_webhook))
        .route("/v1/webhooks", web::get().to(list_webhooks))
        .route("/v1/webhooks/{id}", web::delete().to(delete_webhook))
        .route(
            "/recordings/{file}",
            web::get().to(super::recordings::serve),
        )
        .route("/_aircall/requests", web::get().to(requests))
        .route("/_aircall/calls", web::post().to(add_calls))
        .route("/_aircall/insights", web::post().to(super::insights::seed))
        .route("/_aircall/insight_cards", web::get().to(super::cards::list))
        .route(
            "/_aircall/insight_cards/faults",
            web::post().to(super::cards::set_faults),
        )
        .route(
            "/_aircall/ai_assist",
            web::post().to(super::insights::ai_assist),
        );
}

pub(super) fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Logs, authenticates and rate-limits one request; `Err` is the answer to send instead.
// The refusal is a whole response, built once per refused request: its size does not matter.
#[allow(clippy::result_large_err)]
pub(super) fn admit(req: &HttpRequest, body: &[u8], shared: &Shared) -> Result<(), HttpResponse> {
    let mut st = lock(shared);
    let authorization = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    st.received.push(Received {
        method: req.method().to_string(),
        path: req.path().to_string(),
        query: req.query_string().to_string(),
        authorization: authorization.clone(),
        body: serde_json::from_slice(body).unwrap_or(Value::Null),
    });
    let Some(auth) = authorization else {
        return Err(HttpResponse::Unauthorized().json(json!({ "message": "Unauthorized" })));
    };
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", st.config.api_id, st.config.api_token))
    );
    if auth != expected {
        return Err(HttpResponse::Forbidden().json(json!({ "message": "Forbidden" })));
    }
    let now = now_ms();
    let window = st.config.window_secs.max(1) as i64 * 1000;
    while st.window.front().is_some_and(|t| *t + window <= now) {
        st.window.pop_front();
    }
    let limit = st.config.per_minute as usize;
    let reset = (st.window.front().map_or(now, |t| t + window) + 999) / 1000;
    if st.window.len() >= limit {
        st.rate_limited += 1;
        return Err(HttpResponse::TooManyRequests()
            .insert_header(("X-AircallApi-Limit", limit.to_string()))
            .insert_header(("X-AircallApi-Remaining", "0"))
            .insert_header(("X-AircallApi-Reset", reset.to_string()))
            .json(json!({ "error": "Too Many Requests" })));
    }
    st.window.push_back(now);
    Ok(())
}

async fn ping(req: HttpRequest, shared: Shared) -> HttpResponse {
    if let Err(r) = admit(&req, b"", &shared) {
        return r;
    }
    HttpResponse::Ok().json(json!({ "ping": "pong" }))
}

async fn get_call(req: HttpRequest, path: web::Path<u64>, shared: Shared) -> HttpResponse {
    if let Err(r) = admit(&req, b"", &shared) {
        return r;
    }
    let st = lock(&shared);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    match st.calls.iter().find(|c| c["id"].as_u64() == Some(*path)) {
        Some(call) => {
            let call = super::recordings::with_fresh_links(&st.base_url, call.clone(), now);
            HttpResponse::Ok().json(json!({ "call": call }))
        }
        None => HttpResponse::NotFound()
            .json(json!({ "error": "Not found", "troubleshoot": "Check the call id" })),
    }
}

fn param(q: &HashMap<String, String>, key: &str) -> Option<i64> {
    q.get(key).and_then(|v| v.parse().ok())
}

/// Aircall's paging: `per_page` 1–50 (default 20), `meta` with a `next_page_link`.
fn paged(
    req: &HttpRequest,
    key: &str,
    mut items: Vec<Value>,
    q: &HashMap<String, String>,
) -> HttpResponse {
    let per_page = param(q, "per_page").unwrap_or(20).clamp(1, 50) as usize;
    let page = param(q, "page").unwrap_or(1).max(1) as usize;
    if q.get("order").map(String::as_str) == Some("desc") {
        items.reverse();
    }
    let total = items.len();
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let next = (page * per_page < total).then(|| {
        let mut q = q.clone();
        q.insert("page".into(), (page + 1).to_string());
        let query: Vec<String> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("https://api.aircall.io{}?{}", req.path(), query.join("&"))
    });
    HttpResponse::Ok().json(json!({
        key: slice,
        "meta": { "count": slice_len(total, page, per_page), "total": total, "current_page": page,
                  "per_page": per_page, "next_page_link": next, "previous_page_link": Value::Null },
    }))
}

fn slice_len(total: usize, page: usize, per_page: usize) -> usize {
    total.saturating_sub((page - 1) * per_page).min(per_page)
}

async fn list_calls(
    req: HttpRequest,
    q: web::Query<HashMap<String, String>>,
    shared: Shared,
) -> HttpResponse {
    if let Err(r) = admit(&req, b"", &shared) {
        return r;
    }
    let (from, to) = (
        param(&q, "from").unwrap_or(0),
        param(&q, "to").unwrap_or(i64::MAX),
    );
    let mut calls: Vec<Value> = lock(&shared)
        .calls
        .iter()
        .filter(|c| {
            c["started_at"]
                .as_i64()
                .is_some_and(|t| t >= from && t <= to)
        })
        .cloned()
        .collect();
    calls.sort_by_key(|c| (c["started_at"].as_i64(), c["id"].as_u64()));
    paged(&req, "calls", calls, &q)
}

async fn list_contacts(
    req: HttpRequest,
    q: web::Query<HashMap<String, String>>,
    shared: Shared,
) -> HttpResponse {
    if let Err(r) = admit(&req, b"", &shared) {
        return r;
    }
    let contacts = lock(&shared).contacts.clone();
    paged(&req, "contacts", contacts, &q)
}

async fn create_webhook(req: HttpRequest, body: web::Bytes, shared: Shared) -> HttpResponse {
    if let Err(r) = admit(&req, &body, &shared) {
        return r;
    }
    let Ok(input) = serde_json::from_slice::<Value>(&body) else {
        return HttpResponse::BadRequest().json(json!({ "error": "Invalid JSON" }));
    };
    let Some(url) = input["url"].as_str().filter(|u| u.starts_with("https://")) else {
        return HttpResponse::BadRequest().json(json!({ "error": "url is missing or not HTTPS" }));
    };
    let known = |e: &str| EVENTS.contains(&e);
    let events: Vec<String> = input["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e.as_str().map(String::from))
        .collect();
    if let Some(bad) = events.iter().find(|e| !known(e)) {
        return HttpResponse::BadRequest()
            .json(json!({ "error": format!("Invalid event: {bad}") }));
    }
    let mut st = lock(&shared);
    if st.webhooks.len() >= 100 {
        return HttpResponse::BadRequest()
            .json(json!({ "error": "You can't have more than 100 webhooks" }));
    }
    let n = st.next_id;
    st.next_id += 1;
    let webhook = json!({
        "webhook_id": format!("c2501111-8a69-4342-bb34-{n:012x}"),
        "direct_link": format!("https://api.aircall.io/v1/webhooks/{n}"),
        "created_at": "2026-11-29T12:00:00.000Z",
        "url": url,
        "custom_name": input["custom_name"],
        "active": true,
        // Aircall subscribes to everything when no events are given.
        "events": if events.is_empty() { json!(EVENTS) } else { json!(events) },
        "token": format!("sandbox-token-{n:08x}"),
    });
    st.webhooks.push(webhook.clone());
    HttpResponse::build(StatusCode::CREATED).json(json!({ "webhook": webhook }))
}

async fn list_webhooks(
    req: HttpRequest,
    q: web::Query<HashMap<String, String>>,
    shared: Shared,
) -> HttpResponse {
    if let Err(r) = admit(&req, b"", &shared) {
        return r;
    }
    let hooks = lock(&shared).webhooks.clone();
    paged(&req, "webhooks", hooks, &q)
}

async fn delete_webhook(req: HttpRequest, path: web::Path<String>, shared: Shared) -> HttpResponse {
    if let Err(r) = admit(&req, b"", &shared) {
        return r;
    }
    let mut st = lock(&shared);
    let before = st.webhooks.len();
    st.webhooks
        .retain(|w| w["webhook_id"].as_str() != Some(path.as_str()));
    if st.webhooks.len() == before {
        HttpResponse::NotFound().json(json!({ "error": "Not found" }))
    } else {
        HttpResponse::NoContent().finish()
    }
}

async fn requests(shared: Shared) -> HttpResponse {
    let st = lock(&shared);
    HttpResponse::Ok().json(json!({ "requests": st.received, "rate_limited": st.rate_limited, "webhooks": st.webhooks }))
}

async fn add_calls(body: web::Json<Vec<Value>>, shared: Shared) -> HttpResponse {
    lock(&shared).calls.extend(body.into_inner());
    HttpResponse::Ok().json(json!({ "ok": true }))
}
