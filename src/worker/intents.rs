//! The intent rule (docs/how-it-works.md, "Exactly once"): before a request that carries an
//! effect monday would apply twice leaves, the store commits an intent for each such effect
//! together with the entity's links as they are. Only a definite outcome removes an intent:
//! monday's answer, a definite refusal, or a look-up that proves the effect absent. A claim
//! that finds open intents settles them before anything else is planned: within monday's
//! idempotency window by sending the very same request again under the same key (monday
//! answers from its cache, or runs it for the first time if it never arrived), later (and for
//! uploads, whose idempotency monday does not document) by looking the effect up on the board.
//! A look-up or a re-send that fails leaves the intent open.
//!
//! (Over 300 lines on purpose: the exactly-once rule reads best as one file, opening and
//! settling side by side.)

use std::collections::BTreeMap;

use super::job::{Failure, Job};
use super::{Planned, Worker};
use crate::mapping::{Effect, MondayCommand, Rules, Step};
use crate::monday::{Applied, Decision, MondayError};
use crate::store::{Checkpoint, Intent};

/// What settling an intent found out.
enum Settled {
    /// The effect is on monday: for a create, the item's id.
    Present(Option<String>),
    /// The effect is not on monday: plan it again.
    Absent,
}

/// Which effect of its kind a step is: the comment of an update, the column of an upload.
fn target(step: &Step) -> String {
    match &step.effect {
        Effect::Posted(comment) => comment.clone(),
        Effect::Uploaded(column) => column.clone(),
        Effect::Item(_) | Effect::Moved(_) => String::new(),
    }
}

fn same_effect(intent: &Intent, step: &Step) -> bool {
    intent.board_id == step.command.board_id()
        && intent.effect == step.command.name()
        && intent.target == target(step)
}

/// An error to a first send that proves the command was not applied. A conflict means another
/// request under the same key is running: its effect may still land.
fn proves_absent(error: &MondayError) -> bool {
    !error.is_ambiguous() && !error.kind().eq_ignore_ascii_case("IDEMPOTENCY_CONFLICT")
}

/// An error to a re-sent request that settles it: monday refused the command for good (from
/// its cache or afresh), or the item an update was for is gone. Anything else says nothing of
/// the first send.
fn refused_for_good(error: &MondayError) -> bool {
    matches!(error.decision(), Decision::DeadLetter | Decision::ItemGone)
}

impl Job {
    /// Opens an intent for each of its steps (with their places in the request) that monday
    /// would apply twice.
    fn open_intents(&mut self, steps: &[(usize, &Step)], key: &str, request: &str, now_ms: i64) {
        for &(position, step) in steps {
            if !step.command.adds() || self.intents.iter().any(|i| same_effect(i, step)) {
                continue;
            }
            self.intents.push(Intent {
                board_id: step.command.board_id().to_string(),
                effect: step.command.name().to_string(),
                target: target(step),
                request_key: key.to_string(),
                request: request.to_string(),
                position,
                opened_ms: now_ms,
            });
        }
    }

    /// monday answered `step`: its intent is settled when the answer is definite.
    pub(super) fn answered(&mut self, step: &Step, result: &Result<Applied, MondayError>) {
        let definite = match result {
            Ok(_) => true,
            Err(e) => proves_absent(e),
        };
        if definite {
            self.intents.retain(|i| !same_effect(i, step));
        }
    }

    fn checkpoint(&self, rules: &Rules) -> Checkpoint {
        Checkpoint {
            row: self.claim.row,
            owner: self.claim.owner.clone(),
            links: self.links(rules),
            intents: self.intents.clone(),
        }
    }

    /// Records what settling `intent` found on its board.
    fn settle(&mut self, rules: &Rules, intent: &Intent, settled: Settled) {
        let Some(board) = self
            .boards
            .iter()
            .position(|b| rules.boards()[b.index].board_id == intent.board_id)
        else {
            tracing::warn!(board_id = %intent.board_id, effect = %intent.effect,
                "an open intent names a board no longer mapped: forgotten");
            return;
        };
        let Settled::Present(item) = settled else {
            return;
        };
        match intent.effect.as_str() {
            "create_item" => {
                if let Some(item) = item {
                    self.adopt(board, item);
                }
            }
            "create_update" | "create_subitem" => {
                self.boards[board]
                    .synced
                    .posted_comments
                    .insert(intent.target.clone());
            }
            _ => {
                self.boards[board]
                    .synced
                    .uploaded
                    .insert(intent.target.clone());
            }
        }
    }
}

