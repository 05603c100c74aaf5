//! The monday.com GraphQL client: our commands in, item ids or classified errors out.
//! graphql_client types the operations; the HTTP post is ours, so that every answer's
//! status, headers (`Retry-After`, `Idempotency-Replayed`, `API-Version`) and `errors[]` are read.

mod batch;
mod error;
mod lookup;
mod ops;
mod throttle;
mod upload;

use std::sync::Arc;
use std::time::{Duration, Instant};

use graphql_client::GraphQLQuery;
use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use error::{Decision, MondayError};
pub use throttle::{Snapshot as BudgetSnapshot, Throttle};

use crate::config::MondaySettings;
use crate::mapping::MondayCommand;
use crate::metrics::Metrics;

/// The longest the client waits for monday's budgets before handing the wait back to the
/// worker (as `MondayError::Throttled`), which reschedules instead of holding its claims.
const MAX_INLINE_WAIT: Duration = Duration::from_secs(15);

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

/// What a request carries: GraphQL as JSON to `/v2`, or a file upload as multipart.
enum Body {
    Json(Value),
    File(reqwest::multipart::Form),
}

/// A raw answer: parsed JSON body and whether monday replayed it from its idempotency cache.
struct Answer {
    json: Value,
    status: u16,
    retry_after: Option<Duration>,
    replayed: bool,
}

struct Reply<T> {
    data: T,
    replayed: bool,
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
                    return Err(err);
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

    async fn post<Q: GraphQLQuery>(
        &self,
        variables: Q::Variables,
        idempotency_key: Option<&str>,
        boards: &[&str],
        op: &'static str,
    ) -> Result<Reply<Q::ResponseData>, MondayError>
    where
        Q::ResponseData: DeserializeOwned,
    {
        let body = serde_json::to_value(Q::build_query(variables))
            .map_err(|e| MondayError::Decode(format!("cannot encode {op}: {e}")))?;
        let answer = self.post_json(body, idempotency_key, boards, op).await?;
        if let Some(err) = first_error(&answer.json, answer.status, answer.retry_after) {
            return Err(err);
        }
        let data = answer.json.get("data").cloned().unwrap_or(Value::Null);
        let data: Q::ResponseData = serde_json::from_value(data).map_err(|e| {
            MondayError::Decode(format!("{e}: {}", snippet(&answer.json.to_string())))
        })?;
        Ok(Reply {
            data,
            replayed: answer.replayed,
        })
    }

    /// One POST: waits for the throttle, sends, reads the budgets from the headers, counts
    /// and times it. Errors here are the whole request's; per-field errors are the caller's.
    async fn post_json(
        &self,
        body: Value,
        idempotency_key: Option<&str>,
        boards: &[&str],
        op: &'static str,
    ) -> Result<Answer, MondayError> {
        self.post_body(Body::Json(body), idempotency_key, boards, op)
            .await
    }

    /// As `post_json`, for either kind of body (a file goes as multipart to `/v2/file`).
    async fn post_body(
        &self,
        body: Body,
        idempotency_key: Option<&str>,
        boards: &[&str],
        op: &'static str,
    ) -> Result<Answer, MondayError> {
        let commands = boards.len().max(1);
        let _permit = self
            .throttle
            .acquire(boards, commands, MAX_INLINE_WAIT)
            .await
            .map_err(|wait| MondayError::Throttled { wait })?;
        let started = Instant::now();
        let result = self.send(body, idempotency_key, commands).await;
        let outcome = match &result {
            Ok(a) if a.replayed => "replayed".to_string(),
            Ok(a) => match first_error(&a.json, a.status, a.retry_after) {
                Some(e) => e.kind(),
                None => "ok".to_string(),
            },
            Err(e) => e.kind(),
        };
        self.metrics.inc(
            "bridge_monday_requests_total",
            &[("op", op), ("outcome", &outcome)],
        );
        self.metrics.observe(
            "bridge_monday_request_seconds",
            &[("op", op)],
            started.elapsed(),
        );
        let error = match &result {
            Ok(a) if (200..300).contains(&a.status) => None,
            Ok(a) => first_error(&a.json, a.status, a.retry_after),
            Err(e) => Some(e.clone()),
        };
        if let Some(e) = &error {
            tracing::warn!(op, error = %e, "monday request failed");
            // Every request waits after a rate limit or a lock, not only this one's retry.
            if let Decision::Retry { hint: Some(wait) } = e.decision() {
                self.throttle.back_off(wait);
            }
        }
        let answer = result?;
        if !(200..300).contains(&answer.status) {
            return Err(error.unwrap_or(MondayError::Http {
                status: answer.status,
                retry_after: answer.retry_after,
                snippet: snippet(&answer.json.to_string()),
            }));
        }
        Ok(answer)
    }

