//! Tests of `keeper`.

use super::*;

fn keeper(day_ms: i64) -> Keeper {
    Keeper::new(KeeperSettings {
        enabled: true,
        share: Share::Fraction(1.0),
        fallback_limit: 1_000,
        day_ms,
    })
}

#[test]
fn counts_per_day_and_survives_a_restart_of_the_same_day() {
    let k = keeper(60_000);
    k.count(1_000, 10);
    k.count(2_000, 1);
    assert_eq!(k.own_used(3_000), 2);
    let saved = k.snapshot(3_000);
    let again = keeper(60_000);
    again.restore(4_000, &saved);
    assert_eq!(again.own_used(4_000), 2);
    // The next day starts from zero, and yesterday's snapshot is not taken back.
    assert_eq!(again.own_used(61_000), 0);
    again.restore(61_000, &saved);
    assert_eq!(again.own_used(61_000), 0);
}

#[test]
fn platform_api_is_read_at_the_start_then_hourly_by_one_loop() {
    let k = keeper(86_400_000);
    assert!(k.read_due(1_000));
    assert!(!k.read_due(1_001), "a second loop reads it too");
    assert!(!k.read_due(1_000 + 3_599_999));
    assert!(k.read_due(1_000 + 3_600_000));
}

#[test]
fn other_clients_usage_counts_against_the_bridge() {
    let k = keeper(86_400_000);
    k.count(1_000, 100);
    k.read(1_000, Some(1_000), Some(900));
    k.count(2_000, 50);
    let inner = k.lock();
    let b = k.budget(&inner);
    assert_eq!(b.own_used, 15);
    assert_eq!(b.account_used, 905);
    assert_eq!(b.left(), 95);
}

#[test]
fn holds_follow_the_mode_and_release_on_a_shared_grid() {
    let k = keeper(86_400_000);
    assert_eq!(k.hold_until(1_000, "c1", false, Mode::Live), None);
    let m = Mode::Coalescing { hold_ms: 60_000 };
    let due = k.hold_until(1_000, "c2", false, m).expect("held");
    assert_eq!(due, 75_000);
    let due3 = k.hold_until(10_000, "c3", false, m).expect("held");
    assert_eq!(due3, 75_000, "both go out in one request");
    // A final state waits at most for the next flush of the grid.
    assert_eq!(k.hold_until(15_000, "c4", true, m), None);
    assert_eq!(k.hold_until(75_000, "c2", false, m), None);
    let f = Mode::FinalOnly { flush_ms: 120_000 };
    let due = k.hold_until(1_000, "c5", false, f).expect("held");
    assert!(due >= 3_600_000, "{due}");
    assert_eq!(k.hold_until(2_000, "c6", true, f), Some(120_000));
    // A call held for long that turns final goes at a flush, with the others.
    assert_eq!(k.hold_until(3_000_001, "c5", true, f), Some(3_120_000));
    // Claimed a moment after its flush: it goes, and is not pushed to the next one.
    assert_eq!(
        k.hold_until(3_120_007, "c5", true, f),
        None,
        "after the flush"
    );
}
