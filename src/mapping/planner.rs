//! The planner's one entry, in two questions. `needs`: what must be looked up before an entity
//! can be planned (monday users by email, tag ids by name, the contact's item in the store,
//! items on a board by a column value). `plan`: given what was found, the exact commands that
//! bring each board in step, and which item found on a board the entity takes over. The
//! worker answers the first question with I/O and sends what the second one says; it knows no
//! column kinds and no monday column JSON.
//!
//! The boards an entity is written on are its own boards and, for a call from a number Aircall
//! has no contact for (`create_contact_for_unknown_numbers`), the contact board: there the
//! call finds or creates the contact item its items link to, under the call's own link.

use std::collections::{BTreeMap, BTreeSet};

use super::boards::{BoardRule, ColumnKind, Entity};
use super::columns::lookup_value;
use super::fields::FieldValue;
use super::known::{tag_name, Known};
use super::numbers::{create_for_number, number_item, number_lookup, unlinked_number};
use super::observed::Observed;
use super::plan::{desired_with, fields_of, plan_extras, plan_item};
use super::rules::Rules;
use super::synced::{Step, SyncedItem};
use super::MappingError;

/// One entity's item on one board, as the store keeps it (its link).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BoardState {
    /// The board's place in `Rules::boards`.
    pub index: usize,
    pub item_id: Option<String>,
    /// What the bridge last wrote to the item.
    pub synced: SyncedItem,
}

/// An entity to plan: its observed state and its item on each board of [`boards_of`].
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub entity: Entity,
    pub entity_id: &'a str,
    pub observed: &'a Observed,
    pub boards: &'a [BoardState],
}

/// Items of a board whose column holds a value (monday's `items_page_by_column_values`).
#[derive(Debug, Clone, PartialEq)]
pub struct ItemLookup {
    /// The place in `Subject::boards` of the board the found item is for.
    pub board: usize,
    pub board_id: String,
    pub column_id: String,
    pub value: String,
    /// The entity takes the item over: not one that mirrors another entity, nor one that
    /// another entity of the same reconcile takes. Otherwise (a call linking to the contact
    /// item with its number) any active item will do.
    pub exclusive: bool,
}

/// What must be looked up before an entity can be planned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Needs {
    /// monday users by email (trimmed, lowercased), for people columns.
    pub users: BTreeSet<String>,
    /// monday tag ids by name as monday stores it ([`tag_name`]), for tags columns.
    pub tags: BTreeSet<String>,
    /// The item of this Aircall contact (its id) on the board named here (the store's links),
    /// for board_relation columns.
    pub contact_item: Option<(String, String)>,
    /// Items on the boards: the first lookup of a board that finds one wins.
    pub items: Vec<ItemLookup>,
}

/// What was found for [`Needs`]: whatever is missing was not found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Found {
    pub users: BTreeMap<String, u64>,
    pub tags: BTreeMap<String, u64>,
    pub contact_item: Option<String>,
    /// The item found for a board, by its place in `Subject::boards`.
    pub items: BTreeMap<usize, String>,
}

/// The plan of one board.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BoardPlan {
    /// An item found on the board that the entity takes over before its steps (they are
    /// planned for it).
    pub adopt: Option<String>,
    pub steps: Vec<Step>,
    /// Nothing planned yet: the board waits for an item this plan creates on another board
    /// (the contact item its relation links to). Plan again once that one exists.
    pub waits: bool,
}

/// A board's mapping failed: no retry will help.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("board {board}: {error}")]
pub struct PlanError {
    pub board: String,
    pub error: MappingError,
}

/// The boards an entity is written on, by their place in `Rules::boards`: its own, then (for
/// calls) the contact board where unknown numbers get their contact item.
pub fn boards_of(rules: &Rules, entity: Entity) -> Vec<usize> {
    let mut out: Vec<usize> = rules.boards_for(entity).map(|(i, _)| i).collect();
    let numbers = rules
        .boards_for(Entity::Call)
        .any(|(_, b)| b.create_contact_for_unknown_numbers);
    if entity == Entity::Call && numbers {
        out.extend(rules.boards_for(Entity::Contact).map(|(i, _)| i).take(1));
    }
    out
}

