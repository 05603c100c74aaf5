//! Migrations, applied in order at start-up; `PRAGMA user_version` records how far we are.

use rusqlite::Connection;

use crate::store::StoreError;

/// Each entry moves the schema one version forward. Never edit a released entry: add one.
const MIGRATIONS: &[&str] = &[
    // 1: the journal, entity state and item links.
    r#"
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        dedup_key TEXT NOT NULL UNIQUE,
        entity_kind TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        event TEXT NOT NULL,
        event_ts INTEGER NOT NULL,
        received_ms INTEGER NOT NULL,
        data TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'dead')),
        error TEXT,
        done_ms INTEGER
    );
    CREATE INDEX events_by_entity ON events(entity_kind, entity_id, state);
    CREATE INDEX events_by_state ON events(state, received_ms);

    CREATE TABLE entities (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        observed TEXT,
        pending INTEGER NOT NULL DEFAULT 0,
        dead INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        due_ms INTEGER NOT NULL DEFAULT 0,
        lease_until_ms INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        last_error TEXT,
        updated_ms INTEGER NOT NULL,
        UNIQUE (kind, entity_id)
    );
    CREATE INDEX entities_due ON entities(pending, dead, due_ms);

    CREATE TABLE links (
        board_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        item_id TEXT,
        synced TEXT NOT NULL,
        updated_ms INTEGER NOT NULL,
        PRIMARY KEY (board_id, kind, entity_id)
    );
    "#,
    // 2: small durable facts, e.g. how far a backfill got.
    r#"
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    "#,
    // 3: effects monday would apply twice (a create, an update, an upload), written down
    // before their request leaves and deleted only once their outcome is known.
    r#"
    CREATE TABLE intents (
        kind TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        board_id TEXT NOT NULL,
        effect TEXT NOT NULL,
        target TEXT NOT NULL,
        request_key TEXT NOT NULL,
        request TEXT NOT NULL,
        position INTEGER NOT NULL,
        opened_ms INTEGER NOT NULL,
        PRIMARY KEY (kind, entity_id, board_id, effect, target)
    );
    "#,
    // 4: insight cards. The phone numbers of mirrored calls and contacts (normalised digits),
    // so a card finds its caller in the store while the call rings; and one row per call whose
    // card went out (or was decided against), written before the request leaves.
    r#"
    CREATE TABLE numbers (
        number TEXT NOT NULL,
        kind TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        PRIMARY KEY (number, kind, entity_id)
    );
    CREATE INDEX numbers_by_entity ON numbers(kind, entity_id);
    CREATE TABLE insight_cards (
        call_id TEXT PRIMARY KEY,
        claimed_ms INTEGER NOT NULL
    );
    "#,
    // Maintenance prunes claims by age (`prune_card_claims`): without this it reads them all.
    r#"
    CREATE INDEX insight_cards_by_age ON insight_cards(claimed_ms);
    "#,
    // Links found by their entity and by their item (as PostgreSQL's schema has them). The
    // primary key leads with the board, so every claim read the whole table: at 100,000 calls
    // that was 40 % of the bridge's CPU.
    r#"
    CREATE INDEX links_by_entity ON links(kind, entity_id);
    CREATE INDEX links_by_item ON links(board_id, item_id);
    "#,
];

pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > MIGRATIONS.len() {
        return Err(StoreError::Db(format!(
            "the database is at schema version {current}, newer than this binary knows ({}); \
             run the newer version or restore a backup",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How SQLite would run `sql`: one line per step of its plan.
    fn plan(conn: &Connection, sql: &str) -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let steps = stmt
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        steps.join("\n")
    }

    /// Failed before the links indexes (the last migration): every claim read all the links (`SCAN links`), which made
    /// intake at 64 clients cost ~700 µs of CPU per webhook on a store of 100,000 calls.
    #[test]
    fn the_link_look_ups_use_an_index() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        // Searched by every column the look-up names: an index on the board alone would read
        // all of a board's links.
        for (sql, searched_by) in [
            (
                "SELECT board_id, item_id, synced FROM links WHERE kind = 'call' AND entity_id = '1'
                  ORDER BY board_id",
                "(kind=? AND entity_id=?)",
            ),
            (
                "SELECT kind, entity_id FROM links WHERE board_id = 'b' AND item_id = 'i' LIMIT 1",
                "(board_id=? AND item_id=?)",
            ),
        ] {
            let plan = plan(&conn, sql);
            assert!(plan.contains(searched_by), "{sql}\n{plan}");
        }
    }
}
