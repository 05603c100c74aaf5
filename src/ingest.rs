//! The public listener: Aircall's webhooks. A handler verifies, parses, persists and answers;
//! it never talks to monday, so a monday outage can never turn into a failure Aircall sees.

use std::sync::Arc;
use std::time::Instant;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::Notify;

use crate::aircall::{EnvelopeError, Unverified};
use crate::metrics::Metrics;
use crate::reload::SharedRules;
use crate::store::{Appended, NewEvent, Store, StoreError};
use crate::worker::now_ms;

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
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("body is not an Aircall webhook envelope: {0}")]
    Malformed(String),
    #[error("unknown webhook token")]
    Unauthorized,
    #[error("the event could not be stored; retry later")]
    StoreUnavailable(#[source] StoreError),
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
            IngestError::StoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if let IngestError::StoreUnavailable(_) = self {
            response.insert_header(("Retry-After", "5"));
        }
        // The store's own message stays in our logs, not in the answer.
        response.json(json!({ "error": self.to_string() }))
    }
}

/// Answers a body over the size limit in the same JSON shape as the other errors, and counts it.
pub fn too_large<B>(
    res: actix_web::dev::ServiceResponse<B>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    if let Some(state) = res.request().app_data::<web::Data<IngestState>>() {
        state.metrics.inc(
            "bridge_webhooks_total",
            &[("event", "-"), ("outcome", "too_large")],
        );
        state.metrics.inc(
            "bridge_webhook_rejections_total",
            &[("reason", "too_large")],
        );
    }
    tracing::warn!("webhook rejected: body over the size limit");
    let (req, _) = res.into_parts();
    let response = HttpResponse::PayloadTooLarge()
        .json(json!({ "error": "body over the size limit (server.body_limit_bytes)" }))
        .map_into_right_body();
    Ok(actix_web::middleware::ErrorHandlerResponse::Response(
        actix_web::dev::ServiceResponse::new(req, response),
    ))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/webhooks/aircall", web::post().to(receive))
        .route("/webhooks/aircall/{secret}", web::post().to(receive));
}

#[derive(serde::Deserialize)]
struct SecretQuery {
    secret: Option<String>,
}

async fn receive(
    req: HttpRequest,
    query: web::Query<SecretQuery>,
    body: web::Bytes,
    state: web::Data<IngestState>,
) -> Result<HttpResponse, IngestError> {
    let started = Instant::now();
    let result = handle(&req, query.into_inner(), &body, &state).await;
    let (event, outcome) = match &result {
        Ok((event, outcome)) => (event.as_str(), *outcome),
        Err(IngestError::Malformed(_)) => ("-", "malformed"),
        Err(IngestError::Unauthorized) => ("-", "unauthorized"),
        Err(IngestError::StoreUnavailable(_)) => ("-", "store_unavailable"),
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
                IngestError::StoreUnavailable(cause) => {
                    tracing::error!(error = %cause, "webhook not stored")
                }
                other => tracing::warn!(error = %other, "webhook rejected"),
            }
            Err(e)
        }
    }
}

/// One span per webhook, carrying the event and the call or contact id once parsed.
#[tracing::instrument(name = "webhook", skip_all, fields(event, kind, entity_id))]
async fn handle(
    req: &HttpRequest,
    query: SecretQuery,
    body: &[u8],
    state: &IngestState,
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
    let Some(entity) = verified.entity().filter(|e| state.rules.mirrors(*e)) else {
        tracing::debug!(%event, "event not mirrored by any board: acknowledged, not stored");
        return Ok((event, "ignored"));
    };
    let entity_id = verified.entity_id().ok_or_else(|| {
        IngestError::Malformed("`data.id` should be the call or contact id".into())
    })?;
    span.record("kind", entity.as_str());
    span.record("entity_id", entity_id);
    let appended = state
        .store
        .append(NewEvent {
            kind: entity.as_str().to_string(),
            entity_id: entity_id.to_string(),
            event: event.clone(),
            timestamp: envelope.timestamp,
            received_ms: now_ms(),
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

fn same_secret(given: &str, want: &str) -> bool {
    let a = Sha256::digest(given.as_bytes());
    let b = Sha256::digest(want.as_bytes());
    bool::from(a.as_slice().ct_eq(b.as_slice()))
}
