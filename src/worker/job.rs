//! One claimed call or contact on its way through a reconcile: folded, its items on the
//! boards read from its links, updated with monday's answers, and turned into the outcome the
//! store records.
//! (Just over 300 lines: a job and what each answer does to it are one record.)

use crate::config::{BoardRule, Entity};
use crate::mapping::{
    self, BoardState, Effect, EventInput, MappingError, Observed, Rules, Step, Subject, SyncedItem,
};
use crate::monday::{Applied, Decision, MondayError};
use crate::store::{Claim, Intent, Link};

pub(super) enum Failure {
    /// The events cannot be mapped (bad payload, template error): no retry will help.
    Mapping(String),
    Monday {
        board: String,
        error: MondayError,
    },
    /// A recording or voicemail could not be downloaded for its file column.
    Download {
        board: String,
        message: String,
    },
    /// Aircall's API did not answer for the call's AI insights.
    Insights(String),
    /// The store refused a write that had to come before a request (its intents).
    Store(String),
    /// An open intent cannot be settled before `due_ms` (its request may still be running).
    Settling {
        due_ms: i64,
        message: String,
    },
    /// The daily-budget governor holds the call's changes back until `due_ms`.
    Held {
        due_ms: i64,
        mode: &'static str,
    },
}

pub(super) struct Job {
    pub claim: Claim,
    pub entity: Entity,
    pub observed: String,
    /// The folded state (`None` when the events cannot be folded).
    pub state: Option<Observed>,
    /// The entity's item on each board it is written on (`mapping::boards_of`).
    pub boards: Vec<BoardState>,
    pub failure: Option<Failure>,
    /// A command succeeded but left more to do (a create answered from monday's cache, an
    /// item deleted on the board): reconcile again right away.
    pub another_round: bool,
    /// Boards whose item was created by this reconcile: what needs the item id (updates)
    /// is planned right after, in the same reconcile.
    pub created: Vec<usize>,
    /// Boards whose plan waits for an item this reconcile creates on another board: planned
    /// again once it exists.
    pub waiting: Vec<usize>,
    /// Effects monday would apply twice whose outcome is not known yet (see `intents`).
    pub intents: Vec<Intent>,
    /// Reconcile again then, even after a success: AI insights still settling (`insights`).
    pub revisit_ms: Option<i64>,
}

impl Job {
    /// Folds the claim's events and reads its items on the boards from its links.
    pub fn prepare(claim: Claim, rules: &Rules) -> Job {
        let mut job = Job {
            observed: claim.observed.clone().unwrap_or_default(),
            entity: claim.kind,
            claim,
            state: None,
            boards: Vec::new(),
            failure: None,
            another_round: false,
            created: Vec::new(),
            waiting: Vec::new(),
            intents: Vec::new(),
            revisit_ms: None,
        };
        job.intents = job.claim.intents.clone();
        match fold(&job.claim) {
            Ok(o) => {
                job.observed = serde_json::to_string(&o).unwrap_or_default();
                job.state = Some(o);
            }
            Err(e) => {
                job.failure = Some(Failure::Mapping(e.to_string()));
                return job;
            }
        }
        if let Err(message) = job.read_links(rules) {
            job.failure = Some(Failure::Mapping(message));
            job.boards.clear();
        }
        job
    }

