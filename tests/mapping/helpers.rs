//! Shared plumbing for the mapping tests: fixtures, the example boards, the fold, and a
//! replay of one board through the planner's entry. Everything here is as dumb as possible so that a test failure points at
//! `src/mapping`, not at the harness.

use std::path::{Path, PathBuf};

use aircall_monday_bridge::config::{BoardRule, Entity, Settings};
use aircall_monday_bridge::mapping::{
    self, BoardState, DesiredItem, Effect, EventInput, FieldValue, Found, MondayCommand, Observed,
    Rules, Subject, SyncedItem,
};
use serde_json::Value;

/// One webhook delivery, as the fixtures hold it (the token is irrelevant to the mapping).
#[derive(Debug, Clone)]
pub struct Envelope {
    pub event: String,
    pub timestamp: i64,
    pub data: Value,
}

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aircall")
}

pub fn load(path: &Path) -> Vec<Envelope> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let list: Vec<Value> = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    list.into_iter()
        .map(|v| Envelope {
            event: v["event"].as_str().expect("event").to_string(),
            timestamp: v["timestamp"].as_i64().expect("timestamp"),
            data: v["data"].clone(),
        })
        .collect()
}

pub fn fixture(name: &str) -> Vec<Envelope> {
    load(&fixtures_dir().join(name))
}

/// Every fixture file (not `bad/`), sorted, with its envelopes.
pub fn all_fixtures() -> Vec<(String, Vec<Envelope>)> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert!(names.len() >= 15, "fixtures went missing: {names:?}");
    names
        .into_iter()
        .map(|n| (n.clone(), fixture(&n)))
        .collect()
}

/// `call.*` events build calls, `contact.*` events build contacts.
pub fn entity_of(envelopes: &[Envelope]) -> Entity {
    let prefix = envelopes[0].event.split('.').next().unwrap_or_default();
    Entity::parse(prefix).unwrap_or_else(|| panic!("unknown resource {prefix}"))
}

pub fn envelope(event: &str, timestamp: i64, data: Value) -> Envelope {
    Envelope {
        event: event.into(),
        timestamp,
        data,
    }
}

/// Folds envelopes, in the order given, into `previous`.
pub fn fold_onto<'a>(
    entity: Entity,
    previous: Option<Observed>,
    envelopes: impl IntoIterator<Item = &'a Envelope>,
) -> Observed {
    let inputs: Vec<EventInput<'_>> = envelopes
        .into_iter()
        .map(|e| EventInput {
            event: &e.event,
            timestamp: e.timestamp,
            data: &e.data,
        })
        .collect();
    mapping::fold(entity, previous, &inputs).expect("fold")
}

pub fn fold<'a>(entity: Entity, envelopes: impl IntoIterator<Item = &'a Envelope>) -> Observed {
    fold_onto(entity, None, envelopes)
}

/// The boards of `config/example.toml`, loaded the way the daemon loads them.
pub fn rules() -> Rules {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.toml");
    let settings = Settings::load_with_env(Some(&path), Vec::<(String, String)>::new())
        .expect("config/example.toml loads");
    Rules::compile(&settings.boards).expect("example rules compile")
}

pub fn boards_for(rules: &Rules, entity: Entity) -> Vec<(usize, BoardRule)> {
    let boards: Vec<_> = rules
        .boards_for(entity)
        .map(|(i, b)| (i, b.clone()))
        .collect();
    assert!(!boards.is_empty(), "the example has no {entity:?} board");
    boards
}

pub fn the_board(rules: &Rules, entity: Entity) -> (usize, BoardRule) {
    boards_for(rules, entity).remove(0)
}

pub fn entity_id(observed: &Observed) -> String {
    match observed {
        Observed::Call(s) => s.id.to_string(),
        Observed::Contact(s) => s.id.to_string(),
    }
}

pub fn desired(rules: &Rules, index: usize, observed: &Observed) -> DesiredItem {
    mapping::desired(rules, index, observed).expect("desired")
}

