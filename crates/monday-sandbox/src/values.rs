//! Column-value validation and normalisation per column type (monday.md §3). Input is either
//! the JSON form (inside `column_values` / `change_column_value`) or the simple string form
//! (`change_simple_column_value`, or a string mixed into `column_values`). Output is what
//! monday stores and returns: `value` JSON and display `text`.
//!
//! Long on purpose: one validator per column type, in one table-like file, so that monday.md §3 can
//! be read against it type by type.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde_json::{json, Map, Value};
use time::macros::format_description;
use time::OffsetDateTime;

use super::error::FieldError;
use super::references;
use super::seed::ColumnType;
use super::state::{Column, Item, Label, StoredValue, Tag, User};

const LONG_TEXT_MAX: usize = 2000;
const MAX_LABELS: usize = 40;
const MAX_LABEL_CHARS: usize = 30;

/// What a write does to one column.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Set(StoredValue),
    Clear,
    /// `{"clear_all": true}` on a file column: drop its files.
    ClearFiles,
}

pub struct WriteCtx<'a> {
    pub create_labels: bool,
    pub now: OffsetDateTime,
    /// For the columns whose values name other things: items (connect boards), users (people).
    pub items: &'a BTreeMap<u64, Item>,
    pub users: &'a [User],
    /// The tags `create_or_get_tag` issued (tags columns).
    pub tags: &'a [Tag],
}

pub(super) fn invalid(column: &Column, message: impl Into<String>) -> FieldError {
    FieldError::new(
        "ColumnValueException",
        message,
        json!({
            "column_type": column.column_type.internal_name(),
            "column_id": column.id,
            "column_name": column.title,
        }),
    )
}

/// Normalises a JSON-form value. Strings are the simple form, which monday accepts mixed
/// into `column_values`; there `""` on a numbers column means 0 (only `null` clears).
pub fn from_json(column: &mut Column, value: &Value, ctx: &WriteCtx) -> Result<Change, FieldError> {
    match value {
        Value::Null if column.column_type == ColumnType::File => Err(invalid(
            column,
            "file columns are cleared with {\"clear_all\": true}",
        )),
        Value::Null => Ok(Change::Clear),
        Value::String(s) if s.is_empty() && column.column_type == ColumnType::Numbers => {
            Ok(set(json!("0"), "0"))
        }
        Value::String(s) => from_simple(column, s, ctx),
        Value::Number(n)
            if matches!(column.column_type, ColumnType::Numbers | ColumnType::Text) =>
        {
            from_simple(column, &n.to_string(), ctx)
        }
        Value::Object(obj) => from_object(column, obj, ctx),
        _ => Err(invalid(
            column,
            format!("invalid value {value} for this column type"),
        )),
    }
}

pub(super) fn set(value: Value, text: impl Into<String>) -> Change {
    Change::Set(StoredValue {
        value,
        text: text.into(),
    })
}

fn changed_at(ctx: &WriteCtx) -> String {
    ctx.now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn str_field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    obj.get(key).and_then(Value::as_str)
}

