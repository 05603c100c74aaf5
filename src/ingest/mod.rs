//! The public listener: Aircall's webhooks. A handler verifies, parses, persists and answers;
//! it never talks to monday, so a monday outage can never turn into a failure Aircall sees.
//! The body is read under the limits of `body` (size, pace, deadline) before anything else.

pub mod body;
mod json_depth;

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use tokio::sync::Notify;

use crate::aircall::{EnvelopeError, Unverified};
use crate::clock::SharedClock;
use crate::config::same_secret;
use crate::metrics::Metrics;
use crate::reload::SharedRules;
use crate::store::{Appended, NewEvent, Store, StoreError};

pub struct IngestState {
    pub store: Store,
    pub tokens: Vec<SecretString>,
    /// Optional second secret carried in the URL (Aircall cannot send custom headers).
    pub url_secret: Option<SecretString>,
    /// The board mappings in force (a reload swaps them): events of an entity no board
    /// mirrors are acknowledged, not stored.
    pub rules: SharedRules,
    pub wake: Arc<Notify>,
    pub metrics: Arc<Metrics>,
    pub body: body::BodyLimits,
    /// The whole request, headers to answer (`server.limits.request_timeout`).
    pub request_timeout: Duration,
    pub json_max_depth: usize,
    /// `store.reserve_bytes`: below it, 503 before the disk fills.
    pub reserve_bytes: u64,
    /// Dates each event's arrival.
    pub clock: SharedClock,
    /// Insight cards (`[insight_card]`): offered every verified event, they answer at once.
    pub cards: Option<Arc<crate::cards::Cards>>,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("body is not an Aircall webhook envelope: {0}")]
    Malformed(String),
    #[error("unknown webhook token")]
    Unauthorized,
    #[error("the event could not be stored; retry later")]
    StoreUnavailable(#[source] StoreError),
    #[error("the store is short of space or read-only; retry later")]
    LowSpace(#[source] StoreError),
    #[error("the event could not be stored in time; retry later")]
    StoreTooSlow,
    #[error("body over the size limit (server.body_limit_bytes)")]
    TooLarge,
    #[error("{0}")]
    BodyTooSlow(body::BodyError),
    #[error("the body nests deeper than {0} levels (server.limits.json_max_depth)")]
    TooDeep(usize),
    #[error("expected Content-Type: application/json, got {0:?}")]
    NotJson(String),
}

impl IngestError {
    /// The `outcome` label of `bridge_webhooks_total`.
    fn outcome(&self) -> &'static str {
        match self {
            IngestError::Malformed(_) => "malformed",
            IngestError::Unauthorized => "unauthorized",
            IngestError::StoreUnavailable(_) => "store_unavailable",
            IngestError::LowSpace(_) => "low_space",
            IngestError::StoreTooSlow => "store_too_slow",
            IngestError::TooLarge => "too_large",
            IngestError::BodyTooSlow(_) => "body_too_slow",
            IngestError::TooDeep(_) => "too_deep",
            IngestError::NotJson(_) => "not_json",
        }
    }
}

impl From<EnvelopeError> for IngestError {
    fn from(e: EnvelopeError) -> Self {
        match e {
            EnvelopeError::Malformed(m) => IngestError::Malformed(m),
            EnvelopeError::BadToken => IngestError::Unauthorized,
        }
    }
}

impl ResponseError for IngestError {
    fn status_code(&self) -> StatusCode {
        match self {
            IngestError::Malformed(_) => StatusCode::BAD_REQUEST,
            IngestError::Unauthorized => StatusCode::UNAUTHORIZED,
            IngestError::StoreUnavailable(_)
            | IngestError::LowSpace(_)
            | IngestError::StoreTooSlow => StatusCode::SERVICE_UNAVAILABLE,
            IngestError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            IngestError::BodyTooSlow(_) => StatusCode::REQUEST_TIMEOUT,
            IngestError::TooDeep(_) => StatusCode::BAD_REQUEST,
            IngestError::NotJson(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        match self {
            IngestError::StoreUnavailable(_)
            | IngestError::LowSpace(_)
            | IngestError::StoreTooSlow => {
                response.insert_header(("Retry-After", "5"));
            }
            // The rest of a body we stopped reading may still be on its way: close rather than
            // read it, so a slow client loses its socket.
            IngestError::BodyTooSlow(_) | IngestError::TooLarge => {
                response.force_close();
            }
            _ => {}
        }
        // The store's own message stays in our logs, not in the answer.
        response.json(json!({ "error": self.to_string() }))
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    for path in ["/webhooks/aircall", "/webhooks/aircall/{secret}"] {
        cfg.service(
            web::resource(path)
                .route(web::post().to(receive))
                .default_service(web::to(method_not_allowed)),
        );
    }
}

/// Aircall only POSTs; anything else is told so, with the method that works.
async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, "POST"))
        .json(json!({ "error": "webhooks are delivered with POST" }))
}

#[derive(serde::Deserialize)]
struct SecretQuery {
    secret: Option<String>,
}

