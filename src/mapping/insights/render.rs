//! The insights as fields for columns and templates, and as updates on the item.

use super::{Fetch, Insights};
use crate::mapping::boards::BoardRule;
use crate::mapping::fields::{FieldValue, Fields};
use crate::mapping::updates::DesiredUpdate;

/// The Conversation Intelligence fields, present once fetched.
pub(crate) fn fields(f: &mut Fields, ai: &Insights) {
    let mut text = |k: &'static str, v: String| {
        if !v.trim().is_empty() {
            f.insert(k, FieldValue::Text(v));
        }
    };
    text("summary", ai.summary.clone().unwrap_or_default());
    text("sentiment", ai.sentiment.clone().unwrap_or_default());
    let items: Vec<&str> = ai
        .action_item_list()
        .into_iter()
        .map(|(_, c)| c.as_str())
        .collect();
    text("action_items", items.join("\n"));
    text("transcript", ai.transcript_lines().join("\n"));
    let outcomes: Vec<Fetch> = ai.fetched.values().map(|f| f.outcome).collect();
    let status = if outcomes.contains(&Fetch::Found) {
        "fetched"
    } else if outcomes.contains(&Fetch::NoAiAssist) {
        "no_ai_assist"
    } else if outcomes.is_empty() {
        ""
    } else {
        "not_generated"
    };
    text("insights", status.to_string());
    if !ai.custom_summary.is_empty() {
        let named = FieldValue::Named(ai.custom_summary.clone());
        f.insert("custom_summary", named);
    }
    if !ai.topics.is_empty() {
        f.insert("topics", FieldValue::List(ai.topics.clone()));
    }
}

/// monday documents no size limit for an update's body; a transcript is split into updates of
/// at most this many characters (HTML included), at line boundaries.
pub const TRANSCRIPT_UPDATE_CHARS: usize = 15_000;

/// The transcript and the action items as updates, each with an id of its own among the
/// item's posted updates (`ai-transcript-N`, `ai-action-items`), so each is posted once.
pub(crate) fn updates(board: &BoardRule, ai: &Insights) -> Vec<DesiredUpdate> {
    let mut out = Vec::new();
    if board.transcript_as_updates {
        let lines: Vec<String> = ai.transcript_lines().iter().map(|l| escape(l)).collect();
        let chunks = split(&lines, TRANSCRIPT_UPDATE_CHARS);
        let total = chunks.len();
        for (i, chunk) in chunks.into_iter().enumerate() {
            let head = if total > 1 {
                format!("<b>Transcript ({}/{total})</b><br>", i + 1)
            } else {
                "<b>Transcript</b><br>".to_string()
            };
            out.push(DesiredUpdate {
                comment_id: format!("ai-transcript-{i}"),
                body: head + &chunk,
                subitem: false,
            });
        }
    }
    if board.action_items_as_update && !ai.action_items.is_empty() {
        let items: Vec<String> = ai
            .action_item_list()
            .into_iter()
            .map(|(_, c)| format!("<li>{}</li>", escape(c)))
            .collect();
        out.push(DesiredUpdate {
            comment_id: "ai-action-items".into(),
            body: format!("<b>Action items</b><ul>{}</ul>", items.concat()),
            subitem: false,
        });
    }
    if board.action_items_as_subitems {
        // One subitem per Aircall action-item id, named after it (monday: 1-255 characters).
        for (id, content) in ai.action_item_list() {
            let name: String = content.chars().take(255).collect();
            out.push(DesiredUpdate {
                comment_id: format!("ai-action-item-{id}"),
                body: name,
                subitem: true,
            });
        }
    }
    out
}

/// Lines joined with `<br>` into chunks of at most `limit` characters; a longer line is cut.
pub(crate) fn split(lines: &[String], limit: usize) -> Vec<String> {
    let limit = limit.max(64);
    let mut chunks: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in lines {
        let line: String = line.chars().take(limit - 40).collect();
        if !current.is_empty() && current.chars().count() + line.chars().count() + 4 > limit - 40 {
            chunks.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push_str("<br>");
        }
        current.push_str(&line);
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
