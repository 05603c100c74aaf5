use serde_json::json;

use crate::helpers::{spawn, CALLS};

const FIND: &str = r#"query ($b: ID!, $cols: [ItemsPageByColumnValuesQuery!]) {
  items_page_by_column_values(board_id: $b, columns: $cols, limit: 25) { cursor items { id name state } }
}"#;

#[tokio::test]
async fn items_page_by_column_values_matches_like_monday() {
    let sb = spawn().await;
    let a = sb
        .create_call("A", json!({"aircall_id": "Call-77", "phone": {"phone": "+33 1 23 45 67 89", "countryShortName": "FR"}}))
        .await;
    let b = sb
        .create_call("B", json!({"aircall_id": "call-78", "phone": {"phone": "+12025550169", "countryShortName": "US"}}))
        .await;
    let archived = sb.create_call("C", json!({"aircall_id": "call-77"})).await;
    sb.gql(
        "mutation ($i: ID!) { archive_item(item_id: $i) { id } }",
        json!({"i": archived}),
    )
    .await;

    let find = |cols: serde_json::Value| sb.gql(FIND, json!({"b": CALLS, "cols": cols}));
    let ids = |a: &crate::helpers::Answer| -> Vec<String> {
        a.body["data"]["items_page_by_column_values"]["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["id"].as_str().expect("id").to_string())
            .collect()
    };
    // Text: case-insensitive whole value; archived items are not returned.
    let r = find(json!([{"column_id": "aircall_id", "column_values": ["CALL-77"]}])).await;
    assert_eq!(ids(&r), vec![a.clone()], "{}", r.body);
    // No partial text match.
    let r = find(json!([{"column_id": "aircall_id", "column_values": ["call"]}])).await;
    assert!(ids(&r).is_empty());
    // OR within a column.
    let r =
        find(json!([{"column_id": "aircall_id", "column_values": ["call-77", "call-78"]}])).await;
    assert_eq!(ids(&r), vec![a.clone(), b.clone()]);
    // Phone: digits contained, formatting ignored.
    let r = find(json!([{"column_id": "phone", "column_values": ["2025550169"]}])).await;
    assert_eq!(ids(&r), vec![b.clone()]);
    let r = find(json!([{"column_id": "phone", "column_values": ["123456789"]}])).await;
    assert_eq!(ids(&r), vec![a.clone()]);
    // AND across columns.
    let r = find(json!([
        {"column_id": "aircall_id", "column_values": ["call-77"]},
        {"column_id": "phone", "column_values": ["2025550169"]}
    ]))
    .await;
    assert!(ids(&r).is_empty());
    let r = find(json!([{"column_id": "nope", "column_values": ["x"]}])).await;
    assert_eq!(r.code(0), "InvalidColumnIdException");
    sb.handle.stop().await;
}

#[tokio::test]
async fn board_page_escapes_item_names() {
    let sb = spawn().await;
    sb.create_call(
        "<script>alert(1)</script>",
        json!({"recording": {"url": "https://example.com/?a=1&b=\"2\"", "text": "r"}}),
    )
    .await;
    let page = sb
        .client
        .get(sb.url(&format!("/boards/{CALLS}")))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(!page.contains("<script>alert(1)"), "{page}");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("href=\"https://example.com/?a=1&amp;b=&quot;2&quot;\""));
    let index = sb
        .client
        .get(sb.handle.page_url())
        .send()
        .await
        .expect("index")
        .text()
        .await
        .expect("text");
    assert!(index.contains(&format!("/boards/{CALLS}")));
    sb.handle.stop().await;
}

#[tokio::test]
async fn board_page_draws_chips_short_links_anchors_and_folds_empty_columns() {
    let sb = spawn().await;
    let id = sb
        .create_call(
            "Inbound call with Sophie",
            json!({
                "status": {"label": "Answered"},
                "recording": {"url": "https://assets.aircall.io/calls/1/recording", "text": "Recording"},
                "voicemail": {"url": "https://assets.aircall.io/calls/1/voicemail", "text": ""}
            }),
        )
        .await;
    let page = sb
        .client
        .get(sb.url(&format!("/boards/{CALLS}")))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    // A status as a chip in the label's colour.
    assert!(
        page.contains("<span class=chip style=\"background:#00c875\">Answered</span>"),
        "{page}"
    );
    // A link as a short label: its text, else the host; the URL on hover.
    assert!(page.contains(">Recording</a>"), "{page}");
    assert!(page.contains(">assets.aircall.io</a>"), "{page}");
    // Each item is an anchor the bridge's item links point at (#item-<id>).
    assert!(page.contains(&format!("<tr id=\"item-{id}\"")), "{page}");
    // A column empty on every item is folded away, and said so.
    assert!(!page.contains("<th title=\"Talk time (s)\">"), "{page}");
    assert!(
        page.contains("folded away: ") && page.contains("Talk time (s)"),
        "{page}"
    );
    sb.handle.stop().await;
}
