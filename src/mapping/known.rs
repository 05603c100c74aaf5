//! What the worker looked up on the boards for the planner, which cannot look itself: the
//! mapping stays pure, and the same inputs give the same plan.

use std::collections::BTreeMap;

use serde_json::Value;

use super::columns::people;
use super::fields::{FieldValue, Fields};
use crate::config::ColumnSpec;

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
}

impl Known {
    pub fn user(&self, email: &str) -> Option<u64> {
        self.users.get(&email.trim().to_lowercase()).copied()
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
