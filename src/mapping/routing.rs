//! Routing: whether a call board mirrors a call (`when`) and which group its item belongs in
//! (the first matching `[[boards.routes]]`, else the board's `group_id`).
//!
//! An item moves when the group its route chooses changes (a call created while ringing, then
//! missed, goes to "Call back"). It moves only when the routed group differs from the one the
//! bridge last chose, so an item a person moved stays put until the route itself changes.

use super::boards::{AnyOf, BoardRule, CallFilter};
use super::command::{idempotency_key, MondayCommand};
use super::fields::{FieldValue, Fields};
use super::observed::CallState;
use super::phone;
use super::plan::{DesiredItem, Effect, Step, SyncedItem};

/// Whether the board mirrors this call, and the group its item belongs in.
pub(super) fn route(
    board: &BoardRule,
    state: &CallState,
    fields: &Fields,
) -> (bool, Option<String>) {
    let wanted = board
        .when
        .as_ref()
        .is_none_or(|w| matches(w, state, fields));
    let group = board
        .routes
        .iter()
        .find(|r| matches(&r.when, state, fields))
        .map(|r| r.group_id.clone())
        .or_else(|| board.group_id.clone());
    (wanted, group)
}

/// What a board makes of a call, for `calls show`: whether its `when` mirrors the call, the
/// route that chose the group (index into `routes`), and the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteDecision {
    pub mirrored: bool,
    pub route: Option<usize>,
    pub group: Option<String>,
}

pub fn decide(board: &BoardRule, state: &CallState) -> RouteDecision {
    let fields = super::fields::call_fields(state, board.recording_link);
    let (mirrored, group) = route(board, state, &fields);
    RouteDecision {
        mirrored,
        route: board
            .routes
            .iter()
            .position(|r| matches(&r.when, state, &fields)),
        group,
    }
}

fn matches(filter: &CallFilter, state: &CallState, fields: &Fields) -> bool {
    let text = |name: &str| {
        fields
            .get(name)
            .map(FieldValue::to_text)
            .unwrap_or_default()
    };
    let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
    let any = |cond: &Option<AnyOf>, test: &dyn Fn(&str) -> bool| {
        cond.as_ref()
            .is_none_or(|c| c.values().iter().any(|v| test(v)))
    };
    let direction = text("direction");
    let outcome = text("outcome");
    let line_name = text("line_name");
    let line_number = text("line_number");
    let teams: Vec<&str> = state
        .call
        .teams
        .iter()
        .flatten()
        .filter_map(|t| t.name.as_deref())
        .collect();
    any(&filter.direction, &|v| same(v, &direction))
        && any(&filter.outcome, &|v| same(v, &outcome))
        && any(&filter.line_name, &|v| same(v, &line_name))
        && any(&filter.team, &|v| teams.iter().any(|t| same(v, t)))
        && any(&filter.line_number, &|v| {
            // The operator may write the number any way; compare E.164 forms.
            let want = phone::normalise(v).map(|p| p.e164);
            !line_number.is_empty() && want.as_deref() == Some(line_number.as_str())
        })
}

/// A move when the routed group is not the one the bridge last chose (an item synced before
/// routing existed counts as being in the board's `group_id`).
pub fn plan_move(
    board: &BoardRule,
    desired: &DesiredItem,
    item_id: Option<&str>,
    synced: &SyncedItem,
) -> Option<Step> {
    let item_id = item_id?;
    let want = desired.group.as_deref()?;
    if synced.archived {
        return None;
    }
    let have = synced.group.as_deref().or(board.group_id.as_deref());
    if have == Some(want) {
        return None;
    }
    Some(Step {
        command: MondayCommand::MoveItemToGroup {
            board_id: board.board_id.clone(),
            item_id: item_id.to_string(),
            group_id: want.to_string(),
            idempotency_key: idempotency_key(&[
                &board.board_id,
                item_id,
                "move",
                have.unwrap_or(""),
                want,
            ]),
        },
        effect: Effect::Moved(want.to_string()),
    })
}
