//! Keeps the bridge under monday's budgets instead of running into them. monday states its
//! budgets on every answer (`RateLimit-Policy`: quotas; `RateLimit`: what is left and when it
//! resets, reference/monday.md §4.3). Before each request we wait while the minute quota or the
//! complexity budget is spent, while a 429 told us to, or while monday does not answer (one
//! probe at a time, `outage`); and we bound requests in flight,
//! overall and per board (monday advises against concurrent writes to one board).
//!
//! Replicas on one PostgreSQL share the account's minute quota through a `SharedWindow` (the
//! store), so three of them together stay under it as one would; the complexity budget is the
//! account's in monday's own headers, which every replica reads.
//!
//! (Over 300 lines on purpose: every budget monday states, the minute quota, complexity,
//! concurrency, 429 hints and an outage, is checked in one `wait_needed` under one lock, so that
//! a request another rule holds never takes a probe's turn or a quota's slot. Tests are in
//! `throttle/tests.rs`.)

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::HeaderMap;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::outage::Outage;

#[derive(Debug, Default)]
struct Budget {
    /// Requests we sent, for a local sliding window over the minute quota.
    sent: VecDeque<Instant>,
    minute_quota: Option<(u64, Duration)>,
    minute_left: Option<u64>,
    minute_reset: Option<Instant>,
    complexity_left: Option<u64>,
    complexity_reset: Option<Instant>,
    /// Points one command costs: the smallest of the recent drops in the budget monday
    /// reported between two answers, divided by the commands of the request in between.
    /// Other clients of the account (our own other requests in flight, other replicas) only
    /// ever add to a drop, so the smallest is the one nearest the truth.
    per_command: u64,
    recent_per_command: VecDeque<u64>,
    /// Commands in the request whose answer came last.
    last_commands: usize,
    complexity_seen: Option<u64>,
    /// Nothing goes out before this (set from 429 hints).
    blocked_until: Option<Instant>,
    /// While monday does not answer, one probe at a time.
    outage: Outage,
}

/// The account's minute window, kept where every replica sees it.
#[async_trait::async_trait]
pub trait SharedWindow: Send + Sync {
    /// Takes one of `quota` requests per `window` now, for this replica: `None` when
    /// taken, else how long until one frees. Without a quota (this replica has not heard
    /// monday state it yet), the one another replica last reported counts.
    async fn reserve(&self, quota: Option<(u64, Duration)>) -> Result<Option<Duration>, String>;
}

pub struct Throttle {
    budget: Mutex<Budget>,
    shared: std::sync::OnceLock<Arc<dyn SharedWindow>>,
    /// Until monday's first answer states the quota, a replica sends one request at a time.
    learning: Arc<tokio::sync::Mutex<()>>,
    global: Arc<Semaphore>,
    per_board_limit: usize,
    boards: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Wakes the requests held by an outage when a probe gets an answer.
    answered_again: tokio::sync::Notify,
}

/// Held while a request is in flight.
pub struct Permit {
    _global: OwnedSemaphorePermit,
    _boards: Vec<OwnedSemaphorePermit>,
    /// Held by the one request of a replica that goes out before monday has stated its quota.
    _learning: Option<tokio::sync::OwnedMutexGuard<()>>,
}

/// What monday's headers said, in numbers.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Snapshot {
    pub minute_left: Option<u64>,
    pub complexity_left: Option<u64>,
}

impl Throttle {
    pub fn new(max_in_flight: usize, per_board: usize) -> Throttle {
        Throttle {
            budget: Mutex::new(Budget::default()),
            shared: std::sync::OnceLock::new(),
            learning: Arc::default(),
            global: Arc::new(Semaphore::new(max_in_flight.max(1))),
            per_board_limit: per_board.max(1),
            boards: Mutex::new(HashMap::new()),
            answered_again: tokio::sync::Notify::new(),
        }
    }

