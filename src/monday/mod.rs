//! The monday.com GraphQL client: our commands in, item ids or classified errors out.
//! graphql_client types the operations; the HTTP post is ours, so that every answer's
//! status, headers (`Retry-After`, `Idempotency-Replayed`, `API-Version`) and `errors[]` are read.

mod batch;
mod context;
mod error;
mod lookup;
mod ops;
mod outage;
mod platform;
mod throttle;
mod transport;
mod upload;

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::Value;

pub use error::{Decision, MondayError};
pub use lookup::Lookup;
pub use platform::DailyUsage;
pub use throttle::{SharedWindow, Snapshot as BudgetSnapshot, Throttle};
use transport::{error_at, Answer};

use crate::config::MondaySettings;
use crate::mapping::MondayCommand;
use crate::metrics::Metrics;

/// What monday did with a command.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub item_id: String,
    /// monday answered from its idempotency cache: the request had been applied before,
    /// possibly with other values, so what the item holds is not known for sure.
    pub replayed: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FoundItem {
    pub id: String,
    pub name: String,
    pub active: bool,
}

/// What an item carries of the bridge's non-repeatable effects (see `item_effects`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ItemEffects {
    pub active: bool,
    pub update_bodies: Vec<String>,
    pub file_names: Vec<String>,
    pub subitem_names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BoardInfo {
    pub id: String,
    pub name: String,
    pub groups: Vec<(String, String)>,
    /// id, title, type, settings (status labels live there).
    pub columns: Vec<(String, String, String, Option<Value>)>,
}

#[derive(Clone)]
pub struct MondayClient {
    http: reqwest::Client,
    url: String,
    token: SecretString,
    version: String,
    metrics: Arc<Metrics>,
    throttle: Arc<Throttle>,
    /// Counts every request against monday's daily limit; the daily-budget governor.
    keeper: Arc<crate::budget::Keeper>,
    /// Dates each request for the daily count: the same clock as the governor reading it.
    clock: crate::clock::SharedClock,
}

impl MondayClient {
    /// The same client on `clock` (the bridge's, which a test may move itself).
    pub fn with_clock(mut self, clock: crate::clock::SharedClock) -> MondayClient {
        self.clock = clock;
        self
    }

    /// Replicas on one database share the account's minute quota through `window`.
    pub fn share_budget(&self, window: Arc<dyn SharedWindow>) {
        self.throttle.share(window);
    }

