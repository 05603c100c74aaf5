//! What the bridge last wrote to an item, and how each applied command changes that record.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::command::MondayCommand;

/// What the bridge last wrote to an item. Only what the bridge wrote: a person's edit on the
/// board survives until the value derived from Aircall changes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncedItem {
    pub name: Option<String>,
    pub columns: BTreeMap<String, Value>,
    #[serde(default)]
    pub archived: bool,
    /// The item a person deleted, when this one is to replace it: part of the create's
    /// idempotency key, so monday does not answer the new create from the old one's cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
    /// A create was sent and its fate is unknown (no answer, or a server error): look the
    /// item up by its Aircall id before creating again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub create_uncertain: bool,
    /// The group the bridge last put the item in (its route's); `None`: the board's group_id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Aircall comment ids already posted on this item as updates: each is posted once.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub posted_comments: BTreeSet<String>,
    /// The idempotency key of a command monday refused for good (a dead letter). monday
    /// caches answers, errors included, for 30 minutes by key: once the cause is fixed, a
    /// replay must not get the cached refusal back, so the next command's key covers this.
    /// A refused command was not applied, so a fresh key cannot apply anything twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    /// File columns that received their recording or voicemail: each is uploaded once.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub uploaded: BTreeSet<String>,
}

impl SyncedItem {
    /// What is known of an item taken over (found on the board, lost by a crash, or there
    /// before the bridge): not what its columns hold, so the next plan writes every column.
    /// What the bridge did apart from columns stays remembered, so no comment is posted twice.
    /// The group is forgotten: the item stays in the group a person put it in until its route
    /// changes.
    pub fn adopted(&self) -> SyncedItem {
        SyncedItem {
            posted_comments: self.posted_comments.clone(),
            uploaded: self.uploaded.clone(),
            ..SyncedItem::default()
        }
    }
}

/// One command and what it changes in the synced state once monday has applied it.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub command: MondayCommand,
    pub effect: Effect,
}

/// What a successful command changes in the synced state. A delta rather than a whole new
/// state, so that commands for one item sent together (a column change and two updates) each
/// record only their own success when another of them fails.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// The item's name, columns and archived flag are now these (posted comments and uploaded
    /// files are kept).
    Item(SyncedItem),
    /// This comment is now an update on the item.
    Posted(String),
    /// The item is now in this group.
    Moved(String),
    /// This file column now holds its recording or voicemail.
    Uploaded(String),
}

impl Effect {
    pub fn settle(self, synced: &mut SyncedItem) {
        match self {
            Effect::Item(after) => {
                let posted = std::mem::take(&mut synced.posted_comments);
                let uploaded = std::mem::take(&mut synced.uploaded);
                let group = synced.group.take();
                *synced = after;
                synced.posted_comments.extend(posted);
                synced.uploaded.extend(uploaded);
                // A create says where it put the item; a change leaves the group alone.
                synced.group = synced.group.take().or(group);
            }
            Effect::Moved(group) => {
                synced.group = Some(group);
            }
            Effect::Posted(id) => {
                synced.posted_comments.insert(id);
            }
            Effect::Uploaded(column) => {
                synced.uploaded.insert(column);
            }
        }
    }
}
