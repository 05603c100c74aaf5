//! What the bridge mirrors, and where an event of it stands: the two words that cross every
//! boundary (webhook, store, mapping, operator commands), typed once here.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a board mirrors: one item per Aircall call, or one per Aircall contact.
#[derive(Debug, Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Entity {
    Call,
    Contact,
}

impl Entity {
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Call => "call",
            Entity::Contact => "contact",
        }
    }

    pub fn parse(s: &str) -> Option<Entity> {
        match s {
            "call" => Some(Entity::Call),
            "contact" => Some(Entity::Contact),
            _ => None,
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Entity {
    type Err = UnknownWord;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Entity::parse(s).ok_or_else(|| UnknownWord::new("kind", s, "call, contact"))
    }
}

/// Where a journalled event stands: waiting for its board, on it, or given up on.
#[derive(Debug, Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum EventState {
    Pending,
    Done,
    Dead,
}

impl EventState {
    pub fn as_str(self) -> &'static str {
        match self {
            EventState::Pending => "pending",
            EventState::Done => "done",
            EventState::Dead => "dead",
        }
    }
}

impl fmt::Display for EventState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventState {
    type Err = UnknownWord;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(EventState::Pending),
            "done" => Ok(EventState::Done),
            "dead" => Ok(EventState::Dead),
            _ => Err(UnknownWord::new("state", s, "pending, done, dead")),
        }
    }
}

/// A word that is not one of the known ones: says which were expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {word:?} (expected one of: {expected})")]
pub struct UnknownWord {
    pub what: &'static str,
    pub word: String,
    pub expected: &'static str,
}

impl UnknownWord {
    fn new(what: &'static str, word: &str, expected: &'static str) -> Self {
        UnknownWord {
            what,
            word: word.to_string(),
            expected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_unknown_ones_name_the_choices() {
        for e in [Entity::Call, Entity::Contact] {
            assert_eq!(e.as_str().parse::<Entity>(), Ok(e));
        }
        for s in [EventState::Pending, EventState::Done, EventState::Dead] {
            assert_eq!(s.as_str().parse::<EventState>(), Ok(s));
        }
        let err = "calls".parse::<Entity>().unwrap_err().to_string();
        assert_eq!(
            err,
            r#"unknown kind "calls" (expected one of: call, contact)"#
        );
        assert!("Pending".parse::<EventState>().is_err());
    }
}
