//! One claimed call or contact on its way through a reconcile: folded, planned per board,
//! updated with monday's answers, and turned into the outcome the store records.

use crate::config::{BoardRule, Entity};
use crate::mapping::{
    self, DesiredItem, Effect, EventInput, Known, MappingError, Observed, Rules, Step, SyncedItem,
};
use crate::monday::{Applied, Decision, MondayError};
use crate::store::{Claim, Intent, Link};

pub(super) struct BoardJob {
    pub index: usize,
    pub item_id: Option<String>,
    pub synced: SyncedItem,
    pub desired: DesiredItem,
}

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
    pub observed: String,
    /// The folded state (`None` when the events cannot be folded).
    pub state: Option<Observed>,
    pub boards: Vec<BoardJob>,
    pub failure: Option<Failure>,
    /// A command succeeded but left more to do (a create answered from monday's cache, an
    /// item deleted on the board): reconcile again right away.
    pub another_round: bool,
    /// Boards whose item was created by this reconcile: what needs the item id (updates)
    /// is planned right after, in the same reconcile.
    pub created: Vec<usize>,
    /// Effects monday would apply twice whose outcome is not known yet (see `intents`).
    pub intents: Vec<Intent>,
}

impl Job {
    /// Folds the claim's events; the boards are derived once the lookups are done.
    pub fn prepare(claim: Claim) -> Job {
        let mut job = Job {
            observed: claim.observed.clone().unwrap_or_default(),
            claim,
            state: None,
            boards: Vec::new(),
            failure: None,
            another_round: false,
            created: Vec::new(),
            intents: Vec::new(),
        };
        job.intents = job.claim.intents.clone();
        match fold(&job.claim) {
            Ok(o) => {
                job.observed = serde_json::to_string(&o).unwrap_or_default();
                job.state = Some(o);
            }
            Err(e) => job.failure = Some(Failure::Mapping(e.to_string())),
        }
        job
    }

    /// Whether the call has ended (its last status is known); contacts count as final.
    pub fn is_final(&self) -> bool {
        match &self.state {
            Some(mapping::Observed::Call(c)) => c.phase == mapping::Phase::Ended,
            _ => true,
        }
    }

    /// The desired item on each board that mirrors the entity, next to what was synced.
    pub fn derive(&mut self, rules: &Rules, known: &Known) {
        let Some(observed) = &self.state else {
            return;
        };
        let entity = Entity::parse(&self.claim.kind).unwrap_or(Entity::Call);
        for (index, board) in rules.boards_for(entity) {
            let link = self
                .claim
                .links
                .iter()
                .find(|l| l.board_id == board.board_id);
            let desired = match mapping::desired_with(rules, index, observed, known) {
                Ok(d) => d,
                Err(e) => {
                    self.failure = Some(Failure::Mapping(format!("board {}: {e}", board.name)));
                    self.boards.clear();
                    return;
                }
            };
            let item_id = link.and_then(|l| l.item_id.clone());
            // What the bridge wrote there decides what it writes, posts and uploads next: a
            // record it cannot read must stop the entity, not pass for "never synced" (every
            // comment would be posted again, every recording uploaded again).
            let mut synced: SyncedItem = match link.map(|l| serde_json::from_str(&l.synced)) {
                None => SyncedItem::default(),
                Some(Ok(synced)) => synced,
                Some(Err(e)) => {
                    self.failure = Some(Failure::Mapping(format!(
                        "board {}: cannot read what the bridge last wrote to item {} of {} {} \
                         (the store's links table): {e}; the store is damaged: restore it \
                         from a backup, then replay this dead letter",
                        board.name,
                        item_id.as_deref().unwrap_or("-"),
                        self.claim.kind,
                        self.claim.entity_id
                    )));
                    self.boards.clear();
                    return;
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
            self.boards.push(BoardJob {
                index,
                item_id,
                synced,
                desired,
            });
        }
    }

    /// The item's own command first (create, change or archive), then a move and the comments
    /// to post.
    pub fn plan(&self, rules: &Rules, board: usize) -> Vec<Step> {
        let b = &self.boards[board];
        let rule = &rules.boards()[b.index];
        let item = mapping::plan(
            rule,
            &self.claim.entity_id,
            &b.desired,
            b.item_id.as_deref(),
            &b.synced,
        );
        let extras = mapping::plan_extras(
            rule,
            &self.claim.entity_id,
            &b.desired,
            b.item_id.as_deref(),
            &b.synced,
        );
        item.into_iter().chain(extras).collect()
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
        // What the item's columns hold is not known: the next plan writes every column. What
        // the bridge did apart from columns stays remembered, so no comment is posted twice.
        // The group is forgotten: the item stays in the group a person put it in until its
        // route changes.
        b.synced = SyncedItem {
            posted_comments: std::mem::take(&mut b.synced.posted_comments),
            uploaded: std::mem::take(&mut b.synced.uploaded),
            ..SyncedItem::default()
        };
    }

    pub fn links(&self, rules: &Rules) -> Vec<Link> {
        self.boards
            .iter()
            .map(|b| Link {
                board_id: rules.boards()[b.index].board_id.clone(),
                item_id: b.item_id.clone(),
                synced: serde_json::to_string(&b.synced).unwrap_or_default(),
            })
            .collect()
    }
}

fn fold(claim: &Claim) -> Result<Observed, MappingError> {
    let entity = Entity::parse(&claim.kind).ok_or_else(|| MappingError::Payload {
        event: claim.kind.clone(),
        message: "unknown entity kind".into(),
    })?;
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
