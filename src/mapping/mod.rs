//! The pure heart of the bridge: fold events into observed state, derive the desired item from
//! the operator's rules, diff it against what was last synced, and say which `MondayCommand`
//! brings the board in step. No I/O and no clock here.
//!
//! The worker asks two questions (`planner`): [`needs`], what must be looked up for an
//! entity, and, with what was found, [`plan`], the commands for each of its boards.

pub mod boards;
mod callers;
mod columns;
mod command;
mod fields;
mod insights;
mod known;
mod numbers;
mod observed;
mod phone;
mod plan;
mod planner;
mod routing;
mod rules;
mod synced;
mod updates;
mod uploads;

pub use callers::{indexed_numbers, indexed_numbers_of, number_key};
pub use command::{idempotency_key, ColumnValues, MondayCommand};
pub use fields::{call_fields, outcome, FieldValue, Fields, CALL_FIELDS, CONTACT_FIELDS};
pub use insights::{Fetch, Insights, Speaker, Utterance};
pub use known::{tag_name, Known};
pub use numbers::item_to_record;
pub use observed::{CallState, ContactState, EventInput, Observed, Phase};
pub use phone::{normalise as normalise_phone, Phone};
pub use plan::{
    desired, desired_with, diff, fields_of, plan_extras, plan_item, DesiredItem, Effect, Step,
    SyncedItem,
};
pub use planner::{
    boards_of, needs, plan, BoardPlan, BoardState, Found, ItemLookup, Needs, PlanError, Subject,
};
pub use routing::{decide as decide_route, RouteDecision};
pub use rules::{field_names, Rules, ITEM_NAME_MAX};
pub use updates::{plan_updates, DesiredUpdate, COMMENT_FIELDS};
pub use uploads::DesiredUpload;

use boards::Entity;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MappingError {
    #[error("key `{key}`: {message}")]
    Config { key: String, message: String },
    #[error("cannot read the {event} payload: {message}")]
    Payload { event: String, message: String },
    #[error("template failed: {0}")]
    Template(String),
}

/// Folds events (in any order, duplicates allowed) into the entity's previous state.
pub fn fold(
    entity: Entity,
    previous: Option<Observed>,
    events: &[EventInput<'_>],
) -> Result<Observed, MappingError> {
    let mut state = previous.unwrap_or(match entity {
        Entity::Call => Observed::Call(CallState::default()),
        Entity::Contact => Observed::Contact(ContactState::default()),
    });
    for ev in events {
        let applied = match &mut state {
            Observed::Call(s) => s.apply(ev),
            Observed::Contact(s) => s.apply(ev),
        };
        applied.map_err(|e| MappingError::Payload {
            event: ev.event.to_string(),
            message: e.to_string(),
        })?;
    }
    Ok(state)
}

#[cfg(test)]
mod tests;
