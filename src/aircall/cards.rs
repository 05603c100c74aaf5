//! `POST /v1/calls/{id}/insight_cards` (shared/reference/aircall-ai-and-insight-cards.md §3):
//! one request per card, never retried. A card is only worth something while the call rings,
//! so it goes ahead of the paced queue, gives up after a short timeout, and a 429 drops it
//! (and holds the queue as Aircall asked) rather than waiting for `Retry-After`.

use std::time::Duration;

use secrecy::ExposeSecret;
use serde::Serialize;
use tokio::time::Instant;

use super::api::{rate_limit_wait, AircallApi};

#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("Aircall asked for a pause ({0:?} left after its last 429): card dropped")]
    Held(Duration),
    #[error("Aircall answered 429 (rate limit): card dropped")]
    RateLimited,
    #[error("Aircall does not know the call (404)")]
    UnknownCall,
    #[error(
        "Aircall refused the credentials (HTTP {0}): check aircall.api_id and aircall.api_token"
    )]
    Unauthorized(u16),
    #[error("Aircall answered HTTP {status}: {body}")]
    Http { status: u16, body: String },
    #[error("no answer from Aircall within {0:?} (insight_card.timeout)")]
    Timeout(Duration),
    #[error("cannot reach Aircall: {0}")]
    Transport(String),
}

impl CardError {
    /// The `reason` label of `bridge_insight_cards_failed_total`.
    pub fn reason(&self) -> &'static str {
        match self {
            CardError::Held(_) | CardError::RateLimited => "rate_limited",
            CardError::UnknownCall => "unknown_call",
            CardError::Unauthorized(_) => "unauthorized",
            CardError::Http { status, .. } if *status >= 500 => "server_error",
            CardError::Http { .. } => "refused",
            CardError::Timeout(_) => "timeout",
            CardError::Transport(_) => "transport",
        }
    }
}

impl AircallApi {
    /// Pushes one insight card onto call `id`, in one attempt bounded by `timeout`.
    pub async fn push_insight_card(
        &self,
        id: u64,
        card: &impl Serialize,
        timeout: Duration,
    ) -> Result<(), CardError> {
        self.jump_queue().map_err(CardError::Held)?;
        let url = self
            .base
            .join(&format!("v1/calls/{id}/insight_cards"))
            .map_err(|e| CardError::Transport(e.to_string()))?;
        let response = self
            .http
            .post(url)
            .basic_auth(&self.api_id, Some(self.token.expose_secret()))
            .timeout(timeout)
            .json(card)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    CardError::Timeout(timeout)
                } else {
                    CardError::Transport(e.to_string())
                }
            })?;
        let status = response.status().as_u16();
        match status {
            200..=299 => Ok(()),
            429 => {
                let wait = rate_limit_wait(response.headers()).unwrap_or(Duration::from_secs(60));
                self.hold_until(Instant::now() + wait);
                Err(CardError::RateLimited)
            }
            404 => Err(CardError::UnknownCall),
            401 | 403 => Err(CardError::Unauthorized(status)),
            _ => {
                let body = response.text().await.unwrap_or_default();
                Err(CardError::Http {
                    status,
                    body: body.chars().take(300).collect(),
                })
            }
        }
    }
}