    /// Waits for a slot (overall and on `board`) and for the budgets to allow one more request.
    /// Waits that add up to more than `max_wait` are not slept through: the caller gets the
    /// rest back as `Err` and reschedules its work, so no claim (lease) is held and no
    /// heartbeat goes stale while monday's budget refills or monday is down.
    pub async fn acquire(
        &self,
        boards: &[&str],
        commands: usize,
        max_wait: Duration,
    ) -> Result<Permit, Duration> {
        // Sorted and deduplicated, so two batches never wait on each other's boards in turn.
        let mut ids: Vec<&str> = boards.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut board_permits = Vec::with_capacity(ids.len());
        for id in ids {
            let sem = {
                let mut map = self.boards.lock().unwrap_or_else(|e| e.into_inner());
                map.entry(id.to_string())
                    .or_insert_with(|| Arc::new(Semaphore::new(self.per_board_limit)))
                    .clone()
            };
            if let Ok(p) = sem.acquire_owned().await {
                board_permits.push(p);
            }
        }
        let global = self
            .global
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore never closed");
        let learning = match self.shared.get() {
            Some(_) if self.quota().is_none() => Some(self.learning.clone().lock_owned().await),
            _ => None,
        };
        let give_up = Instant::now() + max_wait;
        loop {
            // Registered before the look, so an answer between the two is not missed.
            let answered = self.answered_again.notified();
            tokio::pin!(answered);
            answered.as_mut().enable();
            let now = Instant::now();
            match self.wait_needed(now, commands.max(1) as u64) {
                Some(d) if now + d > give_up => return Err(d),
                Some(d) => {
                    tokio::select! {
                        _ = tokio::time::sleep(d) => {}
                        _ = &mut answered => {}
                    }
                }
                None => match self.wait_shared().await {
                    None => break,
                    Some(d) => {
                        self.unrecord();
                        if d > max_wait {
                            return Err(d);
                        }
                        tokio::time::sleep(d).await;
                    }
                },
            }
        }
        Ok(Permit {
            _global: global,
            _boards: board_permits,
            _learning: learning,
        })
    }

    /// Shares the account's minute window with the other replicas through `window`.
    /// Until this replica has heard monday state its quota, it sends one request at a time,
    /// counted against the quota another replica reported.
    pub fn share(&self, window: Arc<dyn SharedWindow>) {
        let _ = self.shared.set(window);
    }

    /// How long the account's shared window says to wait (`None`: go, and counted there).
    /// Before monday has stated its quota, or when the store cannot answer, this process
    /// counts its own requests only.
    async fn wait_shared(&self) -> Option<Duration> {
        let shared = self.shared.get()?;
        // Our clock starts a request's window when it leaves, monday's when it counts it (on
        // arrival, or after a slow answer): a little more than the window, half a second at
        // least and a second at most, keeps the two from disagreeing at its edge.
        let margin =
            |w: Duration| (w / 10).clamp(Duration::from_millis(500), Duration::from_secs(1));
        let quota = self.quota().map(|(q, w)| (q, w + margin(w)));
        // The minute quota is real time counted across replicas: the store stamps the request
        // with one clock for all of them (not the bridge's own, which a test's may stop).
        match shared.reserve(quota).await {
            Ok(wait) => wait,
            Err(error) => {
                tracing::warn!(%error, "cannot share monday's minute quota through the store; counting this replica's requests only");
                None
            }
        }
    }

    /// monday's minute quota, once an answer has stated it.
    fn quota(&self) -> Option<(u64, Duration)> {
        self.budget
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .minute_quota
    }

    /// Takes back what `wait_needed` counted for a request that is not going out yet.
    fn unrecord(&self) {
        let mut b = self.budget.lock().unwrap_or_else(|e| e.into_inner());
        b.sent.pop_back();
        b.minute_left = b.minute_left.map(|l| l + 1);
    }

    /// How long to wait before one more request may go out; records it when none.
    fn wait_needed(&self, now: Instant, commands: u64) -> Option<Duration> {
        let mut b = self.budget.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = b.blocked_until.filter(|u| *u > now) {
            return Some(until - now);
        }
        if let Some((quota, window)) = b.minute_quota {
            while b.sent.front().is_some_and(|t| *t + window <= now) {
                b.sent.pop_front();
            }
            if b.sent.len() as u64 >= quota {
                let oldest = b.sent.front().copied().unwrap_or(now);
                return Some(
                    (oldest + window)
                        .saturating_duration_since(now)
                        .max(Duration::from_millis(5)),
                );
            }
        }
        if b.minute_left == Some(0) {
            if let Some(reset) = b.minute_reset.filter(|r| *r > now) {
                return Some(reset - now);
            }
        }
        if let (Some(left), Some(reset)) = (b.complexity_left, b.complexity_reset) {
            if left < (b.per_command * commands).max(1) && reset > now {
                return Some(reset - now);
            }
        }
        // Last: a request held by any other rule must not take the probe's turn.
        if let Some(wait) = b.outage.wait(now) {
            return Some(wait);
        }
        // Optimistically count this request against what is left, until the answer says more.
        b.sent.push_back(now);
        b.minute_left = b.minute_left.map(|l| l.saturating_sub(1));
        if let Some(left) = b.complexity_left {
            b.complexity_left = Some(left.saturating_sub(b.per_command * commands));
        }
        None
    }

