//! `Idempotency-Key` (monday.md §4.6): a mutation's response is cached for 30 minutes per key
//! and replayed without re-applying; a duplicate while the first is in flight gets 409.

use std::collections::HashMap;

use time::{Duration, OffsetDateTime};

const TTL: Duration = Duration::minutes(30);
/// Responses over 1 MB are not cached (the request still executes).
pub const MAX_CACHED_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Cached {
    pub status: u16,
    pub body: Vec<u8>,
}

#[derive(Debug)]
enum Entry {
    InFlight,
    Done {
        cached: Cached,
        expires: OffsetDateTime,
    },
}

pub enum Lookup {
    Fresh,
    Replay(Cached),
    InFlight,
}

#[derive(Debug, Default)]
pub struct IdempotencyCache {
    entries: HashMap<String, Entry>,
}

impl IdempotencyCache {
    /// Looks the key up; a fresh key is marked in flight until `finish` or `abandon`.
    pub fn begin(&mut self, key: &str, now: OffsetDateTime) -> Lookup {
        self.entries
            .retain(|_, e| !matches!(e, Entry::Done { expires, .. } if *expires <= now));
        match self.entries.get(key) {
            Some(Entry::InFlight) => Lookup::InFlight,
            Some(Entry::Done { cached, .. }) => Lookup::Replay(cached.clone()),
            None => {
                self.entries.insert(key.to_string(), Entry::InFlight);
                Lookup::Fresh
            }
        }
    }

    pub fn finish(&mut self, key: &str, cached: Cached, now: OffsetDateTime) {
        if cached.body.len() > MAX_CACHED_BYTES {
            self.entries.remove(key);
            return;
        }
        self.entries.insert(
            key.to_string(),
            Entry::Done {
                cached,
                expires: now + TTL,
            },
        );
    }

    /// Forgets an in-flight key whose request ended without a response to cache.
    pub fn abandon(&mut self, key: &str) {
        if matches!(self.entries.get(key), Some(Entry::InFlight)) {
            self.entries.remove(key);
        }
    }
}
