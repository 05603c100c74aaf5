//! `POST /v1/calls/{id}/insight_cards` (shared/reference/aircall-ai-and-insight-cards.md §3):
//! authenticated and rate limited like every request, 404 for a call it does not know (seed
//! calls with `POST /_aircall/calls`), 400 for a body that is not `{"contents": [...]}` of
//! `title` (text, optional link) and `shortText` (label, text) lines.
//! `GET /_aircall/insight_cards` lists the cards accepted with their arrival time (ms since
//! the epoch); `POST /_aircall/insight_cards/faults` takes `{"delay_ms": n, "status": code}`:
//! answer that late, or with that status instead (0: normal).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::routes::{admit, lock, Shared};

/// A card as the stand-in received it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReceivedCard {
    pub call_id: u64,
    pub contents: Value,
    /// When the request arrived (before any injected delay), ms since the epoch.
    pub received_ms: i64,
}

#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
pub(crate) struct CardFaults {
    #[serde(default)]
    pub delay_ms: u64,
    #[serde(default)]
    pub status: u16,
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// What Aircall would refuse in the body, if anything.
fn invalid(body: &Value) -> Option<String> {
    let Some(lines) = body.get("contents").and_then(Value::as_array) else {
        return Some("contents must be a list".into());
    };
    if lines.is_empty() {
        return Some("contents is empty".into());
    }
    let text = |line: &Value, key: &str| line.get(key).and_then(Value::as_str).is_some();
    for (i, line) in lines.iter().enumerate() {
        let ok = match line.get("type").and_then(Value::as_str) {
            Some("title") => text(line, "text"),
            Some("shortText") => text(line, "label") && text(line, "text"),
            _ => false,
        };
        if !ok {
            return Some(format!("contents[{i}] is not a title or shortText line"));
        }
    }
    None
}

pub(crate) async fn push(
    req: HttpRequest,
    path: web::Path<u64>,
    body: web::Bytes,
    shared: Shared,
) -> HttpResponse {
    let arrived = now_ms();
    if let Err(r) = admit(&req, &body, &shared) {
        return r;
    }
    let id = path.into_inner();
    let faults = lock(&shared).card_faults;
    if faults.delay_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(faults.delay_ms)).await;
    }
    if faults.status != 0 {
        let status = StatusCode::from_u16(faults.status).unwrap_or(StatusCode::BAD_GATEWAY);
        return HttpResponse::build(status).json(json!({ "error": "injected fault" }));
    }
    let mut st = lock(&shared);
    if !st.calls.iter().any(|c| c["id"].as_u64() == Some(id)) {
        return HttpResponse::NotFound()
            .json(json!({ "error": "Not found", "troubleshoot": "Check the call id" }));
    }
    let Ok(card) = serde_json::from_slice::<Value>(&body) else {
        return HttpResponse::BadRequest().json(json!({ "error": "Invalid JSON" }));
    };
    if let Some(why) = invalid(&card) {
        return HttpResponse::BadRequest().json(json!({ "error": why }));
    }
    st.cards.push(ReceivedCard {
        call_id: id,
        contents: card["contents"].clone(),
        received_ms: arrived,
    });
    HttpResponse::Created().json(json!({}))
}

pub(crate) async fn list(shared: Shared) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "cards": lock(&shared).cards }))
}

pub(crate) async fn set_faults(body: web::Json<CardFaults>, shared: Shared) -> HttpResponse {
    lock(&shared).card_faults = body.into_inner();
    HttpResponse::Ok().json(json!({ "ok": true }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_title_and_short_text_lines_are_taken() {
        assert_eq!(
            invalid(
                &json!({"contents": [{"type": "title", "text": "Jane", "link": "https://x"},
                {"type": "shortText", "label": "Company", "text": "Acme"}]})
            ),
            None
        );
        assert!(invalid(&json!({"cards": []})).is_some());
        assert!(invalid(&json!({"contents": []})).is_some());
        assert!(
            invalid(&json!({"contents": [{"type": "shortText", "text": "no label"}]})).is_some()
        );
        assert!(invalid(&json!({"contents": [{"type": "image"}]})).is_some());
    }
}
