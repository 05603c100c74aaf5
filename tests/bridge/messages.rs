//! Messages an operator meets on a bad day: each names what is wrong, where, and what to do.

use crate::app::*;
use crate::helpers::*;

fn example() -> String {
    std::fs::read_to_string(repo_path("config/example.toml")).unwrap()
}

fn with(env: &[(String, String)], key: &str, value: &str) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = env.iter().filter(|(k, _)| k != key).cloned().collect();
    env.push((key.into(), value.into()));
    env
}

#[tokio::test(flavor = "multi_thread")]
async fn a_monday_url_without_v2_is_named_with_the_fix() {
    let sandbox = Sandbox::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bridge.toml");
    std::fs::write(&config, example()).unwrap();
    let root = format!("http://{}/", sandbox.handle.addr());
    let env = with(&sandbox_env(&sandbox), "BRIDGE__MONDAY__API_URL", &root);
    let (code, _, err) = cli(
        &env,
        &["check", "--config", config.to_str().unwrap(), "--live"],
    );
    assert_eq!(code, 3, "{err}");
    assert!(err.contains(&root), "the URL is not named: {err}");
    assert!(err.contains("must end in /v2"), "no hint: {err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_monday_token_says_where_the_token_came_from() {
    let sandbox = Sandbox::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bridge.toml");
    std::fs::write(&config, example()).unwrap();
    let env = with(&sandbox_env(&sandbox), "BRIDGE__MONDAY__API_TOKEN", "wrong");
    let (code, _, err) = cli(
        &env,
        &["check", "--config", config.to_str().unwrap(), "--live"],
    );
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("monday refused the token"), "{err}");
    assert!(err.contains("credential monday_token"), "{err}");
}

#[test]
fn a_placeholder_token_that_hides_the_credential_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bridge.toml");
    std::fs::write(&config, example()).unwrap();
    let credentials = dir.path().join("credentials");
    std::fs::create_dir(&credentials).unwrap();
    std::fs::write(credentials.join("monday_token"), "real-token\n").unwrap();
    let env = vec![(
        "CREDENTIALS_DIRECTORY".to_string(),
        credentials.display().to_string(),
    )];
    let (code, out, err) = cli(&env, &["check", "--config", config.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("key `monday.api_token`"), "{err}");
    assert!(err.contains("hides the credential monday_token"), "{err}");
    assert!(err.contains("delete the api_token line"), "{err}");
    // Without the placeholder the credential is used: valid.
    let fixed = example().replace("api_token = \"replace-with-your-monday-api-token\"\n", "");
    std::fs::write(&config, fixed).unwrap();
    let (code, out, err) = cli(&env, &["check", "--config", config.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
}

/// The error of the first dead event.
async fn dead_letter_error(bridge: &App) -> String {
    let dead = bridge.retry_until_dead(1).await;
    dead.last().and_then(|e| e.error.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_letter_for_a_missing_label_names_the_column_and_the_label() {
    let sandbox = Sandbox::start().await;
    let bridge = spawn_app_with_config(&sandbox, &example_with_a_missing_label(), &[]).await;
    bridge.deliver(&fixture("inbound_missed_voicemail")).await;
    let error = dead_letter_error(&bridge).await;
    assert!(error.contains("ColumnValueException"), "{error}");
    assert!(error.contains("column \"status\""), "{error}");
    assert!(error.contains("the label \"Left a message\""), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_letter_for_a_missing_group_names_the_group() {
    let sandbox = Sandbox::start().await;
    let config = example().replace("group_id = \"call_back\"", "group_id = \"callback\"");
    let bridge = spawn_app_with_config(&sandbox, &config, &[]).await;
    bridge.deliver(&fixture("inbound_missed_voicemail")).await;
    let error = dead_letter_error(&bridge).await;
    assert!(error.contains("group \"callback\""), "{error}");
    assert!(error.contains(CALLS_BOARD), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn check_live_reaches_the_configured_postgresql_or_says_it_cannot() {
    let Some(db) = test_support::scratch_postgres().await else {
        return;
    };
    let sandbox = Sandbox::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bridge.toml");
    std::fs::write(&config, example()).unwrap();
    let args = ["check", "--config", config.to_str().unwrap(), "--live"];

    let env = with(&sandbox_env(&sandbox), "BRIDGE__STORE__URL", &db.url);
    let (code, out, err) = cli(&env, &args);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("PostgreSQL root@127.0.0.1:5432/"), "{out}");

    // Nobody listens there; the password in the URL is never printed.
    let closed = format!(
        "postgres://bridge:s3cret-pw@127.0.0.1:{}/bridge",
        free_port()
    );
    let env = with(&sandbox_env(&sandbox), "BRIDGE__STORE__URL", &closed);
    let (code, out, err) = cli(&env, &args);
    assert_eq!(code, 3, "{out}{err}");
    assert!(err.contains("store.url: cannot use the database"), "{err}");
    assert!(!format!("{out}{err}").contains("s3cret-pw"), "{out}{err}");

    let env = with(
        &sandbox_env(&sandbox),
        "BRIDGE__STORE__URL",
        "mysql://x@y/z",
    );
    let (code, _, err) = cli(&env, &args);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("store.url"), "{err}");
    assert!(err.contains("postgres://"), "{err}");
}
