//! Payloads and states as SQLite stores them (`store::payload`): a zstd frame as a BLOB in the
//! same column where rows written before hold TEXT, read either way.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};

pub(super) use crate::store::payload::compress;
use crate::store::payload::decompress;

/// A payload read back from the `data` column, whichever way it was stored.
pub(super) struct Payload(pub(super) String);

impl FromSql for Payload {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value {
            ValueRef::Text(_) => String::column_result(value).map(Payload),
            ValueRef::Blob(bytes) => decompress(bytes)
                .map(Payload)
                .map_err(|e| FromSqlError::Other(Box::new(e))),
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::store::tests::{call_ended_payload, day_of_webhooks};
    use crate::store::{NewEvent, Store};

    /// One event of call 1.
    fn call_event(event: &str, data: &str) -> NewEvent {
        NewEvent {
            kind: crate::store::Entity::Call,
            entity_id: "1".into(),
            event: event.into(),
            timestamp: 10,
            received_ms: 10,
            data: data.into(),
            dedup_key: "k".into(),
        }
    }

    /// What `length_sql` reads from the file is under half of `text`'s length.
    fn assert_stored_in_under_half(path: &Path, length_sql: &str, text: &str) {
        let db = rusqlite::Connection::open(path).unwrap();
        let stored: i64 = db.query_row(length_sql, [], |r| r.get(0)).unwrap();
        assert!(
            (stored as usize) < text.len() / 2,
            "{stored} bytes stored for {}",
            text.len()
        );
    }

    /// Failed before compression: the payload was stored as its text, 1,554 bytes of a
    /// 1,654-byte webhook, which with the row's indexes made 1.8x the body on disk per event.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_payload_is_stored_compressed_and_read_back_whole() {
        let data = call_ended_payload();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bridge.db");
        let store = Store::open(&path).unwrap();
        store.append(call_event("call.ended", &data)).await.unwrap();
        assert_stored_in_under_half(&path, "SELECT length(data) FROM events", &data);
        let claim = store.claim(20, 1_000, "w").await.unwrap().unwrap();
        assert_eq!(claim.events[0].data, data);
    }

    /// Failed before: a folded state was stored as its text (11,309 bytes for this one of
    /// 11,310), on every call a retry or a sync had written.
    #[tokio::test(flavor = "multi_thread")]
    async fn an_observed_state_is_stored_compressed_and_read_back_whole() {
        // Any JSON will do (a day of webhooks here): the store keeps the state opaque.
        let observed = day_of_webhooks().replace([' ', '\n'], "");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bridge.db");
        let store = Store::open(&path).unwrap();
        store
            .append(call_event("call.created", "{}"))
            .await
            .unwrap();
        let claim = store.claim(20, 1_000, "w").await.unwrap().unwrap();
        store
            .complete(
                crate::store::Completion {
                    row: claim.row,
                    owner: claim.owner.clone(),
                    event_ids: vec![],
                    observed: observed.clone(),
                    links: vec![],
                    intents: vec![],
                    outcome: crate::store::Outcome::Retry {
                        due_ms: 30,
                        error: "monday down".into(),
                        counts: true,
                    },
                    numbers: None,
                },
                25,
            )
            .await
            .unwrap();
        assert_stored_in_under_half(&path, "SELECT length(observed) FROM entities", &observed);
        let again = store.claim(40, 1_000, "w").await.unwrap().unwrap();
        assert_eq!(again.observed.as_deref(), Some(observed.as_str()));
        let detail = store
            .entity(crate::store::Entity::Call, "1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(detail.observed.as_deref(), Some(observed.as_str()));
    }

    /// Rows written before compression are text, and read as they are.
    #[test]
    fn a_payload_stored_as_text_reads_as_it_is() {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        let text: Payload = db
            .query_row("SELECT '{\"id\":1}'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(text.0, "{\"id\":1}");
        let blob: Payload = db
            .query_row("SELECT ?1", [compress("{\"id\":1}")], |r| r.get(0))
            .unwrap();
        assert_eq!(blob.0, "{\"id\":1}");
    }
}
