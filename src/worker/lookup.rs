//! Lookups on the boards before planning (I/O the pure planner cannot do): what the columns
//! need beyond the events, and an item already on a contact board for the contact.

use serde_json::Value;

use super::job::{Failure, Job};
use super::{Worker, WorkerError};
use crate::config::{ColumnKind, Entity};
use crate::mapping::{self, FieldValue, Known, Observed, Rules};
use crate::monday::Lookup;

impl Worker {
    /// Looks up what the jobs' columns need beyond the events, then derives their boards.
    pub(super) async fn derive(&self, rules: &Rules, jobs: &mut [Job]) -> Result<(), WorkerError> {
        self.resolve_users(rules, jobs).await;
        self.resolve_tags(rules, jobs).await;
        for job in jobs.iter_mut().filter(|j| j.failure.is_none()) {
            let mut known = match &job.state {
                Some(observed) => self.known_for(rules, observed).await?,
                None => Known::default(),
            };
            known.users = self.known_users(rules, job);
            known.tags = self.known_tags(rules, job);
            if let (None, Some(observed)) = (&known.contact_item, &job.state) {
                match self.contact_for_number(rules, job, observed).await {
                    Ok(item) => known.contact_item = item,
                    Err(error) => {
                        job.failure = Some(Failure::Monday {
                            board: "contacts".into(),
                            error,
                        });
                        continue;
                    }
                }
            }
            job.derive(rules, &known);
        }
        Ok(())
    }

    async fn known_for(&self, rules: &Rules, observed: &Observed) -> Result<Known, WorkerError> {
        let mut known = Known::default();
        let Observed::Call(_) = observed else {
            return Ok(known);
        };
        let call_boards: Vec<_> = rules.boards_for(Entity::Call).collect();
        let relates = call_boards.iter().any(|(_, b)| {
            b.columns
                .values()
                .any(|c| c.kind == ColumnKind::BoardRelation)
        });
        let contacts_board = rules.boards_for(Entity::Contact).next();
        if let (true, Some((_, contacts)), Some((_, first))) =
            (relates, contacts_board, call_boards.first())
        {
            let fields = mapping::fields_of(observed, first);
            if let Some(FieldValue::Number(contact)) = fields.get("contact_id") {
                let links = self.store.links("contact", &contact.to_string()).await?;
                known.contact_item = links
                    .into_iter()
                    .find(|l| l.board_id == contacts.board_id)
                    .and_then(|l| l.item_id);
            }
        }
        Ok(known)
    }

    /// Before creating a contact's item, look for one already on the board with its phone or
    /// email (`match_columns`, board `on_existing = "adopt"`): a person entered or imported it,
    /// and a second item for the same person is what the operator does not want. Every lookup
    /// of the reconcile goes in one request.
    pub(super) async fn find_existing_items(&self, rules: &Rules, jobs: &mut [Job]) {
        // (job, board, lookup), in match_columns order per board.
        let mut wanted: Vec<(usize, usize, Lookup)> = Vec::new();
        for (j, job) in jobs.iter().enumerate().filter(|(_, j)| j.failure.is_none()) {
            for (board, b) in job.boards.iter().enumerate() {
                let rule = &rules.boards()[b.index];
                if b.item_id.is_some() || !b.desired.wanted || b.desired.archived {
                    continue;
                }
                // Searched before the first create only: an interrupted create is its intent's
                // to settle (by its request or by Aircall id), a deleted item is recreated.
                if b.synced.replaces.is_some() {
                    continue;
                }
                for column in rule.adopt_by() {
                    let value = b.desired.columns.get(column).and_then(Option::as_ref);
                    if let Some(value) = value.and_then(lookup_value) {
                        let lookup = Lookup {
                            board_id: rule.board_id.clone(),
                            column_id: column.clone(),
                            value,
                        };
                        wanted.push((j, board, lookup));
                    }
                }
            }
        }
        let lookups: Vec<Lookup> = wanted.iter().map(|(_, _, l)| l.clone()).collect();
        let results = self.monday.find_items_many(&lookups).await;
        // Items taken in this reconcile: two contacts with one number adopt one item at most.
        let mut taken: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        for ((j, board, lookup), result) in wanted.into_iter().zip(results) {
            let job = &mut jobs[j];
            if job.failure.is_some() || job.boards[board].item_id.is_some() {
                continue;
            }
            let rule = &rules.boards()[job.boards[board].index];
            match result {
                Ok(items) => {
                    for found in items.into_iter().filter(|i| i.active) {
                        let mine = !taken.contains(&found.id)
                            && !self.mirrors_another(rule, &found.id, job).await;
                        if !mine {
                            continue;
                        }
                        tracing::info!(item_id = %found.id, board = %rule.name,
                            entity_id = %job.claim.entity_id, column = %lookup.column_id,
                            "adopting the item already on the board");
                        taken.insert(found.id.clone());
                        job.adopt(board, found.id);
                        break;
                    }
                }
                Err(error) => {
                    job.failure = Some(Failure::Monday {
                        board: rule.name.clone(),
                        error,
                    });
                }
            }
        }
    }
}

impl Worker {
    /// The item already mirrors another Aircall entity (the bridge made or adopted it for that
    /// one): adopting it too would merge two contacts into one item.
    async fn mirrors_another(
        &self,
        rule: &crate::config::BoardRule,
        item_id: &str,
        job: &Job,
    ) -> bool {
        match self.store.item_owner(&rule.board_id, item_id).await {
            Ok(Some((kind, id))) => kind != job.claim.kind || id != job.claim.entity_id,
            Ok(None) => false,
            // Unsure: better a second item than two contacts merged into one.
            Err(_) => true,
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
