//! monday's daily call limit: the bridge's share of it (`monday.daily_budget`) and the governor
//! that decides how live the bridge can afford to be until the day resets at midnight UTC.

mod governor;
mod keeper;
mod share;

pub use governor::{Budget, Decision, Governor, Mode, Tuning};
pub use keeper::{Keeper, KeeperSettings};
pub use share::Share;

/// The start of the day that contains `now_ms`, for a day of `day_ms` (monday's day is
/// 86,400,000 ms from midnight UTC; tests shorten it).
pub fn day_start_ms(now_ms: i64, day_ms: i64) -> i64 {
    now_ms - now_ms.rem_euclid(day_ms.max(1))
}

/// How monday's `platform_api` names the day that starts at `start_ms` in `by_day`: its date
/// (`YYYY-MM-DD`); for a compressed day (tests), the RFC 3339 time of its start, as the
/// sandbox names it.
pub fn day_label(start_ms: i64, day_ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(start_ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    if day_ms == 86_400_000 {
        let d = t.date();
        format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
    } else {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    }
}
