use serde_json::{json, Value};

use crate::helpers::{spawn, spawn_with, CALLS};

const CHANGE: &str = "mutation ($b: ID!, $i: ID!, $v: JSON!, $c: Boolean) { change_multiple_column_values(board_id: $b, item_id: $i, column_values: $v, create_labels_if_missing: $c) { id } }";

async fn change_error(sb: &crate::helpers::Sandbox, item: &str, values: Value) -> Value {
    let a = sb
        .gql(
            CHANGE,
            json!({"b": CALLS, "i": item, "v": values.to_string()}),
        )
        .await;
    assert_eq!(a.status, 200);
    assert!(
        a.body["data"]["change_multiple_column_values"].is_null(),
        "{}",
        a.body
    );
    a.body["errors"][0].clone()
}

#[tokio::test]
async fn column_values_are_validated_per_type() {
    let sb = spawn().await;
    let id = sb.create_call("v", json!({})).await;
    let cases = [
        (json!({"status": {"label": "Nope"}}), "color"),
        (json!({"aircall_id": {"text": "x"}}), "text"),
        (json!({"summary": {"body": "x"}}), "long-text"),
        (json!({"summary": {"text": "x".repeat(2001)}}), "long-text"),
        (json!({"duration": "abc"}), "numeric"),
        (json!({"started": {"date": "15/06/2026"}}), "date"),
        (
            json!({"started": {"date": "2026-06-15", "time": "25:00:00"}}),
            "date",
        ),
        (json!({"phone": {"countryShortName": "US"}}), "phone"),
        (
            json!({"phone": {"phone": "+1202555abcd", "countryShortName": "US"}}),
            "phone",
        ),
        (
            json!({"phone": {"phone": "+12025550169", "countryShortName": "XX"}}),
            "phone",
        ),
        (json!({"recording": {"url": "example.com/x"}}), "link"),
    ];
    for (values, column_type) in cases {
        let e = change_error(&sb, &id, values.clone()).await;
        assert_eq!(
            e["extensions"]["code"], "ColumnValueException",
            "{values}: {e}"
        );
        assert_eq!(
            e["extensions"]["error_data"]["column_type"], column_type,
            "{values}"
        );
    }
    let e = change_error(&sb, &id, json!({"nope": "x"})).await;
    assert_eq!(e["extensions"]["code"], "InvalidColumnIdException");
    let e = change_error(&sb, &id, json!({"name": ""})).await;
    assert_eq!(e["extensions"]["code"], "ItemNameTooLongException");

    // A failed write applies nothing, even the valid parts.
    change_error(&sb, &id, json!({"aircall_id": "ok", "duration": "abc"})).await;
    assert!(sb.item(CALLS, &id).await["column_values"]
        .get("aircall_id")
        .is_none());

    // create_labels_if_missing adds the label.
    let a = sb
        .gql(CHANGE, json!({"b": CALLS, "i": id, "v": json!({"status": {"label": "Escalated"}}).to_string(), "c": true}))
        .await;
    assert!(a.body.get("errors").is_none(), "{}", a.body);
    assert_eq!(
        sb.item(CALLS, &id).await["column_values"]["status"]["text"],
        "Escalated"
    );

    // Email needs both keys; files only accept clear_all.
    let a = sb
        .gql(
            "mutation { a: change_multiple_column_values(board_id: 1000000009, item_id: 1, column_values: \"{}\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(a.code(0), "InvalidItemIdException");
    let f = sb
        .gql(r#"mutation { create_item(board_id: 1000000009, item_name: "f", column_values: "{\"email\": {\"email\": \"a@b.com\"}}") { id } }"#, json!({}))
        .await;
    assert_eq!(f.code(0), "ColumnValueException");
    assert_eq!(
        f.body["errors"][0]["extensions"]["error_data"]["column_type"],
        "email"
    );
    let f = sb
        .gql(r#"mutation { create_item(board_id: 1000000009, item_name: "f", column_values: "{\"files\": {\"url\": \"https://x\"}}") { id } }"#, json!({}))
        .await;
    assert_eq!(f.code(0), "ColumnValueException");
    sb.handle.stop().await;
}

#[tokio::test]
async fn ids_boards_groups_and_names_use_monday_codes() {
    let sb = spawn().await;
    let create = "mutation ($b: ID!, $n: String!, $g: String) { create_item(board_id: $b, item_name: $n, group_id: $g) { id } }";
    let a = sb.gql(create, json!({"b": "42", "n": "x"})).await;
    assert_eq!(a.code(0), "InvalidBoardIdException");
    let a = sb
        .gql(create, json!({"b": CALLS, "n": "x", "g": "nope"}))
        .await;
    assert_eq!(a.code(0), "InvalidArgumentException");
    let a = sb
        .gql(create, json!({"b": CALLS, "n": "x".repeat(256)}))
        .await;
    assert_eq!(a.code(0), "ItemNameTooLongException");

    // An item a person deleted is gone for the API.
    let id = sb.create_call("gone", json!({})).await;
    sb.control(&format!("/_sandbox/items/{id}/delete"), json!({}))
        .await;
    let a = sb
        .gql(
            "mutation ($i: ID!) { archive_item(item_id: $i) { id } }",
            json!({"i": id}),
        )
        .await;
    assert_eq!(a.code(0), "InvalidItemIdException");
    assert_eq!(
        a.body["errors"][0]["extensions"]["error_data"]["item_id"],
        id.as_str()
    );

    // Unknown fields fail validation before anything runs.
    let a = sb
        .gql(
            "mutation { create_item(board_id: 1000000001, item_name: \"t\") { id nmae } }",
            json!({}),
        )
        .await;
    assert_eq!(a.code(0), "undefinedField");
    assert_eq!(a.body["errors"][0]["extensions"]["typeName"], "Item");
    assert_eq!(a.body["errors"][0]["extensions"]["fieldName"], "nmae");
    let boards = sb.get("/_sandbox/boards/1000000001").await;
    assert_eq!(
        boards["items"].as_array().map(Vec::len),
        Some(1),
        "only the deleted one"
    );
    sb.handle.stop().await;
}

#[tokio::test]
async fn request_shape_version_and_auth() {
    let sb = spawn_with(Some("secret-token"), Default::default()).await;
    // Variables as a JSON string are refused (2025-04+).
    let a = sb
        .send(sb.post(json!({"query": "{ me { id } }", "variables": "{}"})))
        .await;
    assert_eq!(a.status, 400);
    let a = sb
        .send(
            sb.post(json!({"query": "{ me { id } }"}))
                .header("API-Version", "2023"),
        )
        .await;
    assert_eq!(a.code(0), "InvalidVersionException");
    let a = sb
        .send(
            sb.post(json!({"query": "{ version { value } }"}))
                .header("API-Version", "2026-04"),
        )
        .await;
    assert_eq!(a.header("API-Version"), Some("2026-04"));
    assert_eq!(a.body["data"]["version"]["value"], "2026-04");

    for auth in [None, Some("wrong")] {
        let mut req = sb
            .client
            .post(sb.handle.api_url())
            .json(&json!({"query": "{ me { id } }"}));
        if let Some(t) = auth {
            req = req.header("Authorization", t);
        }
        let a = sb.send(req).await;
        assert_eq!(a.status, 401);
        assert_eq!(a.code(0), "Unauthorized");
        assert_eq!(a.body["errors"][0]["extensions"]["status_code"], 401);
    }
    let req = sb
        .client
        .post(sb.handle.api_url())
        .header("Authorization", "Bearer secret-token")
        .json(&json!({"query": "{ me { id email } }"}));
    let a = sb.send(req).await;
    assert_eq!(a.status, 200);
    assert!(a.body["data"]["me"]["id"].is_string());
    sb.handle.stop().await;
}

#[tokio::test]
async fn references_to_items_and_users_must_exist() {
    let sb = spawn().await;
    let id = sb.create_call("v", json!({})).await;
    let other = sb.create_call("w", json!({})).await;
    let e = change_error(&sb, &id, json!({"contact_item": {"item_ids": [999]}})).await;
    assert_eq!(e["extensions"]["code"], "ColumnValueException", "{e}");
    assert_eq!(
        e["extensions"]["error_data"]["column_type"],
        "board-relation"
    );
    let e = change_error(
        &sb,
        &id,
        json!({"agent_person": {"personsAndTeams": [{"id": 1, "kind": "person"}]}}),
    )
    .await;
    assert_eq!(e["extensions"]["code"], "InvalidUserIdException", "{e}");

    let linked: u64 = other.parse().unwrap();
    let values = json!({
        "contact_item": {"item_ids": [linked]},
        "agent_person": {"personsAndTeams": [{"id": 51000001, "kind": "person"}]},
    });
    let a = sb
        .gql(
            CHANGE,
            json!({"b": CALLS, "i": id, "v": values.to_string()}),
        )
        .await;
    assert!(a.body.get("errors").is_none(), "{}", a.body);
}

#[tokio::test]
async fn tags_are_account_tags_by_name_and_columns_take_only_their_ids() {
    let sb = spawn().await;
    let id = sb.create_call("t", json!({})).await;
    let e = change_error(&sb, &id, json!({"tag_ids": {"tag_ids": [295001]}})).await;
    assert_eq!(e["extensions"]["code"], "ColumnValueException", "{e}");
    assert_eq!(e["extensions"]["error_data"]["column_type"], "tag");

    let tag = |name: &str| {
        let sb = &sb;
        let name = name.to_string();
        async move {
            let a = sb
                .gql(
                    "mutation T($n: String) { create_or_get_tag(tag_name: $n) { id name } }",
                    json!({ "n": name }),
                )
                .await;
            assert!(a.body.get("errors").is_none(), "{}", a.body);
            a.body["data"]["create_or_get_tag"].clone()
        }
    };
    let first = tag("Qualified lead").await;
    assert_eq!(first["name"], "Qualifiedlead", "spaces removed");
    assert_eq!(
        tag("Qualifiedlead").await["id"],
        first["id"],
        "same name, same id"
    );
    let other = tag("VIP").await;
    assert_ne!(other["id"], first["id"]);

    let ids: Vec<u64> = [&other, &first]
        .iter()
        .map(|t| t["id"].as_str().unwrap().parse().unwrap())
        .collect();
    let values = json!({"tag_ids": {"tag_ids": ids}});
    let a = sb
        .gql(
            CHANGE,
            json!({"b": CALLS, "i": id, "v": values.to_string()}),
        )
        .await;
    assert!(a.body.get("errors").is_none(), "{}", a.body);
    let item = sb.item(CALLS, &id).await;
    assert!(item.to_string().contains("VIP, Qualifiedlead"), "{item:#}");
}