    pub fn new(
        settings: &MondaySettings,
        metrics: Arc<Metrics>,
    ) -> Result<MondayClient, MondayError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.timeout_secs))
            .connect_timeout(Duration::from_secs(settings.timeout_secs.min(10)))
            .user_agent(concat!("aircall-monday-bridge/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| MondayError::Transport {
                message: e.to_string(),
                timed_out: false,
                not_sent: true,
            })?;
        Ok(MondayClient {
            http,
            url: settings.api_url.to_string(),
            token: settings.api_token.clone(),
            version: settings.api_version.clone(),
            metrics,
            throttle: Arc::new(Throttle::new(
                settings.max_in_flight,
                settings.max_in_flight_per_board,
            )),
            keeper: Arc::new(crate::budget::Keeper::new(settings.keeper_settings())),
            clock: crate::clock::system(),
        })
    }

    /// How many commands monday's complexity budget takes right now, when known.
    pub fn commands_that_fit(&self) -> Option<usize> {
        self.throttle.commands_that_fit()
    }

    /// The daily budget: our requests today, monday's limit, the governor's mode.
    pub fn keeper(&self) -> &Arc<crate::budget::Keeper> {
        &self.keeper
    }

    /// What monday last said of our budgets.
    pub fn budget(&self) -> BudgetSnapshot {
        self.throttle.snapshot()
    }

    /// Sends the commands in one request (each under its alias) with the key
    /// `request_key(commands)`. Each command gets its own result: a failure of the whole
    /// request is every command's failure.
    pub async fn execute_many(
        &self,
        commands: &[&MondayCommand],
    ) -> Vec<Result<Applied, MondayError>> {
        self.send(&request_key(commands), commands).await
    }

    /// Sends one command.
    pub async fn execute(&self, command: &MondayCommand) -> Result<Applied, MondayError> {
        self.execute_many(&[command])
            .await
            .pop()
            .unwrap_or_else(|| Err(MondayError::Decode("no answer for the command".into())))
    }

    /// Sends `commands` as one request under `key`: the one path of every mutation, so that a
    /// request written down in an intent can be sent again exactly as it first left.
    pub async fn send(
        &self,
        key: &str,
        commands: &[&MondayCommand],
    ) -> Vec<Result<Applied, MondayError>> {
        let (query, variables) = batch::document(commands);
        let body =
            serde_json::json!({ "query": query, "variables": variables, "operationName": "Batch" });
        let boards: Vec<&str> = commands.iter().map(|c| c.board_id()).collect();
        let op = match commands {
            [single] => single.name(),
            _ => "batch",
        };
        let answer = match self.post_json(body, Some(key), &boards, op).await {
            Ok(a) => a,
            Err(e) => {
                return commands
                    .iter()
                    .map(|c| Err(context::with_command(e.clone(), c)))
                    .collect()
            }
        };
        let results: Vec<Result<Applied, MondayError>> = commands
            .iter()
            .enumerate()
            .map(|(i, command)| {
                applied_at(&answer, &format!("c{i}"), command)
                    .map_err(|e| context::with_command(e, command))
            })
            .collect();
        if let [Ok(applied)] = results.as_slice() {
            tracing::debug!(op, item_id = %applied.item_id, replayed = applied.replayed, "applied");
        }
        results
    }

    /// Items on a board whose column holds `value` (used to find an item a crash lost track of).
    pub async fn find_items(
        &self,
        board_id: &str,
        column_id: &str,
        value: &str,
    ) -> Result<Vec<FoundItem>, MondayError> {
        let vars = ops::find_items_by_column::Variables {
            board_id: board_id.to_string(),
            column_id: column_id.to_string(),
            values: vec![Some(value.to_string())],
        };
        let reply = self
            .post::<ops::FindItemsByColumn>(vars, None, &[], "items_page_by_column_values")
            .await?;
        Ok(reply
            .data
            .items_page_by_column_values
            .items
            .into_iter()
            .map(|i| FoundItem {
                active: matches!(
                    i.state,
                    Some(ops::find_items_by_column::State::active) | None
                ),
                id: i.id,
                name: i.name,
            })
            .collect())
    }

    /// Boards the token can see (all, or the given ids), with groups and columns.
    pub async fn boards(&self, ids: Option<Vec<String>>) -> Result<Vec<BoardInfo>, MondayError> {
        let vars = ops::boards::Variables {
            ids,
            limit: Some(100),
            page: Some(1),
        };
        let reply = self.post::<ops::Boards>(vars, None, &[], "boards").await?;
        Ok(reply
            .data
            .boards
            .unwrap_or_default()
            .into_iter()
            .flatten()
            .map(|b| BoardInfo {
                id: b.id,
                name: b.name,
                groups: b
                    .groups
                    .unwrap_or_default()
                    .into_iter()
                    .flatten()
                    .map(|g| (g.id, g.title))
                    .collect(),
                columns: b
                    .columns
                    .unwrap_or_default()
                    .into_iter()
                    .flatten()
                    .map(|c| (c.id, c.title, format!("{:?}", c.type_), c.settings))
                    .collect(),
            })
            .collect())
    }
}

/// The `Idempotency-Key` of a request: a single command's own key, or one derived from the
/// keys of all it carries.
pub fn request_key(commands: &[&MondayCommand]) -> String {
    match commands {
        [single] => single.idempotency_key().to_string(),
        _ => {
            let keys: Vec<&str> = commands.iter().map(|c| c.idempotency_key()).collect();
            crate::mapping::idempotency_key(&keys)
        }
    }
}

/// What monday answered under `alias` for `command`.
fn applied_at(
    answer: &Answer,
    alias: &str,
    command: &MondayCommand,
) -> Result<Applied, MondayError> {
    if let Some(err) = error_at(answer, alias) {
        return Err(err);
    }
    let id = match answer.json.pointer(&format!("/data/{alias}/id")) {
        Some(Value::String(id)) => id.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => {
            return Err(MondayError::Decode(format!(
                "{} under {alias} returned no id",
                command.name()
            )))
        }
    };
    // An update's (a subitem's) answer is its own id: report the item it was posted on.
    let item_id = match command {
        MondayCommand::CreateUpdate { item_id, .. } => item_id.clone(),
        MondayCommand::CreateSubitem { parent_item_id, .. } => parent_item_id.clone(),
        _ => id,
    };
    Ok(Applied {
        item_id,
        replayed: answer.replayed,
    })
}
