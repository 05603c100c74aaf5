//! Board mappings as the operator writes them in TOML (the `[[boards]]` of the settings). Only
//! their structure is checked here; templates and field names are checked by
//! `Rules::compile`, which knows the fields. They live beside the planner, which reads them;
//! `config` loads them with the rest of the settings.

mod ai;
mod columns;
mod routes;

use std::collections::BTreeMap;

use serde::Deserialize;

pub use ai::AI_FIELDS;
pub use columns::{closed_values, ColumnKind, ColumnSpec, UploadSource};
pub use routes::{AnyOf, CallFilter, Route, OUTCOMES};

pub use crate::entity::Entity;

/// Which of Aircall's recording/voicemail links fills `recording` and `voicemail`: the
/// permanent `asset` page (needs an Aircall login), the short URL (about 3 h) or the direct
/// MP3 URL (about 1 h). A missing preferred link falls back to the next one.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum LinkPreference {
    #[default]
    Asset,
    Short,
    Direct,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct BoardRule {
    /// A name for logs and the status page, e.g. "calls".
    pub name: String,
    pub entity: Entity,
    /// The monday board id (digits; monday ids exceed 32 bits, keep them quoted).
    pub board_id: String,
    /// The group new items go to when no route matches; monday's first group when absent.
    #[serde(default)]
    pub group_id: Option<String>,
    /// Call boards: mirror only the calls that match (e.g. `{ direction = "inbound" }`).
    #[serde(default)]
    pub when: Option<CallFilter>,
    /// Call boards: the first route whose `when` matches chooses the item's group.
    #[serde(default)]
    pub routes: Vec<Route>,
    /// Template of the item name, e.g. "{{ direction }} call with {{ counterpart }}".
    pub item_name: String,
    /// A text column that receives the Aircall id. With it the bridge finds an item it created
    /// when a crash lost the item id, instead of creating a second one.
    #[serde(default)]
    pub aircall_id_column: Option<String>,
    /// Let monday add status labels that the board does not have yet.
    #[serde(default)]
    pub create_labels_if_missing: bool,
    #[serde(default)]
    pub recording_link: LinkPreference,
    /// Post each Aircall comment on the call as one monday update on the item, once.
    #[serde(default)]
    pub comments_as_updates: bool,
    /// Template of an update's body over the comment fields; monday renders it as HTML, so
    /// values are HTML-escaped. `None`: [`DEFAULT_COMMENT_TEMPLATE`].
    #[serde(default)]
    pub comment_template: Option<String>,
    /// Call boards: post the AI transcript (AI Assist) as monday updates on the item, once,
    /// split into several updates when it is long.
    #[serde(default)]
    pub transcript_as_updates: bool,
    /// Call boards: post the AI action items as one monday update on the item, once.
    #[serde(default)]
    pub action_items_as_update: bool,
    /// Call boards: make each AI action item a subitem of the item, once per Aircall
    /// action-item id.
    #[serde(default)]
    pub action_items_as_subitems: bool,
    /// Contact boards: what to do when an item with the contact's phone or email is already
    /// on the board (entered by hand, imported) before the bridge first creates one.
    /// `None`: adopt.
    #[serde(default)]
    pub on_existing: Option<OnExisting>,
    /// Contact boards: the phone and email columns (listed under `columns`) searched for an
    /// existing item before creating one; empty: no search, always create.
    #[serde(default)]
    pub match_columns: Vec<String>,
    /// Call boards with a board_relation column: when a call's number belongs to no Aircall
    /// contact, find the contact item with that number on the contact board, or create one, so
    /// the call links to it; when Aircall later creates the contact, the contact board adopts
    /// that item by its phone (`match_columns`).
    #[serde(default)]
    pub create_contact_for_unknown_numbers: bool,
    /// monday column id → what it receives.
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnSpec>,
}

/// What a contact board does with an item that already carries the contact's phone or email.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum OnExisting {
    /// Take the item over: the bridge writes its columns from now on, no second item.
    #[default]
    Adopt,
    /// Create an item of the bridge's own regardless.
    Create,
}

/// The body of a comment's update when the board sets no `comment_template`.
pub const DEFAULT_COMMENT_TEMPLATE: &str = "{{ content }}{% if author %} — {{ author }}{% endif %}";

impl BoardRule {
    /// The columns to search for an existing item before creating one (none: just create).
    pub fn adopt_by(&self) -> &[String] {
        match self.on_existing.unwrap_or_default() {
            OnExisting::Adopt => &self.match_columns,
            OnExisting::Create => &[],
        }
    }

