//! Phone numbers as monday wants them: E.164 with the ISO country of the number.

/// A number in E.164 form (`+33612345678`) and its country (`FR`), when it can be told.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Phone {
    pub e164: String,
    pub country: Option<String>,
}

/// Normalises what Aircall sends (`"+1 800-123-4567"`, `"+33 1 76 11 11 11"`). Anonymous
/// callers and strings without a usable number give `None`. Numbers are international in
/// Aircall's payloads, so no default country is assumed.
pub fn normalise(raw: &str) -> Option<Phone> {
    let raw = raw.trim();
    if raw.is_empty() || raw.eq_ignore_ascii_case("anonymous") {
        return None;
    }
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 6 {
        return None;
    }
    let international = if raw.starts_with('+') {
        format!("+{digits}")
    } else if let Some(rest) = digits.strip_prefix("00") {
        format!("+{rest}")
    } else {
        format!("+{digits}")
    };
    match phonenumber::parse(None, &international) {
        Ok(number) => Some(Phone {
            e164: number.format().mode(phonenumber::Mode::E164).to_string(),
            country: number.country().id().map(|id| format!("{id:?}")),
        }),
        // Keep what we have: a number libphonenumber does not know is still worth showing.
        Err(_) => Some(Phone {
            e164: international,
            country: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_aircall_formats() {
        let fr = normalise("+33 6 12 34 56 78").unwrap();
        assert_eq!(fr.e164, "+33612345678");
        assert_eq!(fr.country.as_deref(), Some("FR"));
        let us = normalise("+1 415-555-0132").unwrap();
        assert_eq!(us.e164, "+14155550132");
        assert_eq!(us.country.as_deref(), Some("US"));
        let gb = normalise("0044 20 7946 0958").unwrap();
        assert_eq!(
            (gb.e164.as_str(), gb.country.as_deref()),
            ("+442079460958", Some("GB"))
        );
    }

    #[test]
    fn anonymous_and_garbage_are_not_numbers() {
        for raw in ["anonymous", "Anonymous", "", "  ", "+12", "n/a"] {
            assert_eq!(normalise(raw), None, "{raw}");
        }
    }

    #[test]
    fn normalising_twice_changes_nothing() {
        for raw in [
            "+33 6 12 34 56 78",
            "+1 (415) 555-0132",
            "+44 20 7946 0958",
            "+999 123 4567",
        ] {
            let once = normalise(raw).unwrap();
            assert_eq!(normalise(&once.e164).unwrap(), once, "{raw}");
        }
    }
}
