//! Subitems: `create_subitem(parent_item_id, item_name)` and `Item.subitems`. On monday a
//! subitem is an item of the board's own subitems board; here it is kept on its parent (id,
//! name, time), which is what the bridge writes and reads back: the board page and
//! `/_sandbox/boards` list it under the parent, never as an item of the board itself.

use serde_json::{Map, Value};

use super::error::FieldError;
use super::exec::{ExecCtx, Node, Resolved};
use super::nodes::{id_text, parse_id};
use super::state::Subitem;

const MAX_NAME_CHARS: usize = 255;

pub fn create(ctx: &mut ExecCtx, args: &Map<String, Value>) -> Result<Resolved, FieldError> {
    let given = args.get("parent_item_id");
    let parent = given
        .and_then(parse_id)
        .filter(|id| ctx.state.live_item(*id).is_some())
        .ok_or_else(|| FieldError::item_not_found(&id_text(given)))?;
    let name = args
        .get("item_name")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or_default();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::invalid_argument(
            "item_name must be 1 to 255 characters",
        ));
    }
    let id = ctx.state.alloc_item_id();
    let now = ctx.now;
    if let Some(item) = ctx.state.items.get_mut(&parent) {
        item.subitems.push(Subitem {
            id,
            name: name.to_string(),
            created_at: now,
        });
        item.updated_at = now;
    }
    Ok(Resolved::Node(Node::Subitem(parent, id)))
}

/// A field of a subitem (typed `Item`, like monday's): its id and name.
pub fn field(ctx: &ExecCtx, parent: u64, id: u64, name: &str) -> Resolved {
    let Some(sub) = ctx
        .state
        .items
        .get(&parent)
        .and_then(|i| i.subitems.iter().find(|s| s.id == id))
    else {
        return Resolved::Null;
    };
    match name {
        "id" => Resolved::leaf(sub.id.to_string()),
        "name" => Resolved::leaf(sub.name.clone()),
        _ => Resolved::Null,
    }
}
