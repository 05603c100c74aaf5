//! The Debian package (`packaging/build-deb.sh`): what it installs, that the installed unit
//! verifies against the installed binary, and that the installed files start the bridge with
//! only the two credentials written. Built from the debug binary here; CI's release build
//! goes through the same script. Linux only.
#![cfg(target_os = "linux")]

#[path = "common/tools.rs"]
mod tools;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const NAME: &str = "aircall-monday-bridge";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

/// The package, built once per test run (stripping and compressing take seconds).
fn build() -> PathBuf {
    static DEB: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DEB.get_or_init(|| {
        let out = run(Command::new(repo().join("packaging/build-deb.sh"))
            .arg(env!("CARGO_BIN_EXE_aircall-monday-bridge"))
            .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("debian")));
        PathBuf::from(out.lines().last().unwrap().trim())
    })
    .clone()
}

#[test]
fn the_package_installs_the_binary_unit_config_and_a_root_only_credentials_directory() {
    if !tools::available("dpkg-deb", "apt-get install -y dpkg") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let deb = build();
    let contents = run(Command::new("dpkg-deb").arg("--contents").arg(&deb));
    for (mode, path) in [
        ("-rwxr-xr-x root/root", "./usr/bin/aircall-monday-bridge"),
        (
            "-rw-r--r-- root/root",
            "./lib/systemd/system/aircall-monday-bridge.service",
        ),
        (
            "-rw-r--r-- root/root",
            "./etc/aircall-monday-bridge/config.toml",
        ),
        (
            "drwx------ root/root",
            "./etc/aircall-monday-bridge/credentials/",
        ),
        (
            "-rw-r--r-- root/root",
            "./usr/share/doc/aircall-monday-bridge/README.md",
        ),
        (
            "-rw-r--r-- root/root",
            "./usr/share/doc/aircall-monday-bridge/prometheus-alerts.yml",
        ),
    ] {
        assert!(
            contents
                .lines()
                .any(|l| l.starts_with(mode) && l.ends_with(path)),
            "{mode} {path} missing in:\n{contents}"
        );
    }
    let info = run(Command::new("dpkg-deb").arg("--info").arg(&deb));
    assert!(info.contains("Package: aircall-monday-bridge"), "{info}");
    assert!(info.contains("Version: 0.1.0"), "{info}");
    let conffiles = run(Command::new("dpkg-deb")
        .arg("-I")
        .arg(&deb)
        .arg("conffiles"));
    assert_eq!(conffiles.trim(), "/etc/aircall-monday-bridge/config.toml");
    let postinst = run(Command::new("dpkg-deb")
        .args(["-I"])
        .arg(&deb)
        .arg("postinst"));
    for step in [
        "monday_token",
        "boards --config",
        "check --config",
        "systemctl enable --now",
    ] {
        assert!(
            postinst.contains(step),
            "the post-install message lacks {step:?}:\n{postinst}"
        );
    }

    // The binary is stripped: much smaller than cargo's.
    let root = dir.path().join("root");
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root));
    let installed = root.join("usr/bin").join(NAME);
    let built = std::fs::metadata(env!("CARGO_BIN_EXE_aircall-monday-bridge"))
        .unwrap()
        .len();
    assert!(
        std::fs::metadata(&installed).unwrap().len() < built / 2,
        "the packaged binary is not stripped"
    );
    // The packaged config holds no placeholder token.
    let config =
        std::fs::read_to_string(root.join("etc/aircall-monday-bridge/config.toml")).unwrap();
    assert!(!config.contains("replace-with"), "{config}");
}

#[test]
fn the_installed_unit_verifies_against_the_installed_binary() {
    if !tools::available("dpkg-deb", "apt-get install -y dpkg")
        || !tools::available("systemd-analyze", "apt-get install -y systemd")
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let deb = build();
    let root = dir.path().join("root");
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root));
    let unit = std::fs::read_to_string(
        root.join("lib/systemd/system")
            .join(format!("{NAME}.service")),
    )
    .unwrap();
    assert!(
        unit.contains("ExecStart=/usr/bin/aircall-monday-bridge run --config /etc/aircall-monday-bridge/config.toml"),
        "{unit}"
    );
    assert!(!unit.contains("/usr/local/bin"), "{unit}");
    // Same unit, its Exec lines pointed at the binary inside the extracted root.
    let installed = root.join("usr/bin").join(NAME);
    let copy = dir.path().join(format!("{NAME}.service"));
    std::fs::write(
        &copy,
        unit.replace(
            "/usr/bin/aircall-monday-bridge",
            &installed.to_string_lossy(),
        ),
    )
    .unwrap();
    let report = run(Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&copy));
    let complaints: Vec<&str> = report.lines().filter(|l| l.contains(NAME)).collect();
    assert!(
        complaints.is_empty(),
        "verify complained:\n{}",
        complaints.join("\n")
    );
}

#[test]
fn the_installed_files_start_the_bridge_with_only_the_two_credentials_written() {
    if !tools::available("dpkg-deb", "apt-get install -y dpkg") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let deb = build();
    let root = dir.path().join("root");
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root));
    // What systemd hands the service: the two credentials the operator wrote, and the empty
    // aircall_api_token of the unit's SetCredential= (its file does not exist).
    let credentials = dir.path().join("credentials");
    std::fs::create_dir(&credentials).unwrap();
    std::fs::write(credentials.join("aircall_token"), "webhook-token\n").unwrap();
    std::fs::write(credentials.join("monday_token"), "monday-token\n").unwrap();
    std::fs::write(credentials.join("aircall_api_token"), "\n").unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let binary = root.join("usr/bin").join(NAME);
    let config = root.join("etc/aircall-monday-bridge/config.toml");
    let command = |args: &[&str]| {
        let mut c = Command::new(&binary);
        c.args(args)
            .arg("--config")
            .arg(&config)
            .env("CREDENTIALS_DIRECTORY", &credentials)
            .env("STATE_DIRECTORY", &state)
            .env("BRIDGE__SERVER__LISTEN", "127.0.0.1:0")
            .env("BRIDGE__SERVER__ADMIN_LISTEN", "127.0.0.1:0")
            .stdin(Stdio::null());
        c
    };
    // ExecStartPre=
    run(&mut command(&["check"]));
    // ExecStart=: it binds, migrates the database in the state directory, and says so.
    let ready = dir.path().join("ready.json");
    let mut bridge = command(&["run", "--ready-file", ready.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready.exists() {
        if let Some(status) = bridge.try_wait().unwrap() {
            panic!("the installed bridge exited: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "the installed bridge did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        state.join("bridge.db").exists(),
        "no database in the state directory"
    );
    run(Command::new("kill")
        .arg("-TERM")
        .arg(bridge.id().to_string()));
    assert!(
        bridge.wait().unwrap().success(),
        "SIGTERM should stop it cleanly"
    );
}
