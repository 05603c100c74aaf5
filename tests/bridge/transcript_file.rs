//! The transcript as a text file in a file column (`upload = "transcript"`), beside the
//! transcript updates: uploaded once, whatever replays and a crash between monday applying the
//! upload and the bridge hearing of it.

use std::time::Duration;

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::aircall_api::*;
use crate::helpers::*;
use crate::insights::{ai_events, call, seed, transcript_updates, TOPICS};

/// The example with its commented transcript file column on (its topics column too, as the
/// other AI tests have it).
fn with_transcript_file() -> String {
    let block = "# [boards.columns.transcript_file]\n# type = \"file\"\n# upload = \"transcript\"";
    example_with(&[block, TOPICS])
}

fn files(item: &serde_json::Value) -> Vec<serde_json::Value> {
    item["files"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_transcript_file_is_uploaded_once_across_a_crash_and_replays() {
    let sandbox = Sandbox::start().await;
    let api = aircall(1000, 60).await;
    let api_url = api.api_url();
    let env = with_api(&api_url, API_TOKEN);
    let mut bridge = Bridge::start_with_config(&sandbox, &with_transcript_file(), &env).await;
    let id = 1_950_000_001;
    seed(&api, id, None).await;
    bridge.deliver(&call(id)).await;
    bridge.drained().await;
    // monday applies the upload and the bridge dies before it hears so.
    sandbox
        .faults(json!({
            "queue": [{"kind": "apply_then_hold", "ms": 60_000}],
            "queue_field": "add_file_to_column",
        }))
        .await;
    let ts = 1_795_168_900;
    bridge.deliver(&ai_events(id, ts)).await;
    eventually(
        Duration::from_secs(20),
        "the transcript file on the item, its answer held",
        || async {
            let held = sandbox.stats().await["faults_served"]["apply_then_hold"] == 1;
            let items = sandbox.items_for(CALLS_BOARD, id).await;
            (held && items.first().is_some_and(|i| files(i).len() == 1)).then_some(())
        },
    )
    .await;
    bridge.kill_and_restart().await;
    bridge.drained().await;

    // Replays of the call and of its AI events (newer, so each resource is fetched again).
    bridge.deliver(&call(id)).await;
    bridge.deliver(&ai_events(id, ts + 600)).await;
    bridge.drained().await;

    let item = sandbox.items_for(CALLS_BOARD, id).await.remove(0);
    let got = files(&item);
    assert_eq!(got.len(), 1, "uploaded once: {item:#}");
    assert_eq!(got[0]["column_id"], "transcript_file");
    assert_eq!(got[0]["name"], format!("call-{id}-transcript.txt"));
    let want = "Agent: Hello, how can I help?\nCaller: I'd like a quote for 20 seats.\n";
    assert_eq!(got[0]["size"].as_u64(), Some(want.len() as u64));
    assert_eq!(got[0]["sha256"], hex::encode(Sha256::digest(want)));
    // Beside the updates, not instead of them.
    assert_eq!(transcript_updates(&item), 1, "{item:#}");
    // The replay did fetch the transcript again (the crash cost one more fetch: the claim it
    // interrupted had not committed what it fetched), and still uploaded nothing.
    let fetched = requests_at(&api, &format!("/v1/calls/{id}/transcription")).await;
    assert_eq!(fetched, 3, "first, after the crash, after the replay");
    assert_eq!(bridge.metric("bridge_dead_letters_total").await, 0.0);
}
