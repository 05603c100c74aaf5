//! What crosses the store's boundary, whichever database is behind it: events in, claims
//! out, outcomes back, and the operator's views of the journal.

pub use crate::entity::{Entity, EventState};

#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: Entity,
    pub entity_id: String,
    pub event: String,
    pub timestamp: i64,
    pub received_ms: i64,
    /// The envelope's `data`, as JSON text. The token is never stored.
    pub data: String,
    pub dedup_key: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    Stored,
    Duplicate,
}

#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub id: i64,
    pub event: String,
    pub timestamp: i64,
    pub data: String,
}

/// The monday item that mirrors one entity on one board, and what was last written there
/// (opaque JSON owned by `mapping`).
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub board_id: String,
    pub item_id: Option<String>,
    pub synced: String,
}

/// An entity reserved for one worker until `lease_until_ms`.
#[derive(Debug, Clone)]
pub struct Claim {
    pub row: i64,
    pub kind: Entity,
    pub entity_id: String,
    pub owner: String,
    /// How many times this entity has been claimed since its last success, this time included.
    pub attempts: u32,
    pub observed: Option<String>,
    pub events: Vec<StoredEvent>,
    pub links: Vec<Link>,
    /// Effects an earlier attempt wrote down and never learned the outcome of: settled before
    /// anything else is planned on their boards.
    pub intents: Vec<Intent>,
}

#[derive(Debug, Clone)]
pub enum Outcome {
    /// Every board is in step: the claimed events are done.
    Synced,
    /// Try again at `due_ms`; the events stay pending. `counts` is false when monday said the
    /// request was not processed (rate limits): such waits do not use up the retry schedule.
    Retry {
        due_ms: i64,
        error: String,
        counts: bool,
    },
    /// A permanent failure: the claimed events go to the dead letter with the reason.
    Dead { error: String },
}

#[derive(Debug, Clone)]
pub struct Completion {
    pub row: i64,
    pub owner: String,
    pub event_ids: Vec<i64>,
    pub observed: String,
    pub links: Vec<Link>,
    /// The entity's intents still open after this attempt (they replace the stored ones).
    pub intents: Vec<Intent>,
    pub outcome: Outcome,
    /// The phone numbers the entity carries now, when they changed (`None`: as before): the
    /// index an insight card finds the caller by, written with the observed state it came from.
    pub numbers: Option<Numbers>,
}

/// Normalised phone numbers (E.164 digits, no `+`) of one entity, and the time that orders its
/// entries (a call's start, a contact's update), in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Numbers {
    pub numbers: Vec<String>,
    pub at_ms: i64,
}

/// An entity found by one of its phone numbers: its folded state and its items.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberMatch {
    pub entity_id: String,
    pub at_ms: i64,
    pub observed: Option<String>,
    pub links: Vec<Link>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueStats {
    pub pending_events: i64,
    pub dead_events: i64,
    pub done_events: i64,
    pub pending_entities: i64,
    /// Pending calls and contacts whose turn has come at `now` (due, or being worked): none
    /// means the worker has done all it can until some due time passes.
    pub due_entities: i64,
    pub oldest_pending_age_ms: Option<i64>,
}

/// One open effect of one entity on one board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    pub board_id: String,
    /// The command's name (`create_item`, `create_update`, `add_file_to_column`).
    pub effect: String,
    /// Which one of its kind: empty for the item itself, the comment id of an update, the
    /// file column of an upload.
    pub target: String,
    /// The `Idempotency-Key` of the request the effect travels in.
    pub request_key: String,
    /// Every command of that request, as JSON, so that the same request can be sent again.
    pub request: String,
    /// Where in the request this effect's answer is.
    pub position: usize,
    pub opened_ms: i64,
}

/// What a reconcile has made sure of before a request leaves: the entity's links as they are
/// now, and every intent still open (the new ones included).
#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub row: i64,
    pub owner: String,
    pub links: Vec<Link>,
    pub intents: Vec<Intent>,
}

/// Which events an operator means. Every field left `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub state: Option<EventState>,
    pub kind: Option<Entity>,
    /// The Aircall call or contact id.
    pub entity_id: Option<String>,
    /// The webhook's event name, e.g. call.ended.
    pub event: Option<String>,
    /// Received at or before this time (events at least this old).
    pub received_before_ms: Option<i64>,
    /// Received at or after this time (events at most this old).
    pub received_after_ms: Option<i64>,
    /// One event by its journal id.
    pub id: Option<i64>,
}

impl EventFilter {
    /// True when the filter would match every event (`events drop` refuses that without --all).
    pub fn is_empty(&self) -> bool {
        self.state.is_none()
            && self.kind.is_none()
            && self.entity_id.is_none()
            && self.event.is_none()
            && self.received_before_ms.is_none()
            && self.received_after_ms.is_none()
            && self.id.is_none()
    }

    /// The filter as a WHERE clause whose n-th parameter is written `{sigil}n` (`?` for
    /// SQLite, `$` for PostgreSQL), and the parameters' values in order: one filter, whatever
    /// the database.
    pub fn where_clause(&self, sigil: char) -> (String, Vec<FilterValue>) {
        let text = |v: &Option<String>| v.clone().map(FilterValue::Text);
        let word = |v: Option<&'static str>| v.map(|w| FilterValue::Text(w.to_string()));
        let conditions = [
            ("state =", word(self.state.map(EventState::as_str))),
            ("entity_kind =", word(self.kind.map(Entity::as_str))),
            ("entity_id =", text(&self.entity_id)),
            ("event =", text(&self.event)),
            (
                "received_ms <=",
                self.received_before_ms.map(FilterValue::Int),
            ),
            (
                "received_ms >=",
                self.received_after_ms.map(FilterValue::Int),
            ),
            ("id =", self.id.map(FilterValue::Int)),
        ];
        let mut clauses = vec!["1 = 1".to_string()];
        let mut values = Vec::new();
        for (condition, value) in conditions {
            if let Some(value) = value {
                values.push(value);
                clauses.push(format!("{condition} {sigil}{}", values.len()));
            }
        }
        (clauses.join(" AND "), values)
    }
}

/// A value an `EventFilter` compares with.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    Text(String),
    Int(i64),
}

/// One journal row as an operator sees it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EventRow {
    pub id: i64,
    pub kind: Entity,
    pub entity_id: String,
    pub event: String,
    pub event_ts: i64,
    pub received_ms: i64,
    pub state: EventState,
    pub error: Option<String>,
    pub done_ms: Option<i64>,
    /// The payload; filled by `event` (show), left out of lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

/// What a replay did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Replayed {
    pub events: usize,
    pub entities: usize,
}

/// A call or contact with its latest state, for the status page.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityRow {
    pub kind: Entity,
    pub entity_id: String,
    /// pending, dead or synced.
    pub state: &'static str,
    pub last_error: Option<String>,
    pub updated_ms: i64,
    /// (board id, item id) of each board the entity reached.
    pub items: Vec<(String, String)>,
}

/// An entity's row: its folded state, its queue counters, its retry and its last error.
#[derive(Debug, Clone)]
pub struct EntityDetail {
    pub kind: Entity,
    pub entity_id: String,
    /// The folded state (mapping's `Observed`, as JSON), absent before the first reconcile.
    pub observed: Option<String>,
    pub pending: i64,
    pub dead: i64,
    pub attempts: i64,
    /// When the worker will try again (0: as soon as it gets to it).
    pub due_ms: i64,
    pub lease_until_ms: i64,
    pub last_error: Option<String>,
    pub updated_ms: i64,
}

/// Free space of the store's filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Space {
    pub free_bytes: u64,
    pub read_only: bool,
}
