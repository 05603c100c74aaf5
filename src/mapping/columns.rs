//! Encodes a field value as the JSON monday expects for a column type (reference/monday.md §3).
//! A value that does not fit the column gives `None`: the column is left empty rather than
//! sending something monday would reject.

use serde_json::{json, Value};
use time::OffsetDateTime;

use super::boards::{ColumnKind, ColumnSpec};
use super::fields::FieldValue;
use super::phone;

/// monday's limit for long text columns.
const LONG_TEXT_MAX: usize = 2000;
/// monday documents no limit for one text column, only about 64 KB of column values per item:
/// a text column is cut at the long text's 2,000 characters (at most 8 KB of UTF-8), so an
/// item with several long ones still fits, and a name typed too long in Aircall cannot make
/// monday refuse the whole item.
const TEXT_MAX: usize = 2000;
/// monday's limit for a status or dropdown label: a longer one is not created.
const LABEL_MAX: usize = 30;
/// The longest email address (RFC 5321); longer is no address monday would take.
const EMAIL_MAX: usize = 254;

pub fn encode(spec: &ColumnSpec, value: &FieldValue) -> Option<Value> {
    let text = value.to_text();
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    match spec.kind {
        ColumnKind::Text => Some(Value::String(truncate(text, TEXT_MAX))),
        ColumnKind::LongText => Some(json!({ "text": truncate(text, LONG_TEXT_MAX) })),
        ColumnKind::Numbers => match value {
            FieldValue::Number(n) => Some(Value::String(n.to_string())),
            _ => text
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(|_| Value::String(text.to_string())),
        },
        ColumnKind::Status => match value {
            FieldValue::List(items) => items.iter().find_map(|v| spec.labels.get(v.trim())),
            _ => spec.labels.get(text),
        }
        .map(|label| json!({ "label": label })),
        ColumnKind::Dropdown => {
            let names: Vec<&str> = match value {
                FieldValue::List(items) => items.iter().map(|v| v.trim()).collect(),
                _ => vec![text],
            };
            let mut labels: Vec<String> = Vec::new();
            for name in names.into_iter().filter(|n| !n.is_empty()) {
                let label = spec.labels.get(name).map_or(name, String::as_str);
                // An Aircall tag longer than a label can be is cut, not refused by monday.
                let label = truncate(label, LABEL_MAX).trim_end().to_string();
                if !labels.contains(&label) {
                    labels.push(label);
                }
            }
            (!labels.is_empty()).then(|| json!({ "labels": labels }))
        }
        ColumnKind::Date => {
            let secs = match value {
                FieldValue::Time(t) => Some(*t),
                _ => crate::aircall::lenient::parse_time(text),
            }?;
            let t = OffsetDateTime::from_unix_timestamp(secs).ok()?;
            Some(json!({
                "date": format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()),
                "time": format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second()),
            }))
        }
        ColumnKind::Phone => {
            let p = match value {
                FieldValue::Phone(p) => Some(p.clone()),
                _ => phone::normalise(text),
            }?;
            // monday validates the number against its country; without one it would refuse.
            let country = p.country?;
            Some(phone_value(&p.e164, &country))
        }
        ColumnKind::Email => {
            let valid = text.contains('@')
                && !text.contains(char::is_whitespace)
                && text.chars().count() <= EMAIL_MAX;
            valid.then(|| json!({ "email": text, "text": text }))
        }
        ColumnKind::Link => {
            let valid = text.starts_with("https://") || text.starts_with("http://");
            let label = spec.link_text.as_deref().unwrap_or(text);
            valid.then(|| json!({ "url": text, "text": label }))
        }
        // Resolved to a user id by `people` with what the worker looked up, not from the text.
        ColumnKind::People => None,
        // Resolved to tag ids by `tags` with what the worker looked up, not from the text.
        ColumnKind::Tags => None,
        // Files are uploaded (uploads.rs), never written as a column value.
        ColumnKind::File => None,
        // monday ids are integers beyond 32 bits: written as a JSON number, never a float.
        ColumnKind::BoardRelation => text
            .parse::<u64>()
            .ok()
            .map(|id| json!({ "item_ids": [id] })),
    }
}

/// A phone column's value: the number in E.164 and its ISO country.
pub fn phone_value(e164: &str, country: &str) -> Value {
    json!({ "phone": e164, "countryShortName": country })
}

/// The item a board_relation column's value links to (the first, as the bridge writes one).
pub fn linked_item(value: &Value) -> Option<String> {
    value["item_ids"][0].as_u64().map(|id| id.to_string())
}

/// What monday's lookup takes for a column value the bridge would write: a phone number as
/// digits only (monday matches them contained in the stored number, however it is written),
/// an email address as it is (exact match).
pub fn lookup_value(value: &Value) -> Option<String> {
    if let Some(phone) = value.get("phone").and_then(Value::as_str) {
        let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
        return (!digits.is_empty()).then_some(digits);
    }
    value
        .get("email")
        .and_then(Value::as_str)
        .filter(|e| !e.is_empty())
        .map(str::to_string)
}

/// A people column's value: one person (monday replaces every assignee with this list).
pub fn people(user_id: u64) -> Value {
    json!({ "personsAndTeams": [{ "id": user_id, "kind": "person" }] })
}

