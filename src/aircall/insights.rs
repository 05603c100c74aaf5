//! Aircall's Conversation Intelligence (AI Assist): the webhook events that say an insight
//! was generated for a call, and the REST resource each one is fetched from
//! (shared/reference/aircall-ai-and-insight-cards.md §1-2). The events are triggers: their
//! `data` is not documented, so only the call id is read from them, as `data.call_id`
//! (a numeric string on `summary.created`, accepted as a string or a number everywhere),
//! else `data.id`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::api::{AircallApi, AircallApiError};

/// One insight of a call, as Aircall serves it at `/v1/calls/{id}/{path}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    Transcription,
    Summary,
    Sentiments,
    Topics,
    ActionItems,
    CustomSummary,
}

impl Resource {
    pub const ALL: [Resource; 6] = [
        Resource::Transcription,
        Resource::Summary,
        Resource::Sentiments,
        Resource::Topics,
        Resource::ActionItems,
        Resource::CustomSummary,
    ];

    /// The path under `/v1/calls/{id}/`.
    pub fn path(self) -> &'static str {
        match self {
            Resource::Transcription => "transcription",
            Resource::Summary => "summary",
            Resource::Sentiments => "sentiments",
            Resource::Topics => "topics",
            Resource::ActionItems => "action_items",
            Resource::CustomSummary => "custom_summary_result",
        }
    }

    /// The resource an event says is ready; `None` for every other event.
    pub fn of_event(event: &str) -> Option<Resource> {
        Some(match event {
            "transcription.created" => Resource::Transcription,
            "summary.created" => Resource::Summary,
            "sentiment.created" => Resource::Sentiments,
            "topics.created" => Resource::Topics,
            "action_item.created" => Resource::ActionItems,
            "custom_summary.result_created" | "custom_summary.result_updated" => {
                Resource::CustomSummary
            }
            _ => return None,
        })
    }
}

/// The Conversation Intelligence events the bridge folds into their call.
pub const AI_EVENTS: &[&str] = &[
    "transcription.created",
    "summary.created",
    "sentiment.created",
    "topics.created",
    "action_item.created",
    "custom_summary.result_created",
    "custom_summary.result_updated",
];

/// The call an AI event is about: `data.call_id`, else `data.id`, a number or a numeric string.
pub fn call_id(data: &Value) -> Option<u64> {
    let id = |v: &Value| match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    data.get("call_id")
        .and_then(id)
        .or_else(|| data.get("id").and_then(id))
}

/// What Aircall answered for one resource of one call.
#[derive(Debug, Clone, PartialEq)]
pub enum InsightAnswer {
    /// 200: the resource's JSON.
    Found(Value),
    /// 404: not generated (a short call, no recording, transcription off) or not yet.
    NotGenerated,
    /// 403 while the credentials work elsewhere (`/v1/ping` answers): the account or the
    /// call's agent has no AI Assist.
    NotEntitled,
}

impl AircallApi {
    /// `GET /v1/calls/:id/<resource>`: one Conversation Intelligence insight. 404 is "not
    /// generated"; a 403 is told apart from refused credentials by `GET /v1/ping`: when the
    /// ping passes, the account (or the call's agent) has no AI Assist.
    pub async fn get_insight(
        &self,
        id: u64,
        resource: Resource,
    ) -> Result<InsightAnswer, AircallApiError> {
        let path = format!("v1/calls/{id}/{}", resource.path());
        match self.request(reqwest::Method::GET, &path, None).await {
            Ok(body) => Ok(InsightAnswer::Found(body)),
            Err(AircallApiError::Http { status: 404, .. }) => Ok(InsightAnswer::NotGenerated),
            Err(AircallApiError::Unauthorized(403)) => {
                self.ping().await?;
                Ok(InsightAnswer::NotEntitled)
            }
            Err(e) => Err(e),
        }
    }

    /// `GET /v1/ping`: whether the credentials are accepted.
    pub async fn ping(&self) -> Result<(), AircallApiError> {
        self.request(reqwest::Method::GET, "v1/ping", None)
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_call_id_is_a_number_or_a_numeric_string() {
        assert_eq!(call_id(&json!({"call_id": "123"})), Some(123));
        assert_eq!(call_id(&json!({"call_id": 123})), Some(123));
        assert_eq!(call_id(&json!({"call_id": " 7 ", "id": 9})), Some(7));
        assert_eq!(call_id(&json!({"id": 9})), Some(9));
        assert_eq!(call_id(&json!({"call_id": "x"})), None);
        assert_eq!(call_id(&json!({})), None);
    }

    #[test]
    fn every_ai_event_names_a_resource() {
        for event in AI_EVENTS {
            assert!(Resource::of_event(event).is_some(), "{event}");
        }
        assert_eq!(Resource::of_event("call.ended"), None);
    }
}