/// What must be looked up before `subject` can be planned.
pub fn needs(rules: &Rules, subject: &Subject<'_>) -> Result<Needs, PlanError> {
    let mut needs = Needs::default();
    if let Observed::Call(_) = subject.observed {
        call_needs(rules, subject, &mut needs);
        return Ok(needs);
    }
    // An item already on a contact board with the contact's phone or email (`match_columns`,
    // `on_existing = "adopt"`): a person entered or imported it, and a second item for the
    // same person is what the operator does not want. Searched before the first create only:
    // an interrupted create is its intent's to settle, a deleted item is recreated.
    for (place, state) in subject.boards.iter().enumerate() {
        let rule = &rules.boards()[state.index];
        if state.item_id.is_some() || state.synced.replaces.is_some() {
            continue;
        }
        let desired = desired_with(rules, state.index, subject.observed, &Known::default())
            .map_err(|error| board_error(rule, error))?;
        if !desired.wanted || desired.archived {
            continue;
        }
        for column in rule.adopt_by() {
            let value = desired.columns.get(column).and_then(Option::as_ref);
            if let Some(value) = value.and_then(lookup_value) {
                needs.items.push(ItemLookup {
                    board: place,
                    board_id: rule.board_id.clone(),
                    column_id: column.clone(),
                    value,
                    exclusive: true,
                });
            }
        }
    }
    Ok(needs)
}

fn call_needs(rules: &Rules, subject: &Subject<'_>, needs: &mut Needs) {
    for (_, board) in rules.boards_for(Entity::Call) {
        let fields = fields_of(subject.observed, board);
        for spec in board.columns.values() {
            let field = spec.field.as_deref().unwrap_or_default();
            let Some(value) = fields.get(field) else {
                continue;
            };
            match spec.kind {
                ColumnKind::People => match value {
                    FieldValue::Text(email) if !email.trim().is_empty() => {
                        needs.users.insert(email.trim().to_lowercase());
                    }
                    _ => {}
                },
                ColumnKind::Tags => {
                    let names = match value {
                        FieldValue::List(items) => items.clone(),
                        other => vec![other.to_text()],
                    };
                    needs
                        .tags
                        .extend(names.iter().map(|n| tag_name(n)).filter(|n| !n.is_empty()));
                }
                _ => {}
            }
        }
    }
    let call_boards: Vec<&BoardRule> = rules.boards_for(Entity::Call).map(|(_, b)| b).collect();
    let relates = call_boards.iter().any(|b| {
        b.columns
            .values()
            .any(|c| c.kind == ColumnKind::BoardRelation)
    });
    let contacts = rules.boards_for(Entity::Contact).next();
    if let (true, Some((_, contacts)), Some(first)) = (relates, contacts, call_boards.first()) {
        if let Some(FieldValue::Number(contact)) =
            fields_of(subject.observed, first).get("contact_id")
        {
            needs.contact_item = Some((contacts.board_id.clone(), contact.to_string()));
        }
    }
    needs.items.extend(number_lookup(rules, subject));
}

/// The commands that bring each board of `subject` in step (same order as its boards), given
/// what was found for its [`needs`]. `now_ms` only dates the key of a contact item made for
/// an unknown number: two calls from the number that day make one item.
pub fn plan(
    rules: &Rules,
    subject: &Subject<'_>,
    found: &Found,
    now_ms: i64,
) -> Result<Vec<BoardPlan>, PlanError> {
    let mut boards = subject.boards.to_vec();
    let mut plans = vec![BoardPlan::default(); boards.len()];
    for (&place, item) in &found.items {
        let Some(state) = boards.get_mut(place) else {
            continue;
        };
        if state.item_id.is_none() {
            state.item_id = Some(item.clone());
            state.synced = state.synced.adopted();
            plans[place].adopt = Some(item.clone());
        }
    }
    let mut known = Known {
        contact_item: found.contact_item.clone(),
        users: found.users.clone(),
        tags: found.tags.clone(),
    };
    let mut creating_contact = false;
    if let Observed::Call(_) = subject.observed {
        if known.contact_item.is_none() {
            known.contact_item = number_item(rules, subject, &boards);
        }
        if let Some(number) = unlinked_number(rules, subject, &boards) {
            plans[number.place]
                .steps
                .push(create_for_number(&number, now_ms));
            creating_contact = true;
        }
    }
    for (place, state) in boards.iter().enumerate() {
        let rule = &rules.boards()[state.index];
        if rule.entity != subject.entity {
            continue;
        }
        if creating_contact {
            plans[place].waits = true;
            continue;
        }
        let desired = desired_with(rules, state.index, subject.observed, &known)
            .map_err(|error| board_error(rule, error))?;
        let item = state.item_id.as_deref();
        let id = subject.entity_id;
        let steps = &mut plans[place].steps;
        steps.extend(plan_item(rule, id, &desired, item, &state.synced));
        steps.extend(plan_extras(rule, id, &desired, item, &state.synced));
    }
    Ok(plans)
}

fn board_error(rule: &BoardRule, error: MappingError) -> PlanError {
    PlanError {
        board: rule.name.clone(),
        error,
    }
}
