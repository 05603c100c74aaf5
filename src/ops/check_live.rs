//! `check --live`: compare the board mappings with what monday has. Boards, groups and columns
//! must exist, column types must fit the mapping, and status labels must exist unless
//! `create_labels_if_missing` lets monday add them.

use serde_json::Value;

use super::OpsError;
use crate::config::{BoardRule, ColumnKind};
use crate::monday::{BoardInfo, MondayClient};

/// monday's name for the column type we write.
pub fn monday_type(kind: ColumnKind) -> &'static str {
    kind.as_str()
}

/// The status labels in a column's `settings`: monday gives `{"labels": [{"label": ..}, ..]}`
/// (older answers: `{"labels": {"0": "Done", ..}}`).
pub fn status_labels(settings: Option<&Value>) -> Vec<String> {
    let labels = match settings.and_then(|s| s.get("labels")) {
        Some(l) => l,
        None => return Vec::new(),
    };
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("label").and_then(Value::as_str).map(String::from),
        _ => None,
    };
    match labels {
        Value::Array(a) => a.iter().filter_map(text).collect(),
        Value::Object(o) => o.values().filter_map(text).collect(),
        _ => Vec::new(),
    }
}

/// Asks monday for the mapped boards and compares.
pub async fn check(client: &MondayClient, rules: &[BoardRule]) -> Result<Vec<String>, OpsError> {
    if rules.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids: Vec<String> = rules.iter().map(|r| r.board_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let boards = client.boards(Some(ids)).await?;
    Ok(compare(rules, &boards))
}

/// Every way the mappings and the boards disagree, one sentence each, naming the key.
pub fn compare(rules: &[BoardRule], boards: &[BoardInfo]) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let at = format!("boards[{i}] ({})", rule.name);
        let Some(board) = boards.iter().find(|b| b.id == rule.board_id) else {
            problems.push(format!(
                "{at}.board_id: board {} does not exist or the token cannot see it",
                rule.board_id
            ));
            continue;
        };
        let known: Vec<&str> = board.groups.iter().map(|(id, _)| id.as_str()).collect();
        let groups = rule
            .group_id
            .iter()
            .map(|g| ("group_id".to_string(), g))
            .chain(
                rule.routes
                    .iter()
                    .enumerate()
                    .map(|(r, route)| (format!("routes[{r}].group_id"), &route.group_id)),
            );
        for (key, group) in groups {
            if !known.contains(&group.as_str()) {
                problems.push(format!(
                    "{at}.{key}: board {} has no group {group:?} (groups: {})",
                    board.id,
                    known.join(", ")
                ));
            }
        }
        for (id, spec) in &rule.columns {
            let key = format!("{at}.columns.{id}");
            let Some((_, title, kind, settings)) = board.columns.iter().find(|c| &c.0 == id) else {
                problems.push(format!("{key}: board {} has no column {id:?}", board.id));
                continue;
            };
            let want = monday_type(spec.kind);
            if kind != want {
                problems.push(format!(
                    "{key}: column {title:?} is of type {kind}, the mapping writes {want}"
                ));
                continue;
            }
            if spec.kind == ColumnKind::Status && !rule.create_labels_if_missing {
                let have = status_labels(settings.as_ref());
                for label in spec.labels.values() {
                    if !have.iter().any(|h| h.eq_ignore_ascii_case(label.trim())) {
                        problems.push(format!(
                            "{key}.labels: column {title:?} has no label {label:?} (labels: {}; \
                             or set create_labels_if_missing = true)",
                            have.join(", ")
                        ));
                    }
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_to_a_group_the_board_lacks_is_a_problem() {
        let rule: BoardRule = toml::from_str(
            r#"
            name = "calls"
            entity = "call"
            board_id = "42"
            group_id = "calls"
            item_name = "Call"
            [[routes]]
            group_id = "call_back"
            when = { outcome = "missed" }
            [[routes]]
            group_id = "callback"
            when = { outcome = "voicemail" }
            "#,
        )
        .unwrap();
        let board = BoardInfo {
            id: "42".into(),
            name: "Calls".into(),
            groups: vec![
                ("calls".into(), "Calls".into()),
                ("call_back".into(), "Call back".into()),
            ],
            columns: Vec::new(),
        };
        let problems = compare(&[rule], &[board]);
        assert_eq!(
            problems,
            [
                "boards[0] (calls).routes[1].group_id: board 42 has no group \"callback\" \
                 (groups: calls, call_back)"
            ]
        );
    }

    #[test]
    fn reads_both_shapes_of_status_labels() {
        let modern = serde_json::json!({"labels": [{"id": 0, "label": "Done"}, {"id": 1, "label": "Stuck"}]});
        assert_eq!(status_labels(Some(&modern)), ["Done", "Stuck"]);
        let legacy = serde_json::json!({"labels": {"0": "Done"}});
        assert_eq!(status_labels(Some(&legacy)), ["Done"]);
        assert!(status_labels(None).is_empty());
    }
}