impl Worker {
    /// Commits the intents of a request about to leave, with the links of the jobs it serves.
    /// `false`: it could not be written, and the request must not leave.
    pub(super) async fn write_intents(
        &self,
        rules: &Rules,
        jobs: &mut [Job],
        chunk: &[Planned],
        key: &str,
    ) -> bool {
        if !chunk.iter().any(|p| p.step.command.adds()) {
            return true;
        }
        let commands: Vec<&MondayCommand> = chunk.iter().map(|p| &p.step.command).collect();
        let request = serde_json::to_string(&commands).unwrap_or_default();
        let now = self.clock.now_ms();
        let mut served: Vec<usize> = Vec::new();
        for p in chunk {
            if !served.contains(&p.job) {
                served.push(p.job);
            }
        }
        for &j in &served {
            let own: Vec<(usize, &Step)> = chunk
                .iter()
                .enumerate()
                .filter(|(_, p)| p.job == j)
                .map(|(position, p)| (position, &p.step))
                .collect();
            jobs[j].open_intents(&own, key, &request, now);
        }
        let checkpoints = served.iter().map(|&j| jobs[j].checkpoint(rules)).collect();
        match self.store.checkpoint(checkpoints, now).await {
            Ok(()) => true,
            Err(error) => {
                tracing::error!(%error, "cannot write the intents down: the request stays unsent");
                for &j in &served {
                    // Not opened after all: nothing left.
                    jobs[j]
                        .intents
                        .retain(|i| i.request_key != key || i.opened_ms != now);
                    if jobs[j].failure.is_none() {
                        jobs[j].failure = Some(Failure::Store(error.to_string()));
                    }
                }
                false
            }
        }
    }

    /// Settles every open intent of the jobs before anything is planned for them. A job whose
    /// intent stays open plans nothing this time and is retried.
    pub(super) async fn settle_intents(&self, rules: &Rules, jobs: &mut [Job]) {
        // A request several jobs' intents belong to is sent again once per reconcile.
        let mut resent: BTreeMap<String, Vec<Result<Applied, MondayError>>> = BTreeMap::new();
        let now = self.clock.now_ms();
        for job in jobs.iter_mut().filter(|j| j.failure.is_none()) {
            for intent in std::mem::take(&mut job.intents) {
                match self.settle_one(rules, job, &intent, now, &mut resent).await {
                    Ok(settled) => {
                        if let Settled::Absent = settled {
                            tracing::info!(entity_id = %job.claim.entity_id, effect = %intent.effect,
                                board_id = %intent.board_id, "an interrupted effect never reached monday");
                        }
                        job.settle(rules, &intent, settled);
                    }
                    Err(failure) => {
                        job.intents.push(intent);
                        if job.failure.is_none() {
                            job.failure = Some(failure);
                        }
                    }
                }
            }
        }
    }

    /// Whether every effect of the request is still in doubt. Once one of them is settled (its
    /// entity learned a definite answer, say that the request was refused), sending the whole
    /// request again could apply that effect a second time behind its entity's back: the others
    /// are then looked up instead.
    async fn whole_request_open(&self, key: &str, request: &[MondayCommand]) -> bool {
        let adds = request.iter().filter(|c| c.adds()).count();
        match self.store.open_intents_of_request(key).await {
            Ok(open) => open >= adds,
            Err(error) => {
                tracing::warn!(%error, "cannot count the request's open intents: looking up instead");
                false
            }
        }
    }

