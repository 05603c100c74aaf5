//! Rate limits (monday.md §4): minute request quota, concurrency, complexity budget, daily
//! calls; the sandbox clock they all run on; the `RateLimit` headers; API versions.
//!
//! Cost model (static, computed before execution, as monday does): each mutation root field
//! costs `cost.mutation_field`; each query root field costs `cost.query_field` plus
//! `cost.per_item` for every item it may return (its `limit`, or the number of `ids`, default
//! 25), and every nested `items_page` adds `cost.per_item` × its limit. `complexity` is free.
//!
//! (Over 300 lines on purpose: the cost model and every limit it feeds share one `Limiter`
//! under one lock, as monday's answer reports them together. Tests are in `limits/tests.rs`.)

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};

use super::exec::ComplexityInfo;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CostModel {
    pub mutation_field: u64,
    pub query_field: u64,
    pub per_item: u64,
}

impl Default for CostModel {
    fn default() -> Self {
        CostModel {
            mutation_field: 10_000,
            query_field: 1_000,
            per_item: 100,
        }
    }
}

/// All limits; `Limits::default()` is monday's Enterprise plan with a personal token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    pub minute_requests: u64,
    pub minute_window_secs: u64,
    pub max_concurrency: u64,
    pub complexity_budget: u64,
    pub complexity_window_secs: u64,
    /// monday rejects a single query above 5,000,000 points.
    pub max_query_complexity: u64,
    /// Calls per day, reset at midnight UTC of the sandbox clock.
    pub daily_requests: u64,
    /// The length of the sandbox's day in seconds: 86,400 resets at midnight UTC; tests
    /// compress a day into a few minutes (the count resets at every multiple since the epoch).
    pub day_secs: u64,
    pub cost: CostModel,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            minute_requests: 5_000,
            minute_window_secs: 60,
            max_concurrency: 250,
            complexity_budget: 10_000_000,
            complexity_window_secs: 60,
            max_query_complexity: 5_000_000,
            daily_requests: 25_000,
            day_secs: 86_400,
            cost: CostModel::default(),
        }
    }
}

/// Real time shifted by an offset that tests move with `/_sandbox/clock`; or, frozen, a time
/// that moves only when a test moves it (a simulated day, in step with the bridge's clock).
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset: Duration,
    frozen: Option<OffsetDateTime>,
}

impl Clock {
    pub fn now(&self) -> OffsetDateTime {
        self.frozen
            .unwrap_or_else(|| OffsetDateTime::now_utc() + self.offset)
    }
    pub fn advance(&mut self, by: Duration) {
        match &mut self.frozen {
            Some(at) => *at += by,
            None => self.offset += by,
        }
    }
    pub fn set(&mut self, to: OffsetDateTime) {
        match &mut self.frozen {
            Some(at) => *at = to,
            None => self.offset = to - OffsetDateTime::now_utc(),
        }
    }
    /// Stops the clock where it is (`true`), or lets it run on from there (`false`).
    pub fn freeze(&mut self, frozen: bool) {
        let now = self.now();
        self.frozen = frozen.then_some(now);
        self.offset = now - OffsetDateTime::now_utc();
    }
}

/// Why a request was refused with 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    Minute { retry_in: u64 },
    Complexity { retry_in: u64 },
    Daily { retry_in: u64 },
}

fn ceil_secs(d: Duration) -> u64 {
    let ms = d.whole_milliseconds().max(0) as u64;
    ms.div_ceil(1000).max(1)
}

#[derive(Debug, Default)]
pub struct Limiter {
    minute: VecDeque<OffsetDateTime>,
    complexity: VecDeque<(OffsetDateTime, u64)>,
    /// The current day: its index since the epoch, in days of `day_secs`.
    day: Option<i64>,
    /// Daily usage in tenths of a call: a rate-limited request costs 0.1 call.
    daily_tenths: u64,
    /// Earlier days (start, calls), newest last, at most 13 (monday reports 14 days).
    past_days: VecDeque<(OffsetDateTime, u64)>,
    pub complexity_used_total: u64,
    /// The most requests admitted within one minute window: how close clients came to the
    /// quota (tests of replicas sharing it check they reached it and never went over).
    pub peak_minute_requests: u64,
}

