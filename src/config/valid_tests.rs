//! Mistakes that used to pass as "valid": each is refused now, naming the key and the fix.

use std::io::Write;

use super::*;

fn load(text: &str) -> Result<Settings, ConfigError> {
    let mut f = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    Settings::load_with_env(Some(f.path()), Vec::new())
}

const CALLS: &str = r#"
[aircall]
webhook_tokens = ["tok"]
[monday]
api_token = "x"
[[boards]]
name = "calls"
entity = "call"
board_id = "123"
item_name = "Call"
[boards.columns.status]
type = "status"
field = "outcome"
labels = { answered = "Answered", missed = "Missed" }
"#;

#[test]
fn the_base_mapping_of_these_tests_is_valid() {
    load(CALLS).unwrap();
}

#[test]
fn a_label_key_that_is_no_value_of_its_field_is_refused() {
    let err = load(&CALLS.replace("answered = ", "answred = "))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("boards[0].columns.status.labels.answred"),
        "{err}"
    );
    assert!(
        err.contains("unanswered") && err.contains("voicemail"),
        "{err}"
    );
    // A direction column's labels are directions.
    let direction = CALLS
        .replace("field = \"outcome\"", "field = \"direction\"")
        .replace(
            "answered = \"Answered\", missed = \"Missed\"",
            "in = \"In\"",
        );
    let err = load(&direction).unwrap_err().to_string();
    assert!(err.contains("inbound, outbound"), "{err}");
    // Fields whose values are open (tags) take any key.
    let tags = CALLS.replace("field = \"outcome\"", "field = \"tags\"");
    load(&tags).unwrap();
}

#[test]
fn a_log_filter_that_would_log_nothing_is_refused() {
    for bad in ["verbose", "info,monday=loud", ""] {
        let text = format!("{CALLS}\n[log]\nlevel = {bad:?}\n");
        let err = load(&text).map(|_| ()).unwrap_err().to_string();
        assert!(err.contains("key `log.level`"), "{bad}: {err}");
        assert!(err.contains("trace, debug, info"), "{bad}: {err}");
    }
    for good in [
        "info",
        "WARN",
        "info,aircall_monday_bridge::monday=debug",
        "aircall_monday_bridge=trace",
    ] {
        let text = format!("{CALLS}\n[log]\nlevel = {good:?}\n");
        load(&text).unwrap_or_else(|e| panic!("{good}: {e}"));
    }
}

#[test]
fn a_board_mapped_twice_for_the_same_entity_is_refused() {
    let second = CALLS
        .split_once("[[boards]]")
        .map(|(_, b)| format!("[[boards]]{b}"))
        .unwrap()
        .replace("name = \"calls\"", "name = \"pasted\"");
    let err = load(&format!("{CALLS}\n{second}")).unwrap_err().to_string();
    assert!(err.contains("boards[1].board_id"), "{err}");
    assert!(err.contains("boards[0] (\"calls\")"), "{err}");
    assert!(err.contains("two items"), "{err}");
}

#[test]
fn an_unknown_column_type_lists_the_valid_types() {
    let err = load(&CALLS.replace("type = \"status\"", "type = \"number\""))
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown column type \"number\""), "{err}");
    for t in [
        "text",
        "long_text",
        "numbers",
        "status",
        "board_relation",
        "file",
    ] {
        assert!(err.contains(t), "{t} missing: {err}");
    }
    assert!(!err.contains("variant constructor"), "{err}");
}

#[test]
fn a_misspelt_environment_variable_is_blamed_not_the_file() {
    let mut f = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    f.write_all(CALLS.as_bytes()).unwrap();
    let with = |k: &str, v: &str| {
        Settings::load_with_env(Some(f.path()), vec![(k.to_string(), v.to_string())])
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    let file = f.path().display().to_string();
    let err = with("BRIDGE__MONDAY__TIMEOUT_SEC", "3");
    assert!(
        err.starts_with("environment variable BRIDGE__MONDAY__TIMEOUT_SEC"),
        "{err}"
    );
    assert!(err.contains("monday.timeout_secs"), "no suggestion: {err}");
    assert!(!err.contains(&file), "the file is blamed: {err}");
    // A bad value, and a value validation refuses, name the variable too.
    for (k, v) in [
        ("BRIDGE__MONDAY__TIMEOUT_SECS", "abc"),
        ("BRIDGE__LOG__LEVEL", "verbose"),
        ("BRIDGE__MONDAY__API_URL", "nope"),
    ] {
        let err = with(k, v);
        assert!(
            err.starts_with(&format!("environment variable {k}")),
            "{err}"
        );
        assert!(!err.contains(&file), "the file is blamed: {err}");
    }
}

#[test]
fn the_defaults_suggest_no_token_file_the_service_cannot_keep_secret_or_read() {
    // /etc/aircall-monday-bridge/ is world-readable; its credentials/ is root-only and the
    // service's dynamic user cannot read it: a *_file there is wrong either way.
    for line in DEFAULT_TOML.lines().filter(|l| l.contains("_file = ")) {
        assert!(
            !line.contains("\"/etc/aircall-monday-bridge/"),
            "config/default.toml suggests {line:?}"
        );
    }
}
