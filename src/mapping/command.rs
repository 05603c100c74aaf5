//! What the worker asks monday to do: our own enum, independent of the GraphQL types.

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::boards::UploadSource;

/// Column id → monday JSON value; `Value::Null` clears the column, the key `name` renames.
pub type ColumnValues = BTreeMap<String, Value>;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum MondayCommand {
    CreateItem {
        board_id: String,
        group_id: Option<String>,
        item_name: String,
        column_values: ColumnValues,
        create_labels: bool,
        idempotency_key: String,
    },
    ChangeColumnValues {
        board_id: String,
        item_id: String,
        column_values: ColumnValues,
        create_labels: bool,
        idempotency_key: String,
    },
    ArchiveItem {
        board_id: String,
        item_id: String,
        idempotency_key: String,
    },
    /// The item's route chose another group.
    MoveItemToGroup {
        board_id: String,
        item_id: String,
        group_id: String,
        idempotency_key: String,
    },
    /// A note on the item (an Aircall comment); `body` is HTML.
    CreateUpdate {
        board_id: String,
        item_id: String,
        body: String,
        idempotency_key: String,
    },
    /// An AI action item as a subitem of the call's item (on the board's subitems board).
    CreateSubitem {
        /// The parent item's board: the subitem goes to that board's subitems board.
        board_id: String,
        parent_item_id: String,
        item_name: String,
        idempotency_key: String,
    },
    /// The call's recording, voicemail or transcript as a file in a file column: the worker
    /// uploads `text` when the bridge made the file, else downloads `url` (fetching the call again from Aircall for a fresh link when it expired) and
    /// uploads it to `/v2/file`. Never batched: it is a multipart request of its own.
    AddFile {
        board_id: String,
        item_id: String,
        column_id: String,
        /// The Aircall call, whose fresh links replace an expired `url`.
        call_id: String,
        source: UploadSource,
        url: String,
        /// The file's content when the bridge makes it (the transcript): nothing to download.
        /// Absent from intents written before transcripts could be files.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        file_name: String,
        idempotency_key: String,
    },
}

impl MondayCommand {
    pub fn name(&self) -> &'static str {
        match self {
            MondayCommand::CreateItem { .. } => "create_item",
            MondayCommand::ChangeColumnValues { .. } => "change_multiple_column_values",
            MondayCommand::ArchiveItem { .. } => "archive_item",
            MondayCommand::CreateUpdate { .. } => "create_update",
            MondayCommand::CreateSubitem { .. } => "create_subitem",
            MondayCommand::MoveItemToGroup { .. } => "move_item_to_group",
            MondayCommand::AddFile { .. } => "add_file_to_column",
        }
    }

    /// Whether monday would apply it twice if it were sent twice (it adds rather than sets):
    /// such a command is written down as an intent before its request leaves.
    pub fn adds(&self) -> bool {
        matches!(
            self,
            MondayCommand::CreateItem { .. }
                | MondayCommand::CreateUpdate { .. }
                | MondayCommand::CreateSubitem { .. }
                | MondayCommand::AddFile { .. }
        )
    }

    pub fn board_id(&self) -> &str {
        match self {
            MondayCommand::CreateItem { board_id, .. }
            | MondayCommand::ChangeColumnValues { board_id, .. }
            | MondayCommand::ArchiveItem { board_id, .. }
            | MondayCommand::CreateUpdate { board_id, .. }
            | MondayCommand::CreateSubitem { board_id, .. }
            | MondayCommand::MoveItemToGroup { board_id, .. }
            | MondayCommand::AddFile { board_id, .. } => board_id,
        }
    }

    pub fn idempotency_key(&self) -> &str {
        match self {
            MondayCommand::CreateItem {
                idempotency_key, ..
            }
            | MondayCommand::ChangeColumnValues {
                idempotency_key, ..
            }
            | MondayCommand::ArchiveItem {
                idempotency_key, ..
            }
            | MondayCommand::CreateUpdate {
                idempotency_key, ..
            }
            | MondayCommand::CreateSubitem {
                idempotency_key, ..
            }
            | MondayCommand::MoveItemToGroup {
                idempotency_key, ..
            }
            | MondayCommand::AddFile {
                idempotency_key, ..
            } => idempotency_key,
        }
    }
}

/// A key derived from what a command does, so that resending the same command after a crash
/// or a lost answer is recognised by monday and not applied twice.
pub fn idempotency_key(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0x1f]);
    }
    let digest = hex::encode(h.finalize());
    format!("amb-{}", &digest[..40])
}
