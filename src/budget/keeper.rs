//! The governor at run time: the bridge's own requests counted per day, what `platform_api`
//! last said, the governor's decision, and which calls are held back. Shared by the monday
//! client (counting), the worker (deciding, holding) and the admin listener (showing).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use super::{day_start_ms, Budget, Decision, Governor, Mode, Share, Tuning};

/// How the keeper is set up (`monday.daily_budget`, `monday.daily_limit`, ...).
#[derive(Debug, Clone)]
pub struct KeeperSettings {
    pub enabled: bool,
    pub share: Share,
    /// The plan's limit until `platform_api` says otherwise.
    pub fallback_limit: u64,
    /// The length of a day in ms (86,400,000; tests shorten it).
    pub day_ms: i64,
}

/// What `platform_api` said, and when.
#[derive(Debug, Clone, Copy)]
struct Reading {
    limit: u64,
    account_used: u64,
    /// Our own count when it was read: later requests of ours are added to `account_used`.
    own_at_read: u64,
    day_start_ms: i64,
}

/// One call held back: since when, and until when (fixed once chosen, so that a claim that
/// comes a moment after its flush is not pushed to the next one).
#[derive(Debug, Clone, Copy)]
struct Hold {
    first_ms: i64,
    is_final: bool,
    due_ms: Option<i64>,
}

#[derive(Debug)]
struct Inner {
    governor: Governor,
    day_start_ms: i64,
    /// Our requests today, in tenths (a rate-limited request costs 0.1 call).
    own_tenths: u64,
    reading: Option<Reading>,
    next_read_ms: i64,
    /// Calls held back now.
    held: HashMap<String, Hold>,
    /// Calls seen today, so each counts once for the rate.
    seen: HashSet<String>,
    last: Option<Decision>,
}

pub struct Keeper {
    settings: KeeperSettings,
    inner: Mutex<Inner>,
}

impl Keeper {
    pub fn new(settings: KeeperSettings) -> Keeper {
        Keeper {
            inner: Mutex::new(Inner {
                governor: Governor::new(Tuning::default()),
                day_start_ms: 0,
                own_tenths: 0,
                reading: None,
                next_read_ms: i64::MIN,
                held: HashMap::new(),
                seen: HashSet::new(),
                last: None,
            }),
            settings,
        }
    }

