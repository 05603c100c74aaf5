//! Counters for `GET /_sandbox/stats`: what the bridge sent and what it got back.

use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Debug, Default, Serialize)]
pub struct Stats {
    pub requests_total: u64,
    /// HTTP status -> count, for API requests.
    pub responses_by_status: BTreeMap<u16, u64>,
    /// Root field -> outcome ("ok" or the error code) -> count.
    pub fields: BTreeMap<String, BTreeMap<String, u64>>,
    /// 429 code -> count.
    pub rate_limited: BTreeMap<String, u64>,
    pub idempotent_replays: u64,
    pub idempotency_conflicts: u64,
    pub unauthorized: u64,
}

impl Stats {
    pub fn field(&mut self, name: &str, outcome: &str) {
        *self
            .fields
            .entry(name.to_string())
            .or_default()
            .entry(outcome.to_string())
            .or_default() += 1;
    }

    pub fn status(&mut self, status: u16) {
        *self.responses_by_status.entry(status).or_default() += 1;
    }

    pub fn limited(&mut self, code: &str) {
        *self.rate_limited.entry(code.to_string()).or_default() += 1;
    }
}
