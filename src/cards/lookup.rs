//! The caller, from the bridge's own store: the contact item mirrored for the number, the
//! earlier calls of the number and their outcomes. No monday request: monday's latency and
//! rate limits do not fit in the second a card has.

use serde_json::Value;

use super::content::{Caller, ContactItem, PastCall};
use crate::config::CardColumn;
use crate::mapping::{self, Observed, SyncedItem};
use crate::store::{Link, NumberMatch, Store, StoreError};

/// Where the card's contact item is, and what of it to show.
pub(super) struct Source<'a> {
    pub store: &'a Store,
    /// The contact board the title links to (`None`: no contact board is mapped).
    pub board_id: Option<&'a str>,
    pub columns: &'a [CardColumn],
    /// `server.item_link`, with `{board_id}` and `{item_id}`.
    pub item_link: &'a str,
    pub recent_calls: usize,
}

impl Source<'_> {
    pub(super) async fn caller(
        &self,
        number_key: &str,
        number: String,
        call_id: &str,
    ) -> Result<Caller, StoreError> {
        // One more than shown: the ringing call may be indexed already.
        let calls = self
            .store
            .by_number(
                crate::store::Entity::Call,
                number_key,
                self.recent_calls + 1,
            )
            .await?;
        let calls: Vec<NumberMatch> = calls
            .into_iter()
            .filter(|c| c.entity_id != call_id)
            .collect();
        let mut contact = None;
        if let Some(board_id) = self.board_id {
            let contacts = self
                .store
                .by_number(crate::store::Entity::Contact, number_key, 5)
                .await?;
            contact = contacts
                .iter()
                .filter(|m| !deleted(m))
                .find_map(|m| self.item(board_id, &m.links, contact_name(m)));
            // A call from a number no contact had may have made the contact's item itself
            // (`create_contact_for_unknown_numbers`): it is that call's link on the board.
            if contact.is_none() {
                contact = calls
                    .iter()
                    .find_map(|m| self.item(board_id, &m.links, None));
            }
        }
        let calls = calls
            .iter()
            .filter_map(past_call)
            .take(self.recent_calls)
            .collect();
        Ok(Caller {
            number,
            contact,
            calls,
        })
    }

    /// The item on the card's board among `links`, with its name and columns as last written.
    fn item(&self, board_id: &str, links: &[Link], name: Option<String>) -> Option<ContactItem> {
        let link = links.iter().find(|l| l.board_id == board_id)?;
        let item_id = link.item_id.as_deref()?;
        let synced: SyncedItem = serde_json::from_str(&link.synced).unwrap_or_default();
        if synced.archived {
            return None;
        }
        let name = synced
            .name
            .clone()
            .or(name)
            .unwrap_or_else(|| "Contact".into());
        let columns = self
            .columns
            .iter()
            .map(|c| {
                let value = synced.columns.get(&c.column).map(column_text);
                (c.label.clone(), value.unwrap_or_default())
            })
            .collect();
        Some(ContactItem {
            name,
            link: Some(
                self.item_link
                    .replace("{board_id}", board_id)
                    .replace("{item_id}", item_id),
            ),
            columns,
        })
    }
}

fn observed(m: &NumberMatch) -> Option<Observed> {
    serde_json::from_str(m.observed.as_deref()?).ok()
}

fn deleted(m: &NumberMatch) -> bool {
    matches!(observed(m), Some(Observed::Contact(c)) if c.deleted())
}

fn contact_name(m: &NumberMatch) -> Option<String> {
    match observed(m)? {
        Observed::Contact(c) => c.contact.full_name(),
        Observed::Call(_) => None,
    }
}

fn past_call(m: &NumberMatch) -> Option<PastCall> {
    let Observed::Call(state) = observed(m)? else {
        return None;
    };
    Some(PastCall {
        started_at: state.call.started_at,
        outcome: mapping::outcome(&state).to_string(),
        direction: state.call.direction.clone(),
    })
}

/// A column's value as the bridge wrote it, as text: a status's label, a phone's number, a
/// date, a link's text, dropdown labels. Relations, people and tags (ids) show nothing.
pub(super) fn column_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Object(o) => {
            let field = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
            if let Some(labels) = o.get("labels").and_then(Value::as_array) {
                let labels: Vec<&str> = labels.iter().filter_map(Value::as_str).collect();
                return labels.join(", ");
            }
            field("label")
                .or_else(|| field("phone"))
                .or_else(|| field("email"))
                .or_else(|| field("date"))
                .or_else(|| field("text"))
                .unwrap_or_default()
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn column_values_read_as_their_text() {
        for (value, text) in [
            (json!("Acme"), "Acme"),
            (json!({"label": "VIP"}), "VIP"),
            (
                json!({"phone": "+33612345678", "countryShortName": "FR"}),
                "+33612345678",
            ),
            (
                json!({"email": "a@b.example", "text": "a@b.example"}),
                "a@b.example",
            ),
            (json!({"url": "https://x", "text": "Site"}), "Site"),
            (json!({"labels": ["A", "B"]}), "A, B"),
            (
                json!({"date": "2026-11-20", "time": "10:00:00"}),
                "2026-11-20",
            ),
            (json!({"item_ids": [1]}), ""),
        ] {
            assert_eq!(column_text(&value), text, "{value}");
        }
    }
}
