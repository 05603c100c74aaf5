//! Issue 15's figures: requests per call, and calls a day that fit in monday's daily limits of
//! 1,000 / 10,000 / 25,000, live against governed. Days are compressed (the sandbox's day and
//! the bridge's budget day both a few real seconds, tests/bridge/compressed_day.rs) and scaled:
//! a limit of 250 stands for Standard's 1,000, with the calls scaled alike, so that a day's
//! traffic still fits the seconds it has. The governed figure for every limit is the largest
//! measured day that fitted (every call final, no DAILY_LIMIT_EXCEEDED), scaled by the same
//! calls-to-limit ratio: with more calls per flush a real day batches at least as well.

use crate::compressed_day::{compressed_day, Day, DayPlan};

use super::report::Row;

/// The scaled days: (plan, what it stands for).
pub fn days(quick: bool) -> Vec<(DayPlan, &'static str)> {
    if quick {
        // One short day that checks the machinery, not the figures.
        return vec![(
            DayPlan {
                day_secs: 10..=12,
                ..DayPlan::new(100, 30, 41)
            },
            "a tiny day (quick)",
        )];
    }
    vec![
        (
            DayPlan::new(250, 500, 41),
            "Standard: 2,000 calls on 1,000, scaled 1/4",
        ),
        (
            DayPlan {
                governor: false,
                ..DayPlan::new(250, 500, 41)
            },
            "the same day, governor off (live)",
        ),
        (
            DayPlan {
                day_secs: 30..=40,
                ..DayPlan::new(250, 750, 44)
            },
            "3,000 calls on 1,000, scaled 1/4",
        ),
        (
            DayPlan {
                day_secs: 30..=40,
                ..DayPlan::new(250, 1_000, 42)
            },
            "4,000 calls on 1,000, scaled 1/4",
        ),
        (
            DayPlan::new(25_000, 150, 43),
            "Enterprise, 150 calls: ample budget",
        ),
    ]
}

/// Every call on its board with its final state before the day ended, nothing refused.
fn fitted(day: &Day) -> bool {
    day.calls_final_by_day_end == day.calls && day.daily_limit_refusals == 0
}

pub async fn figures(quick: bool, live_requests_per_call: f64, rows: &mut Vec<Row>) {
    let mut best_fit: Option<(u64, usize, u64)> = None;
    // The governed day with the fewest calls per unit of limit that did not fit: the bound.
    let mut least_misfit: Option<f64> = None;
    for (plan, what) in days(quick) {
        let day = compressed_day(&plan).await;
        let per_call = day.bridge_requests as f64 / day.calls as f64;
        let row = Row::new(
                "15",
                format!(
                    "compressed day of {} s, limit {}, {} calls, {} ({what})",
                    day.day_secs,
                    plan.limit,
                    day.calls,
                    if plan.governor { "governed" } else { "live" }
                ),
            )
            .bridge(format!(
                "{} requests ({per_call:.2}/call); {} of {} calls final by the day's end ({} 15 s later); {} seen live; {} DAILY_LIMIT_EXCEEDED",
                day.bridge_requests, day.calls_final_by_day_end, day.calls, day.calls_final, day.live_calls, day.daily_limit_refusals
            ))
            .baseline(format!("limit {}", plan.limit))
            .ratio(day.bridge_requests as f64 / plan.limit as f64);
        // A live bridge is not expected to fit a day too big for it: that is the comparison.
        rows.push(if plan.governor {
            row.target("every call final, no DAILY_LIMIT_EXCEEDED", fitted(&day))
        } else {
            row
        });
        // The governed day carrying the most calls per unit of limit, among those that fitted.
        let calls_per_limit = day.calls as f64 / plan.limit as f64;
        if plan.governor && !fitted(&day) {
            least_misfit = Some(least_misfit.map_or(calls_per_limit, |m| m.min(calls_per_limit)));
        }
        if plan.governor && fitted(&day) {
            let better = best_fit.is_none_or(|(limit, calls, _)| {
                day.calls as f64 / plan.limit as f64 > calls as f64 / limit as f64
            });
            if better {
                best_fit = Some((plan.limit, day.calls, day.bridge_requests));
            }
        }
    }
    for limit in [1_000u64, 10_000, 25_000] {
        let live_calls = limit as f64 / live_requests_per_call;
        let mut row = Row::new("15", format!("calls a day that fit in {limit} requests")).baseline(
            format!("live: {live_calls:.0} ({live_requests_per_call:.2} requests/call, figure 4)"),
        );
        if let Some((measured_limit, calls, requests)) = best_fit {
            let governed = calls as f64 * limit as f64 / measured_limit as f64;
            let short_of = least_misfit
                .filter(|m| *m * limit as f64 > governed)
                .map(|m| format!(", not {:.0}", m * limit as f64))
                .unwrap_or_default();
            row = row
                .bridge(format!(
                    "governed: at least {governed:.0}{short_of} ({:.2} requests/call on the day of {calls} calls on {measured_limit})",
                    requests as f64 / calls as f64
                ))
                .ratio(governed / live_calls);
        } else {
            row = row.bridge("governed: no measured day fitted");
        }
        rows.push(row);
    }
}
