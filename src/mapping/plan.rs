//! Desired item (from observed state and rules) minus synced item = the command to send.
//! (Just over 300 lines: the desired item and the item's command are one derivation.)

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::boards::ColumnKind;
use super::boards::{BoardRule, Entity};
use super::columns::{encode, truncate};
use super::command::{idempotency_key, ColumnValues, MondayCommand};
use super::fields::{call_fields, contact_fields, lookup, FieldValue, Fields};
use super::known::Known;
use super::observed::Observed;
use super::routing::{plan_move, route};
use super::rules::{Rules, ITEM_NAME_MAX};
pub use super::synced::{Effect, Step, SyncedItem};
use super::updates::{desired_updates, plan_updates, DesiredUpdate};
use super::uploads::{desired_uploads, plan_uploads, DesiredUpload};
use super::MappingError;

fn is_true(b: &bool) -> bool {
    *b
}

/// The item as the rules say it should be now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesiredItem {
    pub name: String,
    /// `None`: the column has nothing to show.
    pub columns: BTreeMap<String, Option<Value>>,
    pub archived: bool,
    /// The group the item belongs in (first matching route, else the board's group_id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// `false`: the board's `when` does not match the call, so no item is created for it.
    #[serde(skip_serializing_if = "is_true")]
    pub wanted: bool,
    /// Comments the item should carry as updates (boards with `comments_as_updates`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub updates: Vec<DesiredUpdate>,
    /// Files the item should carry (file columns with `upload`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub uploads: Vec<DesiredUpload>,
}

/// The desired item with nothing looked up: board_relation and people columns stay empty.
pub fn desired(
    rules: &Rules,
    index: usize,
    observed: &Observed,
) -> Result<DesiredItem, MappingError> {
    desired_with(rules, index, observed, &Known::default())
}

/// The desired item, with what the worker looked up on the boards for it.
pub fn desired_with(
    rules: &Rules,
    index: usize,
    observed: &Observed,
    known: &Known,
) -> Result<DesiredItem, MappingError> {
    let board = &rules.boards()[index];
    let updates = match observed {
        Observed::Call(s) => desired_updates(rules, index, s)?,
        Observed::Contact(_) => Vec::new(),
    };
    let (mut fields, archived, entity, id) = match observed {
        Observed::Call(s) => (
            call_fields(s, board.recording_link),
            false,
            Entity::Call,
            s.id,
        ),
        Observed::Contact(s) => (contact_fields(s), s.deleted(), Entity::Contact, s.id),
    };
    if let (Observed::Call(_), Some(item)) = (observed, &known.contact_item) {
        fields.insert("contact_item", FieldValue::Text(item.clone()));
    }
    let (wanted, group) = match observed {
        Observed::Call(s) => route(board, s, &fields),
        Observed::Contact(_) => (true, board.group_id.clone()),
    };
    if entity != board.entity {
        return Err(MappingError::Template(format!(
            "board {} mirrors {}s, not {}s",
            board.name,
            board.entity.as_str(),
            entity.as_str()
        )));
    }
    let name = rules.render(&format!("boards[{index}].item_name"), &fields, entity)?;
    let name = truncate(name.trim(), ITEM_NAME_MAX);
    let name = if name.is_empty() {
        format!(
            "{} {id}",
            if entity == Entity::Call {
                "Call"
            } else {
                "Contact"
            }
        )
    } else {
        name
    };
    let uploads = match observed {
        Observed::Call(_) => desired_uploads(board, &fields, id),
        Observed::Contact(_) => Vec::new(),
    };
    let mut columns = BTreeMap::new();
    for (column, spec) in board
        .columns
        .iter()
        .filter(|(_, s)| s.kind != ColumnKind::File)
    {
        let value = match (&spec.field, &spec.template) {
            (Some(field), _) => lookup(&fields, field),
            (None, Some(_)) => {
                let key = format!("boards[{index}].columns.{column}.template");
                Some(FieldValue::Text(rules.render(&key, &fields, entity)?))
            }
            (None, None) => None,
        };
        if spec.kind == ColumnKind::People {
            columns.extend(known.people_columns(column, spec, value, &fields));
            continue;
        }
        if spec.kind == ColumnKind::Tags {
            columns.insert(column.clone(), known.tags_column(value));
            continue;
        }
        columns.insert(column.clone(), value.and_then(|v| encode(spec, &v)));
    }
    Ok(DesiredItem {
        name,
        columns,
        archived,
        group,
        wanted,
        updates,
        uploads,
    })
}

