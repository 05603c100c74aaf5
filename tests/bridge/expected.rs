//! What the boards should show once every event is in: computed with the pure mapping layer
//! from all the events, to compare with what the sandbox shows after faults and restarts.

use std::collections::BTreeMap;

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
        let entity = if e["event"].as_str().unwrap().starts_with("call.") {
            Entity::Call
        } else {
            Entity::Contact
        };
        by_entity
            .entry((entity, e["data"]["id"].as_u64().unwrap()))
            .or_default()
            .push(e);
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
