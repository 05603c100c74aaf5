//! `[insight_card]`: the caller's monday context pushed to Aircall as an insight card while the
//! call rings. One section for the whole bridge, not per board: a call gets one card, whichever
//! boards mirror it, and the card shows the caller's item on one contact board.

use std::time::Duration;

use serde::Deserialize;

use super::Settings;
use crate::mapping::boards::Entity;

/// Aircall documents no limit; consumers send one title and up to six lines, which is what the
/// phone app shows without scrolling (shared/reference/aircall-ai-and-insight-cards.md §3.2).
pub const MAX_CARD_LINES: usize = 6;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardSettings {
    /// Push a card on each inbound call (off by default: it needs Aircall API credentials).
    pub enabled: bool,
    /// A card on outbound calls too: the callee's context for the agent who dials. Aircall
    /// sends `call.created` for outbound calls and shows cards in the in-call view of agents
    /// "making or receiving calls" (reference §3.3); off by default, as the ring pop-up the
    /// card is made for is an inbound one and the dialling agent chose the number already.
    pub outbound: bool,
    /// How many of the caller's earlier calls the card lists (date and outcome), newest first.
    pub recent_calls: usize,
    /// A card for a number no mirrored contact has ("Unknown caller", with earlier calls).
    pub unknown_caller: bool,
    /// The title of that card.
    pub unknown_caller_title: String,
    /// The contact board (its `name` in `[[boards]]`) whose item the title links to; empty:
    /// the first contact board.
    pub board: String,
    /// Columns of the contact's item shown on the card, in order, as the bridge last wrote them.
    pub columns: Vec<CardColumn>,
    /// The card's one request to Aircall gives up after this (a late card is useless).
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// A webhook older than this (Aircall retrying a delivery, a backlog after an outage) is
    /// about a call that has surely ended: no card.
    #[serde(with = "humantime_serde")]
    pub max_age: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardColumn {
    /// The monday column id on the contact board (one of its `[boards.columns.*]`).
    pub column: String,
    /// What the card calls it, e.g. "Company".
    pub label: String,
}

impl Settings {
    /// The `[insight_card]` checks of `validate`: (key, message) of the first problem.
    pub(super) fn check_insight_card(&self) -> Result<(), (String, String)> {
        let card = &self.insight_card;
        let err = |key: &str, message: String| Err((format!("insight_card.{key}"), message));
        if card.recent_calls + card.columns.len() > MAX_CARD_LINES {
            return err(
                "columns",
                format!(
                    "{} columns and recent_calls = {} make more than {MAX_CARD_LINES} lines: \
                     Aircall's phone app shows a title and about {MAX_CARD_LINES} lines",
                    card.columns.len(),
                    card.recent_calls
                ),
            );
        }
        if card.timeout.is_zero() || card.timeout > Duration::from_secs(10) {
            return err(
                "timeout",
                "expected 1 ms to 10 s: the card is only useful while the call rings".into(),
            );
        }
        // A pruned claim is safe only because a delivery that old is dropped as late first.
        if card.max_age > self.store.keep_done {
            return err(
                "max_age",
                format!(
                    "{} is longer than store.keep_done ({}): card claims are pruned with the \
                     retention, so a delivery older than that could get a second card",
                    humantime::format_duration(card.max_age),
                    humantime::format_duration(self.store.keep_done)
                ),
            );
        }
        if card.unknown_caller && card.unknown_caller_title.trim().is_empty() {
            return err("unknown_caller_title", "expected a title".into());
        }
        let contacts: Vec<_> = self
            .boards
            .iter()
            .filter(|b| b.entity == Entity::Contact)
            .collect();
        let board = if card.board.trim().is_empty() {
            contacts.first().copied()
        } else {
            match contacts.iter().find(|b| b.name == card.board) {
                Some(b) => Some(*b),
                None => {
                    let names: Vec<&str> = contacts.iter().map(|b| b.name.as_str()).collect();
                    return err(
                        "board",
                        format!(
                            "no contact board is named {:?} (contact boards: {names:?})",
                            card.board
                        ),
                    );
                }
            }
        };
        for (i, column) in card.columns.iter().enumerate() {
            if column.label.trim().is_empty() {
                return err(&format!("columns[{i}].label"), "expected a label".into());
            }
            let Some(board) = board else {
                return err(
                    &format!("columns[{i}].column"),
                    "card columns are the contact's item's: add a contact board".into(),
                );
            };
            if !board.columns.contains_key(&column.column) {
                let known: Vec<&String> = board.columns.keys().collect();
                return err(
                    &format!("columns[{i}].column"),
                    format!(
                        "board {:?} maps no column {:?} (its columns: {known:?}); the card shows \
                         what the bridge wrote there",
                        board.name, column.column
                    ),
                );
            }
        }
        Ok(())
    }

    /// The contact board the card links to: `insight_card.board`, else the first one.
    pub fn card_board(&self) -> Option<&crate::config::BoardRule> {
        let mut contacts = self.boards.iter().filter(|b| b.entity == Entity::Contact);
        if self.insight_card.board.trim().is_empty() {
            contacts.next()
        } else {
            contacts.find(|b| b.name == self.insight_card.board)
        }
    }
}
