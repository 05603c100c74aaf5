//! What the resolver remembers between reconciles, for the life of the process.
//!
//! monday users by email, for people columns: agents are few and rarely change, and each
//! lookup is a request from monday's daily ration. An email with no user is remembered as
//! absent for a while only, so an agent who joins monday later gets the people column filled
//! without a restart.
//!
//! monday tag ids by name, for tags columns: monday's tags are account-level and a name keeps
//! its id, so each new name costs one `create_or_get_tag` request, once.

use std::collections::HashMap;
use std::sync::Mutex;

/// How long an email without a monday user is not asked about again.
const ABSENT_FOR_MS: i64 = 10 * 60 * 1000;

#[derive(Default)]
pub(super) struct UserCache {
    entries: Mutex<HashMap<String, Entry>>,
}

#[derive(Clone, Copy)]
enum Entry {
    Found(u64),
    Absent { until_ms: i64 },
}

impl UserCache {
    /// `Some(Some(id))`: a user; `Some(None)`: known to have none; `None`: ask monday.
    pub fn get(&self, email: &str, now: i64) -> Option<Option<u64>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(email)? {
            Entry::Found(id) => Some(Some(*id)),
            Entry::Absent { until_ms } if *until_ms > now => Some(None),
            Entry::Absent { .. } => None,
        }
    }

    pub fn found(&self, email: String, id: u64) {
        self.put(email, Entry::Found(id));
    }

    pub fn absent(&self, email: String, now: i64) {
        self.put(
            email,
            Entry::Absent {
                until_ms: now + ABSENT_FOR_MS,
            },
        );
    }

    fn put(&self, email: String, entry: Entry) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.insert(email, entry);
    }
}

#[derive(Default)]
pub(super) struct TagCache {
    ids: Mutex<HashMap<String, u64>>,
}

impl TagCache {
    pub fn get(&self, name: &str) -> Option<u64> {
        let ids = self.ids.lock().unwrap_or_else(|e| e.into_inner());
        ids.get(name).copied()
    }

    pub fn put(&self, name: String, id: u64) {
        let mut ids = self.ids.lock().unwrap_or_else(|e| e.into_inner());
        ids.insert(name, id);
    }
}