/// The one command that brings the item on this board in step, if any: its create, column
/// change or archive (see `planner::plan` for the whole entity).
pub fn plan_item(
    board: &BoardRule,
    entity_id: &str,
    desired: &DesiredItem,
    item_id: Option<&str>,
    synced: &SyncedItem,
) -> Option<Step> {
    let Some(item_id) = item_id else {
        // A contact deleted before it ever reached the board needs no item, nor does a call
        // the board's `when` leaves out.
        if desired.archived || !desired.wanted {
            return None;
        }
        let column_values: ColumnValues = desired
            .columns
            .iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v)))
            .collect();
        let after = SyncedItem {
            name: Some(desired.name.clone()),
            columns: column_values.clone(),
            archived: false,
            replaces: None,
            create_uncertain: false,
            group: desired.group.clone(),
            posted_comments: BTreeSet::new(),
            refused: None,
            uploaded: BTreeSet::new(),
        };
        let labels = create_labels(board, column_values.keys());
        let replaces = synced.replaces.as_deref().unwrap_or("");
        let mut parts = vec![
            board.board_id.as_str(),
            board.entity.as_str(),
            entity_id,
            "create",
            replaces,
        ];
        // Only after a refusal, so that keys of creates in flight stay the same across versions.
        if let Some(refused) = &synced.refused {
            parts.push(refused);
        }
        let key = idempotency_key(&parts);
        return Some(Step {
            command: MondayCommand::CreateItem {
                board_id: board.board_id.clone(),
                group_id: desired.group.clone(),
                item_name: desired.name.clone(),
                column_values,
                create_labels: labels,
                idempotency_key: key,
            },
            effect: Effect::Item(after),
        });
    };
    if synced.archived {
        return None;
    }
    if desired.archived {
        let after = SyncedItem {
            archived: true,
            ..synced.clone()
        };
        return Some(Step {
            command: MondayCommand::ArchiveItem {
                board_id: board.board_id.clone(),
                item_id: item_id.to_string(),
                idempotency_key: idempotency_key(&[&board.board_id, item_id, "archive"]),
            },
            effect: Effect::Item(after),
        });
    }
    let changes = diff(desired, synced);
    if changes.is_empty() {
        return None;
    }
    let labels = create_labels(board, changes.keys());
    let mut after = synced.clone();
    for (column, value) in &changes {
        if column == "name" {
            after.name = Some(desired.name.clone());
        } else {
            after.columns.insert(column.clone(), value.clone());
        }
    }
    // The key covers the state before and after, so A → B → A is three distinct changes.
    let before_text = serde_json::to_string(synced).unwrap_or_default();
    let change_text = serde_json::to_string(&changes).unwrap_or_default();
    let key = idempotency_key(&[
        &board.board_id,
        item_id,
        "change",
        &before_text,
        &change_text,
    ]);
    Some(Step {
        command: MondayCommand::ChangeColumnValues {
            board_id: board.board_id.clone(),
            item_id: item_id.to_string(),
            column_values: changes,
            create_labels: labels,
            idempotency_key: key,
        },
        effect: Effect::Item(after),
    })
}

/// monday's `create_labels_if_missing` is per request: on when the board asks for it, or when
/// a column written by this request does.
fn create_labels<'a>(board: &BoardRule, mut columns: impl Iterator<Item = &'a String>) -> bool {
    board.create_labels_if_missing
        || columns.any(|c| {
            board
                .columns
                .get(c)
                .is_some_and(|spec| spec.create_labels_if_missing)
        })
}

/// What follows the item's own command once the item exists: a move when its route changed,
/// the comments not yet posted as updates, then the files not yet uploaded.
pub fn plan_extras(
    board: &BoardRule,
    entity_id: &str,
    desired: &DesiredItem,
    item_id: Option<&str>,
    synced: &SyncedItem,
) -> Vec<Step> {
    plan_move(board, desired, item_id, synced)
        .into_iter()
        .chain(plan_updates(board, desired, item_id, synced))
        .chain(plan_uploads(board, desired, item_id, synced, entity_id))
        .collect()
}

/// Columns whose derived value differs from what the bridge last wrote; `null` clears a
/// column whose value went away; `name` when the item name changed.
pub fn diff(desired: &DesiredItem, synced: &SyncedItem) -> ColumnValues {
    let mut out = ColumnValues::new();
    if synced.name.as_deref() != Some(desired.name.as_str()) {
        out.insert("name".into(), Value::String(desired.name.clone()));
    }
    for (column, want) in &desired.columns {
        let have = synced.columns.get(column);
        match want {
            Some(v) if have != Some(v) => {
                out.insert(column.clone(), v.clone());
            }
            None if have.is_some_and(|h| !h.is_null()) => {
                out.insert(column.clone(), Value::Null);
            }
            _ => {}
        }
    }
    out
}

/// Fields are exposed for the snapshot tests and the status page.
pub fn fields_of(observed: &Observed, board: &BoardRule) -> Fields {
    match observed {
        Observed::Call(s) => call_fields(s, board.recording_link),
        Observed::Contact(s) => contact_fields(s),
    }
}
