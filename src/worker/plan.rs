//! The plan and send phases: every command comes out of `mapping::plan`, and is sent in
//! batches (several items in one request when a backlog builds up). What needed an item
//! created just now (its updates, a call's items waiting for the contact item of its number)
//! is planned again and sent in the same reconcile, so a note that arrived before the item
//! does not wait for the next event.

use std::collections::BTreeSet;

use super::job::{Failure, Job};
use super::{Planned, Worker};
use crate::mapping::{self, Found, MondayCommand, Rules};
use crate::monday::MondayError;

/// A create, then what waited for it, then the updates of what that created.
const ROUNDS: usize = 3;

impl Worker {
    pub(super) async fn plan_and_send(&self, rules: &Rules, jobs: &mut [Job], found: &[Found]) {
        // `None`: every board of the job; then the boards a round made plannable.
        let mut only: Vec<Option<Vec<usize>>> = vec![None; jobs.len()];
        for _ in 0..ROUNDS {
            let planned = self.plan_round(rules, jobs, found, &only);
            if planned.is_empty() {
                break;
            }
            self.send(rules, jobs, planned).await;
            only = jobs
                .iter_mut()
                .map(|job| {
                    let mut next = std::mem::take(&mut job.created);
                    if !next.is_empty() {
                        next.append(&mut job.waiting);
                    }
                    Some(next)
                })
                .collect();
        }
    }

    /// The steps of every job on the boards of `only`, and the items they take over recorded in
    /// their jobs.
    fn plan_round(
        &self,
        rules: &Rules,
        jobs: &mut [Job],
        found: &[Found],
        only: &[Option<Vec<usize>>],
    ) -> Vec<Planned> {
        let now = self.clock.now_ms();
        let mut planned = Vec::new();
        // Effects monday would apply twice, by key: two entities of one reconcile that plan the
        // same one (two calls from one unknown number, one contact item) send it once.
        let mut adding: BTreeSet<String> = BTreeSet::new();
        for (j, job) in jobs.iter_mut().enumerate() {
            if job.failure.is_some() || only[j].as_ref().is_some_and(Vec::is_empty) {
                continue;
            }
            let Some(subject) = job.subject() else {
                continue;
            };
            let plans = match mapping::plan(rules, &subject, &found[j], now) {
                Ok(plans) => plans,
                Err(error) => {
                    job.failure = Some(Failure::Mapping(error.to_string()));
                    continue;
                }
            };
            let selected = |place: usize| only[j].as_ref().is_none_or(|o| o.contains(&place));
            let mut plans: Vec<(usize, mapping::BoardPlan)> = plans
                .into_iter()
                .enumerate()
                .filter(|(place, _)| selected(*place))
                .collect();
            let shared = plans
                .iter()
                .flat_map(|(_, p)| &p.steps)
                .any(|s| s.command.adds() && adding.contains(s.command.idempotency_key()));
            if shared {
                // The other entity's request makes it; this one finds it next time.
                job.another_round = true;
                continue;
            }
            for (place, plan) in plans.drain(..) {
                if let Some(item) = plan.adopt {
                    job.adopt(place, item);
                }
                if plan.waits {
                    job.waiting.push(place);
                }
                for step in plan.steps {
                    if step.command.adds() {
                        adding.insert(step.command.idempotency_key().to_string());
                    }
                    planned.push(Planned {
                        job: j,
                        board: place,
                        step,
                    });
                }
            }
        }
        planned
    }

    /// Hands monday's answer to one planned step to its job.
    pub(super) fn settle(
        &self,
        rules: &Rules,
        jobs: &mut [Job],
        p: Planned,
        result: Result<crate::monday::Applied, MondayError>,
    ) {
        self.health.monday_answered(&result, self.clock.now_ms());
        let rule = &rules.boards()[jobs[p.job].boards[p.board].index];
        jobs[p.job].apply(
            rule,
            p.board,
            p.step,
            result,
            self.settings.recreate_deleted_items,
        );
    }

    /// Sends the planned commands in batches. Commands monday would apply twice (creates,
    /// updates) travel only with their own kind, so that sending such a request again to settle
    /// its intents can never write a stale column value; their intents are committed before
    /// the request leaves.
    async fn send(&self, rules: &Rules, jobs: &mut [Job], planned: Vec<Planned>) {
        // Files go one by one, after the batches: each is a download and a multipart request.
        let (files, planned): (Vec<Planned>, Vec<Planned>) = planned
            .into_iter()
            .partition(|p| matches!(p.step.command, MondayCommand::AddFile { .. }));
        let (adds, sets): (Vec<Planned>, Vec<Planned>) =
            planned.into_iter().partition(|p| p.step.command.adds());
        let size = self.batch_size();
        let mut chunks: Vec<Vec<Planned>> = Vec::new();
        for kind in [adds, sets] {
            let mut rest = kind.into_iter().peekable();
            while rest.peek().is_some() {
                chunks.push(rest.by_ref().take(size).collect());
            }
        }
        for chunk in chunks {
            let commands: Vec<&MondayCommand> = chunk.iter().map(|p| &p.step.command).collect();
            let key = crate::monday::request_key(&commands);
            if !self.write_intents(rules, jobs, &chunk, &key).await {
                continue;
            }
            // One span per monday request, naming the calls/contacts it carries and, once
            // answered, their items, so a log line leads from an Aircall id to a monday item.
            let entity_ids: Vec<&str> = chunk
                .iter()
                .map(|p| jobs[p.job].claim.entity_id.as_str())
                .collect();
            let span = tracing::info_span!(
                "monday_request",
                entity_ids = %entity_ids.join(","),
                item_ids = tracing::field::Empty
            );
            let results = {
                use tracing::Instrument;
                self.monday
                    .send(&key, &commands)
                    .instrument(span.clone())
                    .await
            };
            let item_ids: Vec<&str> = results
                .iter()
                .filter_map(|r| r.as_ref().ok().map(|a| a.item_id.as_str()))
                .collect();
            span.record("item_ids", item_ids.join(",").as_str());
            let failed = results.iter().filter(|r| r.is_err()).count();
            tracing::debug!(parent: &span, commands = commands.len(), failed, "monday request done");
            self.adapt_batch(commands.len(), &results);
            for (p, result) in chunk.into_iter().zip(results) {
                jobs[p.job].answered(&p.step, &result);
                self.settle(rules, jobs, p, result);
            }
        }
        for p in files {
            self.upload(rules, jobs, p).await;
        }
    }
}
