use serde_json::json;

use crate::helpers::{spawn, CALLS};

#[tokio::test]
async fn create_change_archive_round_trip_is_visible_on_the_board() {
    let sb = spawn().await;
    let id = sb
        .create_call(
            "Call 1",
            json!({
                "aircall_id": "123",
                "status": {"label": "Ringing"},
                "phone": {"phone": "+12025550169", "countryShortName": "US"},
                "started": {"date": "2026-06-15", "time": "09:00:00"},
                "duration": "42",
                "recording": {"url": "https://example.com/r.mp3", "text": "rec"},
                "summary": {"text": "hello"}
            }),
        )
        .await;
    assert!(id.parse::<u64>().expect("numeric id") > u32::MAX as u64);
    let a = sb
        .gql(
            "mutation ($b: ID!, $i: ID!, $v: JSON!) { change_multiple_column_values(board_id: $b, item_id: $i, column_values: $v) { id name column_values(ids: [\"status\"]) { text value } } }",
            json!({"b": CALLS, "i": id, "v": json!({"name": "Call 1 (answered)", "status": "Answered", "duration": null}).to_string()}),
        )
        .await;
    assert!(a.body.get("errors").is_none(), "{}", a.body);
    let item = &a.body["data"]["change_multiple_column_values"];
    assert_eq!(item["name"], "Call 1 (answered)");
    assert_eq!(item["column_values"][0]["text"], "Answered");
    // `value` is a JSON string, as monday returns it.
    let value: serde_json::Value =
        serde_json::from_str(item["column_values"][0]["value"].as_str().expect("string"))
            .expect("json");
    assert_eq!(value["index"], 2);

    let a = sb
        .gql(
            "mutation { archive_item(item_id: ID_PLACEHOLDER) { id state } }"
                .replace("ID_PLACEHOLDER", &id)
                .as_str(),
            json!({}),
        )
        .await;
    assert_eq!(
        a.body["data"]["archive_item"]["state"], "archived",
        "{}",
        a.body
    );

    let snap = sb.item(CALLS, &id).await;
    assert_eq!(snap["state"], "archived");
    assert_eq!(snap["name"], "Call 1 (answered)");
    let cv = &snap["column_values"];
    assert_eq!(cv["status"]["text"], "Answered");
    assert_eq!(cv["started"]["text"], "2026-06-15 09:00:00");
    assert_eq!(cv["phone"]["text"], "+12025550169");
    assert_eq!(cv["recording"]["text"], "https://example.com/r.mp3");
    assert!(cv.get("duration").is_none(), "null clears: {cv}");
    sb.handle.stop().await;
}

#[tokio::test]
async fn aliases_run_in_order_with_partial_failure() {
    let sb = spawn().await;
    let q = r#"mutation ($b: ID!) {
        c0: create_item(board_id: $b, item_name: "first") { id __typename }
        c1: change_multiple_column_values(board_id: $b, item_id: 999, column_values: "{}") { id }
        c2: create_item(board_id: $b, item_name: "second", group_id: "call_back") { id group { id title } }
    }"#;
    let a = sb.gql(q, json!({"b": CALLS})).await;
    assert_eq!(a.status, 200);
    assert!(a.body["data"]["c0"]["id"].is_string());
    assert_eq!(a.body["data"]["c0"]["__typename"], "Item");
    assert!(a.body["data"]["c1"].is_null());
    assert_eq!(a.body["data"]["c2"]["group"]["title"], "Call back");
    assert_eq!(a.code(0), "InvalidItemIdException");
    assert_eq!(a.body["errors"][0]["path"], json!(["c1"]));
    assert_eq!(
        a.body["errors"][0]["extensions"]["error_data"]["item_id"],
        "999"
    );
    assert!(a.body["extensions"]["request_id"].is_string());
    assert_eq!(a.header("API-Version"), Some("2026-10"));
    sb.handle.stop().await;
}

#[tokio::test]
async fn updates_and_file_upload_append_to_the_item() {
    let sb = spawn().await;
    let a = sb
        .gql(
            r#"mutation { create_item(board_id: 1000000009, item_name: "f") { id } }"#,
            json!({}),
        )
        .await;
    let id = a.body["data"]["create_item"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let a = sb
        .gql("mutation ($i: ID!) { create_update(item_id: $i, body: \"<b>hi</b>\") { id text_body } }", json!({"i": id}))
        .await;
    assert_eq!(
        a.body["data"]["create_update"]["text_body"], "hi",
        "{}",
        a.body
    );

    let query = format!("mutation ($file: File!) {{ add_file_to_column(item_id: {id}, column_id: \"files\", file: $file) {{ id name file_size }} }}");
    let form = reqwest::multipart::Form::new()
        .text("query", query.clone())
        .text("map", r#"{"image":"variables.file"}"#)
        .part(
            "image",
            reqwest::multipart::Part::bytes(b"hello".to_vec()).file_name("a.txt"),
        );
    let resp = sb
        .client
        .post(sb.url("/v2/file"))
        .multipart(form)
        .send()
        .await
        .expect("send");
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(
        body["data"]["add_file_to_column"]["name"], "a.txt",
        "{body}"
    );
    assert_eq!(body["data"]["add_file_to_column"]["file_size"], 5);

    // Without a filename monday answers 500.
    let form = reqwest::multipart::Form::new()
        .text("query", query)
        .text("map", r#"{"image":"variables.file"}"#)
        .part("image", reqwest::multipart::Part::bytes(b"x".to_vec()));
    let resp = sb
        .client
        .post(sb.url("/v2/file"))
        .multipart(form)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 500);

    let snap = sb.item("1000000009", &id).await;
    assert_eq!(snap["files"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        snap["files"][0]["sha256"],
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );
    assert_eq!(snap["updates"][0]["body"], "<b>hi</b>");
    sb.handle.stop().await;
}
