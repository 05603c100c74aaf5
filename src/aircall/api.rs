//! Aircall's public REST API (reference/aircall.md §5): Basic auth with the API ID and token,
//! webhooks, calls and contacts, paged. Aircall's rate limit (60 or 120 requests a minute per
//! company, shared with every other integration) is kept by pacing requests and by waiting as
//! told when it answers 429.

use std::time::Duration;

use reqwest::header::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::Mutex;
use tokio::time::Instant;

use crate::config::AircallSettings;

#[derive(Debug, thiserror::Error)]
pub enum AircallApiError {
    #[error("Aircall API credentials are missing: set aircall.api_id and aircall.api_token (or api_token_file, or the credential aircall_api_token)")]
    NoCredentials,
    #[error(
        "Aircall refused the credentials (HTTP {0}): check aircall.api_id and aircall.api_token"
    )]
    Unauthorized(u16),
    #[error("Aircall answered HTTP {status}: {body}")]
    Http { status: u16, body: String },
    #[error("no answer from Aircall: {0}")]
    Transport(String),
    #[error("unexpected answer from Aircall: {0}")]
    Decode(String),
    #[error("still rate limited by Aircall after {0} tries")]
    RateLimited(u32),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    pub webhook_id: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub active: bool,
    #[serde(default)]
    pub events: Vec<String>,
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub custom_name: Option<String>,
}

/// One page of a list, and whether there is another.
#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<Value>,
    pub next_page: Option<u32>,
    pub total: Option<u64>,
}

pub struct AircallApi {
    pub(super) http: reqwest::Client,
    pub(super) base: url::Url,
    pub(super) api_id: String,
    pub(super) token: SecretString,
    pub(super) schedule: Mutex<Pace>,
    spacing: Duration,
}

/// The request schedule shared by every caller of one client.
pub(super) struct Pace {
    /// The earliest moment the next queued request may go out.
    next_slot: Instant,
    /// Until when Aircall asked us to send nothing (its last 429).
    held_until: Instant,
}

const MAX_TRIES: u32 = 6;

