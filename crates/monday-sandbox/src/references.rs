//! Column values that name other things: connect boards (items), people (users) and tags. monday
//! refuses a name it does not know, so the sandbox checks each one (monday.md §3, §4.5).

use serde_json::{json, Map, Value};

use super::error::FieldError;
use super::state::Column;
use super::values::{invalid, set, Change, WriteCtx};

/// An id given as a number or a numeric string, as monday accepts both.
fn id_of(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// `{"item_ids": [..]}`: every id an existing item; an empty list clears the column.
pub fn board_relation(
    column: &Column,
    obj: &Map<String, Value>,
    ctx: &WriteCtx,
) -> Result<Change, FieldError> {
    let Some(ids) = obj.get("item_ids").and_then(Value::as_array) else {
        return Err(invalid(
            column,
            "invalid value - connect boards expects {\"item_ids\": [...]}",
        ));
    };
    let mut names = Vec::new();
    let mut linked = Vec::new();
    for v in ids {
        let item = id_of(v).and_then(|id| ctx.items.get(&id));
        let Some(item) = item else {
            return Err(invalid(column, format!("item {v} does not exist")));
        };
        names.push(item.name.clone());
        linked.push(json!({ "linkedPulseId": item.id }));
    }
    if linked.is_empty() {
        return Ok(Change::Clear);
    }
    Ok(set(json!({ "linkedPulseIds": linked }), names.join(", ")))
}

/// `{"tag_ids": [..]}`: each id a tag `create_or_get_tag` issued; an empty list clears.
pub fn tags(
    column: &Column,
    obj: &Map<String, Value>,
    ctx: &WriteCtx,
) -> Result<Change, FieldError> {
    let Some(ids) = obj.get("tag_ids").and_then(Value::as_array) else {
        return Err(invalid(
            column,
            "invalid value - tags expects {\"tag_ids\": [...]}",
        ));
    };
    let mut names = Vec::new();
    let mut stored = Vec::new();
    for v in ids {
        let tag = id_of(v).and_then(|id| ctx.tags.iter().find(|t| t.id == id));
        let Some(tag) = tag else {
            return Err(invalid(column, format!("tag {v} does not exist")));
        };
        names.push(tag.name.clone());
        stored.push(json!(tag.id));
    }
    if stored.is_empty() {
        return Ok(Change::Clear);
    }
    Ok(set(json!({ "tag_ids": stored }), names.join(", ")))
}

/// `{"personsAndTeams": [{"id": N, "kind": "person"}]}`: each person a user of the account.
pub fn people(
    column: &Column,
    obj: &Map<String, Value>,
    ctx: &WriteCtx,
) -> Result<Change, FieldError> {
    let Some(entries) = obj.get("personsAndTeams").and_then(Value::as_array) else {
        return Err(invalid(
            column,
            "invalid value - people expects {\"personsAndTeams\": [...]}",
        ));
    };
    let ids: Vec<Option<u64>> = entries
        .iter()
        .map(|e| match e.get("kind").and_then(Value::as_str) {
            Some("person") => e.get("id").and_then(id_of),
            _ => None,
        })
        .collect();
    persons(column, &ids, ctx)
}

/// The simple form: comma-separated user ids.
pub fn people_simple(column: &Column, s: &str, ctx: &WriteCtx) -> Result<Change, FieldError> {
    let ids: Vec<Option<u64>> = s.split(',').map(|p| p.trim().parse().ok()).collect();
    persons(column, &ids, ctx)
}

fn persons(column: &Column, ids: &[Option<u64>], ctx: &WriteCtx) -> Result<Change, FieldError> {
    let mut names = Vec::new();
    let mut stored = Vec::new();
    for id in ids {
        let Some(user) = id.and_then(|id| ctx.users.iter().find(|u| u.id == id)) else {
            return Err(FieldError::new(
                "InvalidUserIdException",
                "The user id is invalid or the user is not a member of this account",
                json!({ "column_id": column.id, "user_id": id }),
            ));
        };
        names.push(user.name.clone());
        stored.push(json!({ "id": user.id, "kind": "person" }));
    }
    if stored.is_empty() {
        return Ok(Change::Clear);
    }
    Ok(set(json!({ "personsAndTeams": stored }), names.join(", ")))
}
