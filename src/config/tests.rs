use std::io::Write;

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn write(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

const MINIMAL: &str = r#"
[aircall]
webhook_tokens = ["tok"]
"#;

#[test]
fn the_example_configuration_loads_and_validates() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.toml");
    let s = Settings::load_with_env(Some(&path), env(&[])).unwrap();
    assert_eq!(s.boards.len(), 2);
    assert_eq!(s.boards[0].entity, Entity::Call);
    assert_eq!(s.boards[1].entity, Entity::Contact);
    assert_eq!(s.monday.api_url.as_str(), "https://api.monday.com/v2");
    crate::mapping::Rules::compile(&s.boards).unwrap();
}

#[test]
fn environment_overrides_the_file() {
    let f = write(MINIMAL);
    let s = Settings::load_with_env(
        Some(f.path()),
        env(&[
            ("BRIDGE__MONDAY__API_URL", "http://127.0.0.1:9/v2"),
            ("BRIDGE__SERVER__BODY_LIMIT_BYTES", "4096"),
            ("BRIDGE__AIRCALL__WEBHOOK_TOKENS", "a,b"),
            ("UNRELATED", "x"),
        ]),
    )
    .unwrap();
    assert_eq!(s.monday.api_url.as_str(), "http://127.0.0.1:9/v2");
    assert_eq!(s.server.body_limit_bytes, 4096);
    let tokens: Vec<&str> = s
        .aircall
        .webhook_tokens
        .iter()
        .map(|t| t.expose_secret())
        .collect();
    assert_eq!(tokens, ["a", "b"]);
}

#[test]
fn secrets_come_from_files_and_never_show_in_debug() {
    let token_file = write("file-token\n");
    let tokens_file = write("# rotated\nfirst\n\nsecond\n");
    let f = write(&format!(
        "[aircall]\nwebhook_tokens_file = {:?}\n[monday]\napi_token_file = {:?}\n",
        tokens_file.path(),
        token_file.path()
    ));
    let s = Settings::load_with_env(Some(f.path()), env(&[])).unwrap();
    assert_eq!(s.monday.api_token.expose_secret(), "file-token");
    assert_eq!(s.aircall.webhook_tokens.len(), 2);
    let debug = format!("{s:?}");
    for secret in ["file-token", "first", "second"] {
        assert!(!debug.contains(secret), "{secret} printed in {debug}");
    }
}

