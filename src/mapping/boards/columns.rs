//! Column mappings: the monday column types the bridge writes and what each column receives.

use std::collections::BTreeMap;

use serde::Deserialize;

/// monday column types the bridge knows how to write. Deserialised by hand (below) so that a
/// type it does not know names the valid ones instead of serde's "variant constructor".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Text,
    LongText,
    Numbers,
    Status,
    /// Labels by name (`{"labels": [...]}`); a list field (tags) gives several.
    Dropdown,
    Date,
    Phone,
    Email,
    Link,
    /// Connect boards: `{"item_ids": [id]}`, the call's contact's item (field `contact_item`).
    BoardRelation,
    /// `{"personsAndTeams": [{"id": N, "kind": "person"}]}`: the monday user with the agent's
    /// email (field `agent_email`).
    People,
    /// `{"tag_ids": [id, ...]}`: the call's Aircall tags (field `tags`) as monday's account-level
    /// tags, each name resolved to its id with `create_or_get_tag`.
    Tags,
    /// A copy of the call's recording or voicemail (`upload`), uploaded once through monday's
    /// `/v2/file`: Aircall's own links expire within hours.
    File,
}

impl ColumnKind {
    /// Every type with its name in the TOML (`type = "..."`), which is monday's name too.
    pub const ALL: &'static [(ColumnKind, &'static str)] = &[
        (ColumnKind::Text, "text"),
        (ColumnKind::LongText, "long_text"),
        (ColumnKind::Numbers, "numbers"),
        (ColumnKind::Status, "status"),
        (ColumnKind::Dropdown, "dropdown"),
        (ColumnKind::Date, "date"),
        (ColumnKind::Phone, "phone"),
        (ColumnKind::Email, "email"),
        (ColumnKind::Link, "link"),
        (ColumnKind::BoardRelation, "board_relation"),
        (ColumnKind::People, "people"),
        (ColumnKind::Tags, "tags"),
        (ColumnKind::File, "file"),
    ];

    pub fn as_str(self) -> &'static str {
        ColumnKind::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map(|(_, name)| *name)
            .unwrap_or("text")
    }
}

impl<'de> Deserialize<'de> for ColumnKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        ColumnKind::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(k, _)| *k)
            .ok_or_else(|| {
                let valid: Vec<&str> = ColumnKind::ALL.iter().map(|(_, n)| *n).collect();
                serde::de::Error::custom(format!(
                    "unknown column type {name:?}; the bridge writes these types: {} \
                     (monday's number column is \"numbers\")",
                    valid.join(", ")
                ))
            })
    }
}

/// The values a field can take when they form a closed set, so that label keys (field value
/// → board label) outside it are refused instead of never matching.
pub fn closed_values(field: &str) -> Option<&'static [&'static str]> {
    match field {
        "outcome" => Some(super::routes::OUTCOMES),
        "direction" => Some(&["inbound", "outbound"]),
        "status" => Some(&["initial", "answered", "done"]),
        "archived" | "deleted" => Some(&["yes"]),
        _ => None,
    }
}

/// Which of the call's files a file column receives: its audio, or its AI transcript as text.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UploadSource {
    Recording,
    Voicemail,
    /// The transcript's "Agent/Caller: text" lines as a `.txt` file (AI Assist), made by the
    /// bridge rather than downloaded.
    Transcript,
}

impl UploadSource {
    pub fn as_str(self) -> &'static str {
        match self {
            UploadSource::Recording => "recording",
            UploadSource::Voicemail => "voicemail",
            UploadSource::Transcript => "transcript",
        }
    }
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    #[serde(rename = "type")]
    pub kind: ColumnKind,
    /// A named field of the call or contact (see the README's field list).
    #[serde(default)]
    pub field: Option<String>,
    /// A template over those fields; an empty result leaves the column empty.
    #[serde(default)]
    pub template: Option<String>,
    /// Status columns: field value → the board's label. Values without a label are not written.
    /// Dropdown columns (optional): a value's label when it differs from the value itself.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Status and dropdown columns: let monday add labels this column lacks (e.g. a new
    /// Aircall tag). monday's flag is per request, so it covers the request's other columns.
    #[serde(default)]
    pub create_labels_if_missing: bool,
    /// Link columns: the text shown for the link.
    #[serde(default)]
    pub link_text: Option<String>,
    /// People columns: a text column (not listed under `columns`) that gets the agent's name
    /// when no monday user has the agent's email.
    #[serde(default)]
    pub fallback_text_column: Option<String>,
    /// File columns: the call's `recording`, `voicemail` or `transcript`, uploaded once.
    #[serde(default)]
    pub upload: Option<UploadSource>,
}

