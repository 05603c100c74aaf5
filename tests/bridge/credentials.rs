//! Tokens as the systemd unit hands them over: credentials, and files the service's dynamic
//! user may not be able to read.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use crate::helpers::*;

fn chmod(path: &std::path::Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// `check --config` run as a user who cannot read `credentials/` (root-only), as the unit's
/// dynamic user: as root through setpriv as nobody, otherwise as ourselves with the directory
/// made unreadable.
fn check_as_unprivileged(config: &std::path::Path, credentials: &std::path::Path) -> (i32, String) {
    let binary = env!("CARGO_BIN_EXE_aircall-monday-bridge");
    let root = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false);
    let mut command = if root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", binary]);
        c
    } else {
        chmod(credentials, 0o000);
        Command::new(binary)
    };
    let out = command
        .args(["check", "--config"])
        .arg(config)
        .env_remove("CREDENTIALS_DIRECTORY")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    chmod(credentials, 0o700);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_token_file_the_service_cannot_read_says_permission_denied_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    chmod(dir.path(), 0o755);
    let credentials = dir.path().join("credentials");
    std::fs::create_dir(&credentials).unwrap();
    chmod(&credentials, 0o700);
    let token = credentials.join("aircall_token");
    std::fs::write(&token, "a-token\n").unwrap();
    chmod(&token, 0o600);
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[aircall]\nwebhook_tokens_file = {:?}\n",
            token.display().to_string()
        ),
    )
    .unwrap();
    chmod(&config, 0o644);
    let (code, err) = check_as_unprivileged(&config, &credentials);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot read (permission denied)"), "{err}");
    assert!(!err.contains("does not exist"), "{err}");
    assert!(err.contains("LoadCredential"), "no way out named: {err}");
}

/// A process of its own: the bridge reads `CREDENTIALS_DIRECTORY` from its environment, which
/// a test cannot set for one in-process bridge without setting it for every other test.
#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_tokens_file_does_not_hide_the_aircall_token_credential() {
    let sandbox = Sandbox::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokens");
    std::fs::write(&file, "from-the-file\n").unwrap();
    let credentials = dir.path().join("credentials");
    std::fs::create_dir(&credentials).unwrap();
    std::fs::write(credentials.join("aircall_token"), "from-the-credential\n").unwrap();
    let config = std::fs::read_to_string(repo_path("config/example.toml"))
        .unwrap()
        .replace(
            "webhook_tokens = [\"replace-with-your-aircall-webhook-token\"]",
            &format!("webhook_tokens_file = {:?}", file.display().to_string()),
        );
    let credentials = credentials.display().to_string();
    let bridge = Bridge::start_with_config(
        &sandbox,
        &config,
        &[
            ("CREDENTIALS_DIRECTORY", credentials.as_str()),
            ("BRIDGE__AIRCALL__WEBHOOK_TOKENS", ""),
        ],
    )
    .await;
    let mut envelope = fixture("inbound_answered")[0].clone();
    for token in ["from-the-file", "from-the-credential"] {
        envelope["token"] = token.into();
        let status = bridge.post(&envelope).await.status();
        assert_eq!(status, 200, "{token}");
    }
    envelope["token"] = "neither".into();
    assert_eq!(bridge.post(&envelope).await.status(), 401);
}
