//! What happens after a failed reconcile: retry on the configured schedule (or after the
//! server's hint), wait for monday's daily budget, or move the work to the dead letter.

use std::time::Duration;

use rand::Rng;

use crate::monday::{Decision, MondayError};
use crate::store::Outcome;

/// The outcome to record and, for the daily limit, until when every send pauses.
pub struct AfterFailure {
    pub outcome: Outcome,
    pub pause_until_ms: Option<i64>,
    /// For the retries metric: "error", "rate_limited", "daily_limit", or "" when dead.
    pub reason: &'static str,
}

/// The most a wait monday asked for is lengthened, so that replicas and loops told the same
/// wait do not all come back in the same millisecond.
const HINT_SPREAD: Duration = Duration::from_millis(250);

/// `attempt` counts from 1 (this attempt included); `jitter` is a fraction in [0, 0.2).
pub fn after_failure(
    error: &MondayError,
    message: String,
    attempt: u32,
    schedule: &[Duration],
    now_ms: i64,
    jitter: f64,
) -> AfterFailure {
    match error.decision() {
        Decision::DeadLetter | Decision::ItemGone => AfterFailure {
            outcome: Outcome::Dead { error: message },
            pause_until_ms: None,
            reason: "",
        },
        Decision::PauseUntilMidnight => {
            // monday's hint knows its own clock; without one, midnight UTC by ours.
            let until = match hint_of(error) {
                Some(h) => now_ms + h.as_millis() as i64,
                None => next_midnight_utc_ms(now_ms),
            };
            AfterFailure {
                outcome: Outcome::Retry {
                    due_ms: until,
                    error: message,
                    counts: false,
                },
                pause_until_ms: Some(until),
                reason: "daily_limit",
            }
        }
        Decision::Retry { hint } => {
            let attempt = attempt.max(1) as usize;
            // A rate limit means "not processed": wait as told, without using up attempts.
            let rate_limited = hint.is_some() && error.kind() != "IDEMPOTENCY_CONFLICT";
            if !rate_limited && attempt > schedule.len() {
                return AfterFailure {
                    outcome: Outcome::Dead {
                        error: format!("gave up after {attempt} attempts: {message}"),
                    },
                    pause_until_ms: None,
                    reason: "",
                };
            }
            let delay = match hint {
                // Spread by a fixed quarter second at most, not in proportion: the throttle
                // paces what goes out once the wait is over, and a fifth of a minute's wait
                // let a backlog come back one call at a time over 12 s.
                Some(h) => {
                    h.clamp(Duration::from_millis(50), Duration::from_secs(3600))
                        + HINT_SPREAD.mul_f64(jitter.clamp(0.0, 0.2) / 0.2)
                }
                None => {
                    let base = schedule[(attempt - 1).min(schedule.len().saturating_sub(1))];
                    base + base.mul_f64(jitter.clamp(0.0, 0.2))
                }
            };
            AfterFailure {
                outcome: Outcome::Retry {
                    due_ms: now_ms + delay.as_millis() as i64,
                    error: message,
                    counts: !rate_limited,
                },
                pause_until_ms: None,
                reason: if rate_limited {
                    "rate_limited"
                } else {
                    "error"
                },
            }
        }
    }
}

/// A recording that cannot be downloaded: retried on the schedule, then the dead letter.
pub fn after_download_failure(
    message: String,
    attempt: u32,
    schedule: &[Duration],
    now_ms: i64,
    jitter: f64,
) -> Outcome {
    let attempt = attempt.max(1) as usize;
    if attempt > schedule.len() {
        return Outcome::Dead {
            error: format!("gave up after {attempt} attempts: {message}"),
        };
    }
    let base = schedule[attempt - 1];
    let delay = base + base.mul_f64(jitter.clamp(0.0, 0.2));
    Outcome::Retry {
        due_ms: now_ms + delay.as_millis() as i64,
        error: message,
        counts: true,
    }
}

pub fn jitter() -> f64 {
    rand::thread_rng().gen_range(0.0..0.2)
}

