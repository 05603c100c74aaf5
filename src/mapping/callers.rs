//! The phone numbers an entity is found by when its number calls: the key of the store's
//! number index, which insight cards read while the call rings (no monday query on that path).

use super::observed::Observed;
use super::phone::normalise;

/// The index key of a phone number: its E.164 digits without `+` (`33612345678`), however
/// Aircall or a person wrote it. Anonymous and unusable numbers have none.
pub fn number_key(raw: &str) -> Option<String> {
    let phone = normalise(raw)?;
    Some(phone.e164.trim_start_matches('+').to_string())
}

/// The keys an entity is indexed under and the time ordering its entries (milliseconds): a
/// call by its counterpart's number and start, a contact by its numbers and last update. A
/// deleted contact is found by nothing.
pub fn indexed_numbers(observed: &Observed) -> (Vec<String>, i64) {
    let mut keys: Vec<String> = match observed {
        Observed::Call(state) => state
            .call
            .raw_digits
            .as_deref()
            .and_then(number_key)
            .into_iter()
            .collect(),
        Observed::Contact(state) if state.deleted() => Vec::new(),
        Observed::Contact(state) => state.contact.phones().filter_map(number_key).collect(),
    };
    keys.sort();
    keys.dedup();
    let at_s = match observed {
        Observed::Call(state) => state.call.started_at,
        Observed::Contact(state) => state.contact.updated_at.or(state.contact.created_at),
    };
    (keys, at_s.unwrap_or(0).saturating_mul(1000))
}

/// The same for the JSON the store keeps; `None` when it is not an observed state.
pub fn indexed_numbers_of(observed_json: &str) -> Option<(Vec<String>, i64)> {
    let observed: Observed = serde_json::from_str(observed_json).ok()?;
    Some(indexed_numbers(&observed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_has_one_key_however_it_is_written() {
        for raw in ["+33 6 12 34 56 78", "+33612345678", "0033 6 12-34-56-78"] {
            assert_eq!(number_key(raw).as_deref(), Some("33612345678"), "{raw}");
        }
        assert_eq!(number_key("anonymous"), None);
        assert_eq!(number_key(""), None);
        assert_eq!(number_key("12"), None);
    }
}
