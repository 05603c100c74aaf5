//! monday's error messages rarely say which column, label or group they are about ("Group not
//! found", "label does not exist in column"). The command that failed knows: its error is
//! completed with what was sent, so a dead letter names what to fix.

use serde_json::Value;

use super::MondayError;
use crate::mapping::MondayCommand;

/// `error_data` keys worth naming, in the order they are named.
const NAMED: &[(&str, &str)] = &[
    ("board_id", "board"),
    ("group_id", "group"),
    ("item_id", "item"),
    ("column_id", "column"),
    ("column_name", "titled"),
];

/// " (column status titled \"Status\")" from monday's `error_data`, or nothing.
pub(super) fn error_data_suffix(error_data: Option<&Value>) -> String {
    let Some(Value::Object(data)) = error_data else {
        return String::new();
    };
    let parts: Vec<String> = NAMED
        .iter()
        .filter_map(|(key, word)| match data.get(*key) {
            Some(Value::String(s)) if !s.is_empty() => Some(format!("{word} {s:?}")),
            Some(Value::Number(n)) => Some(format!("{word} {n}")),
            _ => None,
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(" "))
    }
}

/// The error, completed with the part of `command` it is about.
pub(super) fn with_command(e: MondayError, command: &MondayCommand) -> MondayError {
    let MondayError::Api {
        code,
        message,
        http_status,
        status_code,
        retry_after,
        request_id,
    } = e
    else {
        return e;
    };
    let about = about(&code, &message, command);
    MondayError::Api {
        message: match about {
            Some(about) => format!("{message}; {about}"),
            None => message,
        },
        code,
        http_status,
        status_code,
        retry_after,
        request_id,
    }
}

fn about(code: &str, message: &str, command: &MondayCommand) -> Option<String> {
    let lower = format!("{code} {message}").to_ascii_lowercase();
    let (board_id, group_id, values) = match command {
        MondayCommand::CreateItem {
            board_id,
            group_id,
            column_values,
            ..
        } => (board_id, group_id.as_ref(), Some(column_values)),
        MondayCommand::MoveItemToGroup {
            board_id, group_id, ..
        } => (board_id, Some(group_id), None),
        MondayCommand::ChangeColumnValues {
            board_id,
            column_values,
            ..
        } => (board_id, None, Some(column_values)),
        _ => return None,
    };
    if lower.contains("group") {
        let group = group_id?;
        return Some(format!(
            "the bridge sent group {group:?} to board {board_id}: fix the board's group_id or the \
             route that chose it (check --live lists the board's groups)"
        ));
    }
    let values = values?;
    if lower.contains("column") {
        // The column monday named, else every column of the request (a lone one is the one).
        let named: Vec<(&String, &Value)> = values
            .iter()
            .filter(|(id, _)| message.contains(&format!("column {:?}", id)))
            .collect();
        let columns = if named.is_empty() && values.len() == 1 {
            values.iter().collect()
        } else {
            named
        };
        let sent: Vec<String> = columns
            .iter()
            .map(
                |(id, value)| match value.get("label").and_then(Value::as_str) {
                    Some(label) => format!("column {id:?} got the label {label:?}"),
                    None => format!("column {id:?} got {}", short(value)),
                },
            )
            .collect();
        if sent.is_empty() {
            return None;
        }
        let hint = if sent.iter().any(|s| s.contains("the label")) {
            "add the label on the board, fix the column's labels in the mapping, or set \
             create_labels_if_missing = true"
        } else {
            "fix the column's mapping (check --live compares it with the board)"
        };
        return Some(format!("on board {board_id} {}: {hint}", sent.join(", ")));
    }
    None
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(79).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn api(message: &str) -> MondayError {
        MondayError::Api {
            code: "ColumnValueException".into(),
            message: message.into(),
            http_status: 200,
            status_code: Some(200),
            retry_after: None,
            request_id: None,
        }
    }

    fn create(values: Value) -> MondayCommand {
        MondayCommand::CreateItem {
            board_id: "1".into(),
            group_id: Some("callback".into()),
            item_name: "x".into(),
            column_values: serde_json::from_value(values).unwrap(),
            create_labels: false,
            idempotency_key: "k".into(),
        }
    }

    #[test]
    fn a_missing_label_names_the_column_and_the_label() {
        let message = format!(
            "invalid value - label does not exist in column{}",
            error_data_suffix(Some(
                &json!({"column_id": "status", "column_name": "Status"})
            ))
        );
        let command = create(json!({"status": {"label": "Left a message"}, "text": "a"}));
        let text = with_command(api(&message), &command).to_string();
        assert!(
            text.contains("column \"status\" titled \"Status\""),
            "{text}"
        );
        assert!(
            text.contains("column \"status\" got the label \"Left a message\""),
            "{text}"
        );
        assert!(text.contains("create_labels_if_missing"), "{text}");
        assert!(!text.contains("\"text\""), "{text}");
    }

    #[test]
    fn a_missing_group_names_the_group() {
        let e = MondayError::Api {
            code: "InvalidArgumentException".into(),
            message: "Group not found".into(),
            http_status: 200,
            status_code: Some(200),
            retry_after: None,
            request_id: None,
        };
        let text = with_command(e, &create(json!({}))).to_string();
        assert!(text.contains("group \"callback\" to board 1"), "{text}");
        assert!(text.contains("route"), "{text}");
    }
}
