//! `backfill`: pulls calls (and contacts) from Aircall's API and feeds them through the same
//! journal and reconcile path as webhooks, so history, and events Aircall gave up on after its
//! 12 hours of retries, land on the boards without duplicates. Resumable: a checkpoint in the
//! store says how far it got.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::aircall::api::{AircallApi, AircallApiError};
use crate::clock::now_ms;
use crate::config::{Entity, Settings};
use crate::store::{Appended, NewEvent, Role, Store, StoreError};

/// Aircall pages at most 10,000 items of one query: a day at a time stays far below.
const WINDOW_SECS: i64 = 86_400;
const CHECKPOINT: &str = "backfill.calls.done_until";

#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    #[error(transparent)]
    Api(#[from] AircallApiError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("--since ({since}) must be before --until ({until})")]
    EmptyRange { since: i64, until: i64 },
    #[error("no board mirrors calls or contacts: nothing to backfill")]
    NothingMapped,
}

pub struct BackfillOptions {
    pub since: i64,
    pub until: i64,
    pub contacts: bool,
    /// Ignore the checkpoint of an earlier run.
    pub restart: bool,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct BackfillReport {
    pub calls_seen: u64,
    pub contacts_seen: u64,
    /// Entries that were new to the journal; the rest were already there.
    pub stored: u64,
    pub resumed_from: Option<i64>,
}

/// Called after each page with (calls seen so far, calls Aircall reported for the window).
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

pub async fn run(
    settings: &Settings,
    opts: &BackfillOptions,
    progress: Progress<'_>,
) -> Result<BackfillReport, BackfillError> {
    if opts.since >= opts.until {
        return Err(BackfillError::EmptyRange {
            since: opts.since,
            until: opts.until,
        });
    }
    let calls = settings.mirrors(Entity::Call);
    let contacts = opts.contacts && settings.mirrors(Entity::Contact);
    if !calls && !contacts {
        return Err(BackfillError::NothingMapped);
    }
    let api = AircallApi::new(&settings.aircall)?;
    let store = Store::connect(&settings.store, Role::Tool).await?;
    let mut report = BackfillReport::default();
    if calls {
        let mut from = opts.since;
        if !opts.restart {
            if let Some(done) = store
                .meta(CHECKPOINT)
                .await?
                .and_then(|v| v.parse::<i64>().ok())
            {
                if done > from && done < opts.until {
                    report.resumed_from = Some(done);
                    from = done;
                }
            }
        }
        let mut expected = 0;
        while from < opts.until {
            let to = (from + WINDOW_SECS).min(opts.until);
            let mut page = 1;
            loop {
                let p = api.list_calls(from, to - 1, page).await?;
                if page == 1 {
                    expected += p.total.unwrap_or(p.items.len() as u64);
                }
                for call in &p.items {
                    report.calls_seen += 1;
                    if append(&store, Entity::Call, call).await? == Appended::Stored {
                        report.stored += 1;
                    }
                }
                progress(report.calls_seen, expected);
                match p.next_page {
                    Some(n) => page = n,
                    None => break,
                }
            }
            // Everything before `to` is in the journal: a later run starts there.
            store.set_meta(CHECKPOINT, &to.to_string()).await?;
            from = to;
        }
    }
    if contacts {
        let mut page = 1;
        loop {
            let p = api.list_contacts(page).await?;
            for contact in &p.items {
                report.contacts_seen += 1;
                if append(&store, Entity::Contact, contact).await? == Appended::Stored {
                    report.stored += 1;
                }
            }
            match p.next_page {
                Some(n) => page = n,
                None => break,
            }
        }
    }
    Ok(report)
}

/// The API's object as a journal entry. Its timestamp is now: it is Aircall's state as of now.
/// The dedup key leaves the timestamp out, so running the same backfill again adds nothing.
async fn append(store: &Store, entity: Entity, data: &Value) -> Result<Appended, StoreError> {
    let id = data.get("id").and_then(Value::as_u64).unwrap_or(0);
    let event = format!("{}.backfilled", entity.as_str());
    let text = data.to_string();
    let mut hasher = Sha256::new();
    hasher.update(event.as_bytes());
    hasher.update(id.to_le_bytes());
    hasher.update(text.as_bytes());
    store
        .append(NewEvent {
            kind: entity,
            entity_id: id.to_string(),
            event,
            timestamp: now_ms() / 1000,
            received_ms: now_ms(),
            data: text,
            dedup_key: hex::encode(hasher.finalize()),
        })
        .await
}
