//! `[insight_card]`: refused at start-up naming the file and the key.

use std::io::Write;

use super::*;

fn load(text: &str) -> Result<Settings, ConfigError> {
    let mut f = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    Settings::load_with_env(Some(f.path()), Vec::new())
}

const BOARDS: &str = r#"
[aircall]
webhook_tokens = ["tok"]
[monday]
api_token = "x"
[[boards]]
name = "people"
entity = "contact"
board_id = "2"
item_name = "{{ name }}"
[boards.columns.company]
type = "text"
field = "company"
"#;

#[test]
fn cards_are_off_by_default_and_need_aircall_s_api_when_on() {
    let settings = load(BOARDS).unwrap();
    assert!(!settings.insight_card.enabled);
    settings.require_secrets().unwrap();
    let on = format!("{BOARDS}\n[insight_card]\nenabled = true\n");
    let err = load(&on)
        .unwrap()
        .require_secrets()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(".toml: key `insight_card.enabled`") && err.contains("aircall.api_id"),
        "{err}"
    );
    let with_api = on.replace(
        "webhook_tokens = [\"tok\"]",
        "webhook_tokens = [\"tok\"]\napi_id = \"id\"\napi_token = \"secret\"",
    );
    load(&with_api).unwrap().require_secrets().unwrap();
}

#[test]
fn card_columns_must_be_mapped_columns_of_the_card_s_contact_board() {
    let card = |section: &str| load(&format!("{BOARDS}\n[insight_card]\n{section}\n"));
    let ok = card(r#"columns = [{ column = "company", label = "Company" }]"#).unwrap();
    assert_eq!(ok.card_board().unwrap().board_id, "2");
    let err = card(r#"columns = [{ column = "compnay", label = "Company" }]"#)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("key `insight_card.columns[0].column`") && err.contains("\"company\""),
        "{err}"
    );
    let err = card(r#"board = "contacts""#).unwrap_err().to_string();
    assert!(
        err.contains("key `insight_card.board`") && err.contains("people"),
        "{err}"
    );
    let err = card(r#"columns = [{ column = "company", label = " " }]"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("insight_card.columns[0].label"), "{err}");
    let err = card("recent_calls = 6\ncolumns = [{ column = \"company\", label = \"Co\" }]")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("insight_card.columns") && err.contains("6 lines"),
        "{err}"
    );
    let err = card("timeout = \"30s\"").unwrap_err().to_string();
    assert!(err.contains("insight_card.timeout"), "{err}");
    let err = card("max_age = \"40d\"").unwrap_err().to_string();
    assert!(
        err.contains("insight_card.max_age") && err.contains("store.keep_done"),
        "{err}"
    );
    let err = card("colour = \"red\"").unwrap_err().to_string();
    assert!(err.contains("colour"), "{err}");
}
