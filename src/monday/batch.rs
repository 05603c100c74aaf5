//! Several commands in one GraphQL request, each under its own alias (`c0`, `c1`, ...).
//! Requests are what monday's plans ration (1,000 to 25,000 a day), so a backlog is sent in
//! batches. The document is built here because graphql_client types one fixed operation;
//! the field arguments are the same as in graphql/*.graphql.

use serde_json::{Map, Value};

use crate::mapping::{ColumnValues, MondayCommand};

/// The GraphQL document and its variables for `commands`, aliased `c{index}`.
pub fn document(commands: &[&MondayCommand]) -> (String, Map<String, Value>) {
    let mut decls = Vec::new();
    let mut fields = Vec::new();
    let mut vars = Map::new();
    for (i, command) in commands.iter().enumerate() {
        match command {
            MondayCommand::CreateItem {
                board_id,
                group_id,
                item_name,
                column_values,
                create_labels,
                ..
            } => {
                decls.push(format!(
                    "$b{i}: ID!, $g{i}: String, $n{i}: String!, $v{i}: JSON, $l{i}: Boolean"
                ));
                fields.push(format!(
                    "c{i}: create_item(board_id: $b{i}, group_id: $g{i}, item_name: $n{i}, column_values: $v{i}, create_labels_if_missing: $l{i}) {{ id }}"
                ));
                vars.insert(format!("b{i}"), Value::String(board_id.clone()));
                vars.insert(
                    format!("g{i}"),
                    group_id.clone().map(Value::String).unwrap_or(Value::Null),
                );
                vars.insert(format!("n{i}"), Value::String(item_name.clone()));
                vars.insert(format!("v{i}"), encode(column_values));
                vars.insert(format!("l{i}"), labels(*create_labels));
            }
            MondayCommand::ChangeColumnValues {
                board_id,
                item_id,
                column_values,
                create_labels,
                ..
            } => {
                decls.push(format!(
                    "$b{i}: ID!, $i{i}: ID!, $v{i}: JSON!, $l{i}: Boolean"
                ));
                fields.push(format!(
                    "c{i}: change_multiple_column_values(board_id: $b{i}, item_id: $i{i}, column_values: $v{i}, create_labels_if_missing: $l{i}) {{ id }}"
                ));
                vars.insert(format!("b{i}"), Value::String(board_id.clone()));
                vars.insert(format!("i{i}"), Value::String(item_id.clone()));
                vars.insert(format!("v{i}"), encode(column_values));
                vars.insert(format!("l{i}"), labels(*create_labels));
            }
            MondayCommand::ArchiveItem { item_id, .. } => {
                decls.push(format!("$i{i}: ID!"));
                fields.push(format!("c{i}: archive_item(item_id: $i{i}) {{ id }}"));
                vars.insert(format!("i{i}"), Value::String(item_id.clone()));
            }
            MondayCommand::MoveItemToGroup {
                item_id, group_id, ..
            } => {
                decls.push(format!("$i{i}: ID!, $g{i}: String!"));
                fields.push(format!(
                    "c{i}: move_item_to_group(item_id: $i{i}, group_id: $g{i}) {{ id }}"
                ));
                vars.insert(format!("i{i}"), Value::String(item_id.clone()));
                vars.insert(format!("g{i}"), Value::String(group_id.clone()));
            }
            // A file is a multipart request of its own (MondayClient::add_file); the worker
            // never batches one, and an alias without a field would answer "no item".
            MondayCommand::AddFile { .. } => {}
            MondayCommand::CreateSubitem {
                parent_item_id,
                item_name,
                ..
            } => {
                decls.push(format!("$i{i}: ID!, $t{i}: String!"));
                fields.push(format!(
                    "c{i}: create_subitem(parent_item_id: $i{i}, item_name: $t{i}) {{ id }}"
                ));
                vars.insert(format!("i{i}"), Value::String(parent_item_id.clone()));
                vars.insert(format!("t{i}"), Value::String(item_name.clone()));
            }
            MondayCommand::CreateUpdate { item_id, body, .. } => {
                decls.push(format!("$i{i}: ID!, $t{i}: String!"));
                fields.push(format!(
                    "c{i}: create_update(item_id: $i{i}, body: $t{i}) {{ id }}"
                ));
                vars.insert(format!("i{i}"), Value::String(item_id.clone()));
                vars.insert(format!("t{i}"), Value::String(body.clone()));
            }
        }
    }
    let query = format!(
        "mutation Batch({}) {{\n  {}\n}}",
        decls.join(", "),
        fields.join("\n  ")
    );
    (query, vars)
}

/// `column_values` is monday's `JSON` scalar, sent as a JSON-encoded string of the object.
pub fn encode(values: &ColumnValues) -> Value {
    Value::String(serde_json::to_string(values).unwrap_or_else(|_| "{}".into()))
}

fn labels(create: bool) -> Value {
    if create {
        Value::Bool(true)
    } else {
        Value::Null
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_each_command_with_its_own_variables() {
        let create = MondayCommand::CreateItem {
            board_id: "1".into(),
            group_id: Some("g".into()),
            item_name: "Call".into(),
            column_values: [(
                "status".to_string(),
                serde_json::json!({"label": "Ringing"}),
            )]
            .into(),
            create_labels: false,
            idempotency_key: "k1".into(),
        };
        let archive = MondayCommand::ArchiveItem {
            board_id: "1".into(),
            item_id: "99".into(),
            idempotency_key: "k2".into(),
        };
        let (query, vars) = document(&[&create, &archive]);
        assert!(query.starts_with("mutation Batch($b0: ID!, $g0: String, $n0: String!, $v0: JSON, $l0: Boolean, $i1: ID!)"), "{query}");
        assert!(query.contains("c0: create_item(board_id: $b0"), "{query}");
        assert!(
            query.contains("c1: archive_item(item_id: $i1) { id }"),
            "{query}"
        );
        assert_eq!(vars["v0"], "{\"status\":{\"label\":\"Ringing\"}}");
        assert_eq!(vars["i1"], "99");
        graphql_parser::parse_query::<String>(&query).expect("a valid GraphQL document");
    }

    #[test]
    fn batches_an_update_with_its_body_as_a_variable() {
        let update = MondayCommand::CreateUpdate {
            board_id: "1".into(),
            item_id: "99".into(),
            body: "a <b>note</b> with \"quotes\"".into(),
            idempotency_key: "k".into(),
        };
        let (query, vars) = document(&[&update]);
        assert!(
            query.contains("c0: create_update(item_id: $i0, body: $t0) { id }"),
            "{query}"
        );
        assert_eq!(vars["t0"], "a <b>note</b> with \"quotes\"");
        graphql_parser::parse_query::<String>(&query).expect("a valid GraphQL document");
    }
}