/// A tags column's value: the tag ids in the call's order (monday replaces every tag with
/// this list); no tags clears the column.
pub fn tags(tag_ids: &[u64]) -> Option<Value> {
    (!tag_ids.is_empty()).then(|| json!({ "tag_ids": tag_ids }))
}

/// Cuts at a character boundary, never inside a UTF-8 sequence.
pub fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::boards::ColumnSpec;

    fn spec(kind: ColumnKind) -> ColumnSpec {
        ColumnSpec {
            kind,
            field: Some("x".into()),
            template: None,
            labels: [("answered".to_string(), "Answered".to_string())].into(),
            link_text: None,
            create_labels_if_missing: false,
            fallback_text_column: None,
            upload: None,
        }
    }

    fn text(s: &str) -> FieldValue {
        FieldValue::Text(s.into())
    }

    #[test]
    fn encodes_each_kind_as_monday_documents_it() {
        use ColumnKind::*;
        let cases = [
            (Text, text("hello"), Some(json!("hello"))),
            (LongText, text("a\nb"), Some(json!({"text": "a\nb"}))),
            (Numbers, FieldValue::Number(42), Some(json!("42"))),
            (Numbers, text("4.5"), Some(json!("4.5"))),
            (Numbers, text("four"), None),
            (Status, text("answered"), Some(json!({"label": "Answered"}))),
            (Status, text("ringing"), None),
            (
                Date,
                FieldValue::Time(1795168800),
                Some(json!({"date": "2026-11-20", "time": "10:00:00"})),
            ),
            (
                Phone,
                text("+33 6 12 34 56 78"),
                Some(json!({"phone": "+33612345678", "countryShortName": "FR"})),
            ),
            (Phone, text("anonymous"), None),
            (
                Email,
                text("a@b.example"),
                Some(json!({"email": "a@b.example", "text": "a@b.example"})),
            ),
            (Email, text("not an email"), None),
            (
                Link,
                text("https://x.example/r"),
                Some(json!({"url": "https://x.example/r", "text": "https://x.example/r"})),
            ),
            (Link, text("ftp://x"), None),
            (
                BoardRelation,
                text("4000000123"),
                Some(json!({"item_ids": [4000000123u64]})),
            ),
            (BoardRelation, text("not an id"), None),
            (Dropdown, text("VIP"), Some(json!({"labels": ["VIP"]}))),
            (
                Dropdown,
                FieldValue::List(vec!["VIP".into(), "answered".into(), "VIP".into()]),
                Some(json!({"labels": ["VIP", "Answered"]})),
            ),
            (Dropdown, FieldValue::List(vec![]), None),
            (
                Status,
                FieldValue::List(vec!["VIP".into(), "answered".into()]),
                Some(json!({"label": "Answered"})),
            ),
            (
                Text,
                FieldValue::List(vec!["a".into(), "b".into()]),
                Some(json!("a, b")),
            ),
            (Text, text("   "), None),
        ];
        for (kind, value, want) in cases {
            assert_eq!(encode(&spec(kind), &value), want, "{kind:?} {value:?}");
        }
    }

    #[test]
    fn tags_are_ids_in_order_and_none_clears() {
        assert_eq!(
            tags(&[295064, 4000000123, 295026]),
            Some(json!({"tag_ids": [295064, 4000000123u64, 295026]}))
        );
        assert_eq!(tags(&[]), None);
        assert_eq!(encode(&spec(ColumnKind::Tags), &text("VIP")), None);
    }

    #[test]
    fn phone_is_searched_by_its_digits_and_email_as_written() {
        let phone = json!({"phone": "+33612345678", "countryShortName": "FR"});
        assert_eq!(lookup_value(&phone).as_deref(), Some("33612345678"));
        let email = json!({"email": "a@b.example", "text": "a@b.example"});
        assert_eq!(lookup_value(&email).as_deref(), Some("a@b.example"));
        assert_eq!(lookup_value(&json!("text")), None);
    }

    #[test]
    fn a_relation_links_to_its_first_item() {
        assert_eq!(
            linked_item(&json!({"item_ids": [4000000123u64]})).as_deref(),
            Some("4000000123")
        );
        assert_eq!(linked_item(&json!({"item_ids": []})), None);
        assert_eq!(linked_item(&json!(null)), None);
    }

    #[test]
    fn long_text_is_cut_to_monday_limit_on_a_char_boundary() {
        let v = encode(&spec(ColumnKind::LongText), &text(&"é".repeat(3000))).unwrap();
        assert_eq!(v["text"].as_str().unwrap().chars().count(), LONG_TEXT_MAX);
    }

    #[test]
    fn text_labels_and_emails_from_aircall_fit_monday() {
        let v = encode(&spec(ColumnKind::Text), &text(&"é".repeat(3000))).unwrap();
        assert_eq!(v.as_str().unwrap().chars().count(), TEXT_MAX);
        // Two tags that differ only past the cut become one label.
        let long = |end: &str| format!("{}{end}", "Very long tag name ".repeat(3));
        let tags = FieldValue::List(vec![long("one"), long("two")]);
        assert_eq!(
            encode(&spec(ColumnKind::Dropdown), &tags),
            Some(json!({"labels": ["Very long tag name Very long t"]}))
        );
        let email = format!("{}@example.com", "a".repeat(250));
        assert_eq!(encode(&spec(ColumnKind::Email), &text(&email)), None);
    }
}
