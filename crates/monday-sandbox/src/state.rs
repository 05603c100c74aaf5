//! The sandbox's board data: boards, groups, columns, items, updates and files, plus id
//! allocation. Pure data; validation of column values lives in `values`, API shapes in
//! `resolve`.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};
use time::OffsetDateTime;

use super::seed::{BoardSeed, ColumnType};

/// Item ids start above the 32-bit range, as real monday ids do, so a client that squeezes
/// them through i32 or f32 breaks here rather than in production.
const FIRST_ITEM_ID: u64 = 5_000_000_001;
const FIRST_UPDATE_ID: u64 = 9_000_000_001;
const FIRST_ASSET_ID: u64 = 3_000_000_001;
const FIRST_TAG_ID: u64 = 295_001;

#[derive(Debug, Clone)]
pub struct Label {
    pub id: u64,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub id: String,
    pub title: String,
    pub column_type: ColumnType,
    pub labels: Vec<Label>,
}

impl Column {
    pub fn label_by_text(&self, text: &str) -> Option<&Label> {
        self.labels
            .iter()
            .find(|l| l.text.eq_ignore_ascii_case(text.trim()))
    }

    pub fn label_by_id(&self, id: u64) -> Option<&Label> {
        self.labels.iter().find(|l| l.id == id)
    }

    /// `settings` as monday's typed JSON (status: `{"labels":[{id,label,index}]}`).
    pub fn settings(&self) -> Value {
        if self.labels.is_empty() {
            return json!({});
        }
        let labels: Vec<Value> = self
            .labels
            .iter()
            .enumerate()
            .map(|(pos, l)| json!({"id": l.id, "label": l.text, "index": pos}))
            .collect();
        json!({ "labels": labels })
    }
}

#[derive(Debug, Clone)]
pub struct Group {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone)]
pub struct Board {
    pub id: u64,
    pub name: String,
    pub groups: Vec<Group>,
    pub columns: Vec<Column>,
    /// Items in creation order (the sandbox does not model positions).
    pub item_ids: Vec<u64>,
}

impl Board {
    pub fn column(&self, id: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.id == id)
    }
    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemState {
    Active,
    Archived,
    Deleted,
}

impl ItemState {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Active => "active",
            ItemState::Archived => "archived",
            ItemState::Deleted => "deleted",
        }
    }
}

/// A column value stored as monday returns it: `value` is the JSON (serialized on output)
/// and `text` the display text.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredValue {
    pub value: Value,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct Asset {
    pub id: u64,
    pub name: String,
    pub size: usize,
    pub sha256: String,
    pub column_id: String,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct Update {
    pub id: u64,
    pub item_id: u64,
    pub body: String,
    pub created_at: OffsetDateTime,
}

/// A subitem, kept on its parent item (see `subitems`).
#[derive(Debug, Clone)]
pub struct Subitem {
    pub id: u64,
    pub name: String,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct Item {
    pub id: u64,
    pub board_id: u64,
    pub group_id: String,
    pub name: String,
    pub state: ItemState,
    pub values: BTreeMap<String, StoredValue>,
    pub update_ids: Vec<u64>,
    pub assets: Vec<Asset>,
    pub subitems: Vec<Subitem>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A page of lookup results still to be handed out by `next_items_page`.
#[derive(Debug, Clone)]
pub struct Cursor {
    pub remaining: Vec<u64>,
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: u64,
    pub name: String,
    pub email: String,
}

/// An account-level tag, as `create_or_get_tag` issued it (name without spaces).
#[derive(Debug, Clone)]
pub struct Tag {
    pub id: u64,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct State {
    pub boards: BTreeMap<u64, Board>,
    pub items: BTreeMap<u64, Item>,
    pub updates: BTreeMap<u64, Update>,
    pub cursors: HashMap<String, Cursor>,
    pub users: Vec<User>,
    pub tags: Vec<Tag>,
    next_item_id: u64,
    next_update_id: u64,
    next_asset_id: u64,
    next_cursor: u64,
}

impl State {
    /// Builds the state from validated seeds (see `seed::parse_seed`).
    pub fn from_seed(seeds: &[BoardSeed], users: Vec<User>) -> State {
        let boards = seeds
            .iter()
            .filter_map(|b| {
                // Seeds are validated, so the id parses; filter_map keeps this unwrap-free.
                let id = b.id.parse::<u64>().ok()?;
                let groups = b
                    .groups
                    .iter()
                    .map(|g| Group {
                        id: g.id.clone(),
                        title: g.title.clone(),
                    })
                    .collect();
                let columns = b
                    .columns
                    .iter()
                    .map(|c| Column {
                        id: c.id.clone(),
                        title: c.title.clone(),
                        column_type: c.column_type,
                        labels: (0u64..)
                            .zip(&c.labels)
                            .map(|(id, text)| Label {
                                id,
                                text: text.clone(),
                            })
                            .collect(),
                    })
                    .collect();
                let board = Board {
                    id,
                    name: b.name.clone(),
                    groups,
                    columns,
                    item_ids: Vec::new(),
                };
                Some((id, board))
            })
            .collect();
        State {
            boards,
            items: BTreeMap::new(),
            updates: BTreeMap::new(),
            cursors: HashMap::new(),
            users,
            tags: Vec::new(),
            next_item_id: FIRST_ITEM_ID,
            next_update_id: FIRST_UPDATE_ID,
            next_asset_id: FIRST_ASSET_ID,
            next_cursor: 1,
        }
    }

    pub fn alloc_item_id(&mut self) -> u64 {
        let id = self.next_item_id;
        self.next_item_id += 1;
        id
    }

    /// The tag with this name (spaces removed, as monday stores it), made if new: the same
    /// name always gets the same id.
    pub fn create_or_get_tag(&mut self, name: &str) -> u64 {
        let name: String = name.chars().filter(|c| !c.is_whitespace()).collect();
        if let Some(tag) = self.tags.iter().find(|t| t.name == name) {
            return tag.id;
        }
        let id = FIRST_TAG_ID + self.tags.len() as u64;
        self.tags.push(Tag { id, name });
        id
    }

    pub fn alloc_update_id(&mut self) -> u64 {
        let id = self.next_update_id;
        self.next_update_id += 1;
        id
    }

    pub fn alloc_asset_id(&mut self) -> u64 {
        let id = self.next_asset_id;
        self.next_asset_id += 1;
        id
    }

    /// Stores a cursor over `remaining` item ids; cursors live 60 minutes like monday's.
    pub fn new_cursor(&mut self, remaining: Vec<u64>, now: OffsetDateTime) -> String {
        let token = format!("sandbox-cursor-{}", self.next_cursor);
        self.next_cursor += 1;
        self.cursors.retain(|_, c| c.expires_at > now);
        self.cursors.insert(
            token.clone(),
            Cursor {
                remaining,
                expires_at: now + time::Duration::minutes(60),
            },
        );
        token
    }

    /// An item that the API may address (deleted items are gone for the API).
    pub fn live_item(&self, id: u64) -> Option<&Item> {
        self.items
            .get(&id)
            .filter(|i| i.state != ItemState::Deleted)
    }
}
