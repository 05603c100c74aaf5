//! The status page: queue depth, recent calls and contacts with a link to their monday item,
//! dead letters with their errors and a replay button. Server-rendered HTML, no script.
//!
//! The replay form POSTs to this listener. It is loopback-only by default, but a page on any
//! site could still make the operator's browser post to it, so a POST must carry this
//! process's form token and must not come from another site (`Origin`, `Sec-Fetch-Site`).

use std::fmt::Write;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::AdminState;
use crate::store::{Entity, EventFilter, EventRow, EventState};

const RECENT: usize = 20;
const DEAD_SHOWN: usize = 50;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(page))
        .route("/replay", web::post().to(replay));
}

#[derive(Deserialize)]
struct PageQuery {
    replayed: Option<usize>,
}

#[derive(Deserialize)]
struct ReplayForm {
    token: String,
    /// One dead event; absent: every dead letter.
    id: Option<i64>,
}

pub(super) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn when(now_ms: i64, ms: i64) -> String {
    let age = (now_ms - ms).max(0) / 1000;
    match age {
        0..=59 => format!("{age} s ago"),
        60..=3599 => format!("{} min ago", age / 60),
        3600..=86399 => format!("{} h ago", age / 3600),
        _ => format!("{} d ago", age / 86400),
    }
}