    /// What the planner plans for (`None` when the events could not be folded).
    pub fn subject(&self) -> Option<Subject<'_>> {
        Some(Subject {
            entity: self.entity,
            entity_id: &self.claim.entity_id,
            observed: self.state.as_ref()?,
            boards: &self.boards,
        })
    }

    /// Whether the call has ended (its last status is known); contacts count as final.
    pub fn is_final(&self) -> bool {
        match &self.state {
            Some(mapping::Observed::Call(c)) => c.phase == mapping::Phase::Ended,
            _ => true,
        }
    }

    /// The entity's item on each of its boards, next to what was synced there.
    fn read_links(&mut self, rules: &Rules) -> Result<(), String> {
        for index in mapping::boards_of(rules, self.entity) {
            let board = &rules.boards()[index];
            let link = self
                .claim
                .links
                .iter()
                .find(|l| l.board_id == board.board_id);
            let item_id = link.and_then(|l| l.item_id.clone());
            // What the bridge wrote there decides what it writes, posts and uploads next: a
            // record it cannot read must stop the entity, not pass for "never synced" (every
            // comment would be posted again, every recording uploaded again).
            let mut synced: SyncedItem = match link.map(|l| serde_json::from_str(&l.synced)) {
                None => SyncedItem::default(),
                Some(Ok(synced)) => synced,
                Some(Err(e)) => {
                    return Err(format!(
                        "board {}: cannot read what the bridge last wrote to item {} of {} {} \
                         (the store's links table): {e}; the store is damaged: restore it \
                         from a backup, then replay this dead letter",
                        board.name,
                        item_id.as_deref().unwrap_or("-"),
                        self.claim.kind,
                        self.claim.entity_id
                    ));
                }
            };
            // Written by a version before intents: the create's request is not known, so the
            // item is looked up by its Aircall id.
            if std::mem::take(&mut synced.create_uncertain) && item_id.is_none() {
                self.intents.push(Intent {
                    board_id: board.board_id.clone(),
                    effect: "create_item".into(),
                    target: String::new(),
                    request_key: String::new(),
                    request: "[]".into(),
                    position: 0,
                    opened_ms: 0,
                });
            }
            self.boards.push(BoardState {
                index,
                item_id,
                synced,
            });
        }
        Ok(())
    }

    /// Records monday's answer to the step planned for `board`.
    pub fn apply(
        &mut self,
        rule: &BoardRule,
        board: usize,
        step: Step,
        result: Result<Applied, MondayError>,
        recreate: bool,
    ) {
        let b = &mut self.boards[board];
        match result {
            Ok(applied) => match step.effect {
                Effect::Posted(_) | Effect::Moved(_) | Effect::Uploaded(_) => {
                    step.effect.settle(&mut b.synced)
                }
                Effect::Item(_) => {
                    let created = b.item_id.is_none();
                    if created && applied.replayed {
                        // Created earlier with values we no longer know: write them all again
                        // (what was posted or uploaded on it stays remembered).
                        self.adopt(board, applied.item_id);
                        self.another_round = true;
                    } else {
                        if created && rule.entity != self.entity {
                            tracing::info!(item_id = %applied.item_id, board = %rule.name,
                                "created a contact item for a number Aircall has no contact for");
                        }
                        b.item_id = Some(applied.item_id);
                        step.effect.settle(&mut b.synced);
                        b.synced.refused = None;
                        if created {
                            self.created.push(board);
                        }
                    }
                }
            },
            Err(e) if e.decision() == Decision::ItemGone && b.item_id.is_some() => {
                tracing::warn!(item_id = ?b.item_id, board = %rule.name, recreate, "the item was deleted on monday");
                if recreate {
                    b.synced = SyncedItem {
                        replaces: b.item_id.take(),
                        ..SyncedItem::default()
                    };
                    self.another_round = true;
                } else {
                    // Leave the board alone for this entity from now on.
                    b.synced.archived = true;
                }
            }
            Err(error) => {
                if error.decision() == Decision::DeadLetter {
                    b.synced.refused = Some(step.command.idempotency_key().to_string());
                }
                if self.failure.is_none() {
                    self.failure = Some(Failure::Monday {
                        board: rule.name.clone(),
                        error,
                    });
                }
            }
        }
    }

    /// Takes over an item found on the board (lost by a crash, or there before the bridge).
    pub fn adopt(&mut self, board: usize, item_id: String) {
        let b = &mut self.boards[board];
        b.item_id = Some(item_id);
        b.synced = b.synced.adopted();
    }

    /// The links to record. A board that mirrors another kind of entity (the contact item of
    /// a call's number) is recorded only while it holds the item, and cleared once it no
    /// longer does.
    pub fn links(&self, rules: &Rules) -> Vec<Link> {
        let mut out = Vec::new();
        for (place, b) in self.boards.iter().enumerate() {
            let board_id = &rules.boards()[b.index].board_id;
            let item_id = mapping::item_to_record(rules, self.entity, &self.boards, place);
            let mut synced = &b.synced;
            let default = SyncedItem::default();
            if rules.boards()[b.index].entity != self.entity {
                let recorded = self
                    .claim
                    .links
                    .iter()
                    .any(|l| &l.board_id == board_id && l.item_id.is_some());
                match item_id {
                    None if !recorded => continue,
                    None => synced = &default,
                    Some(_) => {}
                }
            }
            out.push(Link {
                board_id: board_id.clone(),
                item_id: item_id.map(str::to_string),
                synced: serde_json::to_string(synced).unwrap_or_default(),
            });
        }
        out
    }
}

fn fold(claim: &Claim) -> Result<Observed, MappingError> {
    let entity = claim.kind;
    let previous: Option<Observed> = match claim.observed.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            serde_json::from_str(text).map_err(|e| MappingError::Payload {
                event: "stored state".into(),
                message: format!(
                    "cannot read the stored state of {} {}: {e}",
                    claim.kind, claim.entity_id
                ),
            })?,
        ),
    };
    let data: Vec<(String, i64, serde_json::Value)> = claim
        .events
        .iter()
        .map(|e| {
            let value = serde_json::from_str(&e.data).map_err(|err| MappingError::Payload {
                event: e.event.clone(),
                message: err.to_string(),
            })?;
            Ok((e.event.clone(), e.timestamp, value))
        })
        .collect::<Result<_, MappingError>>()?;
    let inputs: Vec<EventInput<'_>> = data
        .iter()
        .map(|(event, timestamp, data)| EventInput {
            event,
            timestamp: *timestamp,
            data,
        })
        .collect();
    mapping::fold(entity, previous, &inputs)
}
