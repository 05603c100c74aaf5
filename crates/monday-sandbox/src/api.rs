//! The `/v2` request pipeline, independent of actix: auth, version, parse, faults,
//! concurrency, limits, idempotency, execution, and the monday-shaped reply.
//!
//! Long on purpose: the request pipeline in its order (auth, version, parse, faults, limits,
//! execute, headers); cut, the order would no longer read top to bottom.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use rand::Rng;
use serde_json::{json, Map, Value};

use super::exec::{self, ExecCtx, Upload};
use super::faults::Fault;
use super::graphql::{self, eval_args, OpKind, PrepareError, Prepared, Sel};
use super::idempotency::{Cached, Lookup};
use super::limits::{resolve_version, CostModel, Exceeded};
use super::Shared;

pub struct ApiRequest {
    pub api_version: Option<String>,
    pub idempotency_key: Option<String>,
    pub query: String,
    pub variables: Map<String, Value>,
    pub operation_name: Option<String>,
    pub uploads: HashMap<String, Upload>,
}

pub struct ApiReply {
    pub status: u16,
    /// `None`: cut the connection instead of answering.
    pub body: Option<Vec<u8>>,
    pub headers: Vec<(&'static str, String)>,
}

fn request_id() -> String {
    let n: u128 = rand::thread_rng().gen();
    format!("{n:032x}")
}

/// Adds `extensions.request_id`, the rate-limit headers and the version header.
pub fn reply(shared: &Shared, status: u16, mut body: Value, version: Option<&str>) -> ApiReply {
    let rid = request_id();
    if let Some(obj) = body.as_object_mut() {
        let ext = obj.entry("extensions").or_insert_with(|| json!({}));
        ext["request_id"] = json!(rid);
    }
    let mut inner = shared.lock();
    let now = inner.clock.now();
    let limits = inner.limits.clone();
    let (policy, state) =
        inner
            .limiter
            .headers(&limits, now, shared.in_flight.load(Ordering::SeqCst));
    inner.stats.status(status);
    drop(inner);
    let mut headers = vec![
        ("RateLimit-Policy", policy),
        ("RateLimit", state),
        ("X-Request-Id", rid),
    ];
    if let Some(v) = version {
        headers.push(("API-Version", v.to_string()));
    }
    ApiReply {
        status,
        body: Some(serde_json::to_vec(&body).unwrap_or_default()),
        headers,
    }
}

pub fn error_body(message: &str, code: &str, extra: Value) -> Value {
    let mut ext = json!({ "code": code });
    if let (Some(e), Value::Object(x)) = (ext.as_object_mut(), extra) {
        e.extend(x);
    }
    json!({ "errors": [{ "message": message, "extensions": ext }] })
}

fn too_many(shared: &Shared, code: &str, message: &str, retry: u64, version: &str) -> ApiReply {
    shared.lock().stats.limited(code);
    let mut r = reply(
        shared,
        429,
        error_body(message, code, json!({ "retry_in_seconds": retry })),
        Some(version),
    );
    r.headers.push(("Retry-After", retry.to_string()));
    r
}

/// Holds one concurrency slot for the life of a request.
struct Slot<'a>(&'a Shared);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Releases an in-flight idempotency key if the request ends without a cached answer
/// (including when actix drops the handler because the client went away).
struct KeyGuard<'a> {
    shared: &'a Shared,
    key: Option<String>,
}

impl Drop for KeyGuard<'_> {
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            self.shared.lock().idem.abandon(&k);
        }
    }
}

