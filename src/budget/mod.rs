//! monday's daily call limit: the bridge's share of it (`monday.daily_budget`) and the governor
//! that decides how live the bridge can afford to be until the day resets at midnight UTC.

mod governor;
mod share;

pub use governor::{Budget, Decision, Governor, Mode, Tuning};
pub use share::Share;

/// The start of the day that contains `now_ms`, for a day of `day_ms` (monday's day is
/// 86,400,000 ms from midnight UTC; tests shorten it).
pub fn day_start_ms(now_ms: i64, day_ms: i64) -> i64 {
    now_ms - now_ms.rem_euclid(day_ms.max(1))
}
