//! The plan and send phases: every command comes out of `mapping::plan`. What needed an item
//! created just now (its updates, a call's items waiting for the contact item of its number)
//! is planned again and sent in the same reconcile, so a note that arrived before the item
//! does not wait for the next event.

use std::collections::BTreeSet;

use super::job::{Failure, Job};
use super::{now_ms, Planned, Worker};
use crate::mapping::{self, Found, Rules};

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
        let now = now_ms();
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
}
