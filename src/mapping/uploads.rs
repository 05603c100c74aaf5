//! Recordings, voicemails and AI transcripts as files on the item. Aircall's links to them expire (the direct
//! MP3 after about an hour), so a file column keeps a copy: planned once per column, after the
//! item exists, and remembered in the synced state so a replay uploads nothing again. The
//! planner only says which file goes where; the worker downloads it (refreshing an expired
//! link through Aircall's API) and uploads it. A transcript is text the bridge already holds:
//! it travels in the command (and so in its intent), uploaded once by the same rule.

use serde::Serialize;

use super::boards::{BoardRule, ColumnKind, UploadSource};
use super::command::{idempotency_key, MondayCommand};
use super::fields::{FieldValue, Fields};
use super::plan::DesiredItem;
use super::synced::{Effect, Step, SyncedItem};

/// A file the item should carry in a file column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesiredUpload {
    pub column: String,
    pub source: UploadSource,
    /// The direct MP3 link as last seen in the events; it may have expired by now. Empty for
    /// a transcript.
    pub url: String,
    /// The file's content, for a transcript.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    pub file_name: String,
}

/// The board's file columns whose file the call has (a direct link was seen, or the
/// transcript was fetched).
pub fn desired_uploads(board: &BoardRule, fields: &Fields, call_id: u64) -> Vec<DesiredUpload> {
    board
        .columns
        .iter()
        .filter(|(_, spec)| spec.kind == ColumnKind::File)
        .filter_map(|(column, spec)| {
            let source = spec.upload?;
            let field = match source {
                UploadSource::Recording => "recording_url",
                UploadSource::Voicemail => "voicemail_url",
                UploadSource::Transcript => {
                    let text = fields.get("transcript").map(FieldValue::to_text)?;
                    return (!text.trim().is_empty()).then(|| DesiredUpload {
                        column: column.clone(),
                        source,
                        url: String::new(),
                        text: Some(text + "\n"),
                        file_name: format!("call-{call_id}-transcript.txt"),
                    });
                }
            };
            let url = fields.get(field).map(FieldValue::to_text)?;
            let url = url.trim();
            (!url.is_empty()).then(|| DesiredUpload {
                column: column.clone(),
                source,
                url: url.to_string(),
                text: None,
                file_name: format!("call-{call_id}-{}.mp3", source.as_str()),
            })
        })
        .collect()
}

/// One upload per file column not uploaded yet, once the item exists.
pub fn plan_uploads(
    board: &BoardRule,
    desired: &DesiredItem,
    item_id: Option<&str>,
    synced: &SyncedItem,
    call_id: &str,
) -> Vec<Step> {
    let Some(item_id) = item_id else {
        return Vec::new();
    };
    if synced.archived {
        return Vec::new();
    }
    desired
        .uploads
        .iter()
        .filter(|u| !synced.uploaded.contains(&u.column))
        .map(|u| Step {
            command: MondayCommand::AddFile {
                board_id: board.board_id.clone(),
                item_id: item_id.to_string(),
                column_id: u.column.clone(),
                call_id: call_id.to_string(),
                source: u.source,
                url: u.url.clone(),
                text: u.text.clone(),
                file_name: u.file_name.clone(),
                idempotency_key: idempotency_key(&[&board.board_id, item_id, "file", &u.column]),
            },
            effect: Effect::Uploaded(u.column.clone()),
        })
        .collect()
}
