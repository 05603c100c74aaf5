//! Mutation root fields. Every write validates everything first and applies nothing on error,
//! like monday: a bad column value leaves the item untouched.
//!
//! Long on purpose: one function per mutation root field, each validate-then-apply; they share the
//! validation helpers at the top.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::error::FieldError;
use super::exec::{ExecCtx, Node, Resolved, UPLOAD_PREFIX};
use super::nodes::{id_text, parse_id};
use super::seed::ColumnType;
use super::state::{Asset, Item, ItemState, StoredValue, Update};
use super::values::{self, Change, WriteCtx};

const MAX_NAME_CHARS: usize = 255;
/// monday's cap on items per board (`ItemsLimitationException`).
const MAX_ITEMS_PER_BOARD: usize = 10_000;

pub fn resolve(
    ctx: &mut ExecCtx,
    name: &str,
    args: &Map<String, Value>,
) -> Result<Resolved, FieldError> {
    match name {
        "create_item" => create_item(ctx, args),
        "change_multiple_column_values" => {
            let (board, item) = board_and_item(ctx, args)?;
            let values = column_values_arg(args.get("column_values"))?;
            write(ctx, board, item, &values, args, JsonOrSimple::Json)
        }
        "change_column_value" | "change_simple_column_value" => {
            let (board, item) = board_and_item(ctx, args)?;
            let column = args
                .get("column_id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let raw = args.get("value").cloned().unwrap_or(Value::Null);
            let (value, mode) = if name == "change_simple_column_value" {
                (raw, JsonOrSimple::Simple)
            } else {
                // `value: JSON!` arrives as the JSON string of one column's value.
                (decode_json(raw, column)?, JsonOrSimple::Json)
            };
            let mut values = Map::new();
            values.insert(column.to_string(), value);
            write(ctx, board, item, &values, args, mode)
        }
        "archive_item" | "delete_item" => {
            let item = live_item(ctx, args.get("item_id"))?;
            let state = if name == "archive_item" {
                ItemState::Archived
            } else {
                ItemState::Deleted
            };
            set_state(ctx, item, state);
            Ok(Resolved::Node(Node::Item(item)))
        }
        "create_update" => create_update(ctx, args),
        "create_subitem" => super::subitems::create(ctx, args),
        "move_item_to_group" => move_item(ctx, args),
        "add_file_to_column" => add_file(ctx, args),
        "create_or_get_tag" => create_or_get_tag(ctx, args),
        "complexity" => Ok(Resolved::Node(Node::Complexity(ctx.complexity))),
        _ => Err(FieldError::invalid_argument(format!(
            "unsupported field {name}"
        ))),
    }
}

/// Account-level tags: the same name (spaces removed) always gives the same tag. A `board_id`
/// (private boards) must name a board.
fn create_or_get_tag(ctx: &mut ExecCtx, args: &Map<String, Value>) -> Result<Resolved, FieldError> {
    if !args.get("board_id").is_none_or_null() {
        board_id(ctx, args.get("board_id"))?;
    }
    let name = args
        .get("tag_name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| FieldError::invalid_argument("tag_name is required"))?;
    let id = ctx.state.create_or_get_tag(name);
    Ok(Resolved::Node(Node::Tag(id)))
}

pub fn set_state(ctx: &mut ExecCtx, item: u64, state: ItemState) {
    if let Some(i) = ctx.state.items.get_mut(&item) {
        i.state = state;
        i.updated_at = ctx.now;
    }
}

fn board_id(ctx: &ExecCtx, v: Option<&Value>) -> Result<u64, FieldError> {
    v.and_then(parse_id)
        .filter(|id| ctx.state.boards.contains_key(id))
        .ok_or_else(|| FieldError::board_not_found(&id_text(v)))
}

fn live_item(ctx: &ExecCtx, v: Option<&Value>) -> Result<u64, FieldError> {
    if v.is_none_or_null() {
        return Err(FieldError::invalid_argument("item_id is required"));
    }
    v.and_then(parse_id)
        .filter(|id| ctx.state.live_item(*id).is_some())
        .ok_or_else(|| FieldError::item_not_found(&id_text(v)))
}

trait NullCheck {
    fn is_none_or_null(&self) -> bool;
}
impl NullCheck for Option<&Value> {
    fn is_none_or_null(&self) -> bool {
        matches!(self, None | Some(Value::Null))
    }
}

fn board_and_item(ctx: &ExecCtx, args: &Map<String, Value>) -> Result<(u64, u64), FieldError> {
    let board = board_id(ctx, args.get("board_id"))?;
    let item = live_item(ctx, args.get("item_id"))?;
    if ctx.state.items.get(&item).map(|i| i.board_id) != Some(board) {
        return Err(FieldError::item_not_found(&id_text(args.get("item_id"))));
    }
    Ok((board, item))
}

/// `column_values` is documented as a JSON-encoded string; a plain object is accepted too.
fn column_values_arg(v: Option<&Value>) -> Result<Map<String, Value>, FieldError> {
    let decoded = match v {
        None | Some(Value::Null) => return Ok(Map::new()),
        Some(Value::String(s)) => serde_json::from_str::<Value>(s).map_err(|e| {
            FieldError::invalid_argument(format!("column_values is not valid JSON: {e}"))
        })?,
        Some(other) => other.clone(),
    };
    match decoded {
        Value::Object(map) => Ok(map),
        _ => Err(FieldError::invalid_argument(
            "column_values must be a JSON object keyed by column id",
        )),
    }
}

fn decode_json(raw: Value, column: &str) -> Result<Value, FieldError> {
    match raw {
        Value::String(s) => serde_json::from_str(&s).map_err(|e| {
            FieldError::new(
                "ColumnValueException",
                format!("invalid value - not valid JSON: {e}"),
                json!({ "column_id": column }),
            )
        }),
        other => Ok(other),
    }
}

fn item_name(v: &Value) -> Result<String, FieldError> {
    let name = v.as_str().unwrap_or_default();
    let chars = name.trim().chars().count();
    if chars == 0 || name.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::new(
            "ItemNameTooLongException",
            format!("Item name must be between 1 and {MAX_NAME_CHARS} characters"),
            json!({ "item_name_length": name.chars().count() }),
        ));
    }
    Ok(name.to_string())
}

