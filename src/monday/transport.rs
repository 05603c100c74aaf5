//! One request to monday, end to end: wait for the throttle, post, read the budgets from the
//! headers, count and time it, and turn whatever came back into data or a classified error.
//!
//! (Over 300 lines on purpose: sending one request, counting it against the day and the
//! metrics, and classifying its answer read the same answer and belong together.)

use std::time::{Duration, Instant};

use graphql_client::GraphQLQuery;
use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Decision, MondayClient, MondayError};

/// What a request carries: GraphQL as JSON to `/v2`, or a file upload as multipart.
pub(super) enum Body {
    Json(Value),
    File(reqwest::multipart::Form),
}

/// The longest the client waits for monday's budgets before handing the wait back to the
/// worker (as `MondayError::Throttled`), which reschedules instead of holding its claims.
const MAX_INLINE_WAIT: Duration = Duration::from_secs(15);

/// A raw answer: parsed JSON body and whether monday replayed it from its idempotency cache.
pub(super) struct Answer {
    pub json: Value,
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub replayed: bool,
}

pub(super) struct Reply<T> {
    pub data: T,
}

impl MondayClient {
    pub(super) async fn post<Q: GraphQLQuery>(
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
        Ok(Reply { data })
    }

    /// One POST: waits for the throttle, sends, reads the budgets from the headers, counts
    /// and times it. Errors here are the whole request's; per-field errors are the caller's.
    pub(super) async fn post_json(
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
    pub(super) async fn post_body(
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
        let result = self.transmit(body, idempotency_key, commands).await;
        self.throttle.reached(!matches!(
            &result,
            Err(MondayError::Transport { .. })
                | Err(MondayError::Http {
                    status: 502..=504,
                    ..
                })
                | Ok(Answer {
                    status: 502..=504,
                    ..
                })
        ));
        // As monday counts against the daily limit: a rate-limited request costs 0.1 call, one
        // that never left costs nothing, anything else (failed ones too) a whole call.
        let tenths = match &result {
            Ok(a) if a.status == 429 => 1,
            Err(MondayError::Transport { not_sent: true, .. }) => 0,
            _ => 10,
        };
        if tenths > 0 {
            self.keeper.count(self.clock.now_ms(), tenths);
        }
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
        if !matches!(outcome.as_str(), "ok" | "replayed") {
            self.metrics
                .inc("bridge_monday_errors_total", &[("code", &outcome)]);
        }
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
                url: self.url.clone(),
            }));
        }
        Ok(answer)
    }

    async fn transmit(
        &self,
        body: Body,
        idempotency_key: Option<&str>,
        commands: usize,
    ) -> Result<Answer, MondayError> {
        let url = match &body {
            Body::Json(_) => self.url.clone(),
            Body::File(_) => self.file_url(),
        };
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
                    url,
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
pub(super) fn error_at(answer: &Answer, alias: &str) -> Option<MondayError> {
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

pub(super) fn transport(e: reqwest::Error) -> MondayError {
    MondayError::Transport {
        message: cause_chain(&e),
        timed_out: e.is_timeout(),
        // A failed connect (refused, unreachable, connect timeout) sent nothing.
        not_sent: e.is_connect(),
    }
}

/// An error and its causes, "a: b: c": reqwest's own text ("error sending request for url")
/// leaves out the cause an operator needs (refused, DNS, TLS, timeout).
pub(super) fn cause_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get("retry-after")?.to_str().ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

pub(super) fn snippet(text: &str) -> String {
    let s: String = text.chars().take(200).collect();
    s.replace('\n', " ")
}

/// The first GraphQL error (modern `errors[]`, or the legacy top-level `error_code`).
pub(super) fn first_error(
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
            .unwrap_or_else(|| err.to_string())
            + &super::context::error_data_suffix(ext.and_then(|e| e.get("error_data")));
        let code = ext
            .and_then(|e| e.get("code"))
            .and_then(Value::as_str)
            .map(String::from)
            .or_else(|| err.get("message").and_then(Value::as_str).map(String::from))
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
