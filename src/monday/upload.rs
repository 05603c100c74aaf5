//! `add_file_to_column` through `/v2/file` (reference/monday.md §1.5), in the shape monday's
//! docs show and a third party confirmed against live monday: a `query` part, a `map` part
//! `{"<part>": "variables.file"}` (a string, not an array), and the file part with a non-empty
//! filename (monday names the asset after it; an empty one is a 500).

use reqwest::multipart::{Form, Part};
use serde_json::Value;

use super::transport::{first_error, snippet, Body};
use super::{Applied, MondayClient, MondayError};

/// The name of the file part, which `map` points at `variables.file`.
const PART: &str = "recording";

impl MondayClient {
    /// `/v2/file` next to `/v2`.
    pub(super) fn file_url(&self) -> String {
        format!("{}/file", self.url.trim_end_matches('/'))
    }

    /// Uploads `bytes` into the file column of the item (appended to any files it holds).
    #[tracing::instrument(skip_all, fields(op = "add_file_to_column", item_id, size = bytes.len()))]
    pub async fn add_file(
        &self,
        board_id: &str,
        item_id: &str,
        column_id: &str,
        file_name: &str,
        bytes: Vec<u8>,
        idempotency_key: &str,
    ) -> Result<Applied, MondayError> {
        tracing::Span::current().record("item_id", item_id);
        let form = form(item_id, column_id, file_name, bytes)?;
        let answer = self
            .post_body(
                Body::File(form),
                Some(idempotency_key),
                &[board_id],
                "add_file_to_column",
            )
            .await?;
        if let Some(err) = first_error(&answer.json, answer.status, answer.retry_after) {
            return Err(err);
        }
        match answer.json.pointer("/data/add_file_to_column/id") {
            Some(Value::String(_) | Value::Number(_)) => Ok(Applied {
                item_id: item_id.to_string(),
                replayed: answer.replayed,
            }),
            _ => Err(MondayError::Decode(format!(
                "add_file_to_column returned no asset: {}",
                snippet(&answer.json.to_string())
            ))),
        }
    }
}

fn form(
    item_id: &str,
    column_id: &str,
    file_name: &str,
    bytes: Vec<u8>,
) -> Result<Form, MondayError> {
    // Ids go into the query as literals, as in monday's example: item ids are digits, and the
    // column id is quoted as a JSON string (which is also a valid GraphQL string).
    if item_id.is_empty() || !item_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(MondayError::Decode(format!("not an item id: {item_id:?}")));
    }
    let column = serde_json::to_string(column_id).unwrap_or_default();
    let query = format!(
        "mutation ($file: File!) {{ add_file_to_column(item_id: {item_id}, column_id: {column}, file: $file) {{ id }} }}"
    );
    let file = Part::bytes(bytes)
        .file_name(file_name.to_string())
        .mime_str(mime_of(file_name))
        .map_err(|e| MondayError::Decode(e.to_string()))?;
    Ok(Form::new()
        .text("query", query)
        .text("map", format!("{{\"{PART}\":\"variables.file\"}}"))
        .part(PART, file))
}

/// What the file is, by the name the planner gave it: a transcript (`.txt`) or audio.
fn mime_of(file_name: &str) -> &'static str {
    if file_name.ends_with(".txt") {
        "text/plain; charset=utf-8"
    } else {
        "audio/mpeg"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_an_item_id_that_is_not_digits() {
        assert!(form("12a", "files", "x.mp3", vec![1]).is_err());
        assert!(form("123", "fi\"les", "x.mp3", vec![1]).is_ok());
    }
}
