//! The status page: queue depth, recent calls and contacts with a link to their monday item,
//! dead letters with their errors and a replay button. Server-rendered HTML, no script
//! (`templates/status.html`).
//!
//! The replay form POSTs to this listener. It is loopback-only by default, but a page on any
//! site could still make the operator's browser post to it, so a POST must carry this
//! process's form token and must not come from another site (`Origin`, `Sec-Fetch-Site`).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use minijinja::context;
use serde::{Deserialize, Serialize};

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

fn when(now_ms: i64, ms: i64) -> String {
    let age = (now_ms - ms).max(0) / 1000;
    match age {
        0..=59 => format!("{age} s ago"),
        60..=3599 => format!("{} min ago", age / 60),
        3600..=86399 => format!("{} h ago", age / 3600),
        _ => format!("{} d ago", age / 86400),
    }
}

/// A row of the recent list.
#[derive(Serialize)]
struct Recent {
    kind: String,
    id: String,
    is_call: bool,
    caller: String,
    outcome: String,
    state: String,
    items: Vec<ItemLink>,
    updated: String,
    last_error: String,
}

#[derive(Serialize)]
struct ItemLink {
    url: String,
    board: String,
    item: String,
}

#[derive(Serialize)]
struct Dead {
    id: i64,
    kind: String,
    entity_id: String,
    event: String,
    received: String,
    error: String,
}

/// The governor's last decision, as the page's budget line says it.
#[derive(Serialize)]
struct Budget {
    mode: &'static str,
    reason: String,
    left: u64,
    projected: u64,
    exhausts: Option<String>,
}

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
    let worker = super::sync_health::Snapshot::of(&state.health);
    let unhealthy = super::sync_health::problems(&stats, worker, state.heartbeat_limit_ms, now);
    let keeper = state.monday.keeper();
    let budget = keeper.last().map(|d| Budget {
        mode: d.mode.name(),
        reason: d.reason.clone(),
        left: d.left,
        projected: d.projected,
        exhausts: d.exhausts_at_ms.map(|ms| {
            time::OffsetDateTime::from_unix_timestamp(ms / 1000)
                .ok()
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_default()
        }),
    });
    let mut rows = Vec::with_capacity(recent.len());
    for e in &recent {
        let items = e
            .items
            .iter()
            .map(|(board, item)| ItemLink {
                url: state
                    .item_link
                    .replace("{board_id}", board)
                    .replace("{item_id}", item),
                board: board_name(board),
                item: item.clone(),
            })
            .collect();
        let is_call = e.kind == Entity::Call;
        let (caller, outcome) = if is_call {
            crate::ops::calls::summary(&state.store, &e.entity_id)
                .await
                .ok()
                .flatten()
                .unwrap_or_else(|| ("-".into(), "-".into()))
        } else {
            ("-".into(), "-".into())
        };
        rows.push(Recent {
            kind: e.kind.to_string(),
            id: e.entity_id.clone(),
            is_call,
            caller,
            outcome,
            state: e.state.to_string(),
            items,
            updated: when(now, e.updated_ms),
            last_error: e.last_error.clone().unwrap_or_default(),
        });
    }
    let dead: Vec<Dead> = dead.iter().map(|e| dead_row(e, now)).collect();
    super::pages::render(
        "status.html",
        context! {
            title => "aircall-monday-bridge status",
            unhealthy,
            replayed => query.replayed,
            stats => context! {
                pending_events => stats.pending_events,
                pending_entities => stats.pending_entities,
                dead_events => stats.dead_events,
            },
            oldest => stats
                .oldest_pending_age_ms
                .map(|ms| format!("{} s", ms / 1000))
                .unwrap_or_else(|| "-".into()),
            budget,
            used => keeper.own_used(now),
            recent => rows,
            dead,
            token => state.form_token.clone(),
        },
    )
}

fn dead_row(e: &EventRow, now: i64) -> Dead {
    Dead {
        id: e.id,
        kind: e.kind.to_string(),
        entity_id: e.entity_id.clone(),
        event: e.event.clone(),
        received: when(now, e.received_ms),
        error: e.error.clone().unwrap_or_default(),
    }
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
