//! The daily-budget governor: how live the bridge can afford to be for the rest of the UTC day.
//!
//! Pure: no I/O, no clock (every method takes `now_ms`). Fed with the arrival of each new call
//! and with what the budget reader knows (the account's limit and usage, the bridge's own
//! count), it projects the day's spend from the rate of incoming calls and the time left until
//! the day resets, and picks one of three modes:
//!
//! - **live**: every change goes out at once, while the projection fits;
//! - **coalescing**: a call's non-final changes are held for a window that grows with the
//!   pressure, so answer, hang-up and end go out as one write and several calls share a request;
//! - **final state only**: a call goes out once it is final, flushed with others on a grid.
//!
//! What the bridge spends beyond what the modes explain (look-ups, reads of `platform_api`,
//! flushes of more than one batch) is measured (`spend`) and projected on top of every mode.
//! A reserve of the budget is only ever spent by the final-state mode, so the day's last calls
//! still land. Going less live happens at once; going more live needs the projection to fit
//! with a margin and the current mode to have run for a while, so the mode does not oscillate.
//!
//! Long on purpose: `decide` is one projection and the three modes in the order they are
//! tried; cut, the margins and the excess taken off each would no longer read together.
//!
//! (Over 300 lines on purpose: the modes and the projection that chooses between them; what it
//! spends beyond its modes is in `governor/spend.rs`, the tests beside it.)

use super::Share;
use spend::Spend;

mod spend;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Live,
    /// Non-final changes wait `hold_ms` after a call's first pending event.
    Coalescing {
        hold_ms: i64,
    },
    /// Non-final changes wait until the call is final; final ones go out on a `flush_ms` grid.
    FinalOnly {
        flush_ms: i64,
    },
}

impl Mode {
    pub fn name(&self) -> &'static str {
        match self {
            Mode::Live => "live",
            Mode::Coalescing { .. } => "coalescing",
            Mode::FinalOnly { .. } => "final_only",
        }
    }

    /// 0 live, 1 coalescing, 2 final state only: higher is tighter.
    fn rank(&self) -> u8 {
        match self {
            Mode::Live => 0,
            Mode::Coalescing { .. } => 1,
            Mode::FinalOnly { .. } => 2,
        }
    }
}

/// What a call costs in requests in each mode, and the governor's margins.
#[derive(Debug, Clone, PartialEq)]
pub struct Tuning {
    /// Requests per call when every change goes out live (`cargo bench`: about 3.7).
    pub live_cost: f64,
    /// Requests per call when answer, hang-up and end coalesce.
    pub coalescing_cost: f64,
    /// Requests per flush in the final-state mode (a batch of creates, one of changes).
    pub requests_per_flush: f64,
    /// Share of the bridge's budget that only the final-state mode may spend.
    pub reserve: f64,
    /// A more live mode is taken again only if its projection fits within this share of
    /// what may be spent.
    pub hysteresis: f64,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            live_cost: 4.0,
            coalescing_cost: 1.6,
            requests_per_flush: 2.0,
            reserve: 0.1,
            hysteresis: 0.8,
        }
    }
}

/// What the budget reader knows now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// The account's daily limit (`platform_api.daily_limit.total`).
    pub limit: u64,
    /// The account's usage today, the bridge's own requests included.
    pub account_used: u64,
    /// The bridge's own requests today.
    pub own_used: u64,
    /// The operator's cap on the bridge's share (`monday.daily_budget`).
    pub share: Share,
    /// When the day resets (midnight UTC).
    pub day_end_ms: i64,
    /// The length of a day (86,400,000; shorter in tests).
    pub day_ms: i64,
    /// Calls whose final state has not gone out yet (each needs at least one write).
    pub open_calls: u64,
}

impl Budget {
    /// Requests the bridge may still send today: its share, less what other integrations took
    /// from the account, less what it spent.
    pub fn left(&self) -> u64 {
        let others = self.account_used.saturating_sub(self.own_used);
        let cap = self
            .share
            .of(self.limit)
            .min(self.limit.saturating_sub(others));
        cap.saturating_sub(self.own_used)
    }

