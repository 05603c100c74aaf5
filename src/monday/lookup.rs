//! Several `items_page_by_column_values` lookups in one request, each under its own alias
//! (`f0`, `f1`, ...): adopting existing contacts must not cost a request per contact when a
//! backlog is reconciled, as requests are what monday's plans ration. The fields are those of
//! graphql/find_items_by_column.graphql. Also the users lookup of people columns and the tag
//! ids of tags columns.

use serde_json::{Map, Value};

use super::transport::error_at;
use super::{FoundItem, ItemEffects, MondayClient, MondayError};

/// One lookup: items of `board_id` whose column `column_id` matches `value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Lookup {
    pub board_id: String,
    pub column_id: String,
    pub value: String,
}

fn document(lookups: &[Lookup]) -> (String, Map<String, Value>) {
    let mut decls = Vec::new();
    let mut fields = Vec::new();
    let mut vars = Map::new();
    for (i, l) in lookups.iter().enumerate() {
        decls.push(format!("$b{i}: ID!, $c{i}: String!, $v{i}: [String]!"));
        fields.push(format!(
            "f{i}: items_page_by_column_values(board_id: $b{i}, columns: [{{ column_id: $c{i}, column_values: $v{i} }}], limit: 25) {{ items {{ id name state }} }}"
        ));
        vars.insert(format!("b{i}"), Value::String(l.board_id.clone()));
        vars.insert(format!("c{i}"), Value::String(l.column_id.clone()));
        vars.insert(
            format!("v{i}"),
            Value::Array(vec![Value::String(l.value.clone())]),
        );
    }
    let query = format!(
        "query FindMany({}) {{\n  {}\n}}",
        decls.join(", "),
        fields.join("\n  ")
    );
    (query, vars)
}

impl MondayClient {
    /// The monday users with these e-mail addresses: (lowercased email, user id). An address
    /// without a user is simply missing from the answer.
    pub async fn users_by_email(
        &self,
        emails: &[String],
    ) -> Result<Vec<(String, u64)>, MondayError> {
        let vars = super::ops::users_by_email::Variables {
            emails: Some(emails.to_vec()),
            limit: Some(emails.len().clamp(1, 1000) as i64),
        };
        let reply = self
            .post::<super::ops::UsersByEmail>(vars, None, &[], "users")
            .await?;
        Ok(reply
            .data
            .users
            .unwrap_or_default()
            .into_iter()
            .filter_map(|u| Some((u.email.to_lowercase(), u.id.parse().ok()?)))
            .collect())
    }

    /// The id of the account-level tag with this name, made if new. A mutation: the key makes a
    /// retry after a lost answer harmless (monday answers it from its idempotency cache).
    pub async fn create_or_get_tag(&self, tag_name: &str) -> Result<u64, MondayError> {
        let vars = super::ops::create_or_get_tag::Variables {
            tag_name: Some(tag_name.to_string()),
        };
        let key = crate::mapping::idempotency_key(&["create_or_get_tag", tag_name]);
        let reply = self
            .post::<super::ops::CreateOrGetTag>(vars, Some(&key), &[], "create_or_get_tag")
            .await?;
        reply
            .data
            .create_or_get_tag
            .and_then(|t| t.id.parse().ok())
            .ok_or_else(|| MondayError::Decode(format!("no tag id for {tag_name:?}")))
    }

    /// What the item carries that the bridge may have put there: the bodies of its updates and
    /// the names of its files (`None`: no such item, or it was deleted).
    pub async fn item_effects(&self, item_id: &str) -> Result<Option<ItemEffects>, MondayError> {
        let vars = super::ops::item_effects::Variables {
            ids: Some(vec![item_id.to_string()]),
        };
        let reply = self
            .post::<super::ops::ItemEffects>(vars, None, &[], "item_effects")
            .await?;
        let item = reply
            .data
            .items
            .unwrap_or_default()
            .into_iter()
            .flatten()
            .next();
        Ok(item.map(|i| ItemEffects {
            active: matches!(
                i.state,
                Some(super::ops::item_effects::State::active) | None
            ),
            update_bodies: i
                .updates
                .unwrap_or_default()
                .into_iter()
                .map(|u| u.body)
                .collect(),
            file_names: i
                .assets
                .unwrap_or_default()
                .into_iter()
                .flatten()
                .map(|a| a.name)
                .collect(),
            subitem_names: i
                .subitems
                .unwrap_or_default()
                .into_iter()
                .flatten()
                .map(|s| s.name)
                .collect(),
        }))
    }

    /// The items each lookup finds, in the order given; one request for all of them.
    pub async fn find_items_many(
        &self,
        lookups: &[Lookup],
    ) -> Vec<Result<Vec<FoundItem>, MondayError>> {
        if lookups.is_empty() {
            return Vec::new();
        }
        let (query, variables) = document(lookups);
        let body = serde_json::json!({ "query": query, "variables": variables, "operationName": "FindMany" });
        let boards: Vec<&str> = lookups.iter().map(|l| l.board_id.as_str()).collect();
        let answer = match self
            .post_json(body, None, &boards, "items_page_by_column_values")
            .await
        {
            Ok(a) => a,
            Err(e) => return vec![Err(e); lookups.len()],
        };
        (0..lookups.len())
            .map(|i| {
                let alias = format!("f{i}");
                if let Some(err) = error_at(&answer, &alias) {
                    return Err(err);
                }
                let items = answer
                    .json
                    .pointer(&format!("/data/{alias}/items"))
                    .and_then(Value::as_array)
                    .ok_or_else(|| MondayError::Decode(format!("no items under {alias}")))?;
                Ok(items
                    .iter()
                    .filter_map(|item| {
                        let id = match item.get("id")? {
                            Value::String(s) => s.clone(),
                            Value::Number(n) => n.to_string(),
                            _ => return None,
                        };
                        let state = item.get("state").and_then(Value::as_str);
                        Some(FoundItem {
                            id,
                            name: item["name"].as_str().unwrap_or_default().to_string(),
                            active: matches!(state, Some("active") | None),
                        })
                    })
                    .collect())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_each_lookup_in_one_valid_query() {
        let lookup = |c: &str, v: &str| Lookup {
            board_id: "2".into(),
            column_id: c.into(),
            value: v.into(),
        };
        let (query, vars) = document(&[lookup("phone", "33612345678"), lookup("email", "a@b")]);
        assert!(query.starts_with("query FindMany($b0: ID!, $c0: String!, $v0: [String]!, $b1"));
        assert!(
            query.contains("f1: items_page_by_column_values(board_id: $b1"),
            "{query}"
        );
        assert_eq!(vars["v0"], serde_json::json!(["33612345678"]));
        graphql_parser::parse_query::<String>(&query).expect("a valid GraphQL document");
    }
}