impl Limiter {
    fn prune(&mut self, limits: &Limits, now: OffsetDateTime) {
        let mw = Duration::seconds(limits.minute_window_secs as i64);
        while self.minute.front().is_some_and(|t| *t + mw <= now) {
            self.minute.pop_front();
        }
        let cw = Duration::seconds(limits.complexity_window_secs as i64);
        while self.complexity.front().is_some_and(|(t, _)| *t + cw <= now) {
            self.complexity.pop_front();
        }
        let day = day_index(limits, now);
        if self.day != Some(day) {
            if let Some(old) = self.day {
                self.past_days
                    .push_back((day_start(limits, old), self.daily_tenths.div_ceil(10)));
                while self.past_days.len() > 13 {
                    self.past_days.pop_front();
                }
            }
            self.day = Some(day);
            self.daily_tenths = 0;
        }
    }

    fn complexity_spent(&self) -> u64 {
        self.complexity.iter().map(|(_, c)| c).sum()
    }

    fn complexity_reset_in(&self, limits: &Limits, now: OffsetDateTime) -> u64 {
        self.complexity.front().map_or(0, |(t, _)| {
            ceil_secs(*t + Duration::seconds(limits.complexity_window_secs as i64) - now)
        })
    }

    /// Counts a request and charges its complexity, or says which limit refused it (the
    /// refusal itself still costs 0.1 daily call).
    pub fn admit(
        &mut self,
        limits: &Limits,
        now: OffsetDateTime,
        cost: u64,
        daily_tenths: u64,
    ) -> Result<ComplexityInfo, Exceeded> {
        self.prune(limits, now);
        if self.daily_tenths + daily_tenths > limits.daily_requests * 10 {
            self.daily_tenths += 1;
            return Err(Exceeded::Daily {
                retry_in: ceil_secs(day_end(limits, now) - now),
            });
        }
        if self.minute.len() as u64 >= limits.minute_requests {
            self.daily_tenths += 1;
            let oldest = self.minute.front().copied().unwrap_or(now);
            return Err(Exceeded::Minute {
                retry_in: ceil_secs(
                    oldest + Duration::seconds(limits.minute_window_secs as i64) - now,
                ),
            });
        }
        let before = limits
            .complexity_budget
            .saturating_sub(self.complexity_spent());
        if cost > before {
            self.daily_tenths += 1;
            return Err(Exceeded::Complexity {
                retry_in: self.complexity_reset_in(limits, now),
            });
        }
        self.minute.push_back(now);
        self.peak_minute_requests = self.peak_minute_requests.max(self.minute.len() as u64);
        self.daily_tenths += daily_tenths;
        if cost > 0 {
            self.complexity.push_back((now, cost));
            self.complexity_used_total += cost;
        }
        Ok(ComplexityInfo {
            before,
            query: cost,
            after: before - cost,
            reset_in_x_seconds: self.complexity_reset_in(limits, now),
        })
    }

    /// Daily calls used so far (whole calls, rounded up).
    pub fn daily_used(&self) -> u64 {
        self.daily_tenths.div_ceil(10)
    }

    /// Charges `calls` of another client of the same account to today's usage.
    pub fn charge(&mut self, limits: &Limits, now: OffsetDateTime, calls: u64) {
        self.prune(limits, now);
        self.daily_tenths += calls * 10;
    }

    /// What `platform_api` reports: the limit and the usage per day, oldest first, today last.
    pub fn platform(&mut self, limits: &Limits, now: OffsetDateTime) -> Platform {
        self.prune(limits, now);
        let today = day_start(limits, day_index(limits, now));
        let mut by_day: Vec<(String, u64)> = self
            .past_days
            .iter()
            .map(|(start, used)| (day_label(limits, *start), *used))
            .collect();
        by_day.push((day_label(limits, today), self.daily_used()));
        Platform {
            limit: limits.daily_requests,
            by_day,
        }
    }

