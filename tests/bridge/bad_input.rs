//! Bad input gets a clear answer and never a panic: the documented status, nothing stored.

use std::process::Command;

use serde_json::json;

use crate::app::*;
use crate::helpers::*;

fn envelope(event: &str, token: &str) -> serde_json::Value {
    json!({ "resource": "call", "event": event, "timestamp": 1795168800, "token": token,
            "data": { "id": 42, "direction": "inbound", "status": "initial", "started_at": 1795168800 } })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_receiver_answers_each_kind_of_bad_input_as_documented() {
    let sandbox = Sandbox::start().await;
    let bridge = spawn_app_with(&sandbox, &[("BRIDGE__SERVER__BODY_LIMIT_BYTES", "4096")]).await;

    let truncated = std::fs::read(repo_path("tests/fixtures/aircall/bad/not_json.txt")).unwrap();
    let r = bridge.post_raw("/webhooks/aircall", truncated).await;
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("not an Aircall webhook envelope"));

    for bad in ["missing_event", "wrong_types"] {
        let body = fixture(&format!("bad/{bad}")).remove(0);
        assert_eq!(bridge.post(&body).await.status(), 400, "{bad}");
    }

    let r = bridge
        .post(&envelope("call.created", "not-the-token"))
        .await;
    assert_eq!(r.status(), 401);

    let mut big = envelope("call.created", AIRCALL_TOKEN);
    big["data"]["padding"] = json!("x".repeat(8192));
    let r = bridge.post(&big).await;
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("body_limit_bytes"));

    let unknown = fixture("bad/user_created").remove(0);
    let r = bridge.post(&unknown).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["status"],
        "ignored"
    );

    // A good event still goes through, and only it was stored.
    let r = bridge.post(&envelope("call.created", AIRCALL_TOKEN)).await;
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["status"],
        "stored"
    );
    let again = bridge.post(&envelope("call.created", AIRCALL_TOKEN)).await;
    assert_eq!(
        again.json::<serde_json::Value>().await.unwrap()["status"],
        "duplicate"
    );
    bridge.drain().await;
    let metrics = bridge.metrics().await;
    for line in [
        "bridge_webhooks_total{event=\"-\",outcome=\"malformed\"} 3",
        "bridge_webhooks_total{event=\"-\",outcome=\"unauthorized\"} 1",
        "bridge_webhooks_total{event=\"-\",outcome=\"too_large\"} 1",
        "bridge_webhooks_total{event=\"user.created.v2\",outcome=\"ignored\"} 1",
        "bridge_webhooks_total{event=\"call.created\",outcome=\"stored\"} 1",
        "bridge_webhooks_total{event=\"call.created\",outcome=\"duplicate\"} 1",
    ] {
        assert!(metrics.contains(line), "missing {line} in\n{metrics}");
    }
    assert_eq!(sandbox.items(CALLS_BOARD).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_url_secret_is_required_when_configured() {
    let sandbox = Sandbox::start().await;
    let bridge = spawn_app_with(&sandbox, &[("BRIDGE__AIRCALL__URL_SECRET", "s3cret")]).await;
    let body = envelope("call.created", AIRCALL_TOKEN)
        .to_string()
        .into_bytes();
    assert_eq!(
        bridge
            .post_raw("/webhooks/aircall", body.clone())
            .await
            .status(),
        401
    );
    assert_eq!(
        bridge
            .post_raw("/webhooks/aircall/wrong", body.clone())
            .await
            .status(),
        401
    );
    assert_eq!(
        bridge
            .post_raw("/webhooks/aircall/s3cret", body.clone())
            .await
            .status(),
        200
    );
    assert_eq!(
        bridge
            .post_raw("/webhooks/aircall?secret=s3cret", body)
            .await
            .status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_that_cannot_commit_gets_503_with_retry_after() {
    let sandbox = Sandbox::start().await;
    let bridge = spawn_app(&sandbox).await;
    // Another connection makes every insert fail, as a full disk would.
    bridge
        .execute_sql(
            "CREATE TRIGGER fail BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
            "DO $$ BEGIN
                CREATE FUNCTION fail() RETURNS trigger LANGUAGE plpgsql
                    AS 'BEGIN RAISE EXCEPTION ''disk full''; END';
                CREATE TRIGGER fail BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION fail();
             END $$",
        )
        .await;
    let r = bridge.post(&envelope("call.created", AIRCALL_TOKEN)).await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "5");
    assert!(
        !r.text().await.unwrap().contains("disk full"),
        "internals leaked"
    );
    bridge
        .execute_sql("DROP TRIGGER fail", "DROP TRIGGER fail ON events")
        .await;
    assert_eq!(
        bridge
            .post(&envelope("call.created", AIRCALL_TOKEN))
            .await
            .status(),
        200
    );
}

fn check(config: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bridge.toml");
    std::fs::write(&path, config).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_aircall-monday-bridge"))
        .args(["check", "--config"])
        .arg(&path)
        .env_remove("CREDENTIALS_DIRECTORY")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (
        out.status.code().unwrap_or(-1),
        text.replace(&path.display().to_string(), "CONFIG"),
    )
}

#[test]
fn check_accepts_the_example_and_names_the_key_of_a_bad_config() {
    let example = std::fs::read_to_string(repo_path("config/example.toml")).unwrap();
    let (code, out) = check(&example);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("board calls"), "{out}");

    let missing = example.replacen("board_id = \"1000000001\"\n", "", 1);
    let (code, out) = check(&missing);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("CONFIG") && out.contains("board_id"), "{out}");

    let wrong_type = example
        .replace("timeout_secs", "x")
        .replace("[monday]", "[monday]\ntimeout_secs = \"soon\"");
    let (code, out) = check(&wrong_type);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("CONFIG") && out.contains("timeout_secs"),
        "{out}"
    );

    let unknown_field = example.replace("field = \"agent_name\"", "field = \"agent_nme\"");
    let (code, out) = check(&unknown_field);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("boards[0].columns.agent.field") && out.contains("agent_nme"),
        "{out}"
    );

    let bad_template = example.replace("{{ counterpart }}", "{{ caller }}");
    let (code, out) = check(&bad_template);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("boards[0].item_name") && out.contains("caller"),
        "{out}"
    );
}
