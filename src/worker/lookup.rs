//! Lookups on the boards before planning (I/O the pure planner cannot do): the item an
//! interrupted create may have made, and an item already on a contact board for the contact.

use serde_json::Value;

use super::job::{Failure, Job};
use super::Worker;

impl Worker {
    /// Before creating again after an uncertain attempt, look the item up by its Aircall id.
    pub(super) async fn find_lost_items(&self, jobs: &mut [Job]) {
        for job in jobs.iter_mut().filter(|j| j.failure.is_none()) {
            for board in 0..job.boards.len() {
                let rule = &self.rules.boards()[job.boards[board].index];
                let Some(column) = rule
                    .aircall_id_column
                    .as_ref()
                    .filter(|_| job.uncertain(board))
                else {
                    continue;
                };
                match self
                    .monday
                    .find_items(&rule.board_id, column, &job.claim.entity_id)
                    .await
                {
                    Ok(items) => {
                        if let Some(found) = items.into_iter().find(|i| i.active) {
                            tracing::info!(item_id = %found.id, board = %rule.name, entity_id = %job.claim.entity_id,
                                "found the item an earlier attempt created");
                            job.adopt(board, found.id);
                        }
                    }
                    Err(error) => {
                        job.failure = Some(Failure::Monday {
                            board: rule.name.clone(),
                            error,
                        });
                        break;
                    }
                }
            }
        }
    }

    /// Before creating a contact's item, look for one already on the board with its phone or
    /// email (`match_columns`, board `on_existing = "adopt"`): a person entered or imported it,
    /// and a second item for the same person is what the operator does not want.
    pub(super) async fn find_existing_items(&self, jobs: &mut [Job]) {
        for job in jobs.iter_mut().filter(|j| j.failure.is_none()) {
            for board in 0..job.boards.len() {
                let b = &job.boards[board];
                let rule = &self.rules.boards()[b.index];
                if b.item_id.is_some() || !b.desired.wanted || b.desired.archived {
                    continue;
                }
                // Searched once, before the first create: an uncertain create is the crash
                // recovery's to settle, by Aircall id.
                if b.synced.create_uncertain || b.synced.replaces.is_some() {
                    continue;
                }
                let searches: Vec<(String, String)> = rule
                    .adopt_by()
                    .iter()
                    .filter_map(|column| {
                        let value = b.desired.columns.get(column)?.as_ref()?;
                        Some((column.clone(), lookup_value(value)?))
                    })
                    .collect();
                for (column, value) in searches {
                    match self
                        .monday
                        .find_items(&rule.board_id, &column, &value)
                        .await
                    {
                        Ok(items) => {
                            if let Some(found) = items.into_iter().find(|i| i.active) {
                                tracing::info!(item_id = %found.id, board = %rule.name,
                                    entity_id = %job.claim.entity_id, %column,
                                    "adopting the item already on the board");
                                job.adopt(board, found.id);
                                break;
                            }
                        }
                        Err(error) => {
                            job.failure = Some(Failure::Monday {
                                board: rule.name.clone(),
                                error,
                            });
                            return;
                        }
                    }
                }
            }
        }
    }
}

/// What monday's lookup takes for a column value the bridge would write: a phone number as
/// digits only (monday matches them contained in the stored number, however it is written),
/// an email address as it is (exact match).
fn lookup_value(value: &Value) -> Option<String> {
    if let Some(phone) = value.get("phone").and_then(Value::as_str) {
        let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
        return (!digits.is_empty()).then_some(digits);
    }
    value
        .get("email")
        .and_then(Value::as_str)
        .filter(|e| !e.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::lookup_value;

    #[test]
    fn phone_is_searched_by_its_digits_and_email_as_written() {
        let phone = json!({"phone": "+33612345678", "countryShortName": "FR"});
        assert_eq!(lookup_value(&phone).as_deref(), Some("33612345678"));
        let email = json!({"email": "a@b.example", "text": "a@b.example"});
        assert_eq!(lookup_value(&email).as_deref(), Some("a@b.example"));
        assert_eq!(lookup_value(&json!("text")), None);
    }
}
