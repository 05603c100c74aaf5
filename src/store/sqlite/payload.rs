//! Stored payloads, compressed: an event's `data` and an entity's `observed` state are JSON of
//! 1 to 2 KB that zstd brings to under half. Written as a BLOB (a zstd frame); rows written
//! before are TEXT and are read as they are, so an old store needs no migration.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};

/// zstd's level 3 (its default): on a 1.5 KB call, the same size as level 9 at a fraction of
/// the time, a few microseconds.
const LEVEL: i32 = 3;

thread_local! {
    /// One compression context per thread (the writer's, in practice): making one for every
    /// payload (`zstd::bulk::compress`) was 3 % of the bridge's CPU under a burst, most of it
    /// clearing the context's tables.
    static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// The bytes stored for `json`.
pub(super) fn compress(json: &str) -> Vec<u8> {
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        // Making a context and compressing into memory fail only when they cannot allocate.
        let compressor = cell.get_or_insert_with(|| {
            zstd::bulk::Compressor::new(LEVEL).expect("a zstd compression context")
        });
        compressor
            .compress(json.as_bytes())
            .expect("zstd compression into memory")
    })
}

/// A payload read back from the `data` column, whichever way it was stored.
pub(super) struct Payload(pub(super) String);

#[derive(Debug, thiserror::Error)]
enum PayloadError {
    #[error("stored payload is not a zstd frame: {0}")]
    Frame(#[source] std::io::Error),
    #[error("stored payload is not UTF-8: {0}")]
    Text(#[source] std::string::FromUtf8Error),
}

impl FromSql for Payload {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value {
            ValueRef::Text(_) => String::column_result(value).map(Payload),
            ValueRef::Blob(bytes) => {
                let raw = zstd::stream::decode_all(bytes)
                    .map_err(|e| FromSqlError::Other(Box::new(PayloadError::Frame(e))))?;
                String::from_utf8(raw)
                    .map(Payload)
                    .map_err(|e| FromSqlError::Other(Box::new(PayloadError::Text(e))))
            }
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::store::{NewEvent, Store};

    /// A day of one call's webhooks, as Aircall sends them.
    fn day_of_webhooks() -> String {
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/aircall/inbound_answered.json"
        ))
        .unwrap()
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
        let fixture = day_of_webhooks();
        let day: Vec<serde_json::Value> = serde_json::from_str(&fixture).unwrap();
        let ended = day.iter().find(|e| e["event"] == "call.ended").unwrap();
        let data = ended["data"].to_string();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bridge.db");
        let store = Store::open(&path).unwrap();
        store
            .append(NewEvent {
                kind: crate::store::Entity::Call,
                entity_id: "1".into(),
                event: "call.ended".into(),
                timestamp: 10,
                received_ms: 10,
                data: data.clone(),
                dedup_key: "k".into(),
            })
            .await
            .unwrap();
        assert_stored_in_under_half(&path, "SELECT length(data) FROM events", &data);
        let claim = store.claim(20, 1_000, "w").await.unwrap().unwrap();
        assert_eq!(claim.events[0].data, data);
    }

    /// Failed before: a folded state was stored as its text (11,309 bytes for this one of
    /// 11,310), on every call a retry or a sync had written.
    #[tokio::test(flavor = "multi_thread")]
    async fn an_observed_state_is_stored_compressed_and_read_back_whole() {
        let fixture = day_of_webhooks();
        // Any JSON will do (a day of webhooks here): the store keeps the state opaque.
        let observed = fixture.replace([' ', '\n'], "");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bridge.db");
        let store = Store::open(&path).unwrap();
        store
            .append(NewEvent {
                kind: crate::store::Entity::Call,
                entity_id: "1".into(),
                event: "call.created".into(),
                timestamp: 10,
                received_ms: 10,
                data: "{}".into(),
                dedup_key: "k".into(),
            })
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
