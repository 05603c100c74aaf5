//! Tests of `boards`.

use super::*;
use serde_json::json;

#[test]
fn skeleton_guesses_fields_and_lists_status_labels() {
    let board = BoardInfo {
        id: "42".into(),
        name: "Calls".into(),
        groups: vec![("topics".into(), "Topics".into())],
        columns: vec![
            ("name".into(), "Name".into(), "name".into(), None),
            (
                "aircall_id".into(),
                "Aircall id".into(),
                "text".into(),
                None,
            ),
            (
                "status".into(),
                "Status".into(),
                "status".into(),
                Some(json!({"labels": [{"label": "In progress"}]})),
            ),
            ("place".into(), "Place".into(), "location".into(), None),
            ("misc".into(), "Misc".into(), "text".into(), None),
        ],
    };
    let text = skeleton(&board);
    assert!(
        text.contains("aircall_id_column = \"aircall_id\""),
        "{text}"
    );
    assert!(text.contains("in_progress = \"In progress\""), "{text}");
    assert!(text.contains("# [boards.columns.misc]"), "{text}");
    assert!(text.contains("does not write"), "{text}");
    let parsed: toml::Value = toml::from_str(&text).unwrap();
    assert_eq!(
        parsed["boards"][0]["columns"]["status"]["field"].as_str(),
        Some("outcome")
    );
}

/// A typical board: labels for most outcomes, none for `unanswered`, the id in "Call ID".
fn usual_board() -> BoardInfo {
    let labels = json!({"labels": ["Ringing", "In progress", "Answered", "Missed", "Voicemail", "Transferred", "Abandoned", "Stuck"]});
    BoardInfo {
        id: "42".into(),
        name: "Support calls".into(),
        groups: vec![("topics".into(), "Topics".into())],
        columns: vec![
            ("name".into(), "Name".into(), "name".into(), None),
            ("text_mk1".into(), "Call ID".into(), "text".into(), None),
            (
                "status".into(),
                "Status".into(),
                "status".into(),
                Some(labels),
            ),
        ],
    }
}

#[test]
fn the_skeleton_labels_every_outcome_and_loads() {
    let text = skeleton(&usual_board());
    let parsed: toml::Value = toml::from_str(&text).unwrap();
    let labels = parsed["boards"][0]["columns"]["status"]["labels"]
        .as_table()
        .unwrap_or_else(|| panic!("{text}"));
    for outcome in crate::config::OUTCOMES {
        assert!(labels.contains_key(*outcome), "{outcome} missing:\n{text}");
    }
    // No "Unanswered" label on the board: the nearest outcome's label stands in.
    assert_eq!(labels["unanswered"].as_str(), Some("Missed"), "{text}");
    assert!(
        text.contains("board labels no value maps to: Stuck"),
        "{text}"
    );
    // Pasted as is, it is a valid configuration.
    let toml = format!("[aircall]\nwebhook_tokens = [\"t\"]\n[monday]\napi_token = \"x\"\n{text}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bridge.toml");
    std::fs::write(&path, toml).unwrap();
    let settings = crate::config::Settings::load_with_env(Some(&path), Vec::new())
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    crate::mapping::Rules::compile(&settings.boards).unwrap();
}

#[test]
fn the_skeleton_makes_a_call_id_column_the_aircall_id_column() {
    let text = skeleton(&usual_board());
    assert!(text.contains("aircall_id_column = \"text_mk1\""), "{text}");
    let parsed: toml::Value = toml::from_str(&text).unwrap();
    assert_eq!(
        parsed["boards"][0]["columns"]["text_mk1"]["field"].as_str(),
        Some("id"),
        "{text}"
    );
}
