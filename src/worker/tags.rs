//! monday tag ids by name, for tags columns, cached for the life of the process: monday's tags
//! are account-level and a name keeps its id, so each new name costs one `create_or_get_tag`
//! request, once.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use super::job::{Failure, Job};
use super::people::call_column_values;
use super::Worker;
use crate::config::ColumnKind;
use crate::mapping::{tag_name, FieldValue, Rules};

#[derive(Default)]
pub(super) struct TagCache {
    ids: Mutex<HashMap<String, u64>>,
}

impl TagCache {
    fn get(&self, name: &str) -> Option<u64> {
        let ids = self.ids.lock().unwrap_or_else(|e| e.into_inner());
        ids.get(name).copied()
    }

    fn put(&self, name: String, id: u64) {
        let mut ids = self.ids.lock().unwrap_or_else(|e| e.into_inner());
        ids.insert(name, id);
    }
}

impl Worker {
    /// The tag names (as monday stores them) the tags columns of this job need.
    fn wanted_tags(&self, rules: &Rules, job: &Job) -> BTreeSet<String> {
        call_column_values(rules, job, ColumnKind::Tags)
            .into_iter()
            .flat_map(|v| match v {
                FieldValue::List(items) => items,
                other => vec![other.to_text()],
            })
            .map(|n| tag_name(&n))
            .filter(|n| !n.is_empty())
            .collect()
    }

    /// Asks monday for the ids of the tag names the cache does not know, one request each (a
    /// mutation takes one name); a job whose tag could not be resolved fails and is retried,
    /// rather than written without it.
    pub(super) async fn resolve_tags(&self, rules: &Rules, jobs: &mut [Job]) {
        let wanted: Vec<BTreeSet<String>> =
            jobs.iter().map(|j| self.wanted_tags(rules, j)).collect();
        let unknown: BTreeSet<String> = wanted
            .iter()
            .flatten()
            .filter(|n| self.tags.get(n).is_none())
            .cloned()
            .collect();
        for name in unknown {
            match self.monday.create_or_get_tag(&name).await {
                Ok(id) => self.tags.put(name, id),
                Err(error) => {
                    for (job, wanted) in jobs.iter_mut().zip(&wanted) {
                        if job.failure.is_none() && wanted.contains(&name) {
                            job.failure = Some(Failure::Monday {
                                board: "tags".into(),
                                error: error.clone(),
                            });
                        }
                    }
                }
            }
        }
    }

    /// The tag ids the cache holds for a job's tag names.
    pub(super) fn known_tags(&self, rules: &Rules, job: &Job) -> BTreeMap<String, u64> {
        self.wanted_tags(rules, job)
            .into_iter()
            .filter_map(|n| Some((n.clone(), self.tags.get(&n)?)))
            .collect()
    }
}
