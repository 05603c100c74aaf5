//! monday users by email, for people columns, cached for the life of the process: agents are
//! few and rarely change, and each lookup is a request from monday's daily ration. An email
//! with no user is remembered as absent for a while only, so an agent who joins monday later
//! gets the people column filled without a restart.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use super::job::{Failure, Job};
use super::{now_ms, Worker};
use crate::config::{ColumnKind, Entity};
use crate::mapping::{self, FieldValue, Observed, Rules};

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
    fn get(&self, email: &str, now: i64) -> Option<Option<u64>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(email)? {
            Entry::Found(id) => Some(Some(*id)),
            Entry::Absent { until_ms } if *until_ms > now => Some(None),
            Entry::Absent { .. } => None,
        }
    }

    fn put(&self, email: String, entry: Entry) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.insert(email, entry);
    }
}

impl Worker {
    /// The agent emails the people columns of these jobs need (lowercased).
    fn wanted_emails(&self, rules: &Rules, job: &Job) -> BTreeSet<String> {
        call_column_values(rules, job, ColumnKind::People)
            .into_iter()
            .filter_map(|v| match v {
                FieldValue::Text(email) if !email.trim().is_empty() => {
                    Some(email.trim().to_lowercase())
                }
                _ => None,
            })
            .collect()
    }

    /// Asks monday (one request) about the emails the cache does not know; a job whose email
    /// could not be asked about fails and is retried, rather than written without its person.
    pub(super) async fn resolve_users(&self, rules: &Rules, jobs: &mut [Job]) {
        let now = now_ms();
        let wanted: Vec<BTreeSet<String>> =
            jobs.iter().map(|j| self.wanted_emails(rules, j)).collect();
        let unknown: BTreeSet<String> = wanted
            .iter()
            .flatten()
            .filter(|e| self.users.get(e, now).is_none())
            .cloned()
            .collect();
        if unknown.is_empty() {
            return;
        }
        let emails: Vec<String> = unknown.iter().cloned().collect();
        match self.monday.users_by_email(&emails).await {
            Ok(found) => {
                let found: HashMap<String, u64> = found.into_iter().collect();
                for email in unknown {
                    let entry = match found.get(&email) {
                        Some(id) => Entry::Found(*id),
                        None => {
                            tracing::info!(%email, "no monday user has this agent's email");
                            Entry::Absent {
                                until_ms: now + ABSENT_FOR_MS,
                            }
                        }
                    };
                    self.users.put(email, entry);
                }
            }
            Err(error) => {
                for (job, wanted) in jobs.iter_mut().zip(&wanted) {
                    if job.failure.is_none() && wanted.iter().any(|e| unknown.contains(e)) {
                        job.failure = Some(Failure::Monday {
                            board: "users".into(),
                            error: error.clone(),
                        });
                    }
                }
            }
        }
    }

    /// The user ids the cache holds for a job's emails.
    pub(super) fn known_users(
        &self,
        rules: &Rules,
        job: &Job,
    ) -> std::collections::BTreeMap<String, u64> {
        let now = now_ms();
        self.wanted_emails(rules, job)
            .into_iter()
            .filter_map(|e| Some((e.clone(), self.users.get(&e, now)??)))
            .collect()
    }
}

/// The values that the columns of `kind` on the call boards take from this job's call: what
/// the worker must look up on monday (users, tags) before planning.
pub(super) fn call_column_values(rules: &Rules, job: &Job, kind: ColumnKind) -> Vec<FieldValue> {
    let Some(observed @ Observed::Call(_)) = &job.state else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (_, board) in rules.boards_for(Entity::Call) {
        let fields = mapping::fields_of(observed, board);
        for spec in board.columns.values().filter(|c| c.kind == kind) {
            let field = spec.field.as_deref().unwrap_or_default();
            out.extend(fields.get(field).cloned());
        }
    }
    out
}
