//! Payloads and states on PostgreSQL: stored as zstd frames (`store::payload`), and rows
//! written before compression still read as their text.

use super::*;

/// Failed before: `data` and `observed` were TEXT stored whole. TOAST compresses nothing in a
/// row under about 2 KB: `pg_column_size` was 1,558 bytes for these 1,554 (psql, PostgreSQL 15).
#[tokio::test(flavor = "multi_thread")]
async fn a_payload_and_a_state_are_stored_compressed_and_read_back_whole() {
    let Some((db, store)) = postgres_store().await else {
        return;
    };
    let json = call_ended_payload();
    store
        .append(NewEvent {
            data: json.clone(),
            ..event("1", "a", 10)
        })
        .await
        .unwrap();
    let claim = store.claim(20_000, 60_000, "w").await.unwrap().unwrap();
    assert_eq!(claim.events[0].data, json);
    let retry = Completion {
        observed: json.clone(),
        outcome: Outcome::Retry {
            due_ms: 30_000,
            error: "monday down".into(),
            counts: true,
        },
        event_ids: vec![],
        ..synced(&claim)
    };
    store.complete(retry, 20_001).await.unwrap();

    let sql = another_session(&db.url).await;
    let event = sql
        .query_one("SELECT data IS NULL, octet_length(data_z) FROM events", &[])
        .await
        .unwrap();
    let state = sql
        .query_one(
            "SELECT observed IS NULL, octet_length(observed_z) FROM entities",
            &[],
        )
        .await
        .unwrap();
    for (what, row) in [("payload", event), ("state", state)] {
        let (no_text, frame): (bool, i32) = (row.get(0), row.get(1));
        assert!(no_text, "the {what} was also stored as text");
        assert!(
            (frame as usize) < json.len() / 2,
            "{frame} bytes of {what} for {}",
            json.len()
        );
    }
    let again = store.claim(40_000, 60_000, "w").await.unwrap().unwrap();
    assert_eq!(again.observed.as_deref(), Some(json.as_str()));
    assert_eq!(again.events[0].data, json);
    let detail = store.entity(Entity::Call, "1").await.unwrap().unwrap();
    assert_eq!(detail.observed.as_deref(), Some(json.as_str()));
}

/// A row written before compression (its text in `data` and `observed`) reads as it was.
#[tokio::test(flavor = "multi_thread")]
async fn rows_written_as_text_before_compression_read_as_they_were() {
    let Some((db, store)) = postgres_store().await else {
        return;
    };
    store.append(event("1", "a", 10)).await.unwrap();
    let sql = another_session(&db.url).await;
    sql.batch_execute(
        r#"UPDATE events SET data = '{"id":1,"old":true}', data_z = NULL;
           UPDATE entities SET observed = '{"old":true}', observed_z = NULL;"#,
    )
    .await
    .unwrap();
    let claim = store.claim(20_000, 60_000, "w").await.unwrap().unwrap();
    assert_eq!(claim.events[0].data, r#"{"id":1,"old":true}"#);
    assert_eq!(claim.observed.as_deref(), Some(r#"{"old":true}"#));
}