    async fn send(
        &self,
        body: Body,
        idempotency_key: Option<&str>,
        commands: usize,
    ) -> Result<Answer, MondayError> {
        let request = match body {
            Body::Json(body) => self
                .http
                .post(&self.url)
                .header(CONTENT_TYPE, "application/json")
                .json(&body),
            // reqwest sets the multipart Content-Type with its boundary.
            Body::File(form) => self.http.post(self.file_url()).multipart(form),
        };
        let mut request = request
            .header(AUTHORIZATION, self.token.expose_secret())
            .header("API-Version", &self.version);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        self.throttle.observe(&headers, commands);
        // A connection cut after the headers is still "no answer": the write may or may not
        // have been applied, which the idempotency key and the item lookup take care of.
        let text = response.text().await.map_err(transport)?;
        let retry_after = retry_after(&headers);
        if let Some(v) = headers.get("api-version").and_then(|v| v.to_str().ok()) {
            if v != self.version {
                tracing::debug!(asked = %self.version, answered = v, "monday served another API version");
            }
        }
        let json: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(_) if !(200..300).contains(&status) => {
                return Err(MondayError::Http {
                    status,
                    retry_after,
                    snippet: snippet(&text),
                })
            }
            Err(e) => return Err(MondayError::Decode(format!("{e}: {}", snippet(&text)))),
        };
        let replayed = headers
            .get("idempotency-replayed")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        Ok(Answer {
            json,
            status,
            retry_after,
            replayed,
        })
    }
}

/// The error monday reported for the field under `alias`, if any.
fn error_at(answer: &Answer, alias: &str) -> Option<MondayError> {
    let errors = answer.json.get("errors")?.as_array()?;
    let own = errors.iter().find(|e| {
        e.get("path")
            .and_then(Value::as_array)
            .and_then(|p| p.first())
            .and_then(Value::as_str)
            == Some(alias)
    });
    // An error without a path (a validation error) concerns the whole request.
    let err = own.or_else(|| errors.iter().find(|e| e.get("path").is_none()))?;
    let wrapped =
        serde_json::json!({ "errors": [err], "extensions": answer.json.get("extensions") });
    first_error(&wrapped, answer.status, answer.retry_after)
}

use batch::encode;
pub use lookup::Lookup;

fn transport(e: reqwest::Error) -> MondayError {
    MondayError::Transport {
        message: e.to_string(),
        timed_out: e.is_timeout(),
        // A failed connect (refused, unreachable, connect timeout) sent nothing.
        not_sent: e.is_connect(),
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get("retry-after")?.to_str().ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn snippet(text: &str) -> String {
    let s: String = text.chars().take(200).collect();
    s.replace('\n', " ")
}

/// The first GraphQL error (modern `errors[]`, or the legacy top-level `error_code`).
fn first_error(
    json: &Value,
    http_status: u16,
    header_hint: Option<Duration>,
) -> Option<MondayError> {
    let request_id = json
        .pointer("/extensions/request_id")
        .and_then(Value::as_str)
        .map(String::from);
    if let Some(err) = json
        .get("errors")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    {
        let ext = err.get("extensions");
        let message = err
            .get("message")
            .and_then(Value::as_str)
            .map(String::from)
            .unwrap_or_else(|| err.to_string());
        let code = ext
            .and_then(|e| e.get("code"))
            .and_then(Value::as_str)
            .map(String::from)
            .unwrap_or_else(|| message.clone());
        let status_code = ext
            .and_then(|e| e.get("status_code"))
            .and_then(Value::as_u64)
            .map(|s| s as u16);
        let hint = ext
            .and_then(|e| {
                e.get("retry_in_seconds")
                    .or_else(|| e.pointer("/error_data/retry_in_seconds"))
            })
            .and_then(Value::as_f64)
            .map(|s| Duration::from_secs_f64(s.max(0.0)))
            .or(header_hint);
        return Some(MondayError::Api {
            code,
            message,
            http_status,
            status_code,
            retry_after: hint,
            request_id,
        });
    }
    let legacy = json.get("error_code").and_then(Value::as_str)?;
    Some(MondayError::Api {
        code: legacy.to_string(),
        message: json
            .get("error_message")
            .and_then(Value::as_str)
            .unwrap_or(legacy)
            .to_string(),
        http_status,
        status_code: json
            .get("status_code")
            .and_then(Value::as_u64)
            .map(|s| s as u16),
        retry_after: header_hint,
        request_id,
    })
}