fn from_object(
    column: &mut Column,
    obj: &Map<String, Value>,
    ctx: &WriteCtx,
) -> Result<Change, FieldError> {
    let kind = column.column_type;
    if obj.is_empty() && matches!(kind, ColumnType::Status | ColumnType::Dropdown) {
        return Ok(Change::Clear);
    }
    match kind {
        ColumnType::Text | ColumnType::Numbers => Err(invalid(
            column,
            format!("invalid value - {} column expects a plain string", kind.api_name()),
        )),
        ColumnType::LongText => match obj.get("text") {
            Some(Value::String(s)) => long_text(column, s, ctx),
            _ => Err(invalid(column, "invalid value - long text expects {\"text\": \"...\"}")),
        },
        ColumnType::Status => {
            if let Some(label) = str_field(obj, "label") {
                return status_by_label(column, label, ctx);
            }
            let index = obj.get("index").and_then(|v| match v {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.parse().ok(),
                _ => None,
            });
            match index {
                Some(i) => status_by_index(column, i, ctx),
                None => Err(invalid(column, "invalid value - status expects label or index")),
            }
        }
        ColumnType::Dropdown => {
            if let Some(Value::Array(labels)) = obj.get("labels") {
                let texts: Option<Vec<&str>> = labels.iter().map(Value::as_str).collect();
                let texts = texts.ok_or_else(|| invalid(column, "dropdown labels must be strings"))?;
                return dropdown_by_labels(column, &texts, ctx);
            }
            if let Some(Value::Array(ids)) = obj.get("ids") {
                let ids: Option<Vec<u64>> = ids
                    .iter()
                    .map(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
                    .collect();
                let ids = ids.ok_or_else(|| invalid(column, "dropdown ids must be numbers"))?;
                return dropdown_by_ids(column, &ids);
            }
            Err(invalid(column, "invalid value - dropdown expects labels or ids"))
        }
        ColumnType::Date => match str_field(obj, "date") {
            Some(d) => date(column, d, str_field(obj, "time"), ctx),
            None => Err(invalid(column, "invalid value - date expects {\"date\": \"YYYY-MM-DD\"}")),
        },
        ColumnType::Phone => match str_field(obj, "phone") {
            Some(p) => phone(column, p, str_field(obj, "countryShortName"), ctx),
            None => Err(invalid(column, "invalid value - phone expects {\"phone\": ...}")),
        },
        ColumnType::Email => match (str_field(obj, "email"), str_field(obj, "text")) {
            (Some(e), Some(t)) => email(column, e, t, ctx),
            _ => Err(invalid(column, "invalid value - email expects both email and text")),
        },
        ColumnType::Link => match str_field(obj, "url") {
            Some(u) => link(column, u, str_field(obj, "text").unwrap_or(""), ctx),
            None => Err(invalid(column, "invalid value - link expects {\"url\": ...}")),
        },
        ColumnType::File => match obj.get("clear_all") {
            Some(Value::Bool(true)) => Ok(Change::ClearFiles),
            _ => Err(invalid(
                column,
                "files can only be added with add_file_to_column; column values accept only {\"clear_all\": true}",
            )),
        },
        ColumnType::Checkbox => match obj.get("checked") {
            Some(Value::Bool(true)) => Ok(set(json!({"checked": "true"}), "v")),
            Some(Value::String(s)) if s == "true" => Ok(set(json!({"checked": "true"}), "v")),
            Some(Value::Bool(false)) => Ok(Change::Clear),
            Some(Value::String(s)) if s == "false" => Ok(Change::Clear),
            _ => Err(invalid(column, "invalid value - checkbox expects {\"checked\": \"true\"}")),
        },
        ColumnType::BoardRelation => references::board_relation(column, obj, ctx),
        ColumnType::People => references::people(column, obj, ctx),
        ColumnType::Tags => references::tags(column, obj, ctx),
    }
}

/// Normalises the simple string form; `""` clears every type that has one.
pub fn from_simple(column: &mut Column, s: &str, ctx: &WriteCtx) -> Result<Change, FieldError> {
    if s.is_empty() {
        return match column.column_type {
            ColumnType::File => Err(invalid(column, "file columns have no simple value")),
            _ => Ok(Change::Clear),
        };
    }
    match column.column_type {
        ColumnType::Text => Ok(set(json!(s), s)),
        ColumnType::LongText => long_text(column, s, ctx),
        ColumnType::Numbers => {
            let t = s.trim();
            match t.parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(set(json!(t), t)),
                _ => Err(invalid(
                    column,
                    format!("invalid value - {s:?} is not a number"),
                )),
            }
        }
        ColumnType::Status => match s.trim().parse::<u64>() {
            // monday reads a numeric label as an index (status column page).
            Ok(i) => status_by_index(column, i, ctx),
            Err(_) => status_by_label(column, s, ctx),
        },
        ColumnType::Dropdown => {
            let parts: Vec<&str> = s
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect();
            let ids: Option<Vec<u64>> = parts.iter().map(|p| p.parse().ok()).collect();
            match ids {
                Some(ids) => dropdown_by_ids(column, &ids),
                None => dropdown_by_labels(column, &parts, ctx),
            }
        }
        ColumnType::Date => {
            let mut it = s.trim().splitn(2, ' ');
            let d = it.next().unwrap_or_default();
            date(column, d, it.next(), ctx)
        }
        ColumnType::Phone => {
            let t = s.trim();
            match t.rsplit_once(' ') {
                Some((num, cc)) if cc.len() == 2 && cc.chars().all(|c| c.is_ascii_alphabetic()) => {
                    phone(column, num, Some(cc), ctx)
                }
                _ => phone(column, t, None, ctx),
            }
        }
        ColumnType::Email => match s.trim().split_once(' ') {
            Some((e, t)) => email(column, e, t.trim(), ctx),
            None => Err(invalid(
                column,
                "invalid value - email needs \"address display text\"",
            )),
        },
        ColumnType::Link => match s.trim().split_once(' ') {
            Some((u, t)) => link(column, u, t.trim(), ctx),
            None => Err(invalid(column, "invalid value - link needs \"url label\"")),
        },
        ColumnType::Checkbox => match s {
            "true" | "v" => Ok(set(json!({"checked": "true"}), "v")),
            "false" => Ok(Change::Clear),
            _ => Err(invalid(column, "invalid value for a checkbox")),
        },
        ColumnType::File => Err(invalid(column, "file columns have no simple value")),
        ColumnType::BoardRelation => Err(invalid(
            column,
            "connect boards columns take {\"item_ids\": [...]} in change_multiple_column_values",
        )),
        ColumnType::People => references::people_simple(column, s, ctx),
        ColumnType::Tags => Err(invalid(
            column,
            "tags columns take {\"tag_ids\": [...]}; they have no simple value",
        )),
    }
}