impl ColumnSpec {
    /// Structural checks of the column `id`; the error is (key relative to the board, message).
    pub fn validate(
        &self,
        id: &str,
        columns: &BTreeMap<String, ColumnSpec>,
    ) -> Result<(), (String, String)> {
        let key = format!("columns.{id}");
        if id == "name" {
            return Err((
                key,
                "\"name\" is the item name; set it with item_name".into(),
            ));
        }
        if (self.kind == ColumnKind::File) != self.upload.is_some() {
            return Err((
                format!("{key}.upload"),
                "a file column takes upload = \"recording\", \"voicemail\" or \"transcript\" (and \
                 only it does)"
                    .into(),
            ));
        }
        let file = self.kind == ColumnKind::File;
        match (&self.field, &self.template) {
            (None, None) if file => {}
            _ if file => {
                return Err((
                    key,
                    "a file column takes upload, not field or template".into(),
                ))
            }
            (Some(_), Some(_)) => {
                return Err((key, "expected either field or template, not both".into()))
            }
            (None, None) => {
                return Err((key, "expected field = \"...\" or template = \"...\"".into()))
            }
            _ => {}
        }
        if self.kind == ColumnKind::Status && self.labels.is_empty() {
            return Err((
                format!("{key}.labels"),
                "a status column needs labels = { value = \"Board label\", ... }".into(),
            ));
        }
        let labelled = matches!(self.kind, ColumnKind::Status | ColumnKind::Dropdown);
        if let (true, Some(field)) = (labelled, self.field.as_deref()) {
            if let Some(values) = closed_values(field) {
                if let Some(bad) = self.labels.keys().find(|k| !values.contains(&k.as_str())) {
                    return Err((
                        format!("{key}.labels.{bad}"),
                        format!(
                            "`{bad}` is not a value of the field {field} (a label key is the \
                             field's value, the board's label is on the right); expected one of {}",
                            values.join(", ")
                        ),
                    ));
                }
            }
        }
        if !labelled && !self.labels.is_empty() {
            return Err((
                format!("{key}.labels"),
                "labels apply to status and dropdown columns only".into(),
            ));
        }
        if !labelled && self.create_labels_if_missing {
            return Err((
                format!("{key}.create_labels_if_missing"),
                "applies to status and dropdown columns only".into(),
            ));
        }
        let relation = self.kind == ColumnKind::BoardRelation;
        if relation != (self.field.as_deref() == Some("contact_item")) {
            return Err((
                format!("{key}.field"),
                "a board_relation column takes field = \"contact_item\" (and only it does)".into(),
            ));
        }
        let people = self.kind == ColumnKind::People;
        if people && self.field.as_deref() != Some("agent_email") {
            return Err((
                format!("{key}.field"),
                "a people column takes field = \"agent_email\"".into(),
            ));
        }
        let tag_fields = [Some("tags"), Some("topics")];
        if self.kind == ColumnKind::Tags && !tag_fields.contains(&self.field.as_deref()) {
            return Err((
                format!("{key}.field"),
                "a tags column takes field = \"tags\" or \"topics\"".into(),
            ));
        }
        if let Some(fallback) = &self.fallback_text_column {
            if !people {
                return Err((
                    format!("{key}.fallback_text_column"),
                    "applies to people columns only".into(),
                ));
            }
            if fallback.trim().is_empty() || fallback == "name" || columns.contains_key(fallback) {
                return Err((
                    format!("{key}.fallback_text_column"),
                    "expected the id of a text column that is not listed under columns (it would be written twice)".into(),
                ));
            }
        }
        if self.kind != ColumnKind::Link && self.link_text.is_some() {
            return Err((
                format!("{key}.link_text"),
                "link_text applies to link columns only".into(),
            ));
        }
        Ok(())
    }
}
