//! The number index for what the store held before it had one: calls and contacts reconciled
//! before an upgrade have no entry, and a contact that never changes again would never get one
//! (its number would be an unknown caller for ever). Once per store, in the background.

use crate::mapping::indexed_numbers_of;
use crate::store::{Entity, Numbers, Store, StoreError};

/// The meta key that says the fill has run on this store.
const DONE: &str = "numbers_indexed";

/// Contacts all (the list a caller is found in), calls the newest (the recent-calls lines).
const LIMITS: [(Entity, usize); 2] = [(Entity::Contact, 1_000_000), (Entity::Call, 50_000)];

const BATCH: usize = 500;

/// Fills the index once; logged, never fatal (cards then miss the entities left out).
pub async fn index_existing(store: Store) {
    match fill(&store).await {
        Ok(None) => {}
        Ok(Some(indexed)) => {
            tracing::info!(
                indexed,
                "phone numbers of earlier calls and contacts indexed for insight cards"
            )
        }
        Err(error) => {
            tracing::warn!(%error, "indexing earlier calls and contacts failed; will try at the next start")
        }
    }
}

async fn fill(store: &Store) -> Result<Option<usize>, StoreError> {
    if store.meta(DONE).await?.is_some() {
        return Ok(None);
    }
    let mut indexed = 0;
    for (kind, limit) in LIMITS {
        let entries: Vec<(String, Numbers)> = store
            .observed_states(kind, limit)
            .await?
            .into_iter()
            .filter_map(|(id, observed)| {
                let (numbers, at_ms) = indexed_numbers_of(&observed)?;
                Some((id, Numbers { numbers, at_ms }))
            })
            .collect();
        for batch in entries.chunks(BATCH) {
            indexed += store.index_missing(kind, batch.to_vec()).await?;
        }
    }
    store.set_meta(DONE, "1").await?;
    Ok(Some(indexed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Completion, NewEvent, Outcome};

    #[tokio::test(flavor = "multi_thread")]
    async fn entities_reconciled_before_the_index_are_indexed_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("bridge.db")).unwrap();
        let contact = r#"{"kind":"contact","id":7,"contact":{"id":7,"phone_numbers":[{"value":"+33 6 98 76 54 32"}]},"details_ts":1}"#;
        store
            .append(NewEvent {
                kind: Entity::Contact,
                entity_id: "7".into(),
                event: "contact.created".into(),
                timestamp: 1,
                received_ms: 1,
                data: "{}".into(),
                dedup_key: "k".into(),
            })
            .await
            .unwrap();
        let claim = store.claim(10, 1_000, "w").await.unwrap().unwrap();
        // As a bridge before the index completed it: no numbers.
        store
            .complete(
                Completion {
                    row: claim.row,
                    owner: claim.owner.clone(),
                    event_ids: vec![claim.events[0].id],
                    observed: contact.into(),
                    links: Vec::new(),
                    intents: Vec::new(),
                    outcome: Outcome::Synced,
                    numbers: None,
                },
                10,
            )
            .await
            .unwrap();
        assert!(store
            .by_number(Entity::Contact, "33698765432", 5)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(fill(&store).await.unwrap(), Some(1));
        let found = store
            .by_number(Entity::Contact, "33698765432", 5)
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(fill(&store).await.unwrap(), None, "once per store");
    }
}
