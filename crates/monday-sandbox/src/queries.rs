//! Query root fields, including `items_page_by_column_values` with monday's matching rules:
//! values OR within a column, AND across columns; only active items.

use serde_json::{Map, Value};

use super::error::FieldError;
use super::exec::{ExecCtx, Node, Resolved};
use super::nodes::{id_text, limit_arg, page, parse_id, DEFAULT_PAGE};
use super::seed::ColumnType;
use super::state::{Column, ItemState, StoredValue};

/// monday's cap on `items(ids:)`.
const MAX_ITEM_IDS: usize = 100;

pub fn resolve(
    ctx: &mut ExecCtx,
    name: &str,
    args: &Map<String, Value>,
) -> Result<Resolved, FieldError> {
    match name {
        "boards" => Ok(boards(ctx, args)),
        "items" => items(ctx, args),
        "items_page_by_column_values" => by_column_values(ctx, args),
        "next_items_page" => {
            let limit = limit_arg(args, DEFAULT_PAGE)?;
            let cursor = args
                .get("cursor")
                .and_then(Value::as_str)
                .unwrap_or_default();
            continue_cursor(ctx, cursor, limit)
        }
        "me" => Ok(ctx
            .state
            .users
            .first()
            .map_or(Resolved::Null, |u| Resolved::Node(Node::User(u.id)))),
        "users" => Ok(users(ctx, args)),
        "version" => Ok(Resolved::Node(Node::Version(ctx.version.clone()))),
        "complexity" => Ok(Resolved::Node(Node::Complexity(ctx.complexity))),
        "platform_api" => Ok(platform_api(ctx)),
        _ => Err(FieldError::invalid_argument(format!(
            "unsupported field {name}"
        ))),
    }
}

/// `platform_api`: the daily limit (no extension bought: base = total) and the usage of the
/// last 14 days, today included, as monday reports them.
fn platform_api(ctx: &ExecCtx) -> Resolved {
    let p = &ctx.platform;
    let by_day: Vec<Value> = p
        .by_day
        .iter()
        .map(|(day, usage)| serde_json::json!({ "day": day, "usage": usage }))
        .collect();
    let last_updated = ctx
        .now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    Resolved::Node(Node::Json(
        "PlatformApi",
        serde_json::json!({
            "daily_limit": { "base": p.limit, "total": p.limit },
            "daily_analytics": { "by_day": by_day, "last_updated": last_updated },
        }),
    ))
}

fn ids_arg(args: &Map<String, Value>, key: &str) -> Option<Vec<Option<u64>>> {
    match args.get(key)? {
        Value::Array(a) => Some(a.iter().map(parse_id).collect()),
        Value::Null => None,
        single => Some(vec![parse_id(single)]),
    }
}

fn paginate<T>(all: Vec<T>, args: &Map<String, Value>, default_limit: u64) -> Vec<T> {
    let limit = args
        .get("limit")
        .and_then(Value::as_u64)
        .unwrap_or(default_limit)
        .max(1) as usize;
    let page = args.get("page").and_then(Value::as_u64).unwrap_or(1).max(1) as usize;
    all.into_iter()
        .skip((page - 1) * limit)
        .take(limit)
        .collect()
}

fn boards(ctx: &ExecCtx, args: &Map<String, Value>) -> Resolved {
    let wanted = ids_arg(args, "ids");
    let ids: Vec<u64> = ctx
        .state
        .boards
        .keys()
        .filter(|id| wanted.as_ref().is_none_or(|w| w.contains(&Some(**id))))
        .copied()
        .collect();
    Resolved::nodes(paginate(ids, args, 25).into_iter().map(Node::Board))
}

fn items(ctx: &ExecCtx, args: &Map<String, Value>) -> Result<Resolved, FieldError> {
    let wanted = ids_arg(args, "ids").unwrap_or_default();
    if wanted.len() > MAX_ITEM_IDS {
        return Err(FieldError::invalid_argument(format!(
            "items accepts at most {MAX_ITEM_IDS} ids"
        )));
    }
    let exclude_nonactive = args
        .get("exclude_nonactive")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let ids: Vec<u64> = wanted
        .into_iter()
        .flatten()
        .filter(|id| {
            ctx.state
                .items
                .get(id)
                .is_some_and(|i| !exclude_nonactive || i.state == ItemState::Active)
        })
        .collect();
    Ok(Resolved::nodes(
        paginate(ids, args, 25).into_iter().map(Node::Item),
    ))
}