#[derive(Clone, Copy, PartialEq)]
enum JsonOrSimple {
    Json,
    Simple,
}

struct Planned {
    new_name: Option<String>,
    changes: Vec<(String, Change)>,
}

/// Validates all values against a copy of the board's columns (labels may be created);
/// the copy replaces the columns only if every value is valid.
fn plan(
    ctx: &mut ExecCtx,
    board_id: u64,
    values: &Map<String, Value>,
    create_labels: bool,
    mode: JsonOrSimple,
) -> Result<Planned, FieldError> {
    let board = ctx
        .state
        .boards
        .get(&board_id)
        .ok_or_else(|| FieldError::board_not_found(&board_id.to_string()))?;
    let mut columns = board.columns.clone();
    let wctx = WriteCtx {
        create_labels,
        now: ctx.now,
        items: &ctx.state.items,
        users: &ctx.state.users,
        tags: &ctx.state.tags,
    };
    let mut planned = Planned {
        new_name: None,
        changes: Vec::new(),
    };
    for (col_id, value) in values {
        if col_id == "name" {
            planned.new_name = Some(item_name(value)?);
            continue;
        }
        let column = columns
            .iter_mut()
            .find(|c| &c.id == col_id)
            .ok_or_else(|| FieldError::column_not_found(col_id))?;
        let change = match (mode, value) {
            (JsonOrSimple::Simple, Value::String(s)) => values::from_simple(column, s, &wctx)?,
            _ => values::from_json(column, value, &wctx)?,
        };
        planned.changes.push((col_id.clone(), change));
    }
    if let Some(board) = ctx.state.boards.get_mut(&board_id) {
        board.columns = columns;
    }
    Ok(planned)
}

fn apply(ctx: &mut ExecCtx, item_id: u64, planned: Planned) {
    let Some(item) = ctx.state.items.get_mut(&item_id) else {
        return;
    };
    if let Some(name) = planned.new_name {
        item.name = name;
    }
    for (col, change) in planned.changes {
        match change {
            Change::Set(v) => {
                item.values.insert(col, v);
            }
            Change::Clear => {
                item.values.remove(&col);
            }
            Change::ClearFiles => {
                item.values.remove(&col);
                item.assets.retain(|a| a.column_id != col);
            }
        }
    }
    item.updated_at = ctx.now;
}

fn write(
    ctx: &mut ExecCtx,
    board: u64,
    item: u64,
    values: &Map<String, Value>,
    args: &Map<String, Value>,
    mode: JsonOrSimple,
) -> Result<Resolved, FieldError> {
    let create_labels = args
        .get("create_labels_if_missing")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let planned = plan(ctx, board, values, create_labels, mode)?;
    apply(ctx, item, planned);
    Ok(Resolved::Node(Node::Item(item)))
}

fn create_item(ctx: &mut ExecCtx, args: &Map<String, Value>) -> Result<Resolved, FieldError> {
    let board_id = board_id(ctx, args.get("board_id"))?;
    let name = item_name(args.get("item_name").unwrap_or(&Value::Null))?;
    let board = &ctx.state.boards[&board_id];
    let group_id = match args.get("group_id").and_then(Value::as_str) {
        Some(g) => board.group(g).map(|g| g.id.clone()).ok_or_else(|| {
            FieldError::new(
                "InvalidArgumentException",
                "Group not found",
                json!({"group_id": g}),
            )
        })?,
        None => board
            .groups
            .first()
            .map(|g| g.id.clone())
            .unwrap_or_default(),
    };
    let live = board
        .item_ids
        .iter()
        .filter(|id| ctx.state.live_item(**id).is_some())
        .count();
    if live >= MAX_ITEMS_PER_BOARD {
        return Err(FieldError::new(
            "ItemsLimitationException",
            format!("Maximum of {MAX_ITEMS_PER_BOARD} items per board reached"),
            json!({ "board_id": board_id.to_string() }),
        ));
    }
    let values = column_values_arg(args.get("column_values"))?;
    let create_labels = args
        .get("create_labels_if_missing")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let planned = plan(ctx, board_id, &values, create_labels, JsonOrSimple::Json)?;
    let id = ctx.state.alloc_item_id();
    ctx.state.items.insert(
        id,
        Item {
            id,
            board_id,
            group_id,
            name,
            state: ItemState::Active,
            values: Default::default(),
            update_ids: Vec::new(),
            subitems: Vec::new(),
            assets: Vec::new(),
            created_at: ctx.now,
            updated_at: ctx.now,
        },
    );
    if let Some(board) = ctx.state.boards.get_mut(&board_id) {
        board.item_ids.push(id);
    }
    apply(ctx, id, planned);
    Ok(Resolved::Node(Node::Item(id)))
}