    /// Reads `RateLimit-Policy` and `RateLimit` from an answer.
    pub fn observe(&self, headers: &HeaderMap, commands: usize) -> Snapshot {
        let now = Instant::now();
        let mut b = self.budget.lock().unwrap_or_else(|e| e.into_inner());
        b.last_commands = commands.max(1);
        if let Some(policy) = header(headers, "ratelimit-policy") {
            for (name, params) in parse_structured(&policy) {
                if name == "minuteRate" {
                    if let Some(q) = param(&params, "q") {
                        let w = param(&params, "w").unwrap_or(60);
                        b.minute_quota = Some((q, Duration::from_secs(w)));
                    }
                }
            }
        }
        if let Some(state) = header(headers, "ratelimit") {
            for (name, params) in parse_structured(&state) {
                let reset = param(&params, "t").map(|t| now + Duration::from_secs(t));
                match name.as_str() {
                    "minuteRate" => {
                        b.minute_left = param(&params, "r");
                        b.minute_reset = reset;
                    }
                    "complexityMinute" => {
                        let left = param(&params, "r");
                        if let (Some(before), Some(now_left)) = (b.complexity_seen, left) {
                            if before > now_left {
                                let observed = (before - now_left) / b.last_commands as u64;
                                if b.recent_per_command.len() == 8 {
                                    b.recent_per_command.pop_front();
                                }
                                b.recent_per_command.push_back(observed);
                                b.per_command =
                                    b.recent_per_command.iter().copied().min().unwrap_or(0);
                            }
                        }
                        b.complexity_seen = left;
                        b.complexity_left = left;
                        b.complexity_reset = reset;
                    }
                    _ => {}
                }
            }
        }
        Snapshot {
            minute_left: b.minute_left,
            complexity_left: b.complexity_left,
        }
    }

    /// Whether a request reached monday: `false` for no answer or an unavailable edge
    /// (502/503/504). A few of those in a row hold every request but one probe at a time
    /// (`outage`); the first answer after them lets the held ones go.
    pub fn reached(&self, reached: bool) {
        let mut b = self.budget.lock().unwrap_or_else(|e| e.into_inner());
        if reached {
            if b.outage.answered() {
                drop(b);
                tracing::info!("monday answers again; sending what was held");
                self.answered_again.notify_waiters();
            }
        } else if b.outage.failed(Instant::now()) {
            tracing::warn!(
                "monday is not answering: holding requests, one probe at a time until it does"
            );
        }
    }

    /// monday said to wait (a 429 or a 423): hold every request until then.
    pub fn back_off(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut b = self.budget.lock().unwrap_or_else(|e| e.into_inner());
        if b.blocked_until.is_none_or(|u| u < until) {
            b.blocked_until = Some(until);
        }
    }

    /// How many commands the complexity budget left allows now, when monday has said enough
    /// to tell.
    pub fn commands_that_fit(&self) -> Option<usize> {
        let b = self.budget.lock().unwrap_or_else(|e| e.into_inner());
        let left = b.complexity_left?;
        (b.per_command > 0).then(|| (left / b.per_command) as usize)
    }

    pub fn snapshot(&self) -> Snapshot {
        let b = self.budget.lock().unwrap_or_else(|e| e.into_inner());
        Snapshot {
            minute_left: b.minute_left,
            complexity_left: b.complexity_left,
        }
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(String::from)
}

/// Parses `"name";k=v;k=v, "name";k=v` (an IETF structured-field list) loosely.
fn parse_structured(value: &str) -> Vec<(String, Vec<(String, String)>)> {
    value
        .split(',')
        .filter_map(|member| {
            let mut parts = member.split(';');
            let name = parts.next()?.trim().trim_matches('"').to_string();
            let params = parts
                .filter_map(|p| {
                    let (k, v) = p.split_once('=')?;
                    Some((k.trim().to_string(), v.trim().trim_matches('"').to_string()))
                })
                .collect();
            (!name.is_empty()).then_some((name, params))
        })
        .collect()
}

fn param(params: &[(String, String)], key: &str) -> Option<u64> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.parse().ok())
}

#[cfg(test)]
mod tests;