pub fn entity_kind(observed: &Observed) -> Entity {
    match observed {
        Observed::Call(_) => Entity::Call,
        Observed::Contact(_) => Entity::Contact,
    }
}

/// A field of the observed entity as a template would read it (`None` when absent).
pub fn field(rules: &Rules, observed: &Observed, name: &str) -> Option<FieldValue> {
    let (_, board) = the_board(rules, entity_kind(observed));
    mapping::fields_of(observed, &board).get(name).cloned()
}

pub fn text(s: &str) -> Option<FieldValue> {
    Some(FieldValue::Text(s.into()))
}

/// What the worker keeps per board between two claims.
#[derive(Debug, Clone, Default)]
pub struct Link {
    pub item_id: Option<String>,
    pub synced: SyncedItem,
}

/// What the planner's entry (`mapping::plan`) plans for one board of the entity, with nothing
/// looked up, as the worker would get it.
pub fn planned(
    rules: &Rules,
    index: usize,
    observed: &Observed,
    link: &Link,
) -> Vec<mapping::Step> {
    let boards = [BoardState {
        index,
        item_id: link.item_id.clone(),
        synced: link.synced.clone(),
    }];
    let entity_id = entity_id(observed);
    let subject = Subject {
        entity: entity_kind(observed),
        entity_id: &entity_id,
        observed,
        boards: &boards,
    };
    let mut plans = mapping::plan(rules, &subject, &Found::default(), 0).expect("plan");
    assert_eq!(plans.len(), 1, "one board given, one planned");
    let plan = plans.remove(0);
    assert_eq!(plan.adopt, None, "nothing was found to adopt");
    plan.steps
}

/// "Applies" a step the way the worker does on success: the item is "1" once created, and
/// the synced state takes the step's effect.
fn apply(link: &mut Link, step: mapping::Step) -> MondayCommand {
    link.item_id.get_or_insert_with(|| "1".into());
    step.effect.settle(&mut link.synced);
    step.command
}

/// The item's own command the planner plans for one board (its create, change or archive),
/// "applied" the way the worker does on success.
pub fn sync(
    rules: &Rules,
    (index, _): &(usize, BoardRule),
    observed: &Observed,
    link: &mut Link,
) -> Option<MondayCommand> {
    let step = planned(rules, *index, observed, link)
        .into_iter()
        .find(|s| matches!(s.effect, Effect::Item(_)))?;
    Some(apply(link, step))
}

/// What the planner plans for one board after the item's own command (a move when the route
/// changed, the comments not yet posted as updates, the files not yet uploaded), "applied"
/// the way the worker does on success.
pub fn sync_updates(
    rules: &Rules,
    (index, _): &(usize, BoardRule),
    observed: &Observed,
    link: &mut Link,
) -> Vec<MondayCommand> {
    planned(rules, *index, observed, link)
        .into_iter()
        .filter(|s| !matches!(s.effect, Effect::Item(_)))
        .map(|step| apply(link, step))
        .collect()
}

/// The worker keeps the observed state as JSON between claims; so does this replay, which
/// also checks the round trip loses nothing.
pub fn through_store(observed: Observed) -> Observed {
    let json = serde_json::to_string(&observed).expect("observed serialises");
    let back = serde_json::from_str::<Observed>(&json)
        .unwrap_or_else(|e| panic!("the stored state does not read back: {e}\n{json}"));
    assert_eq!(
        back, observed,
        "the stored state differs from the folded one"
    );
    back
}

/// A tiny deterministic LCG (Knuth's MMIX constants): reproducible shuffles, no new crate.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    /// Fisher–Yates.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// The example configuration with an edit (e.g. a key added to a board), loaded and compiled
/// the way `check` does; the error is the message `check` would print.
pub fn rules_with(edit: impl Fn(&str) -> String) -> Result<Rules, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.toml");
    let text = edit(&std::fs::read_to_string(path).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bridge.toml");
    std::fs::write(&file, text).unwrap();
    let settings = Settings::load_with_env(Some(&file), Vec::<(String, String)>::new())
        .map_err(|e| e.to_string())?;
    Rules::compile(&settings.boards).map_err(|e| e.to_string())
}
