//! Contact items for numbers Aircall has no contact for (a call board with
//! `create_contact_for_unknown_numbers`): the call links to the contact item with its number,
//! found on the contact board or created there by the plan, under the call's own link on that
//! board. When Aircall later creates the contact, the contact board adopts that item by its
//! phone (`match_columns`), so there is one item per person either way.

use std::collections::BTreeMap;

use super::boards::{BoardRule, ColumnKind, Entity};
use super::columns::{linked_item, phone_value};
use super::command::{idempotency_key, MondayCommand};
use super::fields::{FieldValue, Fields};
use super::known::Known;
use super::phone::Phone;
use super::plan::{desired_with, fields_of};
use super::planner::{BoardState, ItemLookup, Subject};
use super::rules::Rules;
use super::synced::{Effect, Step, SyncedItem};

/// The item to record for the board at `place`. The contact item a call made or found for its
/// number is kept only until the call's item links to it: from then on that link says it, and
/// the item is free for the Aircall contact created later to take over.
pub fn item_to_record<'a>(
    rules: &Rules,
    entity: Entity,
    boards: &'a [BoardState],
    place: usize,
) -> Option<&'a str> {
    let item = boards.get(place)?.item_id.as_deref()?;
    if rules.boards()[boards[place].index].entity == entity {
        return Some(item);
    }
    let linked = boards.iter().any(|b| {
        let rule = &rules.boards()[b.index];
        rule.create_contact_for_unknown_numbers
            && relation_item(rule, &b.synced).as_deref() == Some(item)
    });
    (!linked).then_some(item)
}

/// The lookup of the contact item with the call's number, when the call needs one.
pub(super) fn number_lookup(rules: &Rules, subject: &Subject<'_>) -> Option<ItemLookup> {
    let number = unlinked_number(rules, subject, subject.boards)?;
    Some(ItemLookup {
        board: number.place,
        board_id: number.contacts.board_id.clone(),
        column_id: number.column.clone(),
        // monday matches the digits however the number is written on the board.
        value: number
            .phone
            .e164
            .chars()
            .filter(char::is_ascii_digit)
            .collect(),
        exclusive: false,
    })
}

/// A call's number that should link to a contact item, and where it would be looked up.
pub(super) struct Number<'a> {
    /// The contact board's place in the subject's boards.
    pub place: usize,
    contacts: &'a BoardRule,
    /// The contact board's phone column that items are matched by.
    column: &'a String,
    phone: Phone,
    country: String,
}

/// The call names no Aircall contact, its number is usable (monday refuses a phone without
/// its country), a call board that mirrors it asks for a contact item, and none is known yet.
pub(super) fn unlinked_number<'a>(
    rules: &'a Rules,
    subject: &Subject<'_>,
    boards: &[BoardState],
) -> Option<Number<'a>> {
    let (index, board, phone) = number_call(rules, subject)?;
    let wanted = desired_with(rules, index, subject.observed, &Known::default())
        .map(|d| d.wanted)
        .unwrap_or(false);
    if !wanted || linked_number_item(rules, board, boards).is_some() {
        return None;
    }
    let place = boards
        .iter()
        .position(|b| rules.boards()[b.index].entity == Entity::Contact)?;
    let contacts = &rules.boards()[boards[place].index];
    let column = contacts
        .adopt_by()
        .iter()
        .find(|m| contacts.columns.get(*m).map(|s| s.kind) == Some(ColumnKind::Phone))?;
    let country = phone.country.clone()?;
    Some(Number {
        place,
        contacts,
        column,
        phone,
        country,
    })
}

/// The call board that asks for contact items, and the call's number, when the call names no
/// Aircall contact and its number has a country.
fn number_call<'a>(
    rules: &'a Rules,
    subject: &Subject<'_>,
) -> Option<(usize, &'a BoardRule, Phone)> {
    let (index, board) = rules
        .boards_for(Entity::Call)
        .find(|(_, b)| b.create_contact_for_unknown_numbers)?;
    let fields: Fields = fields_of(subject.observed, board);
    if fields.contains_key("contact_id") {
        return None;
    }
    match fields.get("phone") {
        Some(FieldValue::Phone(phone)) if phone.country.is_some() => {
            Some((index, board, phone.clone()))
        }
        _ => None,
    }
}

/// The contact item of the call's number, when one is known: on the contact board (made or
/// found by this call), else the one the call's item already links to.
pub(super) fn number_item(
    rules: &Rules,
    subject: &Subject<'_>,
    boards: &[BoardState],
) -> Option<String> {
    let (_, board, _) = number_call(rules, subject)?;
    linked_number_item(rules, board, boards)
}

fn linked_number_item(rules: &Rules, board: &BoardRule, boards: &[BoardState]) -> Option<String> {
    let on_contacts = boards
        .iter()
        .find(|b| rules.boards()[b.index].entity == Entity::Contact)
        .and_then(|b| b.item_id.clone());
    on_contacts.or_else(|| {
        let state = boards
            .iter()
            .find(|b| rules.boards()[b.index].board_id == board.board_id)?;
        relation_item(board, &state.synced)
    })
}

/// The item a board_relation column of the board was last written to link to.
fn relation_item(board: &BoardRule, synced: &SyncedItem) -> Option<String> {
    board
        .columns
        .iter()
        .filter(|(_, s)| s.kind == ColumnKind::BoardRelation)
        .find_map(|(c, _)| linked_item(synced.columns.get(c)?))
}

/// A contact item named after the number, with the number in the column items are matched by.
pub(super) fn create_for_number(number: &Number<'_>, now_ms: i64) -> Step {
    let contacts = number.contacts;
    let e164 = &number.phone.e164;
    let column_values: BTreeMap<String, serde_json::Value> =
        [(number.column.clone(), phone_value(e164, &number.country))].into();
    // The key holds for a day: two calls from the number in one batch (or a retry after a lost
    // answer) make one item, and an item a person deleted does not block a new one the day
    // after.
    let day = (now_ms / 86_400_000).to_string();
    let key = idempotency_key(&[&contacts.board_id, "unknown-number", e164, &day]);
    let after = SyncedItem {
        name: Some(e164.clone()),
        columns: column_values.clone(),
        ..SyncedItem::default()
    };
    Step {
        command: MondayCommand::CreateItem {
            board_id: contacts.board_id.clone(),
            group_id: contacts.group_id.clone(),
            item_name: e164.clone(),
            column_values,
            create_labels: false,
            idempotency_key: key,
        },
        effect: Effect::Item(after),
    }
}
