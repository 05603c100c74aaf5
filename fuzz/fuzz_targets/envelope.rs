//! A webhook body as the receiver gets it: parsed, verified, folded, then planned on the
//! example's boards, for an item still to create and for one that exists. Each step may refuse
//! the input; none may panic, and a planned item name must fit monday's limit.
#![no_main]

use std::sync::OnceLock;

use aircall_monday_bridge::aircall::Unverified;
use aircall_monday_bridge::config::{Entity, Settings, Source};
use aircall_monday_bridge::mapping::{self, EventInput, MondayCommand, Rules, SyncedItem};
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;

fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| {
        let source = Source::Text {
            name: "config/example.toml",
            toml: include_str!("../../config/example.toml"),
        };
        let settings = Settings::load_from(source, Vec::<(String, String)>::new())
            .expect("config/example.toml loads");
        Rules::compile(&settings.boards).expect("the example's rules compile")
    })
}

fuzz_target!(|body: &[u8]| {
    let tokens = [SecretString::from("tok".to_string())];
    let Ok(unverified) = Unverified::parse(body) else {
        return;
    };
    let Ok(verified) = unverified.verify(&tokens) else {
        return;
    };
    let _ = verified.dedup_key();
    let entity_id = verified.entity_id();
    let entity = verified.entity().unwrap_or(Entity::Call);
    let e = verified.envelope();
    let input = EventInput {
        event: &e.event,
        timestamp: e.timestamp,
        data: &e.data,
    };
    let Ok(observed) = mapping::fold(entity, None, &[input]) else {
        return;
    };
    let rules = rules();
    let id = entity_id.map(|i| i.to_string()).unwrap_or_default();
    for (index, board) in rules.boards_for(entity) {
        let Ok(desired) = mapping::desired(rules, index, &observed) else {
            continue;
        };
        for item in [None, Some("1")] {
            let synced = SyncedItem::default();
            if let Some(step) = mapping::plan(board, &id, &desired, item, &synced) {
                if let MondayCommand::CreateItem { item_name, .. } = &step.command {
                    assert!(item_name.chars().count() <= mapping::ITEM_NAME_MAX);
                }
            }
            let _ = mapping::plan_extras(board, &id, &desired, item, &synced);
        }
    }
});