impl AircallApi {
    pub fn new(settings: &AircallSettings) -> Result<AircallApi, AircallApiError> {
        if settings.api_id.trim().is_empty() || settings.api_token.expose_secret().trim().is_empty()
        {
            return Err(AircallApiError::NoCredentials);
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("aircall-monday-bridge/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| AircallApiError::Transport(e.to_string()))?;
        let per_minute = settings.api_requests_per_minute.max(1);
        Ok(AircallApi {
            http,
            base: settings.api_url.clone(),
            api_id: settings.api_id.clone(),
            token: settings.api_token.clone(),
            schedule: Mutex::new(Pace {
                next_slot: Instant::now(),
                held_until: Instant::now(),
            }),
            spacing: Duration::from_millis(60_000 / per_minute as u64),
        })
    }

    /// `GET /v1/calls/:id` (with short URLs): the call as Aircall has it now, with fresh
    /// recording links.
    pub async fn get_call(&self, id: u64) -> Result<Value, AircallApiError> {
        let body = self
            .request(
                reqwest::Method::GET,
                &format!("v1/calls/{id}?fetch_short_urls=true"),
                None,
            )
            .await?;
        body.get("call")
            .cloned()
            .ok_or_else(|| AircallApiError::Decode("no `call` in the answer".into()))
    }

    /// `GET /v1/calls?from=&to=&order=asc&page=&per_page=50`: calls started in [from, to].
    pub async fn list_calls(&self, from: i64, to: i64, page: u32) -> Result<Page, AircallApiError> {
        let path = format!(
            "v1/calls?from={from}&to={to}&order=asc&per_page=50&page={page}&fetch_short_urls=true"
        );
        let body = self.request(reqwest::Method::GET, &path, None).await?;
        page_of(&body, "calls")
    }

    /// `GET /v1/contacts?page=&per_page=50`.
    pub async fn list_contacts(&self, page: u32) -> Result<Page, AircallApiError> {
        let body = self
            .request(
                reqwest::Method::GET,
                &format!("v1/contacts?order=asc&per_page=50&page={page}"),
                None,
            )
            .await?;
        page_of(&body, "contacts")
    }

    /// `POST /v1/webhooks`. Aircall subscribes to every event when `events` is empty, so the
    /// caller always names them.
    pub async fn create_webhook(
        &self,
        url: &str,
        name: &str,
        events: &[&str],
    ) -> Result<Webhook, AircallApiError> {
        let body = json!({ "url": url, "custom_name": name, "events": events });
        let answer = self
            .request(reqwest::Method::POST, "v1/webhooks", Some(body))
            .await?;
        serde_json::from_value(answer.get("webhook").cloned().unwrap_or(Value::Null))
            .map_err(|e| AircallApiError::Decode(e.to_string()))
    }

    pub async fn list_webhooks(&self) -> Result<Vec<Webhook>, AircallApiError> {
        let mut all = Vec::new();
        let mut page = 1;
        loop {
            let body = self
                .request(
                    reqwest::Method::GET,
                    &format!("v1/webhooks?per_page=50&page={page}"),
                    None,
                )
                .await?;
            let p = page_of(&body, "webhooks")?;
            for w in p.items {
                all.push(
                    serde_json::from_value(w)
                        .map_err(|e| AircallApiError::Decode(e.to_string()))?,
                );
            }
            match p.next_page {
                Some(n) => page = n,
                None => return Ok(all),
            }
        }
    }

    /// `DELETE /v1/webhooks/:id`; an unknown id counts as already deleted.
    pub async fn delete_webhook(&self, id: &str) -> Result<(), AircallApiError> {
        match self
            .request(reqwest::Method::DELETE, &format!("v1/webhooks/{id}"), None)
            .await
        {
            Ok(_) | Err(AircallApiError::Http { status: 404, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub(super) async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, AircallApiError> {
        let url = self
            .base
            .join(path)
            .map_err(|e| AircallApiError::Decode(e.to_string()))?;
        for attempt in 1..=MAX_TRIES {
            self.pace().await;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .basic_auth(&self.api_id, Some(self.token.expose_secret()));
            if let Some(b) = &body {
                req = req.json(b);
            }
            let response = match req.send().await {
                Ok(r) => r,
                Err(e) if attempt < MAX_TRIES && (e.is_timeout() || e.is_connect()) => {
                    tokio::time::sleep(Duration::from_secs(attempt as u64)).await;
                    continue;
                }
                Err(e) => return Err(AircallApiError::Transport(e.to_string())),
            };
            let status = response.status().as_u16();
            let wait = rate_limit_wait(response.headers());
            let text = response
                .text()
                .await
                .map_err(|e| AircallApiError::Transport(e.to_string()))?;
            match status {
                200..=299 if text.trim().is_empty() => return Ok(Value::Null),
                200..=299 => {
                    return serde_json::from_str(&text)
                        .map_err(|e| AircallApiError::Decode(e.to_string()))
                }
                401 | 403 => return Err(AircallApiError::Unauthorized(status)),
                429 => {
                    let wait = wait.unwrap_or(Duration::from_secs(60));
                    tracing::warn!(
                        wait_s = wait.as_secs(),
                        "Aircall rate limit reached: waiting"
                    );
                    self.hold_until(Instant::now() + wait);
                }
                500..=599 if attempt < MAX_TRIES => {
                    tokio::time::sleep(Duration::from_secs(attempt as u64)).await
                }
                _ => {
                    return Err(AircallApiError::Http {
                        status,
                        body: text.chars().take(300).collect(),
                    })
                }
            }
        }
        Err(AircallApiError::RateLimited(MAX_TRIES))
    }

    /// Spaces requests evenly over the minute, so a long backfill never runs into the limit
    /// that other integrations on the same Aircall account share. Each request reserves its
    /// slot and waits for it outside the lock, so a card can go ahead of the queue
    /// (`jump_queue`).
    async fn pace(&self) {
        let slot = {
            let mut pace = self.schedule.lock().unwrap_or_else(|e| e.into_inner());
            let slot = pace.next_slot.max(Instant::now());
            pace.next_slot = slot + self.spacing;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }

    /// A slot now for a request that cannot wait (an insight card while the call rings),
    /// unless Aircall asked for a pause. The queue behind moves one slot later, so the
    /// requests of the minute stay within the limit.
    pub(super) fn jump_queue(&self) -> Result<(), Duration> {
        let mut pace = self.schedule.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if pace.held_until > now {
            return Err(pace.held_until - now);
        }
        pace.next_slot = pace.next_slot.max(now) + self.spacing;
        Ok(())
    }

    pub(super) fn hold_until(&self, until: Instant) {
        let mut pace = self.schedule.lock().unwrap_or_else(|e| e.into_inner());
        pace.next_slot = pace.next_slot.max(until);
        pace.held_until = pace.held_until.max(until);
    }
}

/// `Retry-After` (seconds), else `X-AircallApi-Reset` (UNIX seconds) minus now.
pub(super) fn rate_limit_wait(headers: &HeaderMap) -> Option<Duration> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok())
    };
    if let Some(secs) = get("retry-after") {
        return Some(Duration::from_secs(secs.max(1) as u64));
    }
    let reset = get("x-aircallapi-reset")?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    Some(Duration::from_secs((reset - now).clamp(1, 120) as u64))
}

fn page_of(body: &Value, key: &str) -> Result<Page, AircallApiError> {
    let items = body
        .get(key)
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| AircallApiError::Decode(format!("no `{key}` list in the answer")))?;
    let meta = body.get("meta");
    let current = meta
        .and_then(|m| m.get("current_page"))
        .and_then(Value::as_u64)
        .unwrap_or(1) as u32;
    let has_next = meta
        .and_then(|m| m.get("next_page_link"))
        .is_some_and(|l| l.as_str().is_some_and(|s| !s.is_empty()));
    Ok(Page {
        items,
        next_page: has_next.then_some(current + 1),
        total: meta.and_then(|m| m.get("total")).and_then(Value::as_u64),
    })
}
