//! External tools some tests drive (Chromium, systemd-analyze). Locally a missing tool skips
//! the test with a printed reason, so the suite stays green on a fresh machine; CI sets
//! `BRIDGE_TEST_REQUIRE_TOOLS=1` after installing them, and there a missing tool fails.

use std::process::{Command, Stdio};

/// Whether `tool` can be run (`tool --version` starts). When it cannot: panics if CI requires
/// the tools, otherwise prints why the calling test is skipped and returns false.
pub fn available(tool: &str, install: &str) -> bool {
    let found = Command::new(tool)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if found {
        return true;
    }
    let why = format!("`{tool}` is not installed ({install})");
    assert!(
        std::env::var_os("BRIDGE_TEST_REQUIRE_TOOLS").is_none(),
        "{why}, and BRIDGE_TEST_REQUIRE_TOOLS is set"
    );
    eprintln!("skipped: {why}; .ci/run installs it and requires it");
    false
}
