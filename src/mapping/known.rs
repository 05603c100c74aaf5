//! What the worker looked up on the boards for the planner, which cannot look itself: the
//! mapping stays pure, and the same inputs give the same plan.

use std::collections::BTreeMap;

use serde_json::Value;

use super::boards::ColumnSpec;
use super::columns::{people, tags};
use super::fields::{FieldValue, Fields};

/// Facts from monday and the store that some columns need.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Known {
    /// The item of the call's contact on the first contact board, once it exists (the
    /// `contact_item` field). Before then a board_relation column stays empty, and the next
    /// reconcile of the call fills it.
    pub contact_item: Option<String>,
    /// monday user ids by lowercased email, for people columns. An email missing here has no
    /// monday user (or was not looked up): the column falls back or stays empty.
    pub users: BTreeMap<String, u64>,
    /// monday tag ids by tag name as monday stores it (`tag_name`), for tags columns. A name
    /// missing here was not resolved: the column leaves it out.
    pub tags: BTreeMap<String, u64>,
}

/// A tag's name as monday stores it: `create_or_get_tag` removes spaces ("My Tag" → "MyTag").
pub fn tag_name(name: &str) -> String {
    name.chars().filter(|c| !c.is_whitespace()).collect()
}

impl Known {
    pub fn user(&self, email: &str) -> Option<u64> {
        self.users.get(&email.trim().to_lowercase()).copied()
    }

    /// A tags column's value: the ids of the call's tags, in the call's order, each once.
    pub fn tags_column(&self, tags_field: Option<FieldValue>) -> Option<Value> {
        let names: Vec<String> = match tags_field {
            Some(FieldValue::List(items)) => items,
            Some(other) => vec![other.to_text()],
            None => Vec::new(),
        };
        let mut ids: Vec<u64> = Vec::new();
        for name in names.iter().map(|n| tag_name(n)).filter(|n| !n.is_empty()) {
            if let Some(id) = self.tags.get(&name) {
                if !ids.contains(id) {
                    ids.push(*id);
                }
            }
        }
        tags(&ids)
    }

    /// A people column's value (the user with the agent's email) and, when the column names
    /// one, its fallback text column's: the agent's name when no monday user has the email, so
    /// who took the call still shows.
    pub fn people_columns(
        &self,
        column: &str,
        spec: &ColumnSpec,
        email: Option<FieldValue>,
        fields: &Fields,
    ) -> Vec<(String, Option<Value>)> {
        let email = email.map(|v| v.to_text()).filter(|e| !e.trim().is_empty());
        let user = email.as_deref().and_then(|e| self.user(e));
        let mut out = vec![(column.to_string(), user.map(people))];
        if let Some(fallback) = &spec.fallback_text_column {
            let text = match (user, email) {
                (None, Some(email)) => Some(
                    fields
                        .get("agent_name")
                        .map(FieldValue::to_text)
                        .filter(|n| !n.trim().is_empty())
                        .unwrap_or(email),
                ),
                _ => None,
            };
            out.push((fallback.clone(), text.map(Value::String)));
        }
        out
    }
}