pub(super) const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\
h1{font-size:20px}h2{font-size:16px;margin-top:1.6em}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #ddd;vertical-align:top}\
th{background:#f4f4f4}.dead{color:#b00020;font-weight:600}.pending{color:#a06000}.synced{color:#1b7a1b}\
.tiles{display:flex;gap:1em}.tile{border:1px solid #ddd;border-radius:6px;padding:8px 14px}.tile b{font-size:20px;display:block}\
.flash{background:#e8f5e9;border:1px solid #9c9;padding:6px 10px;border-radius:4px}\
.unhealthy{background:#b00020;color:#fff;padding:8px 14px;border-radius:6px;margin-bottom:1em}.unhealthy ul{margin:4px 0 0 0}\
.search{margin:1em 0}pre{background:#f7f7f7;padding:10px;overflow-x:auto}.err{font-family:monospace;font-size:12px;max-width:40em;word-break:break-word}button{cursor:pointer}";

async fn page(state: web::Data<AdminState>, query: web::Query<PageQuery>) -> HttpResponse {
    let now = state.clock.now_ms();
    let stats = state.store.stats(now).await.unwrap_or_default();
    let recent = state
        .store
        .recent_entities(RECENT)
        .await
        .unwrap_or_default();
    let dead_filter = EventFilter {
        state: Some(EventState::Dead),
        ..EventFilter::default()
    };
    let dead = state
        .store
        .events(dead_filter, DEAD_SHOWN)
        .await
        .unwrap_or_default();
    let rules = state.rules.current();
    let board_name = |id: &str| {
        rules
            .boards()
            .iter()
            .find(|b| b.board_id == id)
            .map(|b| b.name.clone())
            .unwrap_or_else(|| id.to_string())
    };

    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=en><head><meta charset=utf-8>\
         <meta http-equiv=refresh content=10><title>aircall-monday-bridge status</title>\
         <style>{STYLE}</style></head><body><h1>aircall-monday-bridge</h1>"
    );
    let worker = super::sync_health::Snapshot::of(&state.health);
    let unhealthy = super::sync_health::problems(&stats, worker, state.heartbeat_limit_ms, now);
    if !unhealthy.is_empty() {
        h.push_str("<div class=unhealthy id=sync-banner role=alert><b>Sync is unhealthy</b><ul>");
        for p in &unhealthy {
            let _ = write!(h, "<li>{}</li>", escape(p));
        }
        h.push_str("</ul></div>");
    }
    h.push_str(&super::calls_page::form(""));
    if let Some(n) = query.replayed {
        let _ = write!(
            h,
            "<p class=flash id=flash>Replayed {n} dead event(s): the worker is sending them now.</p>"
        );
    }
    let oldest = stats
        .oldest_pending_age_ms
        .map(|ms| format!("{} s", ms / 1000))
        .unwrap_or_else(|| "-".into());
    let _ = write!(
        h,
        "<div class=tiles>\
         <div class=tile>Pending events<b id=pending>{}</b></div>\
         <div class=tile>Waiting calls/contacts<b>{}</b></div>\
         <div class=tile>Oldest pending<b>{oldest}</b></div>\
         <div class=tile>Dead letters<b id=dead-count>{}</b></div></div>",
        stats.pending_events, stats.pending_entities, stats.dead_events
    );
    let keeper = state.monday.keeper();
    let used = keeper.own_used(now);
    let line = match keeper.last() {
        Some(d) => {
            let exhausts = match d.exhausts_at_ms {
                Some(ms) => format!(
                    "; at this pace the budget runs out at {}",
                    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
                        .ok()
                        .and_then(|t| t
                            .format(&time::format_description::well_known::Rfc3339)
                            .ok())
                        .unwrap_or_default()
                ),
                None => String::new(),
            };
            format!(
                "<b>{}</b>: {}. {used} requests sent today, {} left, about {} needed for the rest of the day{}.",
                d.mode.name(),
                escape(&d.reason),
                d.left,
                d.projected,
                escape(&exhausts)
            )
        }
        None => format!("no decision yet; {used} requests sent today."),
    };
    let _ = write!(h, "<p id=budget>Daily budget: {line}</p>");

    h.push_str("<h2>Recent calls and contacts</h2><table id=recent><tr><th>what</th><th>Aircall id</th><th>caller</th><th>outcome</th><th>state</th><th>monday item</th><th>updated</th><th>last error</th></tr>");
    for e in &recent {
        let items: Vec<String> = e
            .items
            .iter()
            .map(|(board, item)| {
                let url = state
                    .item_link
                    .replace("{board_id}", board)
                    .replace("{item_id}", item);
                format!(
                    "<a href=\"{}\">{} #{}</a>",
                    escape(&url),
                    escape(&board_name(board)),
                    escape(item)
                )
            })
            .collect();
        let (id, caller, outcome) = if e.kind == Entity::Call {
            let (caller, outcome) = crate::ops::calls::summary(&state.store, &e.entity_id)
                .await
                .ok()
                .flatten()
                .unwrap_or_else(|| ("-".into(), "-".into()));
            (
                format!("<a href=\"/calls/{0}\">{0}</a>", escape(&e.entity_id)),
                caller,
                outcome,
            )
        } else {
            (escape(&e.entity_id), "-".into(), "-".into())
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class={}>{}</td><td>{}</td><td>{}</td><td class=err>{}</td></tr>",
            e.kind,
            id,
            escape(&caller),
            escape(&outcome),
            e.state,
            e.state,
            if items.is_empty() { "-".into() } else { items.join(", ") },
            when(now, e.updated_ms),
            escape(e.last_error.as_deref().unwrap_or(""))
        );
    }
    h.push_str("</table>");

    let token = escape(&state.form_token);
    let _ = write!(h, "<h2>Dead letters</h2>");
    if dead.is_empty() {
        h.push_str("<p id=no-dead>None.</p>");
    } else {
        let _ = write!(
            h,
            "<form method=post action=/replay><input type=hidden name=token value=\"{token}\">\
             <button id=replay-all>Replay all dead letters</button></form>\
             <table id=dead><tr><th>event id</th><th>what</th><th>event</th><th>received</th><th>error</th><th></th></tr>"
        );
        for e in &dead {
            dead_row(&mut h, e, &token, now);
        }
        h.push_str("</table>");
    }
    h.push_str(
        "<p>Fix the configuration first (<code>check --live</code>, then <code>systemctl reload</code>), \
         then replay. <a href=/metrics>metrics</a> · <a href=/readyz>readiness</a></p></body></html>",
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(h)
}

fn dead_row(h: &mut String, e: &EventRow, token: &str, now: i64) {
    let _ = write!(
        h,
        "<tr><td>{id}</td><td>{} {}</td><td>{}</td><td>{}</td><td class=err>{}</td>\
         <td><form method=post action=/replay><input type=hidden name=token value=\"{token}\">\
         <input type=hidden name=id value={id}><button class=replay id=replay-{id}>Replay</button></form></td></tr>",
        e.kind,
        escape(&e.entity_id),
        escape(&e.event),
        when(now, e.received_ms),
        escape(e.error.as_deref().unwrap_or("")),
        id = e.id,
    );
}

/// Same-site only: a browser says where a request comes from in `Sec-Fetch-Site` (modern) or
/// `Origin`; either, when present, must be this listener.
fn same_site(req: &HttpRequest) -> bool {
    let get = |name: header::HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    if let Some(site) = get(header::HeaderName::from_static("sec-fetch-site")) {
        if !matches!(site.as_str(), "same-origin" | "none") {
            return false;
        }
    }
    match (get(header::ORIGIN), get(header::HOST)) {
        (Some(origin), Some(host)) => {
            origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                == Some(host.as_str())
        }
        (Some(_), None) => false,
        (None, _) => true,
    }
}

async fn replay(
    req: HttpRequest,
    state: web::Data<AdminState>,
    form: web::Form<ReplayForm>,
) -> HttpResponse {
    let token_ok = crate::config::same_secret(&form.token, &state.form_token);
    if !token_ok || !same_site(&req) {
        tracing::warn!("replay refused: cross-site or without the page's form token");
        return HttpResponse::Forbidden()
            .body("refused: post the form from the status page itself");
    }
    let filter = EventFilter {
        id: form.id,
        ..EventFilter::default()
    };
    match state.store.replay(filter, state.clock.now_ms()).await {
        Ok(done) => {
            tracing::info!(events = done.events, entities = done.entities, id = ?form.id, "dead letters replayed from the status page");
            state
                .metrics
                .add("bridge_replayed_events_total", &[], done.events as u64);
            state.wake.notify_waiters();
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, format!("/?replayed={}", done.events)))
                .finish()
        }
        Err(e) => {
            tracing::error!(error = %e, "replay failed");
            HttpResponse::ServiceUnavailable().body(format!("replay failed: {e}"))
        }
    }
}