/// `move_item_to_group(group_id: String!, item_id: ID)`: the group must be on the item's board.
fn move_item(ctx: &mut ExecCtx, args: &Map<String, Value>) -> Result<Resolved, FieldError> {
    let item = live_item(ctx, args.get("item_id"))?;
    let wanted = args
        .get("group_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let board = &ctx.state.boards[&ctx.state.items[&item].board_id];
    let group = board.group(wanted).map(|g| g.id.clone()).ok_or_else(|| {
        FieldError::new(
            "InvalidArgumentException",
            "Group not found",
            json!({"group_id": wanted}),
        )
    })?;
    let now = ctx.now;
    if let Some(i) = ctx.state.items.get_mut(&item) {
        i.group_id = group;
        i.updated_at = now;
    }
    Ok(Resolved::Node(Node::Item(item)))
}

fn create_update(ctx: &mut ExecCtx, args: &Map<String, Value>) -> Result<Resolved, FieldError> {
    let body = args.get("body").and_then(Value::as_str).unwrap_or_default();
    if body.trim().is_empty() {
        return Err(FieldError::invalid_argument("body must not be empty"));
    }
    let item = match args.get("parent_id").and_then(parse_id) {
        Some(parent) => ctx
            .state
            .updates
            .get(&parent)
            .map(|u| u.item_id)
            .ok_or_else(|| FieldError::invalid_argument("parent update not found"))?,
        None => live_item(ctx, args.get("item_id"))?,
    };
    let id = ctx.state.alloc_update_id();
    ctx.state.updates.insert(
        id,
        Update {
            id,
            item_id: item,
            body: body.to_string(),
            created_at: ctx.now,
        },
    );
    if let Some(i) = ctx.state.items.get_mut(&item) {
        i.update_ids.push(id);
        i.updated_at = ctx.now;
    }
    Ok(Resolved::Node(Node::Update(id)))
}

fn add_file(ctx: &mut ExecCtx, args: &Map<String, Value>) -> Result<Resolved, FieldError> {
    let part = args
        .get("file")
        .and_then(Value::as_str)
        .and_then(|s| s.strip_prefix(UPLOAD_PREFIX))
        .and_then(|p| ctx.uploads.get(p))
        .cloned()
        .ok_or_else(|| {
            FieldError::invalid_argument(
                "add_file_to_column needs a multipart request to /v2/file with the file part",
            )
        })?;
    let item_id = live_item(ctx, args.get("item_id"))?;
    let column_id = args
        .get("column_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let board_id = ctx.state.items[&item_id].board_id;
    let column = ctx.state.boards[&board_id]
        .column(column_id)
        .ok_or_else(|| FieldError::column_not_found(column_id))?;
    if column.column_type != ColumnType::File {
        return Err(FieldError::new(
            "ColumnValueException",
            "invalid value - files can only be added to a file column",
            json!({ "column_type": column.column_type.internal_name(), "column_id": column_id }),
        ));
    }
    let asset_id = ctx.state.alloc_asset_id();
    let now = ctx.now;
    let item = ctx
        .state
        .items
        .get_mut(&item_id)
        .ok_or_else(|| FieldError::item_not_found(&item_id.to_string()))?;
    item.assets.push(Asset {
        id: asset_id,
        name: part.filename.clone(),
        size: part.bytes.len(),
        sha256: hex::encode(Sha256::digest(&part.bytes)),
        column_id: column_id.to_string(),
        created_at: now,
    });
    let files: Vec<&Asset> = item
        .assets
        .iter()
        .filter(|a| a.column_id == column_id)
        .collect();
    let value = json!({ "files": files.iter().map(|a| json!({
        "name": a.name, "assetId": a.id, "isImage": "false", "fileType": "ASSET",
    })).collect::<Vec<_>>() });
    let text = files
        .iter()
        .map(|a| {
            format!(
                "https://sandbox.monday.local/protected_static/resources/{}/{}",
                a.id, a.name
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    item.values
        .insert(column_id.to_string(), StoredValue { value, text });
    item.updated_at = now;
    Ok(Resolved::Node(Node::Asset(item_id, asset_id)))
}
