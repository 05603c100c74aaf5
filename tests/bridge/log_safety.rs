//! Values from Aircall never reach a log line raw (issue 11): a newline in one would forge a
//! second line, an escape sequence would drive the terminal of whoever reads the journal.

use serde_json::json;

use crate::helpers::*;

const FORGED: &str = "ERROR forged: token leaked";

#[tokio::test(flavor = "multi_thread")]
async fn newlines_and_escapes_from_aircall_stay_inside_one_log_line() {
    let sandbox = Sandbox::start().await;
    // The line per accepted webhook is at debug since the intake got faster.
    let bridge = Bridge::start(
        &sandbox,
        &[("RUST_LOG", "info,aircall_monday_bridge::ingest=debug")],
    )
    .await;
    let name = format!("Eve\n{FORGED}\r\n\u{1b}[2J\u{1b}[31mred");
    let call = json!({ "resource": "call", "event": format!("call.created\n{FORGED}"),
        "timestamp": 1795168800, "token": AIRCALL_TOKEN,
        "data": { "id": 77, "direction": "inbound", "status": "initial", "started_at": 1795168800,
                  "contact": { "id": 5, "first_name": name } } });
    let contact = json!({ "resource": "contact", "event": "contact.created",
        "timestamp": 1795168800, "token": AIRCALL_TOKEN,
        "data": { "id": 5, "first_name": name, "last_name": format!("\u{1b}]0;{FORGED}\u{7}") } });
    bridge.deliver(&[call, contact]).await;
    // A rejected one too: the reason quotes what it got.
    let bad = json!({ "event": format!("nodot\n{FORGED}"), "timestamp": 1, "token": AIRCALL_TOKEN, "data": {} });
    assert_eq!(bridge.post(&bad).await.status(), 400);
    bridge.drained().await;

    let log = bridge.log();
    assert!(log.contains("webhook accepted"), "{log}");
    assert!(
        log.contains("forged"),
        "the values were logged at all: {log}"
    );
    for line in log.lines() {
        assert!(!line.starts_with(FORGED), "a forged line: {line:?}");
        assert!(
            !line.contains('\u{1b}') && !line.contains('\r') && !line.contains('\u{7}'),
            "a raw control character: {line:?}"
        );
    }
}
