//! The time, as the bridge reads it: milliseconds since the Unix epoch. The worker and the
//! HTTP handlers are given a [`Clock`], so that a test can run them on a clock it moves itself;
//! the one-shot operator commands read the system's directly ([`now_ms`]).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

/// What every long-running part is handed.
pub type SharedClock = Arc<dyn Clock>;

/// The machine's clock (UTC).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
    }
}

/// The system clock, shared.
pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

/// The system's time now, for the one-shot commands that are not handed a clock.
pub fn now_ms() -> i64 {
    SystemClock.now_ms()
}

/// A clock that stands still until it is moved: for tests that must not wait for real time.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn at(ms: i64) -> Arc<ManualClock> {
        Arc::new(ManualClock(AtomicI64::new(ms)))
    }

    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
