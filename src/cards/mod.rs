//! Insight cards: the caller's monday context on the agent's screen while the call rings.
//!
//! The webhook handler offers each verified event ([`Cards::offer`]); a call's first ringing
//! event starts a task and the handler answers at once, so a card never delays Aircall's 200.
//! The task reads the caller from the store (`lookup`), never from monday, writes the card's
//! claim down (at most one card per call, replays and duplicates included), builds the card
//! (`content`, pure) and pushes it in one request ahead of the paced queue. A card for a call
//! that has ended is dropped; a failed one is logged and counted, never retried.

pub mod content;
mod index;
mod lookup;

pub use index::index_existing;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::aircall::api::AircallApi;
use crate::aircall::cards::CardError;
use crate::aircall::Call;
use crate::clock::SharedClock;
use crate::config::{CardColumn, Settings};
use crate::mapping::{normalise_phone, number_key};
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};
use content::{Layout, NoCard};

/// The events that may be the first the bridge hears of a ringing call. `call.created` is not
/// sent for Classic numbers whose entry point is an IVR (reference §3.3).
const TRIGGERS: &[&str] = &["call.created", "call.ringing_on_agent"];

/// Events after which a card is useless: the call is over.
const ENDED: &[&str] = &["call.hungup", "call.ended", "call.voicemail_left"];

pub struct Cards {
    store: Store,
    api: Arc<AircallApi>,
    metrics: Arc<Metrics>,
    layout: Layout,
    outbound: bool,
    board_id: Option<String>,
    columns: Vec<CardColumn>,
    item_link: String,
    timeout: Duration,
    max_age: Duration,
    clock: SharedClock,
}

/// Why a call got no card.
#[derive(Debug)]
enum Skip {
    Outbound,
    Anonymous,
    Late,
    Duplicate,
    UnknownCaller,
}

impl Skip {
    fn reason(&self) -> &'static str {
        match self {
            Skip::Outbound => "outbound",
            Skip::Anonymous => "anonymous",
            Skip::Late => "late",
            Skip::Duplicate => "duplicate",
            Skip::UnknownCaller => "unknown_caller",
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum Failed {
    #[error("the store did not answer: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Aircall(#[from] CardError),
}

enum Outcome {
    Sent,
    Skipped(Skip),
}

impl Cards {
    /// The card pusher `[insight_card]` asks for: `None` when it is off or Aircall's API has
    /// no credentials (`run` refuses that combination; the demo and tools may not).
    pub fn new(
        settings: &Settings,
        store: Store,
        api: Option<Arc<AircallApi>>,
        metrics: Arc<Metrics>,
        clock: SharedClock,
    ) -> Option<Arc<Cards>> {
        let card = &settings.insight_card;
        if !card.enabled {
            return None;
        }
        let Some(api) = api else {
            tracing::warn!("insight_card.enabled but Aircall's API has no credentials: no cards");
            return None;
        };
        Some(Arc::new(Cards {
            store,
            api,
            metrics,
            layout: Layout {
                recent_calls: card.recent_calls,
                unknown_caller: card
                    .unknown_caller
                    .then(|| card.unknown_caller_title.clone()),
            },
            outbound: card.outbound,
            board_id: settings.card_board().map(|b| b.board_id.clone()),
            columns: card.columns.clone(),
            item_link: settings.server.item_link.clone(),
            timeout: card.timeout,
            max_age: card.max_age,
            clock,
        }))
    }

    /// Called for every verified webhook; returns at once. `arrived`: when the request came.
    pub fn offer(self: &Arc<Self>, event: &str, data: &Value, timestamp: i64, arrived: Instant) {
        if !TRIGGERS.contains(&event) {
            return;
        }
        let Ok(call) = serde_json::from_value::<Call>(data.clone()) else {
            return;
        };
        let Some(id) = call.id else {
            return;
        };
        let this = self.clone();
        tokio::spawn(async move {
            let outcome = this.push(id, &call, timestamp).await;
            this.record(id, outcome, arrived);
        });
    }

    fn record(&self, id: u64, outcome: Result<Outcome, Failed>, arrived: Instant) {
        match outcome {
            Ok(Outcome::Sent) => {
                let took = arrived.elapsed();
                self.metrics.inc("bridge_insight_cards_sent_total", &[]);
                self.metrics
                    .observe("bridge_insight_card_seconds", &[], took);
                tracing::info!(
                    call_id = id,
                    took_ms = took.as_millis() as u64,
                    "insight card sent"
                );
            }
            Ok(Outcome::Skipped(skip)) => {
                self.metrics.inc(
                    "bridge_insight_cards_skipped_total",
                    &[("reason", skip.reason())],
                );
                tracing::debug!(call_id = id, reason = skip.reason(), "no insight card");
            }
            Err(error) => {
                let reason = match &error {
                    Failed::Store(_) => "store",
                    Failed::Aircall(e) => e.reason(),
                };
                self.metrics
                    .inc("bridge_insight_cards_failed_total", &[("reason", reason)]);
                tracing::warn!(call_id = id, %error, "insight card not sent (not retried)");
            }
        }
    }

    async fn push(&self, id: u64, call: &Call, timestamp: i64) -> Result<Outcome, Failed> {
        match call.direction.as_deref() {
            Some("inbound") => {}
            Some("outbound") if self.outbound => {}
            _ => return Ok(Outcome::Skipped(Skip::Outbound)),
        }
        if ended(call) || self.too_old(timestamp) {
            return Ok(Outcome::Skipped(Skip::Late));
        }
        let raw = call.raw_digits.as_deref().unwrap_or("");
        let (Some(key), Some(phone)) = (number_key(raw), normalise_phone(raw)) else {
            return Ok(Outcome::Skipped(Skip::Anonymous));
        };
        let call_id = id.to_string();
        if !self.store.claim_card(&call_id, self.clock.now_ms()).await? {
            return Ok(Outcome::Skipped(Skip::Duplicate));
        }
        let source = lookup::Source {
            store: &self.store,
            board_id: self.board_id.as_deref(),
            columns: &self.columns,
            item_link: &self.item_link,
            recent_calls: self.layout.recent_calls,
        };
        let caller = source.caller(&key, phone.e164, &call_id).await?;
        let card = match content::build(&caller, &self.layout) {
            Ok(card) => card,
            Err(NoCard::Unknown) => return Ok(Outcome::Skipped(Skip::UnknownCaller)),
        };
        // The call may have ended while the card was made: the journal says so first.
        let events = self
            .store
            .entity_events(crate::store::Entity::Call, &call_id)
            .await?;
        if events.iter().any(|e| ENDED.contains(&e.event.as_str())) {
            return Ok(Outcome::Skipped(Skip::Late));
        }
        self.api.push_insight_card(id, &card, self.timeout).await?;
        Ok(Outcome::Sent)
    }

    /// A delivery this old is a retry of one the bridge missed: the call has surely ended.
    fn too_old(&self, timestamp: i64) -> bool {
        let now = self.clock.now_ms() / 1000;
        timestamp > 0 && now.saturating_sub(timestamp) > self.max_age.as_secs() as i64
    }
}

fn ended(call: &Call) -> bool {
    call.ended_at.is_some() || call.status.as_deref() == Some("done")
}
