//! The operator's commands against the sandbox: `boards`, `check --live`, `events
//! list|show|replay|drop`, and `systemctl reload` (SIGHUP) applying a fixed mapping.

use std::time::Duration;

use serde_json::Value;

use aircall_monday_bridge::clock::{Clock, SystemClock};

use crate::app::*;
use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(20);

fn write_config(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn example() -> String {
    std::fs::read_to_string(repo_path("config/example.toml")).unwrap()
}

fn call_id(envelopes: &[Value]) -> u64 {
    envelopes[0]["data"]["id"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn boards_lists_the_boards_and_its_skeleton_passes_check_live() {
    let sandbox = Sandbox::start().await;
    let env = sandbox_env(&sandbox);
    let (code, out, err) = cli(&env, &["boards"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1000000001") && out.contains("Calls"), "{out}");
    assert!(
        out.contains("1000000002") && out.contains("Contacts"),
        "{out}"
    );

    let (code, skeleton, err) = cli(&env, &["boards", "--board", CALLS_BOARD]);
    assert_eq!(code, 0, "{err}");
    assert!(skeleton.contains("[[boards]]"), "{skeleton}");
    assert!(skeleton.contains("[boards.columns.status]"), "{skeleton}");
    assert!(
        skeleton.contains("in_progress = \"In progress\""),
        "{skeleton}"
    );
    // Every outcome has a label, unanswered (the board has none of its own) included.
    assert!(skeleton.contains("unanswered = \"Missed\""), "{skeleton}");
    assert!(
        skeleton.contains("aircall_id_column = \"aircall_id\""),
        "{skeleton}"
    );

    // Pasted as is, the skeleton is a valid mapping that monday agrees with.
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(&dir, "bridge.toml", &skeleton);
    let (code, out, err) = cli(&env, &["check", "--config", &path, "--live"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("live: every board"), "{out}");

    let (code, _, err) = cli(&env, &["boards", "--board", "999"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("999"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn check_live_names_what_monday_lacks_and_exits_3() {
    let sandbox = Sandbox::start().await;
    let env = sandbox_env(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let good = write_config(&dir, "good.toml", &example());
    let (code, out, err) = cli(&env, &["check", "--config", &good, "--live"]);
    assert_eq!(code, 0, "{out}{err}");

    let bad = example()
        .replace("group_id = \"calls\"", "group_id = \"nope\"")
        .replace("group_id = \"call_back\"", "group_id = \"callback\"")
        .replace(
            "voicemail = \"Voicemail\"",
            "voicemail = \"Left a message\"",
        )
        .replace(
            "[boards.columns.duration]\ntype = \"numbers\"",
            "[boards.columns.duration]\ntype = \"text\"",
        )
        .replace("[boards.columns.tags]", "[boards.columns.labels]");
    let bad = write_config(&dir, "bad.toml", &bad);
    // Offline it is valid: only monday knows these ids and labels.
    let (code, _, err) = cli(&env, &["check", "--config", &bad]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = cli(&env, &["check", "--config", &bad, "--live"]);
    assert_eq!(code, 3, "{err}");
    for want in [
        "boards[0] (calls).group_id",
        "\"nope\"",
        "boards[0] (calls).routes[0].group_id: board 1000000001 has no group \"callback\"",
        "boards[0] (calls).columns.status.labels",
        "\"Left a message\"",
        "boards[0] (calls).columns.duration: column \"Duration (s)\" is of type numbers, the mapping writes text",
        "boards[0] (calls).columns.labels: board 1000000001 has no column",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }

    // create_labels_if_missing lets monday add the label: no longer a problem.
    let creating = example()
        .replace(
            "voicemail = \"Voicemail\"",
            "voicemail = \"Left a message\"",
        )
        .replace(
            "aircall_id_column = \"aircall_id\"\n# Which",
            "aircall_id_column = \"aircall_id\"\ncreate_labels_if_missing = true\n# Which",
        );
    let creating = write_config(&dir, "creating.toml", &creating);
    let (code, out, err) = cli(&env, &["check", "--config", &creating, "--live"]);
    assert_eq!(code, 0, "{out}{err}");

    // monday unreachable: exit 3 too, saying so.
    let mut down = env.clone();
    down.push((
        "BRIDGE__MONDAY__API_URL".into(),
        format!("http://127.0.0.1:{}/v2", free_port()),
    ));
    let (code, _, err) = cli(&down, &["check", "--config", &good, "--live"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("cannot ask monday"), "{err}");

    // An invalid configuration stays exit 2, live or not.
    let broken = write_config(
        &dir,
        "broken.toml",
        &example().replace("{{ counterpart }}", "{{ caller }}"),
    );
    let (code, _, err) = cli(&env, &["check", "--config", &broken, "--live"]);
    assert_eq!(code, 2, "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_letter_is_listed_shown_and_replayed_after_the_mapping_is_fixed() {
    let sandbox = Sandbox::start().await;
    let wrong = example().replace(
        "voicemail = \"Voicemail\"",
        "voicemail = \"Left a message\"",
    );
    // In process; the operator's commands run beside it, as beside the service.
    let bridge = spawn_app_with_config(&sandbox, &wrong, &[]).await;
    let voicemail = fixture("inbound_missed_voicemail");
    let id = call_id(&voicemail).to_string();
    bridge.deliver(&voicemail).await;
    bridge.retry_until_dead(1).await;
    let config = bridge.config_path().display().to_string();
    let events = |args: &[&str]| {
        let mut all = vec!["events", "--config", config.as_str()];
        all.extend_from_slice(args);
        bridge.cli(&all)
    };

    let (code, out, err) = events(&["list", "--state", "dead", "--call", &id]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ColumnValueException"), "{out}");
    let (_, json, _) = events(&["list", "--state", "dead", "--json"]);
    let dead: Vec<Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!dead.is_empty());
    assert!(dead
        .iter()
        .all(|e| e["state"] == "dead" && e["entity_id"] == id.as_str()));
    let first = dead[0]["id"].as_i64().unwrap().to_string();
    let (code, out, _) = events(&["show", &first]);
    assert_eq!(code, 0);
    assert!(
        out.contains("state     dead") && out.contains("\"id\": "),
        "{out}"
    );
    let (_, out, _) = events(&["list", "--event", "call.created", "--older-than", "1h"]);
    assert!(
        !out.contains("call.created"),
        "nothing is an hour old: {out}"
    );

    // Replay needs a filter or --all; drop too.
    let (code, _, err) = events(&["replay"]);
    assert_eq!(code, 1, "{err}");
    let (code, _, err) = events(&["drop"]);
    assert_eq!(code, 1, "{err}");

    // Fix the mapping, reload it, replay: the call reaches the board with the right label.
    bridge.reload(&example());
    let (code, out, err) = events(&["replay", "--call", &id]);
    // The command dated the replay by the machine's clock: the bridge's, which stood still
    // while the test ran, catches up with it, as a service's clock is the machine's.
    let behind = SystemClock.now_ms() - bridge.clock.now_ms();
    bridge.clock.advance(behind.max(0));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("replayed {} dead event(s)", dead.len())),
        "{out}"
    );
    let item = eventually(WAIT, "the replayed call on the board", || async {
        sandbox
            .items_for(CALLS_BOARD, id.parse().unwrap())
            .await
            .into_iter()
            .find(|i| text(i, "status").as_deref() == Some("Voicemail"))
    })
    .await;
    assert!(value(&item, "voicemail").is_some(), "{item:#}");
    bridge.drain().await;
    assert_eq!(bridge.metric("bridge_dead_events").await, 0.0);

    // Drop removes for good and says how many.
    let (_, all, _) = events(&["list", "--call", &id, "--json", "--limit", "1000"]);
    let total = all.lines().count();
    let (code, out, err) = events(&["drop", "--call", &id, "--state", "done"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("dropped {total} event(s)")), "{out}");
    let (_, left, _) = events(&["list", "--call", &id, "--json"]);
    assert_eq!(left.lines().count(), 0, "{left}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_reloads_the_mapping_and_a_bad_one_keeps_the_old() {
    let sandbox = Sandbox::start().await;
    let bridge = Bridge::start(&sandbox, &[]).await;
    let first = fixture("inbound_answered");
    bridge.deliver(&first).await;
    bridge.drained().await;
    let before = sandbox.items_for(CALLS_BOARD, call_id(&first)).await;
    assert_eq!(before[0]["name"], "Inbound call with +33612345678");

    // A broken template: logged with its key, the old mapping stays in force.
    std::fs::write(
        bridge.config_path(),
        example().replace("{{ counterpart }}", "{{ caller }}"),
    )
    .unwrap();
    bridge.hup();
    eventually(WAIT, "the failed reload", || async {
        let log = bridge.log();
        (log.contains("reload failed") && log.contains("boards[0].item_name")).then_some(())
    })
    .await;

    // A good one: the next call is named by the new template, events flowing all along.
    bridge
        .reload(&example().replace(
            "item_name = \"{{ direction | capitalize }} call with {{ counterpart }}\"",
            "item_name = \"Reloaded {{ id }}\"",
        ))
        .await;
    let second = fixture("outbound_answered");
    bridge.deliver(&second).await;
    bridge.drained().await;
    let id = call_id(&second);
    let items = sandbox.items_for(CALLS_BOARD, id).await;
    assert_eq!(items.len(), 1, "{items:#?}");
    assert_eq!(items[0]["name"], format!("Reloaded {id}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn check_warns_about_a_board_whose_lost_creates_cannot_be_found() {
    let sandbox = Sandbox::start().await;
    let env = sandbox_env(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let good = write_config(&dir, "good.toml", &example());
    let (code, _, err) = cli(&env, &["check", "--config", &good]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("aircall_id_column"), "{err}");

    let without = example().replacen("aircall_id_column = \"aircall_id\"\n", "", 1);
    let without = write_config(&dir, "without.toml", &without);
    let (code, out, err) = cli(&env, &["check", "--config", &without]);
    assert_eq!(code, 0, "still valid: {out}{err}");
    assert!(
        err.contains("warning: board \"calls\" (boards[].name) has no aircall_id_column"),
        "{err}"
    );
    assert!(err.contains("may make a second one"), "{err}");
}