async fn receive(
    req: HttpRequest,
    query: web::Query<SecretQuery>,
    mut payload: web::Payload,
    state: web::Data<IngestState>,
) -> Result<HttpResponse, IngestError> {
    let started = Instant::now();
    let deadline = started + state.request_timeout;
    let result = async {
        let body = read_body(&req, &mut payload, &state, started, deadline).await?;
        // The store may commit after the deadline; the event is then stored but unanswered,
        // and Aircall's retry is a duplicate, which costs nothing.
        tokio::time::timeout_at(
            deadline.into(),
            handle(&req, query.into_inner(), &body, &state, started),
        )
        .await
        .unwrap_or(Err(IngestError::StoreTooSlow))
    }
    .await;
    let (event, outcome) = match &result {
        Ok((event, outcome)) => (event.as_str(), *outcome),
        Err(e) => ("-", e.outcome()),
    };
    state.metrics.inc(
        "bridge_webhooks_total",
        &[("event", event), ("outcome", outcome)],
    );
    if result.is_err() {
        state
            .metrics
            .inc("bridge_webhook_rejections_total", &[("reason", outcome)]);
    }
    state
        .metrics
        .observe("bridge_webhook_ack_seconds", &[], started.elapsed());
    match result {
        Ok((_, outcome)) => Ok(HttpResponse::Ok().json(json!({ "status": outcome }))),
        Err(e) => {
            match &e {
                IngestError::StoreUnavailable(cause) | IngestError::LowSpace(cause) => {
                    tracing::error!(error = %cause, "webhook not stored")
                }
                other => tracing::warn!(error = %other, "webhook rejected"),
            }
            Err(e)
        }
    }
}

/// The body, checked for type, size, pace and depth before it is parsed.
async fn read_body(
    req: &HttpRequest,
    payload: &mut web::Payload,
    state: &IngestState,
    started: Instant,
    deadline: Instant,
) -> Result<web::Bytes, IngestError> {
    if let Some(kind) = req.headers().get(header::CONTENT_TYPE) {
        let kind = String::from_utf8_lossy(kind.as_bytes()).to_string();
        if !is_json(&kind) {
            return Err(IngestError::NotJson(kind));
        }
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.trim().parse::<usize>().ok());
    let bytes = body::read(payload, declared, state.body, started, deadline)
        .await
        .map_err(|e| match e {
            body::BodyError::TooLarge => IngestError::TooLarge,
            other => IngestError::BodyTooSlow(other),
        })?;
    if json_depth::exceeds(&bytes, state.json_max_depth) {
        return Err(IngestError::TooDeep(state.json_max_depth));
    }
    Ok(bytes)
}

/// `application/json` or any `+json` type, parameters (`; charset=utf-8`) aside. A missing
/// Content-Type is taken as JSON: that is what Aircall sends and curl users forget.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// One span per webhook, carrying the event and the call or contact id once parsed.
#[tracing::instrument(name = "webhook", skip_all, fields(event, kind, entity_id))]
async fn handle(
    req: &HttpRequest,
    query: SecretQuery,
    body: &[u8],
    state: &IngestState,
    arrived: Instant,
) -> Result<(String, &'static str), IngestError> {
    if let Some(secret) = &state.url_secret {
        let given = req
            .match_info()
            .get("secret")
            .map(str::to_string)
            .or(query.secret);
        if !same_secret(given.as_deref().unwrap_or(""), secret.expose_secret()) {
            return Err(IngestError::Unauthorized);
        }
    }
    let verified = Unverified::parse(body)?.verify(&state.tokens)?;
    let envelope = verified.envelope();
    let event = envelope.event.clone();
    let span = tracing::Span::current();
    span.record("event", event.as_str());
    // Before the event is stored: the card's look-up runs beside the commit, and a card only
    // helps while the call rings. It never waits for, nor delays, the answer.
    if let Some(cards) = &state.cards {
        cards.offer(&event, &envelope.data, envelope.timestamp, arrived);
    }
    let Some(entity) = verified.entity().filter(|e| state.rules.mirrors(*e)) else {
        tracing::debug!(%event, "event not mirrored by any board: acknowledged, not stored");
        return Ok((event, "ignored"));
    };
    let entity_id = verified.entity_id().ok_or_else(|| {
        IngestError::Malformed("`data.id` should be the call or contact id".into())
    })?;
    span.record("kind", entity.as_str());
    span.record("entity_id", entity_id);
    state
        .store
        .ensure_space(state.reserve_bytes)
        .await
        .map_err(IngestError::LowSpace)?;
    let appended = state
        .store
        .append(NewEvent {
            kind: entity,
            entity_id: entity_id.to_string(),
            event: event.clone(),
            timestamp: envelope.timestamp,
            received_ms: state.clock.now_ms(),
            data: envelope.data.to_string(),
            dedup_key: verified.dedup_key(),
        })
        .await
        .map_err(IngestError::StoreUnavailable)?;
    // Debug, not info: under a burst a line per webhook costs more than the commit it reports;
    // bridge_webhooks_total counts them, and the worker logs what reaches monday.
    tracing::debug!(%event, entity_id, stored = appended == Appended::Stored, "webhook accepted");
    if appended == Appended::Stored {
        state.wake.notify_one();
        Ok((event, "stored"))
    } else {
        Ok((event, "duplicate"))
    }
}
