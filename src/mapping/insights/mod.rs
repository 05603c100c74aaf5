//! Conversation Intelligence in a call's observed state. An AI event only says that an insight
//! is ready (`want`); the worker fetches each wanted resource once the call's AI events have
//! settled (`pending`, `due_ms`: one fetch per resource, not one per event) and hands the
//! answer to `absorb`. A resource is fetched again only for an event newer than the one its
//! last fetch covered, so duplicates and replays cost no request.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::aircall::insights::{InsightAnswer, Resource};

/// Who said an utterance of the transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    Agent,
    Caller,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Utterance {
    pub speaker: Speaker,
    pub text: String,
}

/// What the last fetch of a resource found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fetch {
    Found,
    NotGenerated,
    NoAiAssist,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fetched {
    /// The newest event timestamp this fetch answered.
    pub covers: i64,
    pub outcome: Fetch,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Insights {
    /// Per resource, the newest envelope timestamp of an event that says it is ready.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub wanted: BTreeMap<Resource, i64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fetched: BTreeMap<Resource, Fetched>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Custom summary results (AI Assist Pro): template insight name → content.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_summary: Vec<(String, String)>,
    /// The external participant's sentiment, lower case: positive, neutral or negative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    /// Action items by Aircall id (the id keeps each one once).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub action_items: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transcript: Vec<Utterance>,
}

impl Insights {
    pub fn is_empty(&self) -> bool {
        self == &Insights::default()
    }

    /// An event said `resource` is ready.
    pub fn want(&mut self, resource: Resource, timestamp: i64) {
        let ts = self.wanted.entry(resource).or_insert(timestamp);
        *ts = (*ts).max(timestamp);
    }

    /// The resources an event asked for that no fetch has answered yet.
    pub fn pending(&self) -> Vec<Resource> {
        self.wanted
            .iter()
            .filter(|(r, ts)| self.fetched.get(*r).is_none_or(|f| **ts > f.covers))
            .map(|(r, _)| *r)
            .collect()
    }

    /// When the pending resources are fetched: `debounce_ms` after the newest event asking
    /// for one, so a burst of AI events costs one request per resource. `None`: nothing to do.
    pub fn due_ms(&self, debounce_ms: i64) -> Option<i64> {
        self.pending()
            .iter()
            .filter_map(|r| self.wanted.get(r))
            .max()
            .map(|ts| ts.saturating_mul(1000).saturating_add(debounce_ms))
    }

    /// Records Aircall's answer for `resource`. A resource that is not (or no longer) there
    /// keeps what an earlier fetch found.
    pub fn absorb(&mut self, resource: Resource, answer: &InsightAnswer) {
        let covers = self.wanted.get(&resource).copied().unwrap_or(0);
        let outcome = match answer {
            InsightAnswer::Found(body) => {
                self.read(resource, body);
                Fetch::Found
            }
            InsightAnswer::NotGenerated => Fetch::NotGenerated,
            InsightAnswer::NotEntitled => Fetch::NoAiAssist,
        };
        self.fetched.insert(resource, Fetched { covers, outcome });
    }

    fn read(&mut self, resource: Resource, body: &Value) {
        let text = |v: &Value| {
            v.as_str()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
        };
        match resource {
            Resource::Summary => {
                if let Some(s) = text(&body["summary"]["content"]) {
                    self.summary = Some(s);
                }
            }
            Resource::Sentiments => {
                let people = body["sentiment"]["participants"].as_array();
                let people = people.map(Vec::as_slice).unwrap_or_default();
                let external = people
                    .iter()
                    .find(|p| p["type"].as_str() == Some("external"))
                    .or_else(|| people.first());
                if let Some(v) = external.and_then(|p| text(&p["value"])) {
                    self.sentiment = Some(v.to_lowercase());
                }
            }
            Resource::Topics => {
                let topics: Vec<String> = body["topic"]["content"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(text)
                    .collect();
                if !topics.is_empty() {
                    self.topics = topics;
                }
            }
            Resource::ActionItems => {
                for item in body["action_items"].as_array().into_iter().flatten() {
                    let id = match &item["id"] {
                        Value::Number(n) => n.to_string(),
                        Value::String(s) => s.clone(),
                        _ => continue,
                    };
                    if let Some(content) = text(&item["content"]) {
                        self.action_items.insert(id, content);
                    }
                }
            }
            Resource::Transcription => {
                let utterances = body["transcription"]["content"]["utterances"].as_array();
                let transcript: Vec<Utterance> = utterances
                    .into_iter()
                    .flatten()
                    .filter_map(|u| {
                        let speaker = match u["participant_type"].as_str() {
                            Some("internal") => Speaker::Agent,
                            _ => Speaker::Caller,
                        };
                        Some(Utterance {
                            speaker,
                            text: text(&u["text"])?,
                        })
                    })
                    .collect();
                if !transcript.is_empty() {
                    self.transcript = transcript;
                }
            }
            Resource::CustomSummary => {
                // The wrapping key is not documented: the list at the top or one level down.
                let list = body["summary_template_results"].as_array().or_else(|| {
                    body.as_object()?
                        .values()
                        .find_map(|v| v["summary_template_results"].as_array())
                });
                let results: Vec<(String, String)> = list
                    .into_iter()
                    .flatten()
                    .filter_map(|r| Some((text(&r["name"])?, text(&r["content"])?)))
                    .collect();
                if !results.is_empty() {
                    self.custom_summary = results;
                }
            }
        }
    }

    /// Action items oldest id first (ids are numbers; others after, by text).
    pub fn action_item_list(&self) -> Vec<(&String, &String)> {
        let mut items: Vec<(&String, &String)> = self.action_items.iter().collect();
        items.sort_by_key(|(id, _)| (id.parse::<u64>().unwrap_or(u64::MAX), id.to_string()));
        items
    }

    /// The transcript as "Agent: text" / "Caller: text" lines.
    pub fn transcript_lines(&self) -> Vec<String> {
        self.transcript
            .iter()
            .map(|u| {
                let who = match u.speaker {
                    Speaker::Agent => "Agent",
                    Speaker::Caller => "Caller",
                };
                format!("{who}: {}", u.text)
            })
            .collect()
    }
}

mod render;
pub(crate) use render::{fields, updates};
#[cfg(test)]
use render::{split, TRANSCRIPT_UPDATE_CHARS};

#[cfg(test)]
mod named_tests;
#[cfg(test)]
mod tests;
