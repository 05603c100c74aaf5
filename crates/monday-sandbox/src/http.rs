//! actix-web routes: the API (`/v2`, `/v2/file`), the control endpoints (`/_sandbox/...`, in
//! `control`) and the board page (`/`, `/boards/{id}`, in `page`). Handlers only translate
//! HTTP to `api` calls and back.

use std::collections::HashMap;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::api::{self, error_body, ApiReply, ApiRequest};
use super::exec::{Upload, UPLOAD_PREFIX};
use super::{control, multipart, page, Shared};

/// monday's historical upload cap was 20 MB; bodies above it get 413.
const MAX_BODY: usize = 20 * 1024 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(MAX_BODY))
        .route("/v2", web::post().to(graphql_json))
        .route("/v2/file", web::post().to(graphql_file))
        .route("/", web::get().to(page::index))
        .route("/boards/{id}", web::get().to(page::board))
        .configure(control::routes);
}

fn header(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn bad_request(shared: &Shared, message: &str, code: &str) -> HttpResponse {
    to_http(api::reply(
        shared,
        400,
        error_body(message, code, json!({"status_code": 400})),
        None,
    ))
}

/// A body that fails before its first byte: actix aborts the connection, so the client sees
/// a transport error instead of an answer (faults `drop_connection`, `apply_then_drop`).
struct DroppedBody;

impl MessageBody for DroppedBody {
    type Error = std::io::Error;

    fn size(&self) -> BodySize {
        BodySize::Sized(512)
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "sandbox fault: connection dropped",
        ))))
    }
}

fn to_http(reply: ApiReply) -> HttpResponse {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = HttpResponse::build(status);
    for (k, v) in &reply.headers {
        resp.insert_header((*k, v.as_str()));
    }
    match reply.body {
        Some(body) => resp.content_type("application/json").body(body),
        None => resp.body(DroppedBody),
    }
}

fn base_request(req: &HttpRequest) -> ApiRequest {
    ApiRequest {
        api_version: header(req, "API-Version"),
        idempotency_key: header(req, "Idempotency-Key"),
        query: String::new(),
        variables: Map::new(),
        operation_name: None,
        uploads: HashMap::new(),
    }
}

async fn graphql_json(req: HttpRequest, body: Bytes, shared: web::Data<Shared>) -> HttpResponse {
    if let Some(denied) = api::check_auth(&shared, header(&req, "Authorization").as_deref()) {
        return to_http(denied);
    }
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(&shared, &format!("Invalid JSON: {e}"), "JsonParseException"),
    };
    let Some(query) = parsed.get("query").and_then(Value::as_str) else {
        // Since 2025-01 the document must be in the body.
        return bad_request(
            &shared,
            "No query string was present in the request body",
            "BAD_REQUEST",
        );
    };
    let variables = match parsed.get("variables") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        // Since 2025-04 a JSON string is refused.
        Some(_) => {
            return bad_request(
                &shared,
                "variables must be a JSON object, not a string",
                "BAD_REQUEST",
            )
        }
    };
    let mut request = base_request(&req);
    request.query = query.to_string();
    request.variables = variables;
    request.operation_name = parsed
        .get("operationName")
        .and_then(Value::as_str)
        .map(str::to_string);
    to_http(api::handle(&shared, request).await)
}

/// `add_file_to_column` as multipart: `query`, optional `variables`, `map`
/// `{"<part>": "variables.file"}` and the file part with a non-empty filename.
async fn graphql_file(req: HttpRequest, body: Bytes, shared: web::Data<Shared>) -> HttpResponse {
    if let Some(denied) = api::check_auth(&shared, header(&req, "Authorization").as_deref()) {
        return to_http(denied);
    }
    let content_type = header(&req, "Content-Type").unwrap_or_default();
    let parts = match multipart::parse(&content_type, &body) {
        Ok(p) => p,
        Err(e) => return bad_request(&shared, &e, "BAD_REQUEST"),
    };
    let text = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name)
            .map(|p| String::from_utf8_lossy(&p.data).to_string())
    };
    let Some(query) = text("query") else {
        return bad_request(&shared, "Unsupported query", "BAD_REQUEST");
    };
    let mut variables = match text("variables").map(|v| serde_json::from_str::<Value>(&v)) {
        None => Map::new(),
        Some(Ok(Value::Object(m))) => m,
        Some(Ok(Value::Null)) => Map::new(),
        Some(_) => return bad_request(&shared, "variables must be a JSON object", "BAD_REQUEST"),
    };
    let map = match text("map").map(|m| serde_json::from_str::<Value>(&m)) {
        Some(Ok(Value::Object(m))) => m,
        _ => {
            return bad_request(
                &shared,
                "map part missing or not a JSON object",
                "BAD_REQUEST",
            )
        }
    };
    let mut uploads = HashMap::new();
    for (part_name, target) in &map {
        // The docs' shape is a string; the official Python SDK sends a one-element array.
        let target = match target {
            Value::String(s) => s.as_str(),
            Value::Array(a) if a.len() == 1 => a[0].as_str().unwrap_or_default(),
            _ => "",
        };
        let Some(var) = target.strip_prefix("variables.") else {
            return bad_request(
                &shared,
                "map values must name variables.<name>",
                "BAD_REQUEST",
            );
        };
        let Some(part) = parts.iter().find(|p| &p.name == part_name) else {
            return bad_request(
                &shared,
                &format!("file part {part_name:?} missing"),
                "BAD_REQUEST",
            );
        };
        let filename = part.filename.clone().unwrap_or_default();
        if filename.is_empty() {
            // Observed on live monday: an empty filename is a 500.
            let body = error_body(
                "Internal Server Error",
                "INTERNAL_SERVER_ERROR",
                json!({"status_code": 500}),
            );
            return to_http(api::reply(&shared, 500, body, None));
        }
        variables.insert(
            var.to_string(),
            json!(format!("{UPLOAD_PREFIX}{part_name}")),
        );
        uploads.insert(
            part_name.clone(),
            Upload {
                filename,
                bytes: part.data.clone(),
            },
        );
    }
    let mut request = base_request(&req);
    request.query = query;
    request.variables = variables;
    request.uploads = uploads;
    to_http(api::handle(&shared, request).await)
}
