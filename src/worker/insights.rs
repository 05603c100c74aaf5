//! Fetches a call's Conversation Intelligence insights from Aircall's API once its AI events
//! have settled: each resource an event asked for, once (`mapping::Insights`), through the
//! worker's one paced Aircall client. 404 means "not generated" and 403 with working
//! credentials "no AI Assist": both are answers, recorded, not errors. After a "no AI Assist"
//! the account is not asked again for `NO_AI_ASSIST_PAUSE` (the add-on is per account and
//! per user licence: a 403 and its ping per resource would spend the shared rate limit for
//! nothing). Anything else fails the call's reconcile, which is retried on the worker's
//! schedule.
//!
//! AI events that come before any of the call's own events leave the item without its base
//! fields (direction, times, number, outcome): the call itself is then fetched once from
//! `GET /v1/calls/{id}` and folded in as the weakest payload, so every webhook wins over it.

use std::sync::atomic::Ordering;

use super::job::{Failure, Job};
use super::Worker;
use crate::aircall::api::{AircallApi, AircallApiError};
use crate::aircall::insights::InsightAnswer;
use crate::mapping::{CallState, EventInput, Observed};

/// The name the fetched call is folded under (never stored in the journal).
const FETCHED: &str = "call.fetched";

/// How long a "no AI Assist" answer stands for the whole account.
const NO_AI_ASSIST_PAUSE_MS: i64 = 10 * 60 * 1000;

impl Worker {
    pub(super) async fn fetch_insights(&self, jobs: &mut [Job]) {
        let now = self.clock.now_ms();
        let debounce = self.settings.insights_debounce.as_millis() as i64;
        for job in jobs.iter_mut() {
            if job.failure.is_some() {
                continue;
            }
            let Some(Observed::Call(state)) = job.state.as_mut() else {
                continue;
            };
            let Some(due) = state.ai.due_ms(debounce) else {
                continue;
            };
            if due > now {
                job.revisit_ms = Some(due);
                continue;
            }
            let Some(api) = &self.aircall else {
                tracing::warn!(call_id = state.id,
                    "AI insights are ready but cannot be fetched: set aircall.api_id and aircall.api_token");
                self.metrics.inc(
                    "bridge_ai_fetches_total",
                    &[("resource", "-"), ("outcome", "no_credentials")],
                );
                continue;
            };
            if state.seen.is_empty() {
                self.fetch_call(api, state).await;
            }
            for resource in state.ai.pending() {
                let label = resource.path();
                if now < self.no_ai_assist_until_ms.load(Ordering::Relaxed) {
                    self.metrics.inc(
                        "bridge_ai_fetches_total",
                        &[("resource", label), ("outcome", "skipped_no_ai_assist")],
                    );
                    state.ai.absorb(resource, &InsightAnswer::NotEntitled);
                    continue;
                }
                match api.get_insight(state.id, resource).await {
                    Ok(answer) => {
                        let outcome = match &answer {
                            InsightAnswer::Found(_) => "found",
                            InsightAnswer::NotGenerated => "not_generated",
                            InsightAnswer::NotEntitled => "no_ai_assist",
                        };
                        tracing::debug!(
                            call_id = state.id,
                            resource = label,
                            outcome,
                            "AI insight fetched"
                        );
                        self.metrics.inc(
                            "bridge_ai_fetches_total",
                            &[("resource", label), ("outcome", outcome)],
                        );
                        if answer == InsightAnswer::NotEntitled {
                            self.no_ai_assist_until_ms
                                .store(now + NO_AI_ASSIST_PAUSE_MS, Ordering::Relaxed);
                        }
                        state.ai.absorb(resource, &answer);
                    }
                    Err(error) => {
                        tracing::warn!(call_id = state.id, resource = label, %error, "cannot fetch an AI insight");
                        self.metrics.inc(
                            "bridge_ai_fetches_total",
                            &[("resource", label), ("outcome", "failed")],
                        );
                        job.failure = Some(Failure::Insights(format!("{label}: {error}")));
                        break;
                    }
                }
            }
            if let Some(state) = &job.state {
                job.observed = serde_json::to_string(state).unwrap_or_default();
            }
        }
    }

    /// The call of AI events that came alone, from Aircall's API; a call Aircall does not
    /// know (404) or a failure leaves the item as the AI events make it.
    async fn fetch_call(&self, api: &AircallApi, state: &mut CallState) {
        let outcome = match api.get_call(state.id).await {
            Ok(call) => {
                let fetched = EventInput {
                    event: FETCHED,
                    timestamp: 0,
                    data: &call,
                };
                match state.apply(&fetched) {
                    Ok(()) => "found",
                    Err(error) => {
                        tracing::warn!(call_id = state.id, %error, "cannot read the call Aircall's API answered");
                        "failed"
                    }
                }
            }
            Err(AircallApiError::Http { status: 404, .. }) => "not_found",
            Err(error) => {
                tracing::warn!(call_id = state.id, %error,
                    "cannot fetch the call of AI events that came before its own");
                "failed"
            }
        };
        self.metrics.inc(
            "bridge_ai_fetches_total",
            &[("resource", "call"), ("outcome", outcome)],
        );
    }
}