fn long_text(column: &Column, s: &str, ctx: &WriteCtx) -> Result<Change, FieldError> {
    if s.chars().count() > LONG_TEXT_MAX {
        return Err(invalid(
            column,
            format!("invalid value - long text is limited to {LONG_TEXT_MAX} characters"),
        ));
    }
    Ok(set(json!({"text": s, "changed_at": changed_at(ctx)}), s))
}

fn status_value(label: &Label, ctx: &WriteCtx) -> Change {
    set(
        json!({"index": label.id, "post_id": null, "changed_at": changed_at(ctx)}),
        label.text.clone(),
    )
}

fn status_by_index(column: &Column, index: u64, ctx: &WriteCtx) -> Result<Change, FieldError> {
    match column.label_by_id(index) {
        Some(label) => Ok(status_value(label, ctx)),
        None => Err(invalid(
            column,
            format!("invalid value - label index {index} does not exist in column"),
        )),
    }
}

/// Finds a label or, with `create_labels_if_missing`, adds it (status/dropdown only).
fn find_or_create_label(
    column: &mut Column,
    text: &str,
    ctx: &WriteCtx,
) -> Result<u64, FieldError> {
    let text = text.trim();
    if let Some(label) = column.label_by_text(text) {
        return Ok(label.id);
    }
    if !ctx.create_labels {
        return Err(invalid(
            column,
            format!(
                "invalid value - label does not exist in column. Existing labels: {}",
                column
                    .labels
                    .iter()
                    .map(|l| l.text.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    if text.is_empty()
        || text.chars().count() > MAX_LABEL_CHARS
        || column.labels.len() >= MAX_LABELS
    {
        return Err(invalid(column, format!("cannot create label {text:?}")));
    }
    let id = column.labels.iter().map(|l| l.id + 1).max().unwrap_or(0);
    column.labels.push(Label {
        id,
        text: text.to_string(),
    });
    Ok(id)
}

fn status_by_label(column: &mut Column, text: &str, ctx: &WriteCtx) -> Result<Change, FieldError> {
    let id = find_or_create_label(column, text, ctx)?;
    status_by_index(column, id, ctx)
}

fn dropdown_by_labels(
    column: &mut Column,
    texts: &[&str],
    ctx: &WriteCtx,
) -> Result<Change, FieldError> {
    let ids = texts
        .iter()
        .map(|t| find_or_create_label(column, t, ctx))
        .collect::<Result<Vec<u64>, _>>()?;
    dropdown_by_ids(column, &ids)
}

fn dropdown_by_ids(column: &Column, ids: &[u64]) -> Result<Change, FieldError> {
    if ids.is_empty() {
        return Ok(Change::Clear);
    }
    let mut texts = Vec::new();
    for id in ids {
        match column.label_by_id(*id) {
            Some(l) => texts.push(l.text.clone()),
            None => {
                return Err(invalid(
                    column,
                    format!("invalid value - dropdown id {id} does not exist"),
                ))
            }
        }
    }
    Ok(set(json!({"ids": ids}), texts.join(", ")))
}

fn date(column: &Column, d: &str, t: Option<&str>, ctx: &WriteCtx) -> Result<Change, FieldError> {
    let bad = || {
        invalid(
            column,
            "invalid value - date expects YYYY-MM-DD and time HH:MM:SS",
        )
    };
    time::Date::parse(d, format_description!("[year]-[month]-[day]")).map_err(|_| bad())?;
    let t = t.filter(|t| !t.is_empty());
    if let Some(t) = t {
        time::Time::parse(t, format_description!("[hour]:[minute]:[second]")).map_err(|_| bad())?;
    }
    let text = match t {
        Some(t) => format!("{d} {t}"),
        None => d.to_string(),
    };
    Ok(set(
        json!({"date": d, "time": t, "changed_at": changed_at(ctx)}),
        text,
    ))
}

fn phone(
    column: &Column,
    p: &str,
    country: Option<&str>,
    ctx: &WriteCtx,
) -> Result<Change, FieldError> {
    let p = p.trim();
    let allowed = |c: char| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.');
    if p.is_empty() || !p.chars().all(allowed) || !p.chars().any(|c| c.is_ascii_digit()) {
        return Err(invalid(
            column,
            format!("invalid value - {p:?} is not a phone number"),
        ));
    }
    let country_id = match country.filter(|c| !c.is_empty()) {
        Some(c) => Some(
            phonenumber::country::Id::from_str(&c.to_ascii_uppercase())
                .map_err(|_| invalid(column, format!("invalid value - unknown country {c:?}")))?,
        ),
        None => None,
    };
    // monday validates with libphonenumber: the number must be valid for the country.
    let parsed = phonenumber::parse(country_id, p)
        .ok()
        .filter(phonenumber::is_valid)
        .ok_or_else(|| {
            invalid(
                column,
                format!("invalid value - {p:?} is not a valid phone number"),
            )
        })?;
    let cc = country_id
        .or_else(|| parsed.country().id())
        .map(|id| id.as_ref().to_string())
        .unwrap_or_default();
    Ok(set(
        json!({"phone": p, "countryShortName": cc, "changed_at": changed_at(ctx)}),
        p,
    ))
}

fn email(column: &Column, e: &str, t: &str, ctx: &WriteCtx) -> Result<Change, FieldError> {
    let valid = e
        .split_once('@')
        .is_some_and(|(user, host)| !user.is_empty() && !host.is_empty() && !e.contains(' '));
    if !valid {
        return Err(invalid(
            column,
            format!("invalid value - {e:?} is not an email address"),
        ));
    }
    let text = if t.is_empty() { e } else { t };
    Ok(set(
        json!({"email": e, "text": text, "changed_at": changed_at(ctx)}),
        text,
    ))
}

fn link(column: &Column, u: &str, t: &str, ctx: &WriteCtx) -> Result<Change, FieldError> {
    let lower = u.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    if !matches!(rest, Some(r) if !r.is_empty()) {
        return Err(invalid(
            column,
            "invalid value - link url must start with http:// or https://",
        ));
    }
    Ok(set(
        json!({"url": u, "text": t, "changed_at": changed_at(ctx)}),
        u,
    ))
}