    async fn settle_one(
        &self,
        rules: &Rules,
        job: &Job,
        intent: &Intent,
        now: i64,
        resent: &mut BTreeMap<String, Vec<Result<Applied, MondayError>>>,
    ) -> Result<Settled, Failure> {
        let rule = rules
            .boards()
            .iter()
            .find(|b| b.board_id == intent.board_id);
        let board_name = rule.map_or(intent.board_id.clone(), |r| r.name.clone());
        let monday = |error: MondayError| Failure::Monday {
            board: board_name.clone(),
            error,
        };
        let request: Vec<MondayCommand> = serde_json::from_str(&intent.request).unwrap_or_default();
        let window = self.settings.idempotency_window.as_millis() as i64;
        let in_window = now - intent.opened_ms < window;
        let resendable = in_window
            && intent.effect != "add_file_to_column"
            && intent.position < request.len()
            && (resent.contains_key(&intent.request_key)
                || self.whole_request_open(&intent.request_key, &request).await);
        if resendable {
            if !resent.contains_key(&intent.request_key) {
                let commands: Vec<&MondayCommand> = request.iter().collect();
                tracing::info!(entity_id = %job.claim.entity_id, effect = %intent.effect,
                    commands = commands.len(), "sending an interrupted request again under its key");
                let results = self.monday.send(&intent.request_key, &commands).await;
                for r in &results {
                    self.health.monday_answered(r, self.clock.now_ms());
                }
                resent.insert(intent.request_key.clone(), results);
            }
            return match &resent[&intent.request_key][intent.position] {
                Ok(applied) => Ok(Settled::Present(Some(applied.item_id.clone()))),
                Err(e) if refused_for_good(e) => Ok(Settled::Absent),
                Err(e) => Err(monday(e.clone())),
            };
        }
        // Looked up: but not before the request must have finished on monday's side.
        let settled_ms = intent.opened_ms + self.settings.uncertain_create_wait.as_millis() as i64;
        if now < settled_ms {
            return Err(Failure::Settling {
                due_ms: settled_ms,
                message: format!(
                    "board {board_name}: waiting for an interrupted {} to finish before looking it up",
                    intent.effect
                ),
            });
        }
        match request.get(intent.position) {
            Some(MondayCommand::CreateUpdate { item_id, body, .. }) => {
                let found = self.monday.item_effects(item_id).await.map_err(monday)?;
                Ok(match found {
                    Some(f) if f.update_bodies.iter().any(|b| b.trim() == body.trim()) => {
                        Settled::Present(None)
                    }
                    _ => Settled::Absent,
                })
            }
            Some(MondayCommand::CreateSubitem {
                parent_item_id,
                item_name,
                ..
            }) => {
                let found = self
                    .monday
                    .item_effects(parent_item_id)
                    .await
                    .map_err(monday)?;
                Ok(match found {
                    Some(f) if f.subitem_names.iter().any(|n| n.trim() == item_name.trim()) => {
                        Settled::Present(None)
                    }
                    _ => Settled::Absent,
                })
            }
            Some(MondayCommand::AddFile {
                item_id, file_name, ..
            }) => {
                let found = self.monday.item_effects(item_id).await.map_err(monday)?;
                Ok(match found {
                    Some(f) if f.file_names.iter().any(|n| n == file_name) => {
                        Settled::Present(None)
                    }
                    _ => Settled::Absent,
                })
            }
            // The contact item of a call's number: its board's Aircall-id column holds contact
            // ids, not the call's. Absent here; the plan looks the number up before it creates.
            _ if rule.is_some_and(|r| r.entity != job.claim.kind) => Ok(Settled::Absent),
            // A create (or an intent whose request cannot be read): by the Aircall-id column.
            _ => {
                let Some(column) = rule.and_then(|r| r.aircall_id_column.as_ref()) else {
                    tracing::warn!(board = %board_name, entity_id = %job.claim.entity_id,
                        "an interrupted create cannot be looked up (the board has no \
                         aircall_id_column): creating again, which may make a second item");
                    return Ok(Settled::Absent);
                };
                let items = self
                    .monday
                    .find_items(&intent.board_id, column, &job.claim.entity_id)
                    .await
                    .map_err(monday)?;
                Ok(match items.into_iter().find(|i| i.active) {
                    Some(found) => {
                        tracing::info!(item_id = %found.id, board = %board_name,
                            entity_id = %job.claim.entity_id, "found the item an interrupted create made");
                        Settled::Present(Some(found.id))
                    }
                    None => Settled::Absent,
                })
            }
        }
    }
}