    fn cap(&self) -> u64 {
        self.left() + self.own_used
    }
}

/// The governor's choice, with what it is based on, for the metric and the status page.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub mode: Mode,
    pub reason: String,
    /// Requests the bridge may still send today.
    pub left: u64,
    /// Requests the rest of the day is projected to need in the chosen mode.
    pub projected: u64,
    /// Incoming calls per hour the projection uses.
    pub calls_per_hour: f64,
    /// When the budget runs out at the projected pace, if before the day ends.
    pub exhausts_at_ms: Option<i64>,
    /// False when not even the final-state mode fits the rest of the day.
    pub fits: bool,
}

/// Call arrivals in the current day, for the rate projection: the day's average and the
/// buckets of the recent window.
#[derive(Debug, Clone, Default)]
struct Rate {
    day_start_ms: i64,
    calls_today: u64,
    /// (bucket start, calls) over the recent window.
    recent: Vec<(i64, u64)>,
}

#[derive(Debug, Clone)]
pub struct Governor {
    tuning: Tuning,
    mode: Mode,
    since_ms: i64,
    rate: Rate,
    spend: Spend,
}

impl Governor {
    pub fn new(tuning: Tuning) -> Governor {
        Governor {
            tuning,
            mode: Mode::Live,
            since_ms: i64::MIN,
            rate: Rate::default(),
            spend: Spend::default(),
        }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Counts a new call (its first event), for the rate.
    pub fn call_arrived(&mut self, now_ms: i64, day_ms: i64) {
        self.roll_day(now_ms, day_ms);
        self.rate.calls_today += 1;
        let bucket = now_ms - now_ms.rem_euclid(bucket_ms(day_ms));
        match self.rate.recent.last_mut() {
            Some((start, n)) if *start == bucket => *n += 1,
            _ => self.rate.recent.push((bucket, 1)),
        }
    }

    fn roll_day(&mut self, now_ms: i64, day_ms: i64) {
        let start = now_ms - now_ms.rem_euclid(day_ms.max(1));
        if start != self.rate.day_start_ms {
            self.rate = Rate {
                day_start_ms: start,
                ..Rate::default()
            };
            self.spend = Spend::default();
        }
        let horizon = now_ms - recent_ms(day_ms);
        self.rate
            .recent
            .retain(|(s, _)| *s + bucket_ms(day_ms) > horizon);
    }

    /// Calls per millisecond to expect for the rest of the day: the mean of the day's average
    /// and the recent rate, so a morning peak tightens the mode without being taken for the
    /// whole day, and a quiet spell does not hide it.
    fn projected_rate(&self, now_ms: i64, day_ms: i64) -> f64 {
        // Never over less than the recent window: a few early calls are no trend.
        let window = recent_ms(day_ms);
        let elapsed = (now_ms - self.rate.day_start_ms).max(window) as f64;
        let day_avg = self.rate.calls_today as f64 / elapsed;
        let recent: u64 = self.rate.recent.iter().map(|(_, n)| n).sum();
        let recent = recent as f64 / window as f64;
        (day_avg + recent) / 2.0
    }

    /// Chooses the mode for now and remembers it.
    pub fn decide(&mut self, now_ms: i64, budget: &Budget) -> Decision {
        let day_ms = budget.day_ms.max(1);
        self.roll_day(now_ms, day_ms);
        let t = &self.tuning;
        let time_left = (budget.day_end_ms - now_ms).max(0) as f64;
        let rate = self.projected_rate(now_ms, day_ms);
        let calls_left = rate * time_left;
        let open = budget.open_calls as f64;
        let left = budget.left();
        let reserve = (budget.cap() as f64 * t.reserve).ceil();
        let spendable = (left as f64 - reserve).max(0.0);
        // What the bridge spends beyond its modes goes on whatever the mode: taken off first.
        let beyond = self.spend.observe(
            now_ms,
            budget.own_used,
            bucket_ms(day_ms),
            recent_ms(day_ms),
        ) * time_left;

        let need_live = (calls_left + open) * t.live_cost;
        let need_coalescing = (calls_left + open) * t.coalescing_cost;
        // Going back to a more live mode needs a margin, and the current one to have run for
        // half an hour of the day.
        let settled = now_ms.saturating_sub(self.since_ms) >= day_ms / 48;
        let margin = |candidate: Mode| {
            if candidate.rank() < self.mode.rank() {
                if settled {
                    t.hysteresis
                } else {
                    0.0
                }
            } else {
                1.0
            }
        };
        let per_hour = rate * day_ms as f64 / 24.0;
        let (mode, projected, reason) = if need_live + beyond <= spendable * margin(Mode::Live) {
            (
                Mode::Live,
                need_live,
                format!(
                    "{:.0} calls projected before the day resets need about {:.0} requests live; {} are left",
                    calls_left, need_live, left
                ),
            )
        } else if need_coalescing + beyond <= spendable * margin(Mode::Coalescing { hold_ms: 0 }) {
            // The window grows with how far live would overshoot: from a minute to a quarter
            // of an hour of the day.
            let pressure = ((need_live + beyond) / spendable.max(1.0)).clamp(1.0, 16.0);
            let hold_ms = ((day_ms / 1440) as f64 * pressure).min((day_ms / 96) as f64) as i64;
            (
                Mode::Coalescing {
                    hold_ms: hold_ms.max(1),
                },
                need_coalescing,
                format!(
                    "live would need about {:.0} requests for {:.0} projected calls, {} are left: changes held {} s (of a 24 h day)",
                    need_live,
                    calls_left,
                    left,
                    scaled_secs(hold_ms, day_ms)
                ),
            )
        } else {
            // Flushes spaced so that the rest of the day fits what is left (reserve included),
            // no closer than a minute of the day, no further than an hour.
            // The reserve stays for what the projection missed.
            let usable = (left as f64 - reserve - beyond).max(1.0);
            let flush = (time_left * t.requests_per_flush / usable)
                .max((day_ms / 1440) as f64)
                .min((day_ms / 24) as f64) as i64;
            let flushes = time_left / flush.max(1) as f64;
            let need = flushes * t.requests_per_flush;
            (
                Mode::FinalOnly {
                    flush_ms: flush.max(1),
                },
                need,
                format!(
                    "even coalescing would need about {:.0} requests, {} are left: only final states, sent together every {} s (of a 24 h day)",
                    need_coalescing,
                    left,
                    scaled_secs(flush, day_ms)
                ),
            )
        };
        if mode.rank() != self.mode.rank() {
            self.since_ms = now_ms;
        }
        self.mode = mode;
        if time_left > 0.0 {
            self.spend.predict(now_ms, projected / time_left);
        }
        let reason = if beyond >= 1.0 {
            format!(
                "{reason}; about {:.0} more for requests beyond the mode's writes (look-ups, reads)",
                beyond
            )
        } else {
            reason
        };
        let projected = projected + beyond;
        let fits = projected <= left as f64 + 0.5;
        let pace = if time_left > 0.0 {
            projected / time_left
        } else {
            0.0
        };
        let exhausts_at_ms = (pace > 0.0)
            .then(|| now_ms + (left as f64 / pace) as i64)
            .filter(|at| *at < budget.day_end_ms);
        let reason = if fits {
            reason
        } else {
            format!("{reason}; the day's traffic does not fit even so")
        };
        Decision {
            mode,
            reason,
            left,
            projected: projected.ceil() as u64,
            calls_per_hour: per_hour,
            exhausts_at_ms,
            fits,
        }
    }
}

/// A bucket of the arrival rate: five minutes of the day.
fn bucket_ms(day_ms: i64) -> i64 {
    (day_ms / 288).max(1)
}

/// The recent window of the arrival rate: three hours of the day (shorter ones take the
/// noise of a few calls for a trend).
fn recent_ms(day_ms: i64) -> i64 {
    (day_ms / 8).max(1)
}

/// `ms` of a `day_ms` day, as seconds of a 24 h day.
fn scaled_secs(ms: i64, day_ms: i64) -> i64 {
    (ms as i128 * 86_400 / day_ms.max(1) as i128) as i64
}

#[cfg(test)]
mod tests;
