//! Tests of `limits`.

use super::*;

#[test]
fn versions() {
    assert_eq!(resolve_version(None).unwrap(), "2026-10");
    assert_eq!(resolve_version(Some("2026-04")).unwrap(), "2026-04");
    assert_eq!(resolve_version(Some("2024-10")).unwrap(), "2026-07");
    assert_eq!(resolve_version(Some("2024-02")).unwrap(), "2026-10");
    assert!(resolve_version(Some("2023")).is_err());
}

#[test]
fn minute_window_refuses_then_recovers() {
    let limits = Limits {
        minute_requests: 2,
        minute_window_secs: 10,
        ..Limits::default()
    };
    let mut l = Limiter::default();
    let t0 = OffsetDateTime::now_utc();
    assert!(l.admit(&limits, t0, 0, 10).is_ok());
    assert!(l.admit(&limits, t0, 0, 10).is_ok());
    assert_eq!(
        l.admit(&limits, t0, 0, 10),
        Err(Exceeded::Minute { retry_in: 10 })
    );
    assert!(l.admit(&limits, t0 + Duration::seconds(10), 0, 10).is_ok());
}

#[test]
fn a_compressed_day_resets_its_count_and_keeps_the_past_days() {
    let limits = Limits {
        daily_requests: 3,
        day_secs: 60,
        ..Limits::default()
    };
    let mut l = Limiter::default();
    let t0 = OffsetDateTime::from_unix_timestamp(6_000).unwrap();
    for _ in 0..3 {
        assert!(l.admit(&limits, t0, 0, 10).is_ok());
    }
    l.charge(&limits, t0, 0);
    assert_eq!(
        l.admit(&limits, t0 + Duration::seconds(30), 0, 10),
        Err(Exceeded::Daily { retry_in: 30 })
    );
    let next = t0 + Duration::seconds(60);
    assert!(l.admit(&limits, next, 0, 10).is_ok());
    l.charge(&limits, next, 5);
    let p = l.platform(&limits, next);
    assert_eq!(p.limit, 3);
    assert_eq!(
        p.by_day,
        vec![
            ("1970-01-01T01:40:00Z".to_string(), 4),
            ("1970-01-01T01:41:00Z".to_string(), 6)
        ]
    );
}

#[test]
fn a_24_hour_day_is_named_by_its_date() {
    let mut l = Limiter::default();
    let p = l.platform(
        &Limits::default(),
        OffsetDateTime::from_unix_timestamp(86_400 * 3 + 5).unwrap(),
    );
    assert_eq!(p.by_day, vec![("1970-01-04".to_string(), 0)]);
}
