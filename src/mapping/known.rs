//! What the worker looked up on the boards for the planner, which cannot look itself: the
//! mapping stays pure, and the same inputs give the same plan.

use std::collections::BTreeMap;

/// Facts from monday and the store that some columns need.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Known {
    /// The item of the call's contact on the first contact board, once it exists (the
    /// `contact_item` field). Before then a board_relation column stays empty, and the next
    /// reconcile of the call fills it.
    pub contact_item: Option<String>,
    /// monday user ids by lowercased email, for people columns. An email missing here has no
    /// monday user (or was not looked up): the column falls back or stays empty.
    pub users: BTreeMap<String, u64>,
}

impl Known {
    pub fn user(&self, email: &str) -> Option<u64> {
        self.users.get(&email.trim().to_lowercase()).copied()
    }
}
