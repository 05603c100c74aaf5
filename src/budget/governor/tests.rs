use super::*;

const DAY: i64 = 86_400_000;
const HOUR: i64 = DAY / 24;

fn budget(limit: u64, own: u64, others: u64, now: i64) -> Budget {
    Budget {
        limit,
        account_used: own + others,
        own_used: own,
        share: Share::Fraction(1.0),
        day_end_ms: (now / DAY + 1) * DAY,
        day_ms: DAY,
        open_calls: 0,
    }
}

/// Feeds `calls` evenly spread over the `hours` before `now`.
fn arrivals(g: &mut Governor, calls: u64, hours: i64, now: i64) {
    let span = hours * HOUR;
    for i in 0..calls {
        g.call_arrived(now - span + (i as i64 * span) / calls as i64, DAY);
    }
}

#[test]
fn an_ample_budget_stays_live() {
    let mut g = Governor::new(Tuning::default());
    let now = 9 * HOUR;
    // 400 calls a day, Enterprise limit.
    arrivals(&mut g, 150, 9, now);
    let d = g.decide(now, &budget(25_000, 600, 0, now));
    assert_eq!(d.mode, Mode::Live, "{d:?}");
    assert!(d.fits && d.exhausts_at_ms.is_none(), "{d:?}");
}

#[test]
fn a_standard_plan_coalesces_what_live_would_overspend() {
    let mut g = Governor::new(Tuning::default());
    let now = 9 * HOUR;
    // 400 calls a day on 1,000: live would need ~4 per call.
    arrivals(&mut g, 150, 9, now);
    let d = g.decide(now, &budget(1_000, 100, 0, now));
    assert!(
        matches!(d.mode, Mode::Coalescing { hold_ms } if hold_ms >= DAY / 1440),
        "{d:?}"
    );
    assert!(d.fits, "{d:?}");
    assert!(d.reason.contains("held"), "{}", d.reason);
}

#[test]
fn the_hold_window_grows_with_the_pressure() {
    let hold = |calls: u64| {
        let mut g = Governor::new(Tuning::default());
        let now = 9 * HOUR;
        arrivals(&mut g, calls, 9, now);
        match g.decide(now, &budget(1_000, 50, 0, now)).mode {
            Mode::Coalescing { hold_ms } => hold_ms,
            m => panic!("{calls} calls: {m:?}"),
        }
    };
    assert!(hold(250) > hold(150), "{} <= {}", hold(250), hold(150));
}

#[test]
fn two_thousand_calls_on_a_thousand_go_final_state_only_and_fit() {
    let mut g = Governor::new(Tuning::default());
    let now = 8 * HOUR;
    arrivals(&mut g, 670, 8, now);
    let d = g.decide(now, &budget(1_000, 200, 0, now));
    let Mode::FinalOnly { flush_ms } = d.mode else {
        panic!("{d:?}")
    };
    assert!((DAY / 1440..=DAY / 24).contains(&flush_ms), "{flush_ms}");
    assert!(d.fits && d.exhausts_at_ms.is_none(), "{d:?}");
}

#[test]
fn another_integration_spending_the_account_tightens_the_mode() {
    let now = 9 * HOUR;
    let decide = |others: u64| {
        let mut g = Governor::new(Tuning::default());
        arrivals(&mut g, 150, 9, now);
        g.decide(now, &budget(2_500, 100, others, now))
    };
    let alone = decide(0);
    let shared = decide(1_500);
    assert_eq!(alone.mode, Mode::Live, "{alone:?}");
    assert_eq!(shared.left, 2_500 - 1_500 - 100);
    assert!(shared.mode.rank() > alone.mode.rank(), "{shared:?}");
}

#[test]
fn the_operators_share_caps_the_bridge() {
    let now = 9 * HOUR;
    let mut b = budget(10_000, 1_000, 0, now);
    b.share = Share::Fraction(0.6);
    assert_eq!(b.left(), 5_000);
    b.share = Share::Absolute(1_200);
    assert_eq!(b.left(), 200);
    // Others' usage is taken from the account, not from the share, when it leaves less.
    b.share = Share::Fraction(0.6);
    b.account_used = 1_000 + 8_500;
    assert_eq!(b.left(), 10_000 - 8_500 - 1_000);
}

#[test]
fn the_reserve_is_not_spent_live() {
    let now = 12 * HOUR;
    // Live needs 12 h × 10 calls/h × 4 = 480; 490 are left of 1,000, but 50 are the reserve.
    let mut g = Governor::new(Tuning::default());
    arrivals(&mut g, 120, 12, now);
    let d = g.decide(now, &budget(1_000, 510, 0, now));
    assert_eq!(d.left, 490);
    assert_ne!(d.mode, Mode::Live, "{d:?}");
}

#[test]
fn a_day_that_cannot_fit_says_when_it_runs_out_hours_ahead() {
    let mut g = Governor::new(Tuning::default());
    let now = 9 * HOUR;
    arrivals(&mut g, 900, 9, now);
    let d = g.decide(now, &budget(1_000, 990, 0, now));
    assert!(!d.fits, "{d:?}");
    let at = d.exhausts_at_ms.expect("an exhaustion time");
    // Said hours ahead, not when it happens.
    assert!(at - now >= 2 * HOUR && at < DAY, "{d:?}");
    assert!(d.reason.contains("does not fit"), "{}", d.reason);
}

