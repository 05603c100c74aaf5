//! AI Assist in the demo's day: the AI events of some answered calls, and which calls have
//! them (Aircall's stand-in serves their insights).

use serde_json::{json, Value};

use super::day::envelope;

/// The AI events a call with AI Assist gets in the day.
pub const AI_EVENTS: &[&str] = &[
    "transcription.created",
    "summary.created",
    "sentiment.created",
    "topics.created",
    "action_item.created",
];

/// The day with AI Assist on two in five answered calls: the five AI events (summary.created
/// with its call_id as a string, like Aircall's) delivered right after the call's
/// `call.ended`, timed a minute or two after it. A separate step, so the plain day that the
/// tests and benchmarks replay stays as it was.
pub fn with_ai_insights(day: Vec<Value>) -> Vec<Value> {
    let mut out = Vec::with_capacity(day.len() * 11 / 10);
    let mut done = std::collections::BTreeSet::new();
    for e in day {
        let id = e["data"]["id"].as_u64().unwrap_or(0);
        let answered = !e["data"]["answered_at"].is_null();
        let ended = e["event"] == "call.ended" && answered && id % 5 < 2 && done.insert(id);
        let ts = e["timestamp"].as_i64().unwrap_or(0);
        let token = e["token"].as_str().unwrap_or("").to_string();
        out.push(e);
        if !ended {
            continue;
        }
        for (i, event) in AI_EVENTS.iter().enumerate() {
            let call_id = if *event == "summary.created" {
                json!(id.to_string())
            } else {
                json!(id)
            };
            let at = ts + 60 + (id as i64 * 7 + i as i64 * 13) % 120;
            out.push(envelope(
                &token,
                "conversation_intelligence",
                event,
                at,
                json!({ "call_id": call_id }),
            ));
        }
    }
    out
}

/// The calls of a day that have AI events (their insights are what Aircall's API serves).
pub fn ai_call_ids(day: &[Value]) -> Vec<u64> {
    let mut ids: Vec<u64> = day
        .iter()
        .filter(|e| e["event"] == "summary.created")
        .filter_map(|e| e["data"]["call_id"].as_str()?.parse().ok())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn some_answered_calls_get_every_ai_event_and_the_rest_of_the_day_stays() {
        let day = super::super::day::realistic_day("t", 7, 60, 1_795_168_800);
        let with_ai = with_ai_insights(day.clone());
        let ai: Vec<&Value> = with_ai
            .iter()
            .filter(|e| AI_EVENTS.contains(&e["event"].as_str().unwrap()))
            .collect();
        assert!(!ai.is_empty());
        assert_eq!(
            with_ai.len(),
            day.len() + ai.len(),
            "the plain day, plus AI events"
        );
        assert_eq!(ai.len(), ai_call_ids(&with_ai).len() * AI_EVENTS.len());
    }
}
