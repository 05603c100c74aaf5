//! The monday.com GraphQL client: our commands in, item ids or classified errors out.
//! graphql_client types the operations; the HTTP post is ours, so that every answer's
//! status, headers (`Retry-After`, `Idempotency-Replayed`, `API-Version`) and `errors[]` are read.

mod batch;
mod context;
mod error;
mod lookup;
mod ops;
mod throttle;
mod transport;
mod upload;

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::Value;

use batch::encode;
pub use error::{Decision, MondayError};
pub use lookup::Lookup;
pub use throttle::{Snapshot as BudgetSnapshot, Throttle};
use transport::error_at;

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
}

impl MondayClient {
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
        })
    }

    /// How many commands monday's complexity budget takes right now, when known.
    pub fn commands_that_fit(&self) -> Option<usize> {
        self.throttle.commands_that_fit()
    }

    /// What monday last said of our budgets.
    pub fn budget(&self) -> BudgetSnapshot {
        self.throttle.snapshot()
    }

    /// Sends several commands in one request (aliased), or one the typed way. Each command
    /// gets its own result: a failure of the whole request is every command's failure.
    pub async fn execute_many(
        &self,
        commands: &[&MondayCommand],
    ) -> Vec<Result<Applied, MondayError>> {
        if let [single] = commands {
            return vec![self.execute(single).await];
        }
        let (query, variables) = batch::document(commands);
        let body =
            serde_json::json!({ "query": query, "variables": variables, "operationName": "Batch" });
        let keys: Vec<&str> = commands.iter().map(|c| c.idempotency_key()).collect();
        let key = crate::mapping::idempotency_key(&keys);
        let boards: Vec<&str> = commands.iter().map(|c| c.board_id()).collect();
        let answer = match self.post_json(body, Some(&key), &boards, "batch").await {
            Ok(a) => a,
            Err(e) => return vec![Err(e); commands.len()],
        };
        commands
            .iter()
            .enumerate()
            .map(|(i, command)| {
                let alias = format!("c{i}");
                if let Some(err) = error_at(&answer, &alias) {
                    return Err(context::with_command(err, command));
                }
                // An update's answer is the update's id: report the item it was posted on.
                if let MondayCommand::CreateUpdate { item_id, .. } = command {
                    return match answer.json.pointer(&format!("/data/{alias}/id")) {
                        Some(Value::String(_) | Value::Number(_)) => Ok(Applied {
                            item_id: item_id.clone(),
                            replayed: answer.replayed,
                        }),
                        _ => Err(MondayError::Decode(format!(
                            "create_update under {alias} returned no update"
                        ))),
                    };
                }
                match answer.json.pointer(&format!("/data/{alias}/id")) {
                    Some(Value::String(id)) => Ok(Applied {
                        item_id: id.clone(),
                        replayed: answer.replayed,
                    }),
                    Some(Value::Number(n)) => Ok(Applied {
                        item_id: n.to_string(),
                        replayed: answer.replayed,
                    }),
                    _ => Err(MondayError::Decode(format!(
                        "{} under {alias} returned no item",
                        command.name()
                    ))),
                }
            })
            .collect()
    }

    /// Sends one command. Column values travel as a JSON-encoded string, as monday documents.
    #[tracing::instrument(skip_all, fields(op = command.name(), item_id))]
    pub async fn execute(&self, command: &MondayCommand) -> Result<Applied, MondayError> {
        self.execute_one(command)
            .await
            .map_err(|e| context::with_command(e, command))
    }

    async fn execute_one(&self, command: &MondayCommand) -> Result<Applied, MondayError> {
        let key = Some(command.idempotency_key());
        let (item_id, replayed) = match command {
            MondayCommand::CreateItem {
                board_id,
                group_id,
                item_name,
                column_values,
                create_labels,
                ..
            } => {
                let vars = ops::create_item::Variables {
                    board_id: board_id.clone(),
                    group_id: group_id.clone(),
                    item_name: item_name.clone(),
                    column_values: Some(encode(column_values)),
                    create_labels: create_labels.then_some(true),
                };
                let reply = self
                    .post::<ops::CreateItem>(vars, key, &[board_id], "create_item")
                    .await?;
                (reply.data.create_item.map(|i| i.id), reply.replayed)
            }
            MondayCommand::ChangeColumnValues {
                board_id,
                item_id,
                column_values,
                create_labels,
                ..
            } => {
                let vars = ops::change_column_values::Variables {
                    board_id: board_id.clone(),
                    item_id: item_id.clone(),
                    column_values: encode(column_values),
                    create_labels: create_labels.then_some(true),
                };
                let reply = self
                    .post::<ops::ChangeColumnValues>(
                        vars,
                        key,
                        &[board_id],
                        "change_multiple_column_values",
                    )
                    .await?;
                (
                    reply.data.change_multiple_column_values.map(|i| i.id),
                    reply.replayed,
                )
            }
            MondayCommand::ArchiveItem {
                board_id, item_id, ..
            } => {
                let vars = ops::archive_item::Variables {
                    item_id: item_id.clone(),
                };
                let reply = self
                    .post::<ops::ArchiveItem>(vars, key, &[board_id], "archive_item")
                    .await?;
                (reply.data.archive_item.map(|i| i.id), reply.replayed)
            }
            MondayCommand::MoveItemToGroup {
                board_id,
                item_id,
                group_id,
                ..
            } => {
                let vars = ops::move_item_to_group::Variables {
                    item_id: item_id.clone(),
                    group_id: group_id.clone(),
                };
                let reply = self
                    .post::<ops::MoveItemToGroup>(vars, key, &[board_id], "move_item_to_group")
                    .await?;
                (reply.data.move_item_to_group.map(|i| i.id), reply.replayed)
            }
            MondayCommand::AddFile {
                board_id,
                item_id,
                column_id,
                file_name,
                ..
            } => {
                // The planner cannot hold the bytes: the worker downloads and calls add_file.
                return Err(MondayError::Decode(format!(
                    "{file_name} for item {item_id} (board {board_id}, column {column_id}) must be sent with add_file"
                )));
            }
            MondayCommand::CreateUpdate {
                board_id,
                item_id,
                body,
                ..
            } => {
                let vars = ops::create_update::Variables {
                    item_id: item_id.clone(),
                    body: body.clone(),
                };
                let reply = self
                    .post::<ops::CreateUpdate>(vars, key, &[board_id], "create_update")
                    .await?;
                // The answer is the update's id; the command's item is the one it was for.
                (
                    reply.data.create_update.map(|_| item_id.clone()),
                    reply.replayed,
                )
            }
        };
        let item_id = item_id
            .ok_or_else(|| MondayError::Decode(format!("{} returned no item", command.name())))?;
        tracing::Span::current().record("item_id", item_id.as_str());
        Ok(Applied { item_id, replayed })
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
