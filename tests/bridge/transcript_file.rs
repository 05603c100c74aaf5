//! The transcript as a text file in a file column (`upload = "transcript"`), beside the
//! transcript updates: uploaded once, whatever replays and a crash between monday applying the
//! upload and the bridge hearing of it.

use sha2::{Digest, Sha256};

use crate::aircall_api::*;
use crate::helpers::*;
use crate::insights::{ai_events, call, transcript_updates, TOPICS};
use crate::insights_trouble::crashed_after;

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
    let id = 1_950_000_001;
    let ts = 1_795_168_900;
    // monday applies the upload and the bridge dies before it hears so.
    let one_file = |i: &serde_json::Value| files(i).len() == 1;
    let (sandbox, api, bridge) = crashed_after(
        &with_transcript_file(),
        id,
        "add_file_to_column",
        &[],
        one_file,
    )
    .await;

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
