//! Field resolution for the object types (Board, Item, ColumnValue, ...): each node reads the
//! state lazily, so a selection only costs what it asks for. IDs always come out as strings.
//!
//! Long on purpose: one resolver per object type of the schema, read side by side with
//! graphql/schema.graphql.

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::error::FieldError;
use super::exec::{ExecCtx, Node, Resolved};
use super::seed::ColumnType;
use super::state::{ItemState, State};

/// monday caps `items_page`/`next_items_page` at 500 items per page.
pub const MAX_PAGE: u64 = 500;
pub const DEFAULT_PAGE: u64 = 25;

pub fn fmt_time(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Parses an ID given as a JSON string or integer. Floats are rejected on purpose: an id that
/// went through floating point is exactly the bug monday answers with "not found".
pub fn parse_id(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub fn id_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

pub fn limit_arg(args: &Map<String, Value>, default: u64) -> Result<u64, FieldError> {
    match args.get("limit") {
        None | Some(Value::Null) => Ok(default),
        Some(v) => match v.as_u64() {
            Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
            _ => Err(FieldError::invalid_argument(format!(
                "limit must be between 1 and {MAX_PAGE}"
            ))),
        },
    }
}

/// First `limit` ids now, the rest behind a cursor (null when nothing is left).
pub fn page(ctx: &mut ExecCtx, mut ids: Vec<u64>, limit: u64) -> Resolved {
    let rest = if ids.len() as u64 > limit {
        ids.split_off(limit as usize)
    } else {
        Vec::new()
    };
    let cursor = (!rest.is_empty()).then(|| ctx.state.new_cursor(rest, ctx.now));
    Resolved::Node(Node::Items { cursor, items: ids })
}

fn active_items(state: &State, board_id: u64, group: Option<&str>) -> Vec<u64> {
    state.boards.get(&board_id).map_or_else(Vec::new, |b| {
        b.item_ids
            .iter()
            .filter_map(|id| state.items.get(id))
            .filter(|i| i.state == ItemState::Active)
            .filter(|i| group.is_none_or_eq(&i.group_id))
            .map(|i| i.id)
            .collect()
    })
}

trait OptEq {
    fn is_none_or_eq(&self, other: &str) -> bool;
}
impl OptEq for Option<&str> {
    fn is_none_or_eq(&self, other: &str) -> bool {
        self.is_none_or(|s| s == other)
    }
}

fn items_page(
    ctx: &mut ExecCtx,
    board_id: u64,
    group: Option<&str>,
    args: &Map<String, Value>,
) -> Result<Resolved, FieldError> {
    let limit = limit_arg(args, DEFAULT_PAGE)?;
    if let Some(cursor) = args.get("cursor").and_then(Value::as_str) {
        return super::queries::continue_cursor(ctx, cursor, limit);
    }
    let ids = active_items(ctx.state, board_id, group);
    Ok(page(ctx, ids, limit))
}

fn string_list(args: &Map<String, Value>, key: &str) -> Option<Vec<String>> {
    match args.get(key)? {
        Value::Array(a) => Some(
            a.iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect(),
        ),
        Value::String(s) => Some(vec![s.clone()]),
        _ => None,
    }
}

pub fn typename(ctx: &ExecCtx, node: &Node) -> &'static str {
    match node {
        Node::Board(_) => "Board",
        Node::Column(..) => "Column",
        Node::Group(..) => "Group",
        Node::Item(_) => "Item",
        Node::ColumnValue(item, col) => ctx
            .state
            .items
            .get(item)
            .and_then(|i| ctx.state.boards.get(&i.board_id))
            .and_then(|b| b.column(col))
            .map_or("ColumnValue", |c| c.column_type.value_typename()),
        Node::Update(_) => "Update",
        Node::Asset(..) => "Asset",
        Node::Subitem(..) => "Item",
        Node::Items { .. } => "ItemsResponse",
        Node::Complexity(_) => "Complexity",
        Node::User(_) => "User",
        Node::Tag(_) => "Tag",
        Node::Version(_) => "Version",
        Node::Json(t, _) => t,
    }
}

pub fn field(
    ctx: &mut ExecCtx,
    node: &Node,
    name: &str,
    args: &Map<String, Value>,
) -> Result<Resolved, FieldError> {
    match node {
        Node::Board(id) => board_field(ctx, *id, name, args),
        Node::Group(board, group) => match name {
            "id" => Ok(Resolved::leaf(group.clone())),
            "title" => Ok(ctx
                .state
                .boards
                .get(board)
                .and_then(|b| b.group(group))
                .map_or(Resolved::Null, |g| Resolved::leaf(g.title.clone()))),
            "color" => Ok(Resolved::leaf("#579bfc")),
            "position" => Ok(Resolved::leaf("65536")),
            "archived" | "deleted" => Ok(Resolved::leaf(false)),
            "items_page" => items_page(ctx, *board, Some(group), args),
            _ => Ok(Resolved::Null),
        },
        Node::Column(board, col) => Ok(column_field(ctx.state, *board, col, name)),
        Node::Item(id) => item_field(ctx.state, *id, name, args),
        Node::ColumnValue(item, col) => Ok(column_value_field(ctx.state, *item, col, name)),
        Node::Update(id) => Ok(ctx
            .state
            .updates
            .get(id)
            .map_or(Resolved::Null, |u| match name {
                "id" => Resolved::leaf(u.id.to_string()),
                "body" => Resolved::leaf(u.body.clone()),
                "text_body" => Resolved::leaf(strip_tags(&u.body)),
                "item_id" => Resolved::leaf(u.item_id.to_string()),
                "created_at" | "updated_at" => Resolved::leaf(fmt_time(u.created_at)),
                "creator_id" => Resolved::leaf("48202303"),
                _ => Resolved::Null,
            })),
        Node::Subitem(parent, id) => Ok(super::subitems::field(ctx, *parent, *id, name)),
        Node::Asset(item, asset) => Ok(ctx
            .state
            .items
            .get(item)
            .and_then(|i| i.assets.iter().find(|a| a.id == *asset))
            .map_or(Resolved::Null, |a| match name {
                "id" => Resolved::leaf(a.id.to_string()),
                "name" => Resolved::leaf(a.name.clone()),
                "file_size" => Resolved::leaf(a.size),
                "file_extension" => {
                    Resolved::leaf(a.name.rsplit_once('.').map_or("", |(_, e)| e).to_string())
                }
                "url" | "public_url" => Resolved::leaf(format!(
                    "https://sandbox.monday.local/protected_static/resources/{}/{}",
                    a.id, a.name
                )),
                "created_at" => Resolved::leaf(fmt_time(a.created_at)),
                _ => Resolved::Null,
            })),
        Node::Items { cursor, items } => Ok(match name {
            "cursor" => cursor.clone().map_or(Resolved::Null, Resolved::leaf),
            "items" => Resolved::nodes(items.iter().map(|i| Node::Item(*i))),
            _ => Resolved::Null,
        }),
        Node::Complexity(c) => Ok(match name {
            "before" => Resolved::leaf(c.before),
            "after" => Resolved::leaf(c.after),
            "query" => Resolved::leaf(c.query),
            "reset_in_x_seconds" => Resolved::leaf(c.reset_in_x_seconds),
            _ => Resolved::Null,
        }),
        Node::User(id) => Ok(ctx.state.users.iter().find(|u| u.id == *id).map_or(
            Resolved::Null,
            |u| match name {
                "id" => Resolved::leaf(u.id.to_string()),
                "name" => Resolved::leaf(u.name.clone()),
                "email" => Resolved::leaf(u.email.clone()),
                "account_id" => Resolved::leaf("1000"),
                "enabled" => Resolved::leaf(true),
                _ => Resolved::Null,
            },
        )),
        Node::Tag(id) => {
            Ok(ctx
                .state
                .tags
                .iter()
                .find(|t| t.id == *id)
                .map_or(Resolved::Null, |t| match name {
                    "id" => Resolved::leaf(t.id.to_string()),
                    "name" => Resolved::leaf(t.name.clone()),
                    "color" => Resolved::leaf("#00c875"),
                    _ => Resolved::Null,
                }))
        }
        Node::Version(v) => Ok(match name {
            "kind" => Resolved::leaf(super::limits::version_kind(v)),
            "value" => Resolved::leaf(v.clone()),
            "display_name" => Resolved::leaf(format!("API {v}")),
            _ => Resolved::Null,
        }),
        Node::Json(t, v) => Ok(json_field(t, v, name)),
    }
}

/// A field of a plain object: objects become nodes of the type the schema gives the field.
fn json_field(type_name: &str, v: &Value, name: &str) -> Resolved {
    fn wrap(t: Option<&'static str>, v: &Value) -> Resolved {
        match (v, t) {
            (Value::Null, _) => Resolved::Null,
            (Value::Array(a), _) => Resolved::List(a.iter().map(|x| wrap(t, x)).collect()),
            (Value::Object(_), Some(t)) => Resolved::Node(Node::Json(t, v.clone())),
            _ => Resolved::Leaf(v.clone()),
        }
    }
    let t = match super::schema::field_type(type_name, name) {
        Some(super::schema::FieldType::Object(t)) => Some(t),
        _ => None,
    };
    v.get(name).map_or(Resolved::Null, |x| wrap(t, x))
}

fn board_field(
    ctx: &mut ExecCtx,
    id: u64,
    name: &str,
    args: &Map<String, Value>,
) -> Result<Resolved, FieldError> {
    let Some(board) = ctx.state.boards.get(&id) else {
        return Ok(Resolved::Null);
    };
    Ok(match name {
        "id" => Resolved::leaf(id.to_string()),
        "name" => Resolved::leaf(board.name.clone()),
        "state" => Resolved::leaf("active"),
        "board_kind" => Resolved::leaf("public"),
        "description" => Resolved::Null,
        "items_count" => Resolved::leaf(active_items(ctx.state, id, None).len()),
        "columns" => {
            let ids = string_list(args, "ids");
            let types = string_list(args, "types");
            Resolved::nodes(
                board
                    .columns
                    .iter()
                    .filter(|c| ids.as_ref().is_none_or_contains(&c.id))
                    .filter(|c| types.as_ref().is_none_or_contains(c.column_type.api_name()))
                    .map(|c| Node::Column(id, c.id.clone())),
            )
        }
        "groups" => {
            let ids = string_list(args, "ids");
            Resolved::nodes(
                board
                    .groups
                    .iter()
                    .filter(|g| ids.as_ref().is_none_or_contains(&g.id))
                    .map(|g| Node::Group(id, g.id.clone())),
            )
        }
        "items_page" => return items_page(ctx, id, None, args),
        _ => Resolved::Null,
    })
}

trait OptContains {
    fn is_none_or_contains(&self, s: &str) -> bool;
}
impl OptContains for Option<&Vec<String>> {
    fn is_none_or_contains(&self, s: &str) -> bool {
        self.is_none_or(|v| v.iter().any(|x| x == s))
    }
}

fn column_field(state: &State, board: u64, col: &str, name: &str) -> Resolved {
    let Some(c) = state.boards.get(&board).and_then(|b| b.column(col)) else {
        return Resolved::Null;
    };
    match name {
        "id" => Resolved::leaf(c.id.clone()),
        "title" => Resolved::leaf(c.title.clone()),
        "type" => Resolved::leaf(c.column_type.api_name()),
        "settings" => Resolved::Leaf(c.settings()),
        "settings_str" => Resolved::leaf(c.settings().to_string()),
        "archived" => Resolved::leaf(false),
        _ => Resolved::Null,
    }
}

fn item_field(
    state: &State,
    id: u64,
    name: &str,
    args: &Map<String, Value>,
) -> Result<Resolved, FieldError> {
    let Some(item) = state.items.get(&id) else {
        return Ok(Resolved::Null);
    };
    Ok(match name {
        "id" => Resolved::leaf(id.to_string()),
        "name" => Resolved::leaf(item.name.clone()),
        "state" => Resolved::leaf(item.state.as_str()),
        "board" => Resolved::Node(Node::Board(item.board_id)),
        "group" => Resolved::Node(Node::Group(item.board_id, item.group_id.clone())),
        "created_at" => Resolved::leaf(fmt_time(item.created_at)),
        "updated_at" => Resolved::leaf(fmt_time(item.updated_at)),
        "creator_id" => Resolved::leaf("48202303"),
        "url" => Resolved::leaf(format!(
            "https://sandbox.monday.local/boards/{}/pulses/{}",
            item.board_id, id
        )),
        "column_values" => {
            let ids = string_list(args, "ids");
            let types = string_list(args, "types");
            let columns = state
                .boards
                .get(&item.board_id)
                .map_or(&[][..], |b| &b.columns);
            Resolved::nodes(
                columns
                    .iter()
                    .filter(|c| ids.as_ref().is_none_or_contains(&c.id))
                    .filter(|c| types.as_ref().is_none_or_contains(c.column_type.api_name()))
                    .map(|c| Node::ColumnValue(id, c.id.clone())),
            )
        }
        "updates" => {
            let limit = args.get("limit").and_then(Value::as_u64).unwrap_or(25) as usize;
            Resolved::nodes(
                item.update_ids
                    .iter()
                    .rev()
                    .take(limit)
                    .map(|u| Node::Update(*u)),
            )
        }
        "assets" => Resolved::nodes(item.assets.iter().map(|a| Node::Asset(id, a.id))),
        "subitems" => Resolved::nodes(item.subitems.iter().map(|s| Node::Subitem(id, s.id))),
        _ => Resolved::Null,
    })
}

fn column_value_field(state: &State, item_id: u64, col: &str, name: &str) -> Resolved {
    let Some(item) = state.items.get(&item_id) else {
        return Resolved::Null;
    };
    let Some(column) = state.boards.get(&item.board_id).and_then(|b| b.column(col)) else {
        return Resolved::Null;
    };
    let stored = item.values.get(col);
    let part = |key: &str| {
        stored
            .and_then(|s| s.value.get(key))
            .filter(|v| !v.is_null())
            .map_or(Resolved::Null, |v| Resolved::Leaf(v.clone()))
    };
    match name {
        "id" => Resolved::leaf(col),
        "type" => Resolved::leaf(column.column_type.api_name()),
        "text" => Resolved::leaf(stored.map(|s| s.text.clone()).unwrap_or_default()),
        // `value` is a JSON *string*, as monday returns it.
        "value" => stored.map_or(Resolved::Null, |s| Resolved::leaf(s.value.to_string())),
        "column" => Resolved::Node(Node::Column(item.board_id, col.to_string())),
        "label" if column.column_type == ColumnType::Status => {
            stored.map_or(Resolved::Null, |s| Resolved::leaf(s.text.clone()))
        }
        "index" => part("index"),
        "date" | "time" | "phone" | "email" | "url" => part(name),
        "country_short_name" => part("countryShortName"),
        "url_text" => part("text"),
        _ => Resolved::Null,
    }
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}
