//! The one resolver: answers what the planner says it needs (`mapping::needs`) with the caches,
//! the store and as few monday requests as the lookups allow: one for every unknown email, one
//! per unknown tag name (a mutation takes one name), one for every item lookup of the
//! reconcile. A job whose look-up fails is retried, rather than written without what it
//! needed.

use std::collections::{BTreeSet, HashMap};

use super::job::{Failure, Job};
use super::{Worker, WorkerError};
use crate::entity::Entity;
use crate::mapping::{self, Found, Needs, Rules};
use crate::monday::{Lookup, MondayError};

impl Worker {
    /// The facts the columns need (users, tags, the contact's item), looked up first, before
    /// intents are settled and the budget decides, in the order the worker always asked them.
    /// Same order as `jobs`; jobs that failed already need nothing.
    pub(super) async fn resolve_facts(
        &self,
        rules: &Rules,
        jobs: &mut [Job],
    ) -> Result<Vec<Found>, WorkerError> {
        let needs = needs_of(rules, jobs);
        let mut found = vec![Found::default(); jobs.len()];
        self.resolve_users(jobs, &needs, &mut found).await;
        self.resolve_tags(jobs, &needs, &mut found).await;
        self.resolve_contact_items(jobs, &needs, &mut found).await?;
        Ok(found)
    }

    /// The items on the boards the jobs need (to take over, or to link to), once the intents
    /// are settled: what they find depends on which items the entities have by then.
    pub(super) async fn resolve_board_items(
        &self,
        rules: &Rules,
        jobs: &mut [Job],
        found: &mut [Found],
    ) {
        let needs = needs_of(rules, jobs);
        self.resolve_items(rules, jobs, &needs, found).await;
    }

    /// Asks monday (one request) about the emails the cache does not know.
    async fn resolve_users(&self, jobs: &mut [Job], needs: &[Needs], found: &mut [Found]) {
        let now = self.clock.now_ms();
        let unknown: BTreeSet<&String> = needs
            .iter()
            .flat_map(|n| &n.users)
            .filter(|e| self.users.get(e, now).is_none())
            .collect();
        if !unknown.is_empty() {
            let emails: Vec<String> = unknown.iter().map(|e| e.to_string()).collect();
            match self.monday.users_by_email(&emails).await {
                Ok(answer) => {
                    let answer: HashMap<String, u64> = answer.into_iter().collect();
                    for email in emails {
                        match answer.get(&email) {
                            Some(id) => self.users.found(email, *id),
                            None => {
                                tracing::info!(%email, "no monday user has this agent's email");
                                self.users.absent(email, now);
                            }
                        }
                    }
                }
                Err(error) => fail_needing(jobs, needs, "users", &error, |n| {
                    n.users.iter().any(|e| unknown.contains(e))
                }),
            }
        }
        for (need, found) in needs.iter().zip(found) {
            found.users = need
                .users
                .iter()
                .filter_map(|e| Some((e.clone(), self.users.get(e, now)??)))
                .collect();
        }
    }

    /// Asks monday for the ids of the tag names the cache does not know, one request each.
    async fn resolve_tags(&self, jobs: &mut [Job], needs: &[Needs], found: &mut [Found]) {
        let unknown: BTreeSet<String> = needs
            .iter()
            .flat_map(|n| &n.tags)
            .filter(|n| self.tags.get(n).is_none())
            .cloned()
            .collect();
        for name in unknown {
            match self.monday.create_or_get_tag(&name).await {
                Ok(id) => self.tags.put(name, id),
                Err(error) => fail_needing(jobs, needs, "tags", &error, |n| n.tags.contains(&name)),
            }
        }
        for (need, found) in needs.iter().zip(found) {
            found.tags = need
                .tags
                .iter()
                .filter_map(|n| Some((n.clone(), self.tags.get(n)?)))
                .collect();
        }
    }

    /// The items of the calls' Aircall contacts, from the store's links.
    async fn resolve_contact_items(
        &self,
        jobs: &[Job],
        needs: &[Needs],
        found: &mut [Found],
    ) -> Result<(), WorkerError> {
        for ((job, need), found) in jobs.iter().zip(needs).zip(found) {
            let Some((board_id, contact_id)) = &need.contact_item else {
                continue;
            };
            if job.failure.is_some() {
                continue;
            }
            let links = self.store.links(Entity::Contact, contact_id).await?;
            found.contact_item = links
                .into_iter()
                .find(|l| &l.board_id == board_id)
                .and_then(|l| l.item_id);
        }
        Ok(())
    }