fn auth_ok(expected: &str, got: Option<&str>) -> bool {
    let Some(got) = got.map(str::trim) else {
        return false;
    };
    let token = got.strip_prefix("Bearer ").unwrap_or(got).trim();
    // Not secret-grade, but no early exit on the first differing byte either.
    token.len() == expected.len()
        && token
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn items_cost(sel: &Sel, vars: &Map<String, Value>, per_item: u64) -> u64 {
    use graphql_parser::query::Selection;
    sel.items
        .iter()
        .map(|s| match s {
            Selection::Field(f) => {
                let own = if f.name == "items_page" {
                    let args = eval_args(&f.arguments, vars);
                    per_item * args.get("limit").and_then(Value::as_u64).unwrap_or(25)
                } else {
                    0
                };
                own + items_cost(&f.selection_set, vars, per_item)
            }
            Selection::InlineFragment(i) => items_cost(&i.selection_set, vars, per_item),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

/// Complexity points and daily cost (tenths of a call) of a prepared operation.
fn cost(p: &Prepared, model: &CostModel) -> (u64, u64) {
    let mut points = 0;
    for f in &p.root_fields {
        points += match (p.kind, f.name.as_str()) {
            (_, "complexity") => 0,
            (OpKind::Mutation, _) => model.mutation_field,
            (OpKind::Query, name) => {
                let requested = f
                    .args
                    .get("limit")
                    .and_then(Value::as_u64)
                    .or_else(|| {
                        f.args
                            .get("ids")
                            .and_then(Value::as_array)
                            .map(|a| a.len() as u64)
                    })
                    .unwrap_or(if matches!(name, "me" | "version") {
                        0
                    } else {
                        25
                    });
                model.query_field + model.per_item * requested
            }
        };
        points += items_cost(&f.selection, &p.variables, model.per_item);
    }
    // A complexity-only request costs 0.1 call against the daily limit.
    let only_complexity =
        !p.root_fields.is_empty() && p.root_fields.iter().all(|f| f.name == "complexity");
    (points, if only_complexity { 1 } else { 10 })
}

/// Counts the request and checks `Authorization`; `Some` is the 401 to send.
pub fn check_auth(shared: &Shared, authorization: Option<&str>) -> Option<ApiReply> {
    shared.lock().stats.requests_total += 1;
    let expected = shared.token.as_deref()?;
    if auth_ok(expected, authorization) {
        return None;
    }
    shared.lock().stats.unauthorized += 1;
    let body = json!({"errors": [{"message": "Unauthorized",
        "extensions": {"code": "Unauthorized", "status_code": 401}}]});
    Some(reply(shared, 401, body, None))
}

/// Runs an authenticated request (see `check_auth`) through the pipeline.
pub async fn handle(shared: &Shared, req: ApiRequest) -> ApiReply {
    let version = match resolve_version(req.api_version.as_deref()) {
        Ok(v) => v,
        Err(msg) => {
            let body = error_body(&msg, "InvalidVersionException", json!({"status_code": 200}));
            return reply(shared, 200, body, None);
        }
    };
    let prepared = graphql::prepare(&req.query, req.variables, req.operation_name.as_deref());
    let fields: Vec<&str> = match &prepared {
        Ok(p) => p.root_fields.iter().map(|f| f.name.as_str()).collect(),
        Err(_) => Vec::new(),
    };
    let fault = shared.lock().faults.next(&fields);
    match fault {
        Some(Fault::Http500) => {
            let body = error_body(
                "Internal Server Error",
                "INTERNAL_SERVER_ERROR",
                json!({"status_code": 500}),
            );
            return reply(shared, 500, body, Some(&version));
        }
        Some(Fault::Http503) => {
            let body = error_body(
                "Service Unavailable",
                "SERVICE_UNAVAILABLE",
                json!({"status_code": 503}),
            );
            return reply(shared, 503, body, Some(&version));
        }
        Some(Fault::RateLimited { retry_in_seconds }) => {
            return too_many(
                shared,
                "RATE_LIMIT_EXCEEDED",
                "Rate Limit Exceeded",
                retry_in_seconds,
                &version,
            )
        }
        Some(Fault::Locked) => {
            let msg = "Resource is currently locked, please try again later";
            let mut r = reply(
                shared,
                423,
                error_body(msg, "RESOURCE_LOCKED", json!({"status_code": 423})),
                Some(&version),
            );
            r.headers.push(("Retry-After", "1".into()));
            return r;
        }
        Some(Fault::DropConnection) => {
            return ApiReply {
                status: 200,
                body: None,
                headers: Vec::new(),
            }
        }
        _ => {}
    }

    let max_concurrency = shared.lock().limits.max_concurrency;
    if shared.in_flight.fetch_add(1, Ordering::SeqCst) >= max_concurrency {
        shared.in_flight.fetch_sub(1, Ordering::SeqCst);
        return too_many(
            shared,
            "maxConcurrencyExceeded",
            "Concurrency limit exceeded",
            1,
            &version,
        );
    }
    let _slot = Slot(shared);

    let (points, tenths) = match &prepared {
        Ok(p) => {
            let model = shared.lock().limits.cost.clone();
            cost(p, &model)
        }
        Err(_) => (0, 10),
    };
    let admitted = {
        let mut inner = shared.lock();
        let now = inner.clock.now();
        let limits = inner.limits.clone();
        if points > limits.max_query_complexity {
            Err(None)
        } else {
            inner
                .limiter
                .admit(&limits, now, points, tenths)
                .map_err(Some)
        }
    };
    let complexity = match admitted {
        Ok(c) => c,
        Err(None) => {
            let max = shared.lock().limits.max_query_complexity;
            let msg =
                format!("Query has complexity of {points}, which exceeds max complexity of {max}");
            return reply(
                shared,
                200,
                error_body(&msg, "maxComplexityExceeded", json!({})),
                Some(&version),
            );
        }
        Err(Some(Exceeded::Minute { retry_in })) => {
            return too_many(
                shared,
                "RATE_LIMIT_EXCEEDED",
                "Rate Limit Exceeded",
                retry_in,
                &version,
            )
        }
        Err(Some(Exceeded::Complexity { retry_in })) => {
            return too_many(
                shared,
                "COMPLEXITY_BUDGET_EXHAUSTED",
                "Complexity budget exhausted",
                retry_in,
                &version,
            )
        }
        Err(Some(Exceeded::Daily { retry_in })) => {
            return too_many(
                shared,
                "DAILY_LIMIT_EXCEEDED",
                "Daily limit exceeded",
                retry_in,
                &version,
            )
        }
    };
    let prepared = match prepared {
        Ok(p) => p,
        Err(PrepareError::Parse(errors) | PrepareError::Validation(errors)) => {
            return reply(shared, 200, json!({ "errors": errors }), Some(&version));
        }
    };

    let mut key_guard = KeyGuard { shared, key: None };
    let key = req.idempotency_key.filter(|k| !k.trim().is_empty());
    if let (OpKind::Mutation, Some(key)) = (prepared.kind, key) {
        let lookup = {
            let mut inner = shared.lock();
            let now = inner.clock.now();
            inner.idem.begin(&key, now)
        };
        match lookup {
            Lookup::Fresh => key_guard.key = Some(key),
            Lookup::Replay(cached) => {
                shared.lock().stats.idempotent_replays += 1;
                let mut r = reply(shared, cached.status, json!({}), Some(&version));
                r.body = Some(cached.body);
                r.headers.push(("Idempotency-Replayed", "true".into()));
                return r;
            }
            Lookup::InFlight => {
                shared.lock().stats.idempotency_conflicts += 1;
                let body = error_body(
                    "A request with this idempotency key is currently being processed",
                    "IDEMPOTENCY_CONFLICT",
                    json!({}),
                );
                let mut r = reply(shared, 409, body, Some(&version));
                r.headers.push(("Retry-After", "1".into()));
                return r;
            }
        }
    }
    if let Some(Fault::Timeout { ms }) = fault {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }

    let body = {
        let mut guard = shared.lock();
        let inner = &mut *guard;
        let now = inner.clock.now();
        let limits = inner.limits.clone();
        let platform = inner.limiter.platform(&limits, now);
        let mut ctx = ExecCtx {
            state: &mut inner.state,
            now,
            complexity,
            version: version.clone(),
            uploads: req.uploads,
            platform,
        };
        let out = exec::execute(&prepared, &mut ctx);
        for (field, outcome) in &out.fields {
            inner.stats.field(field, outcome);
        }
        let mut body = json!({ "data": out.data });
        if !out.errors.is_empty() {
            body["errors"] = Value::Array(out.errors);
        }
        body
    };
    let mut r = reply(shared, 200, body, Some(&version));
    if let Some(key) = key_guard.key.take() {
        let cached = Cached {
            status: r.status,
            body: r.body.clone().unwrap_or_default(),
        };
        let mut inner = shared.lock();
        let now = inner.clock.now();
        inner.idem.finish(&key, cached, now);
    }
    match fault {
        Some(Fault::ApplyThenDrop) => r.body = None,
        Some(Fault::ApplyThenHold { ms }) => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await
        }
        _ => {}
    }
    r
}
