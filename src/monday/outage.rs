//! monday down: no answer at all, or 502/503/504 from its edge. After a few such failures in a
//! row every request waits and one goes out at a time as a probe, until one gets an answer;
//! then the others go at once. Probes are spaced by a tenth of how long monday has been down
//! (1 s to 60 s): once it is back, the bridge loses at most about a tenth of the outage, and an
//! outage of an hour costs about 130 requests, not one per call per retry.
//!
//! Without this, a backlog built up during an outage retried each call on its own schedule:
//! 1,000 requests in the minute of an outage in the drain benchmark. monday counts failed
//! requests against the minute quota and the daily limit like any other (reference/monday.md
//! §4.3: "all requests count, even failed ones"), so the bridge then waited a minute for a
//! quota it had spent on nothing, and on a Standard plan (1,000 a day) an outage of a few
//! minutes could spend the day.

use std::time::Duration;

use tokio::time::Instant;

/// Failures in a row before requests are held: a dropped connection is not an outage.
const FAILURES_TO_HOLD: u32 = 3;
/// The spacing of probes: a tenth of the outage so far, within these.
const FIRST_PROBE: Duration = Duration::from_secs(1);
const LONGEST_PROBE: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub(super) struct Outage {
    failures_in_a_row: u32,
    /// The first failure of the run.
    since: Option<Instant>,
    /// While requests are held: when the next probe may leave.
    next_probe: Option<Instant>,
    interval: Duration,
}

impl Outage {
    /// How long a request must wait before it may leave. `None`: it may go now; while
    /// requests are held it is the probe, and the next one waits a whole interval.
    pub(super) fn wait(&mut self, now: Instant) -> Option<Duration> {
        let next = self.next_probe?;
        if now < next {
            return Some(next - now);
        }
        self.next_probe = Some(now + self.interval);
        None
    }

    /// A request got no answer, or one from monday's edge saying it is unavailable.
    /// `true` when this failure began holding requests.
    pub(super) fn failed(&mut self, now: Instant) -> bool {
        self.failures_in_a_row = self.failures_in_a_row.saturating_add(1);
        let since = *self.since.get_or_insert(now);
        if self.failures_in_a_row < FAILURES_TO_HOLD {
            return false;
        }
        let began = self.next_probe.is_none();
        self.interval = ((now - since) / 10).clamp(FIRST_PROBE, LONGEST_PROBE);
        self.next_probe = Some(now + self.interval);
        began
    }

    /// monday answered (whatever it said). `true` when requests were being held.
    pub(super) fn answered(&mut self) -> bool {
        let was_held = self.next_probe.is_some();
        *self = Outage::default();
        was_held
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn two_failures_hold_nothing_and_the_third_holds_every_request_but_the_probe() {
        let mut o = Outage::default();
        let t0 = Instant::now();
        assert!(!o.failed(t0));
        assert!(!o.failed(t0));
        assert_eq!(o.wait(t0), None, "two failures are not an outage");
        assert!(o.failed(t0));
        assert_eq!(o.wait(t0), Some(FIRST_PROBE));
        let at_probe = t0 + FIRST_PROBE;
        assert_eq!(o.wait(at_probe), None, "the probe goes");
        assert_eq!(
            o.wait(at_probe),
            Some(FIRST_PROBE),
            "the one after it waits for the probe's answer"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn probes_space_out_with_the_outage_and_an_answer_releases_everything() {
        let mut o = Outage::default();
        let t0 = Instant::now();
        for _ in 0..3 {
            o.failed(t0);
        }
        let mut now = t0;
        let mut spacings = Vec::new();
        while now < t0 + Duration::from_secs(3600) {
            let wait = o.wait(now).unwrap();
            spacings.push(wait.as_millis() as u64);
            now += wait;
            assert_eq!(o.wait(now), None);
            assert!(!o.failed(now), "still the same outage");
        }
        // A second apart for the first ten seconds, then a tenth of the time down, then a
        // minute: about 130 probes in an hour.
        assert_eq!(spacings[..11], [1_000; 11]);
        assert_eq!(spacings[11], 1_100);
        assert_eq!(*spacings.last().unwrap(), 60_000);
        assert!((100..=140).contains(&spacings.len()), "{}", spacings.len());
        assert!(o.answered());
        assert_eq!(o.wait(now), None);
        assert_eq!(o.wait(now), None, "nothing is held after an answer");
        assert!(!o.failed(now), "the count starts again after an answer");
    }
}
