//! Conversation Intelligence (AI Assist) endpoints: `GET /v1/calls/{id}/{resource}` for
//! transcription, summary, sentiments, topics, action_items and custom_summary_result, in the
//! shapes of shared/reference/aircall-ai-and-insight-cards.md §2. A resource nobody seeded is
//! 404 (not generated); with AI Assist switched off every one of them is 403 while the rest of
//! the API still answers, as Aircall does for an account without the add-on.
//! `POST /_aircall/insights` seeds `{call_id, resource, body}` (a list); `POST
//! /_aircall/ai_assist` takes `{"enabled": bool}`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::routes::{admit, lock, Shared};

pub const RESOURCES: &[&str] = &[
    "transcription",
    "summary",
    "sentiments",
    "topics",
    "action_items",
    "custom_summary_result",
];

pub(crate) async fn get(
    req: HttpRequest,
    path: web::Path<(u64, String)>,
    shared: Shared,
) -> HttpResponse {
    if let Err(r) = admit(&req, b"", &shared) {
        return r;
    }
    let (id, resource) = path.into_inner();
    if !RESOURCES.contains(&resource.as_str()) {
        return HttpResponse::NotFound().json(json!({ "error": "Not found" }));
    }
    let st = lock(&shared);
    if !st.ai_assist {
        return HttpResponse::Forbidden().json(json!({ "message": "Forbidden" }));
    }
    match st.insights.get(&(id, resource)) {
        Some(body) => HttpResponse::Ok().json(body),
        None => HttpResponse::NotFound()
            .json(json!({ "error": "Not found", "troubleshoot": "Not generated for this call" })),
    }
}

pub(crate) async fn seed(body: web::Json<Vec<Value>>, shared: Shared) -> HttpResponse {
    let mut st = lock(&shared);
    for entry in body.into_inner() {
        let (Some(id), Some(resource)) = (entry["call_id"].as_u64(), entry["resource"].as_str())
        else {
            return HttpResponse::BadRequest()
                .json(json!({ "error": "expected {call_id, resource, body}" }));
        };
        st.insights
            .insert((id, resource.to_string()), entry["body"].clone());
    }
    HttpResponse::Ok().json(json!({ "ok": true }))
}

pub(crate) async fn ai_assist(body: web::Json<Value>, shared: Shared) -> HttpResponse {
    lock(&shared).ai_assist = body["enabled"].as_bool().unwrap_or(true);
    HttpResponse::Ok().json(json!({ "ok": true }))
}

/// A whole set of insights for one call, as Aircall would serve them: (resource, body).
pub fn sample_insights(call_id: u64) -> Vec<(&'static str, Value)> {
    vec![
        (
            "transcription",
            json!({"transcription": {"id": call_id, "call_id": call_id, "type": "call",
                "content": {"language": "en-US", "utterances": [
                    {"start_time": 0.0, "end_time": 2.5, "text": "Hello, how can I help?",
                     "participant_type": "internal", "user_id": 1},
                    {"start_time": 2.6, "end_time": 6.0, "text": "I'd like a quote for 20 seats.",
                     "participant_type": "external", "phone_number": "+33612345678"}]}}}),
        ),
        (
            "summary",
            json!({"summary": {"id": call_id, "call_id": call_id,
                "content": "The caller asked for a quote for 20 seats."}}),
        ),
        (
            "sentiments",
            json!({"sentiment": {"id": call_id, "call_id": call_id, "participants": [
                {"type": "external", "phone_number": "+33612345678", "value": "POSITIVE"}]}}),
        ),
        (
            "topics",
            json!({"topic": {"id": call_id, "call_id": call_id, "content": ["pricing", "seats"]}}),
        ),
        (
            "action_items",
            json!({"call_id": call_id, "action_items": [
                {"id": call_id * 10 + 1, "content": "Send the quote", "ai_generated": true},
                {"id": call_id * 10 + 2, "content": "Book a demo", "ai_generated": true}]}),
        ),
    ]
}
