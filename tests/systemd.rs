//! The shipped systemd unit: hardened enough (`systemd-analyze security` rates it 2.0 or lower)
//! and valid (`systemd-analyze verify` accepts it, pointed at the binary cargo just built).
//! Linux only: elsewhere there is no systemd to run the unit, nor systemd-analyze to judge it.
#![cfg(target_os = "linux")]

#[path = "common/tools.rs"]
mod tools;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const UNIT_NAME: &str = "aircall-monday-bridge.service";
/// Where the unit expects the binary; the verify test swaps it for the one cargo built.
const INSTALLED_BINARY: &str = "/usr/local/bin/aircall-monday-bridge";
/// The design asks for this exposure or lower.
const MAX_EXPOSURE: f64 = 2.0;

fn unit_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("systemd")
        .join(UNIT_NAME)
}

fn systemd_analyze(args: &[&str]) -> Output {
    match Command::new("systemd-analyze").args(args).output() {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "systemd-analyze is not installed: install the `systemd` package \
             (e.g. `apt-get install -y systemd`; .ci/run does this)"
        ),
        Err(e) => panic!("cannot run systemd-analyze: {e}"),
    }
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The figure in "→ Overall exposure level for <unit>: 1.2 OK 🙂".
fn exposure(report: &str) -> Option<f64> {
    let line = report
        .lines()
        .find(|l| l.contains("Overall exposure level"))?;
    let (_, after) = line.rsplit_once(": ")?;
    after.split_whitespace().next()?.parse().ok()
}

#[test]
fn exposure_parser_reads_systemd_252_output() {
    let report = "✗ PrivateNetwork=   Service has access to the host's network   0.5\n\n\
                  → Overall exposure level for aircall-monday-bridge.service: 1.2 OK 🙂\n";
    assert_eq!(exposure(report), Some(1.2));
    assert_eq!(exposure("no summary line"), None);
}

#[test]
fn unit_is_hardened_to_an_exposure_of_at_most_2() {
    if !tools::available("systemd-analyze", "apt-get install -y systemd") {
        return;
    }
    let unit = unit_path();
    let output = systemd_analyze(&["security", "--offline=true", &unit.to_string_lossy()]);
    let report = text(&output);
    assert!(
        output.status.success(),
        "systemd-analyze security failed ({}):\n{report}",
        output.status
    );
    let warnings: Vec<&str> = report
        .lines()
        .filter(|l| l.contains(&*unit.to_string_lossy()))
        .collect();
    assert!(
        warnings.is_empty(),
        "systemd ignored lines of the unit:\n{}",
        warnings.join("\n")
    );
    let figure = exposure(&report)
        .unwrap_or_else(|| panic!("no exposure figure in systemd-analyze's output:\n{report}"));
    assert!(
        figure <= MAX_EXPOSURE,
        "exposure {figure} is above {MAX_EXPOSURE:.1}:\n{report}"
    );
}

#[test]
fn unit_verifies_with_the_built_binary() {
    if !tools::available("systemd-analyze", "apt-get install -y systemd") {
        return;
    }
    let unit = std::fs::read_to_string(unit_path()).expect("read the unit");
    let binary = env!("CARGO_BIN_EXE_aircall-monday-bridge");
    let exec_lines: Vec<&str> = unit.lines().filter(|l| l.starts_with("Exec")).collect();
    // The one exception: reload is a SIGHUP to the running bridge.
    const RELOAD: &str = "ExecReload=/bin/kill -HUP $MAINPID";
    assert!(
        exec_lines.len() >= 2
            && exec_lines
                .iter()
                .all(|l| l.contains(&format!("={INSTALLED_BINARY} ")) || *l == RELOAD),
        "every Exec line should start {INSTALLED_BINARY} (or be {RELOAD}): {exec_lines:?}"
    );
    assert!(
        unit.contains(RELOAD),
        "systemctl reload should send SIGHUP (the bridge reloads its board mappings)"
    );
    assert!(
        unit.contains(&format!(
            "ExecStartPre={INSTALLED_BINARY} check --config /etc/aircall-monday-bridge/config.toml"
        )) && unit.contains(&format!(
            "ExecStart={INSTALLED_BINARY} run --config /etc/aircall-monday-bridge/config.toml"
        )),
        "the unit should check, then run, /etc/aircall-monday-bridge/config.toml"
    );

    // Same unit, same name, but its Exec lines run the binary cargo built, so that verify
    // checks everything including that the commands exist and are executable.
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join(UNIT_NAME);
    std::fs::write(&copy, unit.replace(INSTALLED_BINARY, binary)).expect("write the copy");
    let output = systemd_analyze(&["verify", "--man=no", &copy.to_string_lossy()]);
    let report = text(&output);
    assert!(
        output.status.success(),
        "systemd-analyze verify failed ({}):\n{report}",
        output.status
    );
    // verify exits 0 even for an unknown key or a value it cannot parse ("..., ignoring"):
    // any line about our unit is a failure.
    let complaints: Vec<&str> = report
        .lines()
        .filter(|l| l.contains(UNIT_NAME) || l.contains(&*copy.to_string_lossy()))
        .collect();
    assert!(
        complaints.is_empty(),
        "systemd-analyze verify complained about the unit:\n{}",
        complaints.join("\n")
    );
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("read README.md")
}

/// The `[a-z_]+` names that follow each `prefix` in `text`.
fn names_after(text: &str, prefix: &str) -> Vec<String> {
    text.match_indices(prefix)
        .map(|(i, _)| {
            text[i + prefix.len()..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect::<String>()
        })
        .filter(|n| !n.is_empty())
        .collect()
}

#[test]
fn unit_loads_every_credential_the_readme_mentions() {
    let readme = readme();
    let unit = std::fs::read_to_string(unit_path()).expect("read the unit");
    let mut names: Vec<String> = [
        "$CREDENTIALS_DIRECTORY/",
        "/etc/aircall-monday-bridge/credentials/",
        "credential `",
        "the credential ",
    ]
    .iter()
    .flat_map(|p| names_after(&readme, p))
    .collect();
    names.sort();
    names.dedup();
    assert!(
        names.contains(&"aircall_api_token".to_string()),
        "the README names no aircall_api_token credential: {names:?}"
    );
    for name in &names {
        let line = format!("LoadCredential={name}:/etc/aircall-monday-bridge/credentials/{name}\n");
        assert!(unit.contains(&line), "the unit lacks {line}");
    }
}

#[test]
fn the_units_readme_references_are_headings_that_exist() {
    let readme = readme();
    let headings: Vec<&str> = readme
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim())
        .collect();
    let unit = std::fs::read_to_string(unit_path()).expect("read the unit");
    let mut named = 0;
    for line in unit
        .lines()
        .filter(|l| l.starts_with('#') && l.contains("README"))
    {
        for (i, quoted) in line.split('"').enumerate() {
            if i % 2 == 1 {
                named += 1;
                assert!(
                    headings.contains(&quoted),
                    "the unit names README heading {quoted:?}, which does not exist: {line}"
                );
            }
        }
    }
    assert!(
        named > 0,
        "the unit's header should say where the README explains it"
    );
}
