//! Aircall comments (notes) become monday updates on the call's item, each exactly once.
//!
//! Once is kept by the synced state: the ids of the comments already posted on the item live in
//! `SyncedItem::posted_comments`, so a redelivered `call.commented` or a replayed call plans
//! nothing new. The idempotency key of an update is (board, item, comment id), so a retry after
//! a lost answer is answered from monday's cache instead of posting a second update.

use std::collections::BTreeMap;

use minijinja::Value as TemplateValue;
use serde::Serialize;

use super::boards::BoardRule;
use super::command::{idempotency_key, MondayCommand};
use super::fields::FieldValue;
use super::observed::CallState;
use super::plan::{DesiredItem, Effect, Step, SyncedItem};
use super::rules::Rules;
use super::MappingError;

/// The fields a `comment_template` can use (the README's table follows this list).
pub const COMMENT_FIELDS: &[(&str, &str)] = &[
    ("content", "the note's text"),
    (
        "author",
        "the Aircall user who wrote it (empty for notes posted through Aircall's API)",
    ),
    ("author_email", "that user's email"),
    ("posted_at", "when it was posted, RFC 3339"),
    ("comment_id", "Aircall comment id"),
    ("call_id", "Aircall call id"),
];

/// The longest update body the bridge posts. monday documents no limit; one note typed (or
/// pasted) far too long in Aircall must still make a request monday takes and a feed a person
/// can read.
const UPDATE_BODY_MAX: usize = 10_000;

/// One comment as the item should show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesiredUpdate {
    pub comment_id: String,
    /// HTML, as monday renders update bodies; a subitem's name.
    pub body: String,
    /// A subitem (an AI action item) rather than an update.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub subitem: bool,
}

/// The updates the board wants for the call's comments, oldest first.
pub(super) fn desired_updates(
    rules: &Rules,
    index: usize,
    state: &CallState,
) -> Result<Vec<DesiredUpdate>, MappingError> {
    let board = &rules.boards()[index];
    let mut out = Vec::new();
    if board.comments_as_updates {
        out = comment_updates(rules, index, state)?;
    }
    out.extend(super::insights::updates(board, &state.ai));
    Ok(out)
}

fn comment_updates(
    rules: &Rules,
    index: usize,
    state: &CallState,
) -> Result<Vec<DesiredUpdate>, MappingError> {
    let mut comments: Vec<(&String, &crate::aircall::Comment)> = state.comments.iter().collect();
    // Oldest first so the item's update feed reads in the order the notes were written; the
    // id breaks ties (and orders notes without a time) the same way every time.
    comments.sort_by_key(|(id, c)| {
        (
            c.posted_at.unwrap_or(i64::MAX),
            id.parse::<u64>().unwrap_or(u64::MAX),
        )
    });
    let key = format!("boards[{index}].comment_template");
    let mut out = Vec::new();
    for (id, comment) in comments {
        let content = comment.content.as_deref().map(str::trim).unwrap_or("");
        // monday refuses an empty body, and an empty note says nothing.
        if content.is_empty() {
            continue;
        }
        let author = comment.posted_by.as_ref();
        let text = |v: Option<&str>| TemplateValue::from(v.unwrap_or("").trim());
        let context: BTreeMap<&str, TemplateValue> = [
            ("content", TemplateValue::from(content)),
            ("author", text(author.and_then(|u| u.name.as_deref()))),
            (
                "author_email",
                text(author.and_then(|u| u.email.as_deref())),
            ),
            (
                "posted_at",
                TemplateValue::from(
                    comment
                        .posted_at
                        .map(|t| FieldValue::Time(t).to_text())
                        .unwrap_or_default(),
                ),
            ),
            ("comment_id", TemplateValue::from(id.as_str())),
            ("call_id", TemplateValue::from(state.id)),
        ]
        .into_iter()
        .collect();
        // Values are HTML-escaped by the template; line breaks become HTML ones.
        let body = rules.render_with(&key, context)?;
        let body = body.trim().replace("\r\n", "\n").replace('\n', "<br>");
        let body = cut_html(&body, UPDATE_BODY_MAX);
        if !body.is_empty() {
            out.push(DesiredUpdate {
                comment_id: id.clone(),
                body,
                subitem: false,
            });
        }
    }
    Ok(out)
}

/// `body` cut to `max` characters, never inside an entity (`&amp;`) or a tag (`<br>`).
fn cut_html(body: &str, max: usize) -> String {
    let mut cut = super::columns::truncate(body, max);
    if cut.len() < body.len() {
        if let Some(open) = cut.rfind(['&', '<']) {
            if !cut[open..].contains([';', '>']) {
                cut.truncate(open);
            }
        }
    }
    cut
}

/// One `create_update` per comment not yet posted on the item. Nothing before the item exists:
/// the worker plans again right after the create, in the same reconcile.
pub fn plan_updates(
    board: &BoardRule,
    desired: &DesiredItem,
    item_id: Option<&str>,
    synced: &SyncedItem,
) -> Vec<Step> {
    let Some(item_id) = item_id else {
        return Vec::new();
    };
    if synced.archived {
        return Vec::new();
    }
    desired
        .updates
        .iter()
        .filter(|u| !synced.posted_comments.contains(&u.comment_id))
        .map(|u| {
            let key = idempotency_key(&[&board.board_id, item_id, "update", &u.comment_id]);
            let command = if u.subitem {
                MondayCommand::CreateSubitem {
                    board_id: board.board_id.clone(),
                    parent_item_id: item_id.to_string(),
                    item_name: u.body.clone(),
                    idempotency_key: key,
                }
            } else {
                MondayCommand::CreateUpdate {
                    board_id: board.board_id.clone(),
                    item_id: item_id.to_string(),
                    body: u.body.clone(),
                    idempotency_key: key,
                }
            };
            Step {
                command,
                effect: Effect::Posted(u.comment_id.clone()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::cut_html;

    #[test]
    fn a_cut_body_ends_before_an_entity_or_tag_it_would_split() {
        assert_eq!(cut_html("ab &amp; c", 5), "ab ");
        assert_eq!(cut_html("ab<br>c", 4), "ab");
        assert_eq!(cut_html("ab &amp; c", 8), "ab &amp;");
        assert_eq!(cut_html("short & sweet", 100), "short & sweet");
    }
}
