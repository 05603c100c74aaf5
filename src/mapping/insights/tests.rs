//! The insights' fold, shapes and splitting.

use super::*;
use crate::aircall::insights::{InsightAnswer, Resource};
use serde_json::json;

#[test]
fn a_resource_is_fetched_once_per_newer_event() {
    let mut ai = Insights::default();
    ai.want(Resource::Summary, 100);
    ai.want(Resource::Summary, 90);
    assert_eq!(ai.pending(), vec![Resource::Summary]);
    assert_eq!(ai.due_ms(30_000), Some(130_000));
    ai.absorb(
        Resource::Summary,
        &InsightAnswer::Found(json!({"summary": {"content": " Wants a quote. "}})),
    );
    assert!(ai.pending().is_empty());
    assert_eq!(ai.due_ms(30_000), None);
    assert_eq!(ai.summary.as_deref(), Some("Wants a quote."));
    // A replayed event: nothing; a newer one: fetched again.
    ai.want(Resource::Summary, 100);
    assert!(ai.pending().is_empty());
    ai.want(Resource::Summary, 101);
    assert_eq!(ai.pending(), vec![Resource::Summary]);
    // Not there any more: what was found stays.
    ai.absorb(Resource::Summary, &InsightAnswer::NotGenerated);
    assert_eq!(ai.summary.as_deref(), Some("Wants a quote."));
}

#[test]
fn reads_each_documented_shape() {
    let mut ai = Insights::default();
    ai.absorb(
        Resource::Sentiments,
        &InsightAnswer::Found(json!({"sentiment": {"participants": [
        {"type": "internal", "value": "NEUTRAL"}, {"type": "external", "value": "POSITIVE"}]}})),
    );
    ai.absorb(
        Resource::Topics,
        &InsightAnswer::Found(json!({"topic": {"content": ["pricing", " ", "delivery"]}})),
    );
    ai.absorb(
        Resource::ActionItems,
        &InsightAnswer::Found(json!({"call_id": 1, "action_items": [
        {"id": 12, "content": "Call back"}, {"id": 2, "content": "Send the quote"}]})),
    );
    ai.absorb(Resource::Transcription, &InsightAnswer::Found(json!({"transcription": {"content": {"utterances": [
        {"participant_type": "internal", "text": "Hello"}, {"participant_type": "external", "text": "Hi"}]}}})));
    ai.absorb(
        Resource::CustomSummary,
        &InsightAnswer::Found(json!({"custom_summary_result": {
        "summary_template_results": [{"name": "Budget", "content": "10k"}]}})),
    );
    assert_eq!(ai.sentiment.as_deref(), Some("positive"));
    assert_eq!(ai.topics, vec!["pricing", "delivery"]);
    let items: Vec<&str> = ai
        .action_item_list()
        .iter()
        .map(|(_, c)| c.as_str())
        .collect();
    assert_eq!(items, vec!["Send the quote", "Call back"]);
    assert_eq!(ai.transcript_lines(), vec!["Agent: Hello", "Caller: Hi"]);
    assert_eq!(
        ai.custom_summary,
        vec![("Budget".to_string(), "10k".to_string())]
    );
}

#[test]
fn a_long_transcript_is_split_at_line_boundaries_under_the_limit() {
    let lines: Vec<String> = (0..1000)
        .map(|i| format!("Caller: line {i:04} of the call"))
        .collect();
    let chunks = split(&lines, TRANSCRIPT_UPDATE_CHARS);
    assert!(chunks.len() > 1);
    assert!(chunks
        .iter()
        .all(|c| c.chars().count() <= TRANSCRIPT_UPDATE_CHARS));
    let back: Vec<&str> = chunks.iter().flat_map(|c| c.split("<br>")).collect();
    assert_eq!(back.len(), 1000);
    assert_eq!(back[999], "Caller: line 0999 of the call");
}