#[test]
fn a_new_day_forgets_yesterdays_calls() {
    let mut g = Governor::new(Tuning::default());
    let now = 20 * HOUR;
    arrivals(&mut g, 2_000, 20, now);
    assert_ne!(g.decide(now, &budget(1_000, 900, 0, now)).mode, Mode::Live);
    let tomorrow = DAY + HOUR;
    // Going more live waits for the current mode to have run a while.
    let d = g.decide(tomorrow, &budget(1_000, 0, 0, tomorrow));
    assert_eq!(d.mode, Mode::Live, "{d:?}");
}

/// A whole day at a pace that hovers around what live can afford: the mode must not flap.
#[test]
fn switching_has_hysteresis() {
    let mut g = Governor::new(Tuning::default());
    let mut own = 0.0_f64;
    let mut changes = 0;
    let mut last = g.mode().rank();
    let step = DAY / 1440;
    let mut t = 0;
    while t < DAY {
        // ~250 calls a day, wobbling ±50 % minute by minute.
        let wobble = if (t / step) % 2 == 0 { 1.5 } else { 0.5 };
        let calls_per_min = 250.0 / 1440.0 * wobble;
        if rand_like(t) < calls_per_min {
            g.call_arrived(t, DAY);
        }
        let d = g.decide(t, &budget(1_000, own as u64, 0, t));
        own += calls_per_min
            * match d.mode {
                Mode::Live => 4.0,
                Mode::Coalescing { .. } => 1.6,
                Mode::FinalOnly { flush_ms } => 2.0 * step as f64 / flush_ms as f64,
            };
        if d.mode.rank() != last {
            changes += 1;
            last = d.mode.rank();
        }
        t += step;
    }
    assert!(changes <= 3, "{changes} mode changes in a day");
    assert!(own <= 1_000.0, "spent {own:.0}");
}

/// A compressed day in pure form: 2,000 calls with a morning peak on a 1,000 limit, each mode
/// charged what it costs with 20 % more than the governor assumes. The spend stays under the
/// limit and live updates run while the budget allows (in the early hours).
#[test]
fn a_peaked_day_stays_under_the_limit() {
    let mut g = Governor::new(Tuning::default());
    let step = DAY / 1440;
    let mut own = 0.0_f64;
    let mut live_minutes = 0;
    let mut t = 0;
    let total: f64 = (0..1440).map(|m| shape(m as f64 / 60.0)).sum();
    while t < DAY {
        let minute = (t / step) as f64;
        let calls = 2_000.0 * shape(minute / 60.0) / total;
        // Arrivals: whole calls, carried over.
        let before = (2_000.0
            * (0..minute as usize)
                .map(|m| shape(m as f64 / 60.0))
                .sum::<f64>()
            / total) as u64;
        let after = (before as f64 + calls).floor() as u64;
        for _ in before..after {
            g.call_arrived(t, DAY);
        }
        let d = g.decide(t, &budget(1_000, own.ceil() as u64, 0, t));
        if d.mode == Mode::Live {
            live_minutes += 1;
        }
        own += 1.2
            * match d.mode {
                Mode::Live => calls * 4.0,
                Mode::Coalescing { .. } => calls * 1.6,
                Mode::FinalOnly { flush_ms } => 2.0 * step as f64 / flush_ms as f64,
            };
        t += step;
    }
    assert!(own <= 1_000.0, "spent {own:.0} of 1,000");
    assert!(live_minutes > 0, "never live");
}

/// Calls per hour of the day, relative: quiet at night, a peak at 10:00, a smaller one at 15:00.
fn shape(h: f64) -> f64 {
    0.05 + 3.0 * (-(h - 10.0).powi(2) / 4.0).exp() + 1.5 * (-(h - 15.0).powi(2) / 6.0).exp()
}

/// A deterministic number in [0, 1) from `t`.
fn rand_like(t: i64) -> f64 {
    let x = (t as u64)
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// Requests the modes do not explain (look-ups of users, reads of `platform_api`, flushes of
/// more than one batch) are measured against the bridge's own count: a bridge spending 40 an
/// hour beyond its mode's writes goes tighter than the same day spending what the mode says.
#[test]
fn spending_beyond_the_modes_writes_is_measured_and_tightens_the_mode() {
    let day = |beyond_per_hour: f64| {
        let mut g = Governor::new(Tuning::default());
        let step = HOUR / 10;
        let mut t = 6 * HOUR;
        arrivals(&mut g, 120, 6, t);
        let mut own = 60.0_f64;
        let mut d = g.decide(t, &budget(1_000, own as u64, 0, t));
        while t < 9 * HOUR {
            t += step;
            // 20 calls an hour, each charged what the mode in force says it costs.
            g.call_arrived(t - step / 2, DAY);
            g.call_arrived(t - 1, DAY);
            own += beyond_per_hour / 10.0
                + match d.mode {
                    Mode::Live => 2.0 * 4.0,
                    Mode::Coalescing { .. } => 2.0 * 1.6,
                    Mode::FinalOnly { flush_ms } => 2.0 * step as f64 / flush_ms as f64,
                };
            d = g.decide(t, &budget(1_000, own as u64, 0, t));
        }
        d
    };
    let modelled = day(0.0);
    let beyond = day(40.0);
    assert!(
        matches!(modelled.mode, Mode::Coalescing { .. }),
        "{modelled:?}"
    );
    assert!(!modelled.reason.contains("beyond"), "{}", modelled.reason);
    assert!(beyond.mode.rank() > modelled.mode.rank(), "{beyond:?}");
    // And the status page says why.
    assert!(beyond.reason.contains("beyond"), "{}", beyond.reason);
}
