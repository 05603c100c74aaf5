//! `calls show` and `calls find`: a call explained from the store, as an operator asks after it.

use crate::app::*;
use crate::helpers::*;

/// config/example.toml plus a third call board that mirrors outbound calls only.
fn config_with_an_outbound_board() -> String {
    let example = std::fs::read_to_string(repo_path("config/example.toml")).unwrap();
    format!(
        "{example}\n[[boards]]\nname = \"outbound\"\nentity = \"call\"\nboard_id = \"1000000003\"\n\
         item_name = \"{{{{ counterpart }}}}\"\nwhen = {{ direction = \"outbound\" }}\n\
         [boards.columns.aircall_id]\ntype = \"text\"\nfield = \"id\"\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_show_explains_each_board_and_links_the_item() {
    let sandbox = Sandbox::start().await;
    let bridge = spawn_app_with_config(&sandbox, &config_with_an_outbound_board(), &[]).await;
    let voicemail = fixture("inbound_missed_voicemail");
    let id = voicemail[0]["data"]["id"].as_u64().unwrap();
    bridge.deliver(&voicemail).await;
    bridge.drain().await;
    let item = sandbox.items_for(CALLS_BOARD, id).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let config = bridge.config_path().display().to_string();

    let (code, out, err) = bridge.cli(&["calls", "--config", &config, "show", &id.to_string()]);
    assert_eq!(code, 0, "{err}");
    for want in [
        format!("call {id}: inbound call with"),
        "voicemail".to_string(),
        "state: synced".to_string(),
        "calls (board 1000000001): mirrored, group \"call_back\" by routes[0]".to_string(),
        format!("item {item}  https://monday.com/boards/1000000001/pulses/{item}"),
        "outbound (board 1000000003): left out by when = { direction = \"outbound\" }".to_string(),
        format!("events ({}):", voicemail.len()),
        "call.comm_assets_generated".to_string(),
        "raw_digits".to_string(),
    ] {
        assert!(out.contains(&want), "missing {want:?} in:\n{out}");
    }

    let (code, _, err) = bridge.cli(&["calls", "--config", &config, "show", "42"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no call 42"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_show_names_the_last_error_of_a_dead_letter() {
    let sandbox = Sandbox::start().await;
    let bridge = spawn_app_with_config(&sandbox, &example_with_a_missing_label(), &[]).await;
    let voicemail = fixture("inbound_missed_voicemail");
    let id = voicemail[0]["data"]["id"].as_u64().unwrap().to_string();
    bridge.deliver(&voicemail).await;
    bridge.retry_until_dead(1).await;
    let config = bridge.config_path().display().to_string();
    let (code, out, err) = bridge.cli(&["calls", "--config", &config, "show", &id]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("in the dead letter"), "{out}");
    assert!(out.contains("last error: "), "{out}");
    assert!(out.contains("Left a message"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_find_looks_up_a_number_in_any_writing_and_a_name() {
    let sandbox = Sandbox::start().await;
    let bridge = spawn_app(&sandbox).await;
    bridge.deliver(&fixture("known_contact")).await;
    bridge.deliver(&fixture("inbound_answered")).await;
    bridge.drain().await;
    let config = bridge.config_path().display().to_string();
    for query in ["+33 6 45 89 12 07", "0645891207", "marchand", "Sophie"] {
        let (code, out, err) = bridge.cli(&["calls", "--config", &config, "find", query]);
        assert_eq!(code, 0, "{query}: {err}");
        assert!(out.contains("1843200107"), "{query}: {out}");
        assert!(
            !out.contains("1843200101"),
            "{query} found the other call: {out}"
        );
    }
    let (code, _, err) = bridge.cli(&["calls", "--config", &config, "find", "nobody"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no call matches"), "{err}");
}

async fn page(bridge: &App, path: &str) -> String {
    let response = reqwest::get(format!("http://{}{path}", bridge.admin))
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_status_page_finds_a_call_and_shows_its_trace() {
    let sandbox = Sandbox::start().await;
    let bridge = spawn_app(&sandbox).await;
    bridge.deliver(&fixture("known_contact")).await;
    bridge.deliver(&fixture("inbound_answered")).await;
    bridge.drain().await;

    let home = page(&bridge, "/").await;
    assert!(home.contains("action=/calls"), "no search form:\n{home}");
    assert!(home.contains("href=\"/calls/1843200107\""), "{home}");
    // The recent list says who called and how it ended.
    assert!(
        home.contains("<td>Sophie Marchand</td><td>answered</td>"),
        "{home}"
    );

    for q in ["0645891207", "marchand", "1843200107"] {
        let found = page(&bridge, &format!("/calls?q={q}")).await;
        assert!(
            found.contains("href=\"/calls/1843200107\""),
            "{q}:\n{found}"
        );
        assert!(!found.contains("1843200101"), "{q}:\n{found}");
        assert!(
            found.contains("Sophie Marchand"),
            "caller missing for {q}:\n{found}"
        );
        assert!(
            found.contains("<td>answered</td>"),
            "outcome missing for {q}:\n{found}"
        );
    }
    let none = page(&bridge, "/calls?q=nobody").await;
    assert!(none.contains("No call matches"), "{none}");

    let item = sandbox.items_for(CALLS_BOARD, 1843200107).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let trace = page(&bridge, "/calls/1843200107").await;
    assert!(trace.contains("id=trace"), "{trace}");
    assert!(
        trace.contains("calls (board 1000000001): mirrored"),
        "{trace}"
    );
    assert!(
        trace.contains(&format!(
            "<a href=\"https://monday.com/boards/1000000001/pulses/{item}\">"
        )),
        "{trace}"
    );
    assert!(trace.contains("call.created"), "{trace}");
}
