//! The outcome of a reconcile, as the store records it: synced, retried when, or dead with
//! its reason; with the links and intents as they are now, and the metrics and log lines of
//! each outcome.

use std::sync::atomic::Ordering;

use super::job::{Failure, Job};
use super::{retry, Worker};
use crate::mapping::Rules;
use crate::store::{Completion, Outcome};

impl Worker {
    pub(super) fn finish(&self, rules: &Rules, job: Job) -> Completion {
        let links = job.links(rules);
        let claim = &job.claim;
        let held = matches!(job.failure, Some(Failure::Held { .. }));
        let outcome = match job.failure {
            Some(Failure::Mapping(error)) => {
                tracing::error!(kind = %claim.kind, entity_id = %claim.entity_id, %error, "moved to the dead letter");
                Outcome::Dead { error }
            }
            Some(Failure::Download { board, message }) => {
                let message = format!("board {board}: {message}");
                let outcome = retry::after_download_failure(
                    message,
                    claim.attempts,
                    &self.settings.retry_schedule,
                    self.clock.now_ms(),
                    retry::jitter(),
                );
                if let Outcome::Dead { error } = &outcome {
                    tracing::error!(kind = %claim.kind, entity_id = %claim.entity_id, %error, "moved to the dead letter");
                }
                outcome
            }
            Some(Failure::Monday { board, error }) => {
                let message = format!("board {board}: {error}");
                let after = retry::after_failure(
                    &error,
                    message,
                    claim.attempts,
                    &self.settings.retry_schedule,
                    self.clock.now_ms(),
                    retry::jitter(),
                );
                if let Some(until) = after.pause_until_ms {
                    self.health
                        .paused_until_ms
                        .fetch_max(until, Ordering::Relaxed);
                    tracing::warn!(
                        until_ms = until,
                        "monday's daily limit is spent: sending paused, webhooks still accepted"
                    );
                }
                match &after.outcome {
                    Outcome::Dead { error } => {
                        tracing::error!(kind = %claim.kind, entity_id = %claim.entity_id, %error, "moved to the dead letter")
                    }
                    Outcome::Retry { due_ms, error, .. } => {
                        self.metrics
                            .inc("bridge_retries_total", &[("reason", after.reason)]);
                        tracing::warn!(kind = %claim.kind, entity_id = %claim.entity_id, %error,
                            retry_in_ms = due_ms - self.clock.now_ms(), "will retry");
                    }
                    Outcome::Synced => {}
                }
                after.outcome
            }
            Some(Failure::Insights(message)) => {
                let outcome = retry::after_download_failure(
                    format!("AI insights: {message}"),
                    claim.attempts,
                    &self.settings.retry_schedule,
                    self.clock.now_ms(),
                    retry::jitter(),
                );
                if let Outcome::Dead { error } = &outcome {
                    tracing::error!(kind = %claim.kind, entity_id = %claim.entity_id, %error, "moved to the dead letter");
                }
                outcome
            }
            Some(Failure::Store(error)) => Outcome::Retry {
                due_ms: self.clock.now_ms() + self.settings.poll_interval_ms as i64,
                error,
                counts: false,
            },
            Some(Failure::Settling { due_ms, message }) => Outcome::Retry {
                due_ms,
                error: message,
                counts: false,
            },
            Some(Failure::Held { due_ms, mode }) => Outcome::Retry {
                due_ms,
                error: format!("held back by the daily-budget governor ({mode})"),
                counts: false,
            },
            None if job.another_round => Outcome::Retry {
                due_ms: self.clock.now_ms(),
                error: "another round".into(),
                counts: false,
            },
            None => match job.revisit_ms {
                Some(due_ms) => Outcome::Retry {
                    due_ms,
                    error: "waiting for the call's AI insights to settle".into(),
                    counts: false,
                },
                None => Outcome::Synced,
            },
        };
        let label = match &outcome {
            Outcome::Retry { .. } if held => "held",
            Outcome::Synced => "synced",
            Outcome::Retry { .. } => "retry",
            Outcome::Dead { .. } => {
                self.metrics.inc("bridge_dead_letters_total", &[]);
                "dead"
            }
        };
        self.metrics
            .inc("bridge_reconciles_total", &[("outcome", label)]);
        let numbers = changed_numbers(claim.observed.as_deref(), &job.observed);
        Completion {
            numbers,
            row: claim.row,
            owner: claim.owner.clone(),
            event_ids: claim.events.iter().map(|e| e.id).collect(),
            observed: job.observed,
            links,
            intents: job.intents,
            outcome,
        }
    }
}

/// The entity's numbers for the store's index when they differ from those of the state it was
/// claimed with (a call's number never changes: written at its first reconcile).
fn changed_numbers(before: Option<&str>, after: &str) -> Option<crate::store::Numbers> {
    let now = crate::mapping::indexed_numbers_of(after)?;
    let was = before.and_then(crate::mapping::indexed_numbers_of);
    (was.as_ref() != Some(&now)).then_some(crate::store::Numbers {
        numbers: now.0,
        at_ms: now.1,
    })
}
