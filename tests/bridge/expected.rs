//! What the boards should show once every event is in: computed with the pure mapping layer
//! from all the events, to compare with what the sandbox shows after faults and restarts.

use std::collections::BTreeMap;

use aircall_monday_bridge::aircall::AI_EVENTS;
use aircall_monday_bridge::config::{Entity, Settings};
use aircall_monday_bridge::mapping::{self, EventInput, Rules};
use serde_json::Value;

use crate::helpers::repo_path;

/// (board id, Aircall id) → (item name, status label or None, archived).
pub type Expected = BTreeMap<(String, u64), (String, Option<String>, bool)>;

pub fn expected(envelopes: &[Value]) -> Expected {
    let settings = Settings::load_with_env(
        Some(&repo_path("config/example.toml")),
        Vec::<(String, String)>::new(),
    )
    .unwrap();
    let rules = Rules::compile(&settings.boards).unwrap();
    let mut by_entity: BTreeMap<(Entity, u64), Vec<&Value>> = BTreeMap::new();
    for e in envelopes {
        let event = e["event"].as_str().unwrap();
        let (entity, id) = if AI_EVENTS.contains(&event) {
            // An AI insight event names its call in `call_id`, a number or a numeric string.
            let id = &e["data"]["call_id"];
            let id = id.as_u64().or_else(|| id.as_str()?.parse().ok());
            (Entity::Call, id.unwrap())
        } else if event.starts_with("call.") {
            (Entity::Call, e["data"]["id"].as_u64().unwrap())
        } else {
            (Entity::Contact, e["data"]["id"].as_u64().unwrap())
        };
        by_entity.entry((entity, id)).or_default().push(e);
    }
    let mut out = Expected::new();
    for ((entity, id), events) in by_entity {
        let inputs: Vec<EventInput<'_>> = events
            .iter()
            .map(|e| EventInput {
                event: e["event"].as_str().unwrap(),
                timestamp: e["timestamp"].as_i64().unwrap(),
                data: &e["data"],
            })
            .collect();
        let observed = mapping::fold(entity, None, &inputs).unwrap();
        for (index, board) in rules.boards_for(entity) {
            let desired = mapping::desired(&rules, index, &observed).unwrap();
            let status = desired
                .columns
                .get("status")
                .cloned()
                .flatten()
                .and_then(|v| v["label"].as_str().map(String::from));
            out.insert(
                (board.board_id.clone(), id),
                (desired.name, status, desired.archived),
            );
        }
    }
    out
}