fn users(ctx: &ExecCtx, args: &Map<String, Value>) -> Resolved {
    let ids = ids_arg(args, "ids");
    let emails: Option<Vec<String>> = args.get("emails").and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .map(str::to_lowercase)
            .collect()
    });
    let found: Vec<u64> = ctx
        .state
        .users
        .iter()
        .filter(|u| ids.as_ref().is_none_or(|w| w.contains(&Some(u.id))))
        .filter(|u| {
            emails
                .as_ref()
                .is_none_or(|e| e.contains(&u.email.to_lowercase()))
        })
        .map(|u| u.id)
        .collect();
    Resolved::nodes(paginate(found, args, 200).into_iter().map(Node::User))
}

pub fn continue_cursor(
    ctx: &mut ExecCtx,
    cursor: &str,
    limit: u64,
) -> Result<Resolved, FieldError> {
    let now = ctx.now;
    let remaining = ctx
        .state
        .cursors
        .remove(cursor)
        .filter(|c| c.expires_at > now)
        .ok_or_else(|| {
            FieldError::invalid_argument("cursor is invalid or expired (cursors live 60 minutes)")
        })?
        .remaining;
    let ids: Vec<u64> = remaining
        .into_iter()
        .filter(|id| {
            ctx.state
                .items
                .get(id)
                .is_some_and(|i| i.state == ItemState::Active)
        })
        .collect();
    Ok(page(ctx, ids, limit))
}

fn by_column_values(ctx: &mut ExecCtx, args: &Map<String, Value>) -> Result<Resolved, FieldError> {
    let limit = limit_arg(args, DEFAULT_PAGE)?;
    let has_columns = args.get("columns").is_some_and(|c| !c.is_null());
    if let Some(cursor) = args.get("cursor").and_then(Value::as_str) {
        if has_columns {
            return Err(FieldError::invalid_argument(
                "columns and cursor can't be used together",
            ));
        }
        return continue_cursor(ctx, cursor, limit);
    }
    let board_arg = args.get("board_id");
    let board = board_arg
        .and_then(parse_id)
        .and_then(|id| ctx.state.boards.get(&id))
        .ok_or_else(|| FieldError::board_not_found(&id_text(board_arg)))?;
    let mut rules: Vec<(&Column, Vec<String>)> = Vec::new();
    for rule in args
        .get("columns")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let col_id = rule
            .get("column_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let column = board
            .column(col_id)
            .ok_or_else(|| FieldError::column_not_found(col_id))?;
        if matches!(column.column_type, ColumnType::File) {
            return Err(FieldError::invalid_argument(format!(
                "column type {} is not supported by items_page_by_column_values",
                column.column_type.api_name()
            )));
        }
        let values = rule
            .get("column_values")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        rules.push((column, values));
    }
    let ids: Vec<u64> = board
        .item_ids
        .iter()
        .filter_map(|id| ctx.state.items.get(id))
        .filter(|i| i.state == ItemState::Active)
        .filter(|i| {
            rules.iter().all(|(col, wanted)| {
                let stored = i.values.get(&col.id);
                wanted.iter().any(|w| matches(col, stored, w))
            })
        })
        .map(|i| i.id)
        .collect();
    Ok(page(ctx, ids, limit))
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// One lookup value against one stored value, per monday's documented rules.
fn matches(column: &Column, stored: Option<&StoredValue>, wanted: &str) -> bool {
    let text = stored.map_or("", |s| s.text.as_str());
    if wanted.is_empty() {
        return text.is_empty();
    }
    match column.column_type {
        // Phone: one full or partial number, contained in the stored number, digits only.
        ColumnType::Phone => {
            let w = digits(wanted);
            !w.is_empty() && digits(text).contains(&w)
        }
        // Email: exact match on the address or the whole display text.
        ColumnType::Email => {
            let email = stored
                .and_then(|s| s.value.get("email"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            email.eq_ignore_ascii_case(wanted) || text == wanted
        }
        ColumnType::Numbers => match (text.parse::<f64>(), wanted.trim().parse::<f64>()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        },
        // Date: one YYYY-MM-DD against the date part.
        ColumnType::Date => text.split(' ').next() == Some(wanted),
        ColumnType::Link => {
            let url_text = stored
                .and_then(|s| s.value.get("text"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            text.eq_ignore_ascii_case(wanted) || url_text.eq_ignore_ascii_case(wanted)
        }
        // Text, long text, status, dropdown, checkbox: case-insensitive whole value.
        _ => text.trim().to_lowercase() == wanted.trim().to_lowercase(),
    }
}