#[test]
fn a_missing_secret_file_names_the_path() {
    let f = write("[monday]\napi_token_file = \"/nonexistent/monday_token\"\n[aircall]\nwebhook_tokens = [\"t\"]\n");
    let err = Settings::load_with_env(Some(f.path()), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/monday_token"), "{err}");
}

#[test]
fn a_wrong_type_names_the_file_the_key_and_what_was_expected() {
    let f = write("[server]\nbody_limit_bytes = \"lots\"\n[aircall]\nwebhook_tokens = [\"t\"]\n");
    let err = Settings::load_with_env(Some(f.path()), env(&[]))
        .unwrap_err()
        .to_string();
    let file = f.path().display().to_string();
    assert!(err.contains(&file), "{err}");
    assert!(err.contains("body_limit_bytes"), "{err}");
    assert!(
        err.contains("integer") || err.contains("u64") || err.contains("usize"),
        "{err}"
    );
}

#[test]
fn a_missing_key_in_a_board_is_named() {
    let f = write(&format!(
        "{MINIMAL}\n[monday]\napi_token = \"x\"\n[[boards]]\nname = \"calls\"\nentity = \"call\"\nitem_name = \"x\"\n"
    ));
    let err = Settings::load_with_env(Some(f.path()), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains(&f.path().display().to_string()), "{err}");
    assert!(err.contains("board_id"), "{err}");
}

#[test]
fn an_unknown_key_is_refused() {
    let f = write(&format!("{MINIMAL}\n[monday]\napi_tokn = \"x\"\n"));
    let err = Settings::load_with_env(Some(f.path()), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("api_tokn"), "{err}");
}

#[test]
fn validation_names_the_key() {
    let cases = [
        ("[monday]\napi_version = \"2026\"", "monday.api_version"),
        ("[worker]\nretry_schedule = []", "worker.retry_schedule"),
        ("[worker]\nretry_schedule = [\"soon\"]", "retry_schedule"),
        ("[worker]\nlease_secs = 2", "worker.lease_secs"),
    ];
    for (extra, key) in cases {
        let f = write(&format!("{MINIMAL}\n{extra}\n"));
        let err = Settings::load_with_env(Some(f.path()), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains(key), "{extra}: {err}");
    }
}

#[test]
fn tokens_are_required_to_run() {
    let settings = Settings::load_with_env(None, env(&[])).unwrap();
    let err = settings.require_secrets().unwrap_err().to_string();
    assert!(err.contains("aircall.webhook_tokens"), "{err}");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.toml");
    let no_monday =
        Settings::load_with_env(Some(&path), env(&[("BRIDGE__MONDAY__API_TOKEN", "")])).unwrap();
    let err = no_monday.require_secrets().unwrap_err().to_string();
    assert!(err.contains("monday.api_token"), "{err}");
}

#[test]
fn board_structure_is_checked() {
    let board = |extra: &str| {
        format!(
            "{MINIMAL}\n[monday]\napi_token = \"x\"\n[[boards]]\nname = \"calls\"\nentity = \"call\"\nboard_id = \"123\"\nitem_name = \"Call\"\n{extra}"
        )
    };
    let cases = [
        (
            "[boards.columns.s]\ntype = \"status\"\nfield = \"outcome\"\n",
            "boards[0].columns.s.labels",
        ),
        (
            "[boards.columns.s]\ntype = \"text\"\n",
            "boards[0].columns.s",
        ),
        (
            "[boards.columns.s]\ntype = \"colour\"\nfield = \"x\"\n",
            "colour",
        ),
        (
            "aircall_id_column = \"nope\"\n",
            "boards[0].aircall_id_column",
        ),
        ("on_existing = \"adopt\"\n", "boards[0].on_existing"),
        (
            "create_contact_for_unknown_numbers = true\n",
            "boards[0].create_contact_for_unknown_numbers",
        ),
        (
            "[boards.columns.f]\ntype = \"file\"\n",
            "boards[0].columns.f.upload",
        ),
        (
            "[boards.columns.f]\ntype = \"file\"\nupload = \"recording\"\nfield = \"recording\"\n",
            "boards[0].columns.f",
        ),
        (
            "[boards.columns.f]\ntype = \"text\"\nfield = \"id\"\nupload = \"voicemail\"\n",
            "boards[0].columns.f.upload",
        ),
        (
            "[boards.columns.p]\ntype = \"people\"\nfield = \"agent_name\"\n",
            "boards[0].columns.p.field",
        ),
        (
            "[boards.columns.p]\ntype = \"people\"\nfield = \"agent_email\"\nfallback_text_column = \"p\"\n",
            "boards[0].columns.p.fallback_text_column",
        ),
        (
            "[boards.columns.t]\ntype = \"text\"\nfield = \"id\"\nfallback_text_column = \"x\"\n",
            "boards[0].columns.t.fallback_text_column",
        ),
        (
            "[boards.columns.g]\ntype = \"tags\"\nfield = \"line_name\"\n",
            "boards[0].columns.g.field",
        ),
        (
            "[boards.columns.g]\ntype = \"tags\"\ntemplate = \"{{ tags }}\"\n",
            "boards[0].columns.g.field",
        ),
        (
            "[boards.columns.c]\ntype = \"board_relation\"\nfield = \"id\"\n",
            "boards[0].columns.c.field",
        ),
        (
            "[boards.columns.c]\ntype = \"board_relation\"\nfield = \"contact_item\"\n",
            "add one",
        ),
        ("match_columns = [\"phone\"]\n", "boards[0].match_columns"),
    ];
    for (extra, want) in cases {
        let f = write(&board(extra));
        let err = Settings::load_with_env(Some(f.path()), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "{extra}: {err}");
    }
    // A contact board looks existing items up by phone and email columns only.
    let contacts = board("match_columns = [\"company\"]\n[boards.columns.company]\ntype = \"text\"\nfield = \"company\"\n")
        .replace("entity = \"call\"", "entity = \"contact\"");
    let err = Settings::load_with_env(Some(write(&contacts).path()), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("boards[0].match_columns[0]"), "{err}");
    let f = write(&board("").replace("\"123\"", "\"12ab\""));
    let err = Settings::load_with_env(Some(f.path()), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("boards[0].board_id"), "{err}");
}

#[test]
fn a_missing_file_says_so() {
    let err = Settings::load_with_env(Some(Path::new("/nonexistent/bridge.toml")), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("/nonexistent/bridge.toml") && err.contains("no such file"),
        "{err}"
    );
}

#[test]
fn the_daily_budget_is_calls_or_a_percentage_and_a_bad_one_names_file_and_key() {
    let f = write(&format!("{MINIMAL}\n[monday]\ndaily_budget = \"60%\"\n"));
    let s = Settings::load_with_env(Some(f.path()), env(&[])).unwrap();
    assert_eq!(
        s.monday.keeper_settings().share,
        crate::budget::Share::Fraction(0.6)
    );
    let f = write(&format!("{MINIMAL}\n[monday]\ndaily_budget = 800\n"));
    let s = Settings::load_with_env(Some(f.path()), env(&[])).unwrap();
    assert_eq!(
        s.monday.keeper_settings().share,
        crate::budget::Share::Absolute(800)
    );
    let s = Settings::load_with_env(None, env(&[("BRIDGE__MONDAY__DAILY_BUDGET", "25%")])).unwrap();
    assert_eq!(
        s.monday.keeper_settings().share,
        crate::budget::Share::Fraction(0.25)
    );
    for bad in ["\"150%\"", "\"lots\"", "0"] {
        let f = write(&format!("{MINIMAL}\n[monday]\ndaily_budget = {bad}\n"));
        let err = Settings::load_with_env(Some(f.path()), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("monday.daily_budget"), "{bad}: {err}");
        assert!(
            err.contains(&f.path().display().to_string()),
            "{bad}: {err}"
        );
    }
}
