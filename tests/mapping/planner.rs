//! The planner's entry over whole entities: what it asks to be looked up (`needs`) and what it
//! plans once that is found (`plan`), across the boards an entity is written on.

use aircall_monday_bridge::config::Entity;
use aircall_monday_bridge::mapping::{
    self, BoardState, Effect, Found, MondayCommand, Observed, Rules, Subject,
};
use serde_json::json;

use crate::helpers::*;

/// The example with calls from unknown numbers getting a contact item.
fn unknown_numbers() -> Rules {
    rules_with(|t| {
        t.replace(
            "# create_contact_for_unknown_numbers = true",
            "create_contact_for_unknown_numbers = true",
        )
    })
    .unwrap()
}

fn states(rules: &Rules, entity: Entity) -> Vec<BoardState> {
    mapping::boards_of(rules, entity)
        .into_iter()
        .map(|index| BoardState {
            index,
            ..BoardState::default()
        })
        .collect()
}

fn subject<'a>(observed: &'a Observed, id: &'a str, boards: &'a [BoardState]) -> Subject<'a> {
    Subject {
        entity: entity_kind(observed),
        entity_id: id,
        observed,
        boards,
    }
}

#[test]
fn a_call_asks_for_its_agent_tags_and_contact_item() {
    let rules = rules();
    let observed = fold(Entity::Call, &fixture("known_contact.json"));
    let boards = states(&rules, Entity::Call);
    let id = entity_id(&observed);
    let needs = mapping::needs(&rules, &subject(&observed, &id, &boards)).unwrap();
    assert_eq!(
        needs.users,
        ["camille.lefevre@hexaflow.example".to_string()].into()
    );
    let (board_id, _) = needs.contact_item.expect("the contact's item is asked for");
    assert_eq!(board_id, "1000000002");
    assert!(
        needs.items.is_empty(),
        "no board lookups for a known contact"
    );
}

#[test]
fn an_unknown_number_is_looked_up_then_created_before_the_call_items_that_link_to_it() {
    let rules = unknown_numbers();
    let observed = fold(Entity::Call, &fixture("inbound_answered.json"));
    let mut boards = states(&rules, Entity::Call);
    assert_eq!(boards.len(), 2, "the call board and the contact board");
    let id = entity_id(&observed);
    let needs = mapping::needs(&rules, &subject(&observed, &id, &boards)).unwrap();
    let [lookup] = &needs.items[..] else {
        panic!("{needs:#?}")
    };
    assert_eq!(
        (
            lookup.board,
            lookup.column_id.as_str(),
            lookup.value.as_str()
        ),
        (1, "phone", "33612345678")
    );
    assert!(!lookup.exclusive, "any item with the number will do");

    // Nothing found: the contact item is created first, the call board waits for it.
    let plans = mapping::plan(
        &rules,
        &subject(&observed, &id, &boards),
        &Found::default(),
        0,
    )
    .unwrap();
    assert!(plans[0].waits && plans[0].steps.is_empty(), "{plans:#?}");
    let [create] = &plans[1].steps[..] else {
        panic!("{plans:#?}")
    };
    let MondayCommand::CreateItem {
        board_id,
        item_name,
        column_values,
        ..
    } = &create.command
    else {
        panic!("{create:#?}")
    };
    assert_eq!(
        (board_id.as_str(), item_name.as_str()),
        ("1000000002", "+33612345678")
    );
    assert_eq!(
        column_values["phone"],
        json!({"phone": "+33612345678", "countryShortName": "FR"})
    );

    // Created: the call's item links to it, and the contact item is recorded until it does.
    boards[1].item_id = Some("4000000777".into());
    if let Effect::Item(after) = create.effect.clone() {
        boards[1].synced = after;
    }
    assert_eq!(
        mapping::item_to_record(&rules, Entity::Call, &boards, 1),
        Some("4000000777")
    );
    let plans = mapping::plan(
        &rules,
        &subject(&observed, &id, &boards),
        &Found::default(),
        0,
    )
    .unwrap();
    assert!(plans[1].steps.is_empty(), "made once: {plans:#?}");
    let MondayCommand::CreateItem { column_values, .. } = &plans[0].steps[0].command else {
        panic!("{plans:#?}")
    };
    assert_eq!(
        column_values["contact_item"],
        json!({"item_ids": [4000000777u64]})
    );
    boards[0].item_id = Some("1".into());
    plans[0].steps[0]
        .effect
        .clone()
        .settle(&mut boards[0].synced);
    assert_eq!(
        mapping::item_to_record(&rules, Entity::Call, &boards, 1),
        None,
        "the call's item says it now: the item is free for the contact to adopt"
    );
    boards[1] = BoardState {
        index: boards[1].index,
        ..BoardState::default()
    };
    let again = mapping::needs(&rules, &subject(&observed, &id, &boards)).unwrap();
    assert!(
        again.items.is_empty(),
        "known from the call's item: {again:#?}"
    );
}

#[test]
fn an_item_found_by_the_number_is_linked_in_the_same_plan() {
    let rules = unknown_numbers();
    let observed = fold(Entity::Call, &fixture("inbound_answered.json"));
    let boards = states(&rules, Entity::Call);
    let id = entity_id(&observed);
    let found = Found {
        items: [(1, "4000000555".to_string())].into(),
        ..Found::default()
    };
    let plans = mapping::plan(&rules, &subject(&observed, &id, &boards), &found, 0).unwrap();
    assert_eq!(plans[1].adopt.as_deref(), Some("4000000555"));
    assert!(plans[1].steps.is_empty());
    let MondayCommand::CreateItem { column_values, .. } = &plans[0].steps[0].command else {
        panic!("{plans:#?}")
    };
    assert_eq!(
        column_values["contact_item"],
        json!({"item_ids": [4000000555u64]})
    );
}

#[test]
fn a_contact_is_looked_up_by_its_match_columns_and_takes_over_what_was_found() {
    let rules = rules();
    // Its first event: a contact deleted before it reached the board needs no item at all.
    let observed = fold(Entity::Contact, &fixture("contact_lifecycle.json")[..1]);
    let boards = states(&rules, Entity::Contact);
    let id = entity_id(&observed);
    let needs = mapping::needs(&rules, &subject(&observed, &id, &boards)).unwrap();
    let columns: Vec<&str> = needs.items.iter().map(|l| l.column_id.as_str()).collect();
    assert!(columns.contains(&"phone"), "{needs:#?}");
    assert!(needs.items.iter().all(|l| l.exclusive && l.board == 0));

    let found = Found {
        items: [(0, "4000000999".to_string())].into(),
        ..Found::default()
    };
    let plans = mapping::plan(&rules, &subject(&observed, &id, &boards), &found, 0).unwrap();
    assert_eq!(plans[0].adopt.as_deref(), Some("4000000999"));
    assert!(
        plans[0]
            .steps
            .iter()
            .all(|s| !matches!(s.command, MondayCommand::CreateItem { .. })),
        "adopted, not created: {plans:#?}"
    );
}
