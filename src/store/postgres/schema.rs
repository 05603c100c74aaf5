//! PostgreSQL's migrations, the same tables as SQLite's in PostgreSQL's types. Several
//! replicas may start at once: the migrations run under a transaction-scoped advisory lock,
//! so one applies them and the others find them applied.

use deadpool_postgres::Client;

use super::db_err;
use crate::store::StoreError;

/// Any fixed number, the same in every replica: the key of the migrations' advisory lock.
const MIGRATION_LOCK: i64 = 0x0061_6972_6361_6c6c; // "aircall"

/// Each entry moves the schema one version forward. Never edit a released entry: add one.
const MIGRATIONS: &[&str] = &[
    // 1: the journal, entity state, item links, small facts and intents (SQLite's 1 to 3).
    r#"
    CREATE TABLE events (
        id BIGSERIAL PRIMARY KEY,
        dedup_key TEXT NOT NULL UNIQUE,
        entity_kind TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        event TEXT NOT NULL,
        event_ts BIGINT NOT NULL,
        received_ms BIGINT NOT NULL,
        data TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'dead')),
        error TEXT,
        done_ms BIGINT
    );
    CREATE INDEX events_by_entity ON events (entity_kind, entity_id, state);
    CREATE INDEX events_by_state ON events (state, received_ms);

    CREATE TABLE entities (
        id BIGSERIAL PRIMARY KEY,
        kind TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        observed TEXT,
        pending BOOLEAN NOT NULL DEFAULT FALSE,
        dead BOOLEAN NOT NULL DEFAULT FALSE,
        attempts INTEGER NOT NULL DEFAULT 0,
        due_ms BIGINT NOT NULL DEFAULT 0,
        lease_until_ms BIGINT NOT NULL DEFAULT 0,
        lease_owner TEXT,
        last_error TEXT,
        updated_ms BIGINT NOT NULL,
        UNIQUE (kind, entity_id)
    );
    CREATE INDEX entities_due ON entities (due_ms, id) WHERE pending AND NOT dead;
    CREATE INDEX entities_recent ON entities (updated_ms DESC, id DESC);

    CREATE TABLE links (
        board_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        item_id TEXT,
        synced TEXT NOT NULL,
        updated_ms BIGINT NOT NULL,
        PRIMARY KEY (board_id, kind, entity_id)
    );
    CREATE INDEX links_by_entity ON links (kind, entity_id);
    CREATE INDEX links_by_item ON links (board_id, item_id);

    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );

    CREATE TABLE intents (
        kind TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        board_id TEXT NOT NULL,
        effect TEXT NOT NULL,
        target TEXT NOT NULL,
        request_key TEXT NOT NULL,
        request TEXT NOT NULL,
        position BIGINT NOT NULL,
        opened_ms BIGINT NOT NULL,
        PRIMARY KEY (kind, entity_id, board_id, effect, target)
    );
    CREATE INDEX intents_by_request ON intents (request_key);
    "#,
    // 2: the account's monday requests of the last minute, across replicas (see `budget`).
    r#"
    CREATE TABLE monday_requests (sent_ms BIGINT NOT NULL);
    CREATE INDEX monday_requests_by_time ON monday_requests (sent_ms);
    "#,
    // 3: insight cards (SQLite's 4): entities by phone number, and one row per call whose card
    // went out, written before its request leaves.
    r#"
    CREATE TABLE numbers (
        number TEXT NOT NULL,
        kind TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        at_ms BIGINT NOT NULL,
        PRIMARY KEY (number, kind, entity_id)
    );
    CREATE INDEX numbers_by_entity ON numbers (kind, entity_id);
    CREATE TABLE insight_cards (
        call_id TEXT PRIMARY KEY,
        claimed_ms BIGINT NOT NULL
    );
    "#,
    // Maintenance prunes claims by age (`prune_card_claims`): without this it reads them all.
    r#"
    CREATE INDEX insight_cards_by_age ON insight_cards (claimed_ms);
    "#,
    // Payloads and states compressed by the bridge (`store::payload`), as on SQLite: TOAST
    // compresses nothing in a row under about 2 KB, and a webhook's is 1.5 KB. Rows written
    // before keep their text in `data` and `observed`.
    r#"
    ALTER TABLE events ALTER COLUMN data DROP NOT NULL;
    ALTER TABLE events ADD COLUMN data_z BYTEA;
    ALTER TABLE events ADD CONSTRAINT events_data_kept CHECK (data IS NOT NULL OR data_z IS NOT NULL);
    ALTER TABLE entities ADD COLUMN observed_z BYTEA;
    "#,
];

pub(super) async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(db_err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(db_err)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS bridge_schema (version INTEGER PRIMARY KEY, applied_at \
         TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .await
    .map_err(db_err)?;
    let current: i32 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM bridge_schema", &[])
        .await
        .map_err(db_err)?
        .get(0);
    let current = current as usize;
    if current > MIGRATIONS.len() {
        return Err(StoreError::Db(format!(
            "the database is at schema version {current}, newer than this binary knows ({}); \
             run the newer version or restore a backup",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        tx.batch_execute(sql).await.map_err(db_err)?;
        tx.execute(
            "INSERT INTO bridge_schema (version) VALUES ($1)",
            &[&((i + 1) as i32)],
        )
        .await
        .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)
}