    pub fn settings(&self) -> &KeeperSettings {
        &self.settings
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn roll(&self, inner: &mut Inner, now_ms: i64) {
        let start = day_start_ms(now_ms, self.settings.day_ms);
        if start != inner.day_start_ms {
            inner.day_start_ms = start;
            inner.own_tenths = 0;
            inner.seen.clear();
            inner.next_read_ms = i64::MIN;
        }
    }

    /// Counts one request of ours as monday does (`tenths`: 10, or 1 when rate-limited).
    pub fn count(&self, now_ms: i64, tenths: u64) {
        let mut inner = self.lock();
        self.roll(&mut inner, now_ms);
        inner.own_tenths += tenths;
    }

    /// Our requests today (whole calls, rounded up).
    pub fn own_used(&self, now_ms: i64) -> u64 {
        let mut inner = self.lock();
        self.roll(&mut inner, now_ms);
        inner.own_tenths.div_ceil(10)
    }

    /// (day start, tenths) to keep in the store, so a restart does not forget today's spend.
    pub fn snapshot(&self, now_ms: i64) -> String {
        let mut inner = self.lock();
        self.roll(&mut inner, now_ms);
        format!("{} {}", inner.day_start_ms, inner.own_tenths)
    }

    /// Takes back what `snapshot` wrote, if it is of today.
    pub fn restore(&self, now_ms: i64, text: &str) {
        let mut parts = text.split_whitespace().map(str::parse::<i64>);
        let (Some(Ok(day)), Some(Ok(tenths))) = (parts.next(), parts.next()) else {
            return;
        };
        let mut inner = self.lock();
        self.roll(&mut inner, now_ms);
        if day == inner.day_start_ms {
            inner.own_tenths = inner.own_tenths.max(tenths.max(0) as u64);
        }
    }

    /// Whether `platform_api` should be read now: at the start, then every hour of the day (24
    /// calls a day, 2.4 % of a Standard plan; our own requests are counted in between).
    pub fn read_due(&self, now_ms: i64) -> bool {
        let mut inner = self.lock();
        self.roll(&mut inner, now_ms);
        let due = self.settings.enabled && now_ms >= inner.next_read_ms;
        if due {
            // Taken by this caller: the other reconcile loops do not read it too.
            inner.next_read_ms = now_ms + (self.settings.day_ms / 24).max(1);
        }
        due
    }

    /// `platform_api`'s answer (`None`: it could not be read; tried again later).
    pub fn read(&self, now_ms: i64, limit: Option<u64>, account_used: Option<u64>) {
        let mut inner = self.lock();
        self.roll(&mut inner, now_ms);
        inner.next_read_ms = now_ms + (self.settings.day_ms / 24).max(1);
        if let Some(used) = account_used {
            let own = inner.own_tenths.div_ceil(10);
            inner.reading = Some(Reading {
                limit: limit.unwrap_or(self.settings.fallback_limit),
                account_used: used,
                own_at_read: own,
                day_start_ms: inner.day_start_ms,
            });
        }
    }

    /// A call the worker sees pending: counted once a day for the rate.
    pub fn call_seen(&self, now_ms: i64, entity_id: &str) {
        let mut inner = self.lock();
        self.roll(&mut inner, now_ms);
        if inner.seen.insert(entity_id.to_string()) {
            inner.governor.call_arrived(now_ms, self.settings.day_ms);
        }
    }

    fn budget(&self, inner: &Inner) -> Budget {
        let own = inner.own_tenths.div_ceil(10);
        let (limit, account_used) = match inner.reading {
            Some(r) if r.day_start_ms == inner.day_start_ms => {
                (r.limit, r.account_used + own.saturating_sub(r.own_at_read))
            }
            Some(r) => (r.limit, own),
            None => (self.settings.fallback_limit, own),
        };
        Budget {
            limit,
            account_used: account_used.max(own),
            own_used: own,
            share: self.settings.share,
            day_end_ms: inner.day_start_ms + self.settings.day_ms,
            day_ms: self.settings.day_ms,
            open_calls: inner.held.len() as u64,
        }
    }

    /// The mode for now (always live when the governor is off).
    pub fn decide(&self, now_ms: i64) -> Decision {
        let mut inner = self.lock();
        self.roll(&mut inner, now_ms);
        let budget = self.budget(&inner);
        let mut d = inner.governor.decide(now_ms, &budget);
        if !self.settings.enabled {
            d.mode = Mode::Live;
            d.reason = "the governor is off (monday.governor = false)".into();
        }
        inner.last = Some(d.clone());
        d
    }

    /// The last decision, for the status page and the metrics.
    pub fn last(&self) -> Option<Decision> {
        self.lock().last.clone()
    }

    /// Until when a call's changes wait under `mode`; `None`: send now. Final states are held
    /// only to the next flush, so that several share a request; a call that never ends still
    /// goes out an hour of the day after it was first held.
    pub fn hold_until(
        &self,
        now_ms: i64,
        entity_id: &str,
        is_final: bool,
        mode: Mode,
    ) -> Option<i64> {
        let mut inner = self.lock();
        if mode == Mode::Live {
            inner.held.remove(entity_id);
            return None;
        }
        let hold = inner.held.entry(entity_id.to_string()).or_insert(Hold {
            first_ms: now_ms,
            is_final,
            due_ms: None,
        });
        if hold.is_final != is_final {
            hold.is_final = is_final;
            hold.due_ms = None;
        }
        let first = hold.first_ms;
        let day = self.settings.day_ms;
        let due = *hold.due_ms.get_or_insert(match mode {
            Mode::Live => now_ms,
            Mode::Coalescing { hold_ms } => {
                let at = if is_final { now_ms } else { first + hold_ms };
                grid(at, (hold_ms / 4).max(1))
            }
            Mode::FinalOnly { flush_ms } => {
                let at = if is_final {
                    now_ms
                } else {
                    first + (day / 24).max(flush_ms)
                };
                grid(at, flush_ms)
            }
        });
        if due > now_ms {
            Some(due)
        } else {
            inner.held.remove(entity_id);
            None
        }
    }
}

/// `at` rounded up to a multiple of `step`, so calls held at different times go out together.
fn grid(at: i64, step: i64) -> i64 {
    let step = step.max(1);
    at + (step - at.rem_euclid(step)) % step
}

#[cfg(test)]
mod tests;
