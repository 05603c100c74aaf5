//! AI events that come before (or without) any of the call's own events: the call is fetched
//! once from Aircall's API, so its item has its base fields and outcome, not only insights.

use serde_json::{json, Value};

use crate::app::*;
use crate::helpers::*;
use crate::insights::{ai_events, aircall, call, seed, with_api, with_topics, API_TOKEN};

#[tokio::test(flavor = "multi_thread")]
async fn ai_events_alone_fetch_their_call_once_for_the_item_s_base_fields() {
    let sandbox = Sandbox::start().await;
    let api = aircall(1000, 60).await;
    let api_url = api.api_url();
    let mut env = with_api(&api_url, API_TOKEN);
    env.push(("BRIDGE__WORKER__INSIGHTS_DEBOUNCE", "50ms"));
    let bridge = spawn_app_with_config(&sandbox, &with_topics(), &env).await;
    let id = 1_940_000_001;
    seed(&api, id, None).await;
    // Aircall knows the ended call (its last payload), the bridge never got its webhooks.
    let ended = call(id).pop().unwrap();
    let answer = reqwest::Client::new()
        .post(format!("http://{}/_aircall/calls", api.addr()))
        .json(&json!([ended["data"]]))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());

    let events = ai_events(id, 1_795_169_200);
    bridge.deliver(&events).await;
    bridge.drain().await;
    let items = sandbox.items_for(CALLS_BOARD, id).await;
    assert_eq!(items.len(), 1, "{items:#?}");
    let item = &items[0];
    assert_eq!(
        text(item, "status").as_deref(),
        Some("Answered"),
        "{item:#}"
    );
    assert_eq!(
        text(item, "direction").as_deref(),
        Some("Inbound"),
        "{item:#}"
    );
    assert!(
        text(item, "phone").is_some_and(|p| p.contains("612345678")),
        "{item:#}"
    );
    assert_eq!(
        text(item, "ai_summary").as_deref(),
        Some("The caller asked for a quote for 20 seats.")
    );
    let requests: Value = reqwest::get(format!("http://{}/_aircall/requests", api.addr()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = format!("/v1/calls/{id}");
    let gets = requests["requests"].as_array().unwrap().iter();
    assert_eq!(gets.filter(|r| r["path"] == path.as_str()).count(), 1);

    // The call's own webhooks later change nothing the fetch got right, and fetch nothing.
    bridge.deliver(&call(id)).await;
    bridge.drain().await;
    let item = sandbox.items_for(CALLS_BOARD, id).await.remove(0);
    assert_eq!(text(&item, "status").as_deref(), Some("Answered"));
    let requests: Value = reqwest::get(format!("http://{}/_aircall/requests", api.addr()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let gets = requests["requests"].as_array().unwrap().iter();
    assert_eq!(gets.filter(|r| r["path"] == path.as_str()).count(), 1);
}