    /// Every item lookup of the reconcile in one request. Per board, the first lookup that
    /// finds an active item wins; an item to take over must not mirror another entity, and two
    /// entities of one reconcile (two contacts with one number) take one item at most.
    async fn resolve_items(
        &self,
        rules: &Rules,
        jobs: &mut [Job],
        needs: &[Needs],
        found: &mut [Found],
    ) {
        let wanted: Vec<(usize, &mapping::ItemLookup)> = needs
            .iter()
            .enumerate()
            .filter(|(j, _)| jobs[*j].failure.is_none())
            .flat_map(|(j, n)| n.items.iter().map(move |l| (j, l)))
            .collect();
        let lookups: Vec<Lookup> = wanted
            .iter()
            .map(|(_, l)| Lookup {
                board_id: l.board_id.clone(),
                column_id: l.column_id.clone(),
                value: l.value.clone(),
            })
            .collect();
        let results = self.monday.find_items_many(&lookups).await;
        let mut taken: BTreeSet<String> = BTreeSet::new();
        for ((j, lookup), result) in wanted.into_iter().zip(results) {
            if jobs[j].failure.is_some() || found[j].items.contains_key(&lookup.board) {
                continue;
            }
            let board = rules
                .boards()
                .iter()
                .find(|b| b.board_id == lookup.board_id)
                .map_or(lookup.board_id.as_str(), |b| b.name.as_str());
            let items = match result {
                Ok(items) => items,
                Err(error) => {
                    jobs[j].failure = Some(Failure::Monday {
                        board: board.to_string(),
                        error,
                    });
                    continue;
                }
            };
            for item in items.into_iter().filter(|i| i.active) {
                if lookup.exclusive {
                    if taken.contains(&item.id)
                        || self
                            .mirrors_another(&lookup.board_id, &item.id, &jobs[j])
                            .await
                    {
                        continue;
                    }
                    tracing::info!(item_id = %item.id, %board,
                        entity_id = %jobs[j].claim.entity_id, column = %lookup.column_id,
                        "adopting the item already on the board");
                    taken.insert(item.id.clone());
                }
                found[j].items.insert(lookup.board, item.id);
                break;
            }
        }
    }

    /// The item already mirrors another Aircall entity (the bridge made or adopted it for that
    /// one): adopting it too would merge two contacts into one item.
    async fn mirrors_another(&self, board_id: &str, item_id: &str, job: &Job) -> bool {
        match self.store.item_owner(board_id, item_id).await {
            Ok(Some((kind, id))) => kind != job.claim.kind || id != job.claim.entity_id,
            Ok(None) => false,
            // Unsure: better a second item than two contacts merged into one.
            Err(_) => true,
        }
    }
}

/// What each job's plan needs (nothing for a job that failed); a job whose mapping fails fails.
fn needs_of(rules: &Rules, jobs: &mut [Job]) -> Vec<Needs> {
    let mut needs: Vec<Needs> = Vec::with_capacity(jobs.len());
    for job in jobs.iter_mut() {
        let wanted = match (&job.failure, job.subject()) {
            (None, Some(subject)) => mapping::needs(rules, &subject),
            _ => Ok(Needs::default()),
        };
        needs.push(wanted.unwrap_or_else(|error| {
            job.failure = Some(Failure::Mapping(error.to_string()));
            Needs::default()
        }));
    }
    needs
}

/// Fails the jobs (not failed yet) whose needs `affected` says the failed look-up was for.
fn fail_needing(
    jobs: &mut [Job],
    needs: &[Needs],
    board: &str,
    error: &MondayError,
    affected: impl Fn(&Needs) -> bool,
) {
    for (job, need) in jobs.iter_mut().zip(needs) {
        if job.failure.is_none() && affected(need) {
            job.failure = Some(Failure::Monday {
                board: board.into(),
                error: error.clone(),
            });
        }
    }
}
