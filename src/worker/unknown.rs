//! Contact items for numbers Aircall has no contact for (a call board with
//! `create_contact_for_unknown_numbers`): the call links to the contact item with its number,
//! found on the contact board or created there. When Aircall later creates the contact, the
//! contact board adopts that item by its phone (`match_columns`), so there is one item per
//! person either way.

use serde_json::json;

use super::job::Job;
use super::{now_ms, Worker};
use crate::config::{BoardRule, ColumnKind, Entity};
use crate::mapping::{
    self, idempotency_key, FieldValue, MondayCommand, Observed, Rules, SyncedItem,
};
use crate::monday::MondayError;

impl Worker {
    /// The contact item for the number of a call that names no Aircall contact: the one its
    /// item already links to, else the one with that number on the contact board, else a new
    /// one. `None` when no board asks for it, or the call has a contact or no usable number.
    pub(super) async fn contact_for_number(
        &self,
        rules: &Rules,
        job: &Job,
        observed: &Observed,
    ) -> Result<Option<String>, MondayError> {
        let Some((_, board)) = rules
            .boards_for(Entity::Call)
            .find(|(_, b)| b.create_contact_for_unknown_numbers)
        else {
            return Ok(None);
        };
        let fields = mapping::fields_of(observed, board);
        if fields.contains_key("contact_id") {
            return Ok(None);
        }
        // monday refuses a phone without its country: no usable number, no contact.
        let Some(FieldValue::Phone(phone)) = fields.get("phone") else {
            return Ok(None);
        };
        let Some(country) = &phone.country else {
            return Ok(None);
        };
        // Linked at an earlier event: no lookup, requests are rationed.
        if let Some(item) = linked_before(job, board) {
            return Ok(Some(item));
        }
        let Some((_, contacts)) = rules.boards_for(Entity::Contact).next() else {
            return Ok(None);
        };
        let Some(column) = contacts
            .adopt_by()
            .iter()
            .find(|m| contacts.columns.get(*m).map(|s| s.kind) == Some(ColumnKind::Phone))
        else {
            return Ok(None);
        };
        let digits: String = phone.e164.chars().filter(char::is_ascii_digit).collect();
        let found = self
            .monday
            .find_items(&contacts.board_id, column, &digits)
            .await?;
        if let Some(item) = found.into_iter().find(|i| i.active) {
            return Ok(Some(item.id));
        }
        // The key holds for a day: two calls from the number in one batch (or a retry after
        // a lost answer) make one item, and an item a person deleted does not block a new one
        // the day after.
        let day = (now_ms() / 86_400_000).to_string();
        let command = MondayCommand::CreateItem {
            board_id: contacts.board_id.clone(),
            group_id: contacts.group_id.clone(),
            item_name: phone.e164.clone(),
            column_values: [(
                column.clone(),
                json!({ "phone": phone.e164, "countryShortName": country }),
            )]
            .into(),
            create_labels: false,
            idempotency_key: idempotency_key(&[
                &contacts.board_id,
                "unknown-number",
                &phone.e164,
                &day,
            ]),
        };
        let applied = self.monday.execute(&command).await?;
        tracing::info!(item_id = %applied.item_id, board = %contacts.name,
            "created a contact item for a number Aircall has no contact for");
        Ok(Some(applied.item_id))
    }
}

/// The contact item the call's item already links to (what the bridge last wrote there).
fn linked_before(job: &Job, board: &BoardRule) -> Option<String> {
    let link = job
        .claim
        .links
        .iter()
        .find(|l| l.board_id == board.board_id)?;
    let synced: SyncedItem = serde_json::from_str(&link.synced).ok()?;
    board
        .columns
        .iter()
        .filter(|(_, s)| s.kind == ColumnKind::BoardRelation)
        .find_map(|(c, _)| synced.columns.get(c)?["item_ids"][0].as_u64())
        .map(|id| id.to_string())
}
