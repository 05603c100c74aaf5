//! The command line at its edges: pipes, option order, what `--help` offers, log colours.

use std::process::{Command, Stdio};

use aircall_monday_bridge::store::{NewEvent, Store};

use crate::helpers::*;

/// A journal of `n` pending call events, for the `events` commands.
async fn journal(dir: &tempfile::TempDir, n: usize) -> String {
    let path = dir.path().join("bridge.db");
    let store = Store::open(&path).unwrap();
    for i in 0..n {
        store
            .append(NewEvent {
                kind: aircall_monday_bridge::store::Entity::Call,
                entity_id: format!("{}", 1000 + i),
                event: "call.created".into(),
                timestamp: 1_795_168_800 + i as i64,
                received_ms: 1_795_168_800_000 + i as i64,
                data: format!("{{\"id\":{}}}", 1000 + i),
                dedup_key: format!("k{i}"),
            })
            .await
            .unwrap();
    }
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn events_list_into_a_closed_pipe_exits_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let db = journal(&dir, 200).await;
    // The reading end is closed before the command starts, as `| head` does once it has its
    // lines: every write the command makes fails with a broken pipe.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    for json in [true, false] {
        let mut args = vec!["events", "--db", db.as_str(), "list"];
        if json {
            args.push("--json");
        }
        let out = Command::new(env!("CARGO_BIN_EXE_aircall-monday-bridge"))
            .args(&args)
            .stdin(Stdio::null())
            .stdout(writer.try_clone().unwrap())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "json {json}: {err}");
        assert_eq!(out.status.code(), Some(0), "json {json}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn events_takes_db_before_or_after_the_action() {
    let dir = tempfile::tempdir().unwrap();
    let db = journal(&dir, 3).await;
    for args in [
        vec!["events", "--db", &db, "list", "--state", "pending"],
        vec!["events", "list", "--db", &db, "--state", "pending"],
    ] {
        let (code, out, err) = cli(&[], &args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert_eq!(
            out.lines().count(),
            4,
            "{args:?}: header and three events:\n{out}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_of_pending_events_says_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let db = journal(&dir, 1).await;
    let (code, _, err) = cli(
        &[],
        &["events", "--db", &db, "replay", "--state", "pending"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("dead letters only"), "{err}");
    assert!(err.contains("retried by the bridge"), "{err}");
    let (code, out, err) = cli(&[], &["events", "--db", &db, "replay", "--state", "dead"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("replayed 0 dead event(s)"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_carry_no_colour_codes_when_stdout_is_not_a_terminal() {
    let sandbox = Sandbox::start().await;
    let bridge = Bridge::start(&sandbox, &[]).await;
    bridge.deliver(&fixture("inbound_answered")).await;
    bridge.drained().await;
    let log = bridge.log();
    assert!(log.contains("INFO"), "nothing logged:\n{log}");
    assert!(!log.contains('\u{1b}'), "colour codes in a file:\n{log}");
}
