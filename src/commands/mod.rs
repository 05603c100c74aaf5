//! Set-up commands that talk to Aircall's API: register the webhook, backfill history.

pub mod backfill;
pub mod webhook;

/// Reads `2026-11-01` (midnight UTC) or an RFC 3339 time into UNIX seconds.
pub fn parse_date(s: &str) -> Result<i64, String> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t.unix_timestamp());
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &format)
        .map(|d| d.midnight().assume_utc().unix_timestamp())
        .map_err(|_| format!("{s:?} is not a date: write 2026-11-01 or 2026-11-01T08:00:00Z"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_and_times_parse_to_utc_seconds() {
        assert_eq!(super::parse_date("2026-11-20"), Ok(1_795_132_800));
        assert_eq!(super::parse_date("2026-11-20T10:00:00Z"), Ok(1_795_168_800));
        assert!(super::parse_date("20/11/2026")
            .unwrap_err()
            .contains("2026-11-01"));
    }
}