    /// Structural checks; the error is (key relative to this board, message).
    pub fn validate(&self) -> Result<(), (String, String)> {
        let err = |k: &str, m: &str| Err((k.to_string(), m.to_string()));
        if self.name.trim().is_empty() {
            return err("name", "expected a non-empty name");
        }
        if self.board_id.is_empty() || !self.board_id.bytes().all(|b| b.is_ascii_digit()) {
            return err(
                "board_id",
                "expected the board's numeric id as a string, e.g. \"1234567890\"",
            );
        }
        if matches!(&self.group_id, Some(g) if g.trim().is_empty()) {
            return err("group_id", "expected a group id, or leave the key out");
        }
        if self.item_name.trim().is_empty() {
            return err(
                "item_name",
                "expected a template, e.g. \"Call {{ call_id }}\"",
            );
        }
        if let Some(col) = &self.aircall_id_column {
            if !self.columns.contains_key(col) {
                return err(
                    "aircall_id_column",
                    "expected the id of a column listed under columns (type text, field \"id\")",
                );
            }
        }
        if self.entity != Entity::Call && self.when.is_some() {
            return err("when", "filters apply to call boards only");
        }
        if self.entity != Entity::Call && !self.routes.is_empty() {
            return err("routes", "routes apply to call boards only");
        }
        if let Some(when) = &self.when {
            when.validate().map_err(|(k, m)| (format!("when.{k}"), m))?;
        }
        for (i, route) in self.routes.iter().enumerate() {
            let key = format!("routes[{i}]");
            if route.group_id.trim().is_empty() {
                return Err((format!("{key}.group_id"), "expected a group id".into()));
            }
            if route.when.is_empty() {
                return Err((
                    format!("{key}.when"),
                    "a route needs a condition; group_id is the board's default group".into(),
                ));
            }
            route
                .when
                .validate()
                .map_err(|(k, m)| (format!("{key}.when.{k}"), m))?;
        }
        if self.comments_as_updates && self.entity != Entity::Call {
            return err(
                "comments_as_updates",
                "comments belong to calls: set it on a call board",
            );
        }
        for (key, on) in [
            ("transcript_as_updates", self.transcript_as_updates),
            ("action_items_as_update", self.action_items_as_update),
            ("action_items_as_subitems", self.action_items_as_subitems),
        ] {
            if on && self.entity != Entity::Call {
                return err(key, "AI insights belong to calls: set it on a call board");
            }
        }
        if self.comment_template.is_some() && !self.comments_as_updates {
            return err(
                "comment_template",
                "set comments_as_updates = true for the template to be used",
            );
        }
        self.validate_matching()?;
        for (id, spec) in &self.columns {
            spec.validate(id, &self.columns)?;
            let call_only = matches!(
                spec.kind,
                ColumnKind::File
                    | ColumnKind::BoardRelation
                    | ColumnKind::People
                    | ColumnKind::Tags
            );
            if call_only && self.entity != Entity::Call {
                return Err((
                    format!("columns.{id}.type"),
                    "this column type applies to call boards only".into(),
                ));
            }
        }
        Ok(())
    }

    /// The columns an existing contact is looked up by. Only phone and email: monday's lookup
    /// of those is what finds a number however it was written (digits, contains-match).
    fn validate_matching(&self) -> Result<(), (String, String)> {
        if self.on_existing.is_some() && self.entity != Entity::Contact {
            return Err((
                "on_existing".into(),
                "applies to contact boards only".into(),
            ));
        }
        if self.match_columns.is_empty() {
            return Ok(());
        }
        if self.entity != Entity::Contact {
            return Err((
                "match_columns".into(),
                "applies to contact boards only".into(),
            ));
        }
        for (i, column) in self.match_columns.iter().enumerate() {
            let kind = self.columns.get(column).map(|c| c.kind);
            if !matches!(kind, Some(ColumnKind::Phone | ColumnKind::Email)) {
                return Err((
                    format!("match_columns[{i}]"),
                    format!(
                        "expected a phone or email column listed under columns, got {column:?}"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Boards whose lost creates cannot be found once monday's idempotency cache has expired:
/// valid, but worth a loud word at `check` and at start.
pub fn recovery_warnings(boards: &[BoardRule]) -> Vec<String> {
    boards
        .iter()
        .filter(|b| b.aircall_id_column.is_none())
        .map(|b| {
            format!(
                "board {:?} (boards[].name) has no aircall_id_column: a create interrupted by a \
                 crash or a lost answer can be recovered only within monday's 30-minute \
                 idempotency window; after that the bridge cannot find the item and may make a \
                 second one. Add a text column with field = \"id\" and name it in \
                 aircall_id_column (README, \"Board mappings\")",
                b.name
            )
        })
        .collect()
}