fn hint_of(error: &MondayError) -> Option<Duration> {
    match error {
        MondayError::Api { retry_after, .. } | MondayError::Http { retry_after, .. } => {
            *retry_after
        }
        _ => None,
    }
}

fn next_midnight_utc_ms(now_ms: i64) -> i64 {
    const DAY: i64 = 86_400_000;
    (now_ms / DAY + 1) * DAY
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: &str, hint: Option<u64>) -> MondayError {
        MondayError::Api {
            code: code.into(),
            message: "m".into(),
            http_status: 200,
            status_code: None,
            retry_after: hint.map(Duration::from_secs),
            request_id: None,
        }
    }

    const SCHEDULE: &[Duration] = &[
        Duration::from_secs(5),
        Duration::from_secs(30),
        Duration::from_secs(120),
    ];

    fn due(a: &AfterFailure) -> i64 {
        match &a.outcome {
            Outcome::Retry { due_ms, .. } => *due_ms,
            other => panic!("not a retry: {other:?}"),
        }
    }

    #[test]
    fn follows_the_schedule_then_gives_up() {
        let e = MondayError::Transport {
            message: "refused".into(),
            timed_out: false,
            not_sent: true,
        };
        assert_eq!(
            due(&after_failure(&e, "x".into(), 1, SCHEDULE, 0, 0.0)),
            5_000
        );
        assert_eq!(
            due(&after_failure(&e, "x".into(), 3, SCHEDULE, 0, 0.0)),
            120_000
        );
        assert_eq!(
            due(&after_failure(&e, "x".into(), 3, SCHEDULE, 0, 0.1)),
            132_000
        );
        let last = after_failure(&e, "refused".into(), 4, SCHEDULE, 0, 0.0);
        assert!(
            matches!(&last.outcome, Outcome::Dead { error } if error.contains("gave up after 4 attempts: refused"))
        );
    }

    #[test]
    fn rate_limits_wait_as_told_and_do_not_use_up_attempts() {
        let a = after_failure(
            &api("COMPLEXITY_BUDGET_EXHAUSTED", Some(42)),
            "x".into(),
            99,
            SCHEDULE,
            1_000,
            0.0,
        );
        assert_eq!(due(&a), 43_000);
        assert!(matches!(a.outcome, Outcome::Retry { counts: false, .. }));
        assert_eq!(a.reason, "rate_limited");
    }

    /// Failed before: a wait of 55 s became up to 66 s (a fifth more), so the calls a full
    /// complexity budget held back came due spread over 11 s, and a drain that could go on
    /// at once went on one claim at a time.
    #[test]
    fn a_wait_monday_asked_for_is_spread_by_a_quarter_second_at_most() {
        let throttled = MondayError::Throttled {
            wait: Duration::from_secs(55),
        };
        for jitter in [0.0, 0.1, 0.199] {
            let a = after_failure(&throttled, "x".into(), 1, SCHEDULE, 1_000, jitter);
            let due = due(&a);
            assert!(
                (56_000..=56_250).contains(&due),
                "jitter {jitter}: due {due}"
            );
            assert!(matches!(a.outcome, Outcome::Retry { counts: false, .. }));
        }
    }

    #[test]
    fn permanent_errors_are_dead_letters_with_their_reason() {
        let a = after_failure(
            &api("ColumnValueException", None),
            "bad label".into(),
            1,
            SCHEDULE,
            0,
            0.0,
        );
        assert!(matches!(&a.outcome, Outcome::Dead { error } if error == "bad label"));
    }

    #[test]
    fn the_daily_limit_pauses_until_the_hint_or_midnight_utc() {
        let a = after_failure(
            &api("DAILY_LIMIT_EXCEEDED", Some(10)),
            "x".into(),
            1,
            SCHEDULE,
            5_000,
            0.0,
        );
        assert_eq!(a.pause_until_ms, Some(15_000));
        let b = after_failure(
            &api("DAILY_LIMIT_EXCEEDED", None),
            "x".into(),
            1,
            SCHEDULE,
            86_400_000 + 5,
            0.0,
        );
        assert_eq!(b.pause_until_ms, Some(2 * 86_400_000));
        assert!(matches!(b.outcome, Outcome::Retry { counts: false, .. }));
    }
}