    /// `RateLimit-Policy` and `RateLimit` header values.
    pub fn headers(
        &mut self,
        limits: &Limits,
        now: OffsetDateTime,
        in_flight: u64,
    ) -> (String, String) {
        self.prune(limits, now);
        let policy = format!(
            "\"minuteRate\";q={};w={}, \"concurrency\";q={};qu=\"concurrent-requests\", \"complexityMinute\";q={};w={};qu=\"content-bytes\"",
            limits.minute_requests,
            limits.minute_window_secs,
            limits.max_concurrency,
            limits.complexity_budget,
            limits.complexity_window_secs
        );
        let minute_left = limits
            .minute_requests
            .saturating_sub(self.minute.len() as u64);
        let mut state = format!("\"minuteRate\";r={minute_left}");
        if minute_left == 0 {
            let oldest = self.minute.front().copied().unwrap_or(now);
            let t = ceil_secs(oldest + Duration::seconds(limits.minute_window_secs as i64) - now);
            state.push_str(&format!(";t={t}"));
        }
        let conc_left = limits.max_concurrency.saturating_sub(in_flight);
        state.push_str(&format!(", \"concurrency\";r={conc_left}"));
        if conc_left == 0 {
            state.push_str(";t=1");
        }
        let complexity_left = limits
            .complexity_budget
            .saturating_sub(self.complexity_spent());
        state.push_str(&format!(", \"complexityMinute\";r={complexity_left}"));
        if !self.complexity.is_empty() {
            state.push_str(&format!(";t={}", self.complexity_reset_in(limits, now)));
        }
        (policy, state)
    }
}

/// The account's daily limit and usage per day (`platform_api`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub limit: u64,
    /// (day, calls), oldest first, today last.
    pub by_day: Vec<(String, u64)>,
}

fn day_index(limits: &Limits, now: OffsetDateTime) -> i64 {
    now.unix_timestamp()
        .div_euclid(limits.day_secs.max(1) as i64)
}

fn day_start(limits: &Limits, index: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(index * limits.day_secs.max(1) as i64)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// When the day that contains `now` ends: midnight UTC for a 24 h day.
pub fn day_end(limits: &Limits, now: OffsetDateTime) -> OffsetDateTime {
    day_start(limits, day_index(limits, now) + 1)
}

/// How `by_day` names a day: `YYYY-MM-DD` for a 24 h day; the RFC 3339 time of its start for
/// a compressed one (several fall on one date).
fn day_label(limits: &Limits, start: OffsetDateTime) -> String {
    if limits.day_secs == 86_400 {
        let d: Date = start.date();
        format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
    } else {
        start
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    }
}

/// The version used for a request: pinned quarterly versions still live are echoed;
/// deprecated ones (before 2025-04) are served as Maintenance; other well-formed ones as
/// Current; malformed ones are an error (`InvalidVersionException`).
pub fn resolve_version(header: Option<&str>) -> Result<String, String> {
    const CURRENT: &str = "2026-10";
    const MAINTENANCE: &str = "2026-07";
    let Some(raw) = header.map(str::trim) else {
        return Ok(CURRENT.into());
    };
    if raw == "dev" {
        return Ok(raw.into());
    }
    let bytes = raw.as_bytes();
    let well_formed = bytes.len() == 7
        && bytes[4] == b'-'
        && raw[..4].chars().all(|c| c.is_ascii_digit())
        && raw[5..].chars().all(|c| c.is_ascii_digit());
    if !well_formed {
        return Err(format!(
            "Invalid API version '{raw}'. The version must be in the format YYYY-MM"
        ));
    }
    let quarterly = matches!(&raw[5..], "01" | "04" | "07" | "10");
    Ok(if !quarterly || raw > "2027-01" {
        CURRENT.into()
    } else if raw < "2025-04" {
        MAINTENANCE.into()
    } else {
        raw.into()
    })
}

pub fn version_kind(v: &str) -> &'static str {
    match v {
        "dev" => "dev",
        "2027-01" => "release_candidate",
        "2026-10" => "current",
        _ => "maintenance",
    }
}

#[cfg(test)]
mod tests;
