//! The Call and Contact objects that Aircall puts in `data`. Every field is optional and read
//! leniently (see `lenient`): a field we cannot read is absent, never a rejected event.

use serde::{Deserialize, Serialize};

use super::lenient;

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct User {
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub email: Option<String>,
}

/// The Aircall line (a "Number" in Aircall's API) the call went through.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct Line {
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub digits: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub e164_digits: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub country: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct Detail {
    #[serde(default, deserialize_with = "lenient::string")]
    pub label: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub value: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct Contact {
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub first_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub last_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub company_name: Option<String>,
    /// Some call payloads say `company` where the docs say `company_name`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub company: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub information: Option<String>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub phone_numbers: Option<Vec<Detail>>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub emails: Option<Vec<Detail>>,
    #[serde(default, deserialize_with = "lenient::timestamp")]
    pub created_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient::timestamp")]
    pub updated_at: Option<i64>,
}

impl Contact {
    pub fn company(&self) -> Option<&str> {
        self.company_name.as_deref().or(self.company.as_deref())
    }

    pub fn full_name(&self) -> Option<String> {
        let parts: Vec<&str> = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    pub fn phones(&self) -> impl Iterator<Item = &str> {
        values(&self.phone_numbers)
    }

    pub fn email_addresses(&self) -> impl Iterator<Item = &str> {
        values(&self.emails)
    }
}

fn values(list: &Option<Vec<Detail>>) -> impl Iterator<Item = &str> {
    list.iter().flatten().filter_map(|d| d.value.as_deref())
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct Tag {
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct Comment {
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub content: Option<String>,
    /// UNIX seconds; Aircall sends a number or a string.
    #[serde(default, deserialize_with = "lenient::timestamp")]
    pub posted_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient::object")]
    pub posted_by: Option<User>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct Team {
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct Call {
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub direction: Option<String>,
    /// `initial`, `answered` or `done`: not a missed/answered flag.
    #[serde(default, deserialize_with = "lenient::string")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub missed_call_reason: Option<String>,
    #[serde(default, deserialize_with = "lenient::timestamp")]
    pub started_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient::timestamp")]
    pub answered_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient::timestamp")]
    pub ended_at: Option<i64>,
    /// Seconds from start to end, ringing included.
    #[serde(default, deserialize_with = "lenient::int")]
    pub duration: Option<i64>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub raw_digits: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub voicemail: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub voicemail_short_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub recording: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub recording_short_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub asset: Option<String>,
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub archived: Option<bool>,
    #[serde(default, deserialize_with = "lenient::object")]
    pub user: Option<User>,
    #[serde(default, deserialize_with = "lenient::object")]
    pub contact: Option<Contact>,
    #[serde(default, deserialize_with = "lenient::object")]
    pub number: Option<Line>,
    #[serde(default, deserialize_with = "lenient::object")]
    pub assigned_to: Option<User>,
    #[serde(default, deserialize_with = "lenient::object")]
    pub transferred_by: Option<User>,
    #[serde(default, deserialize_with = "lenient::object")]
    pub transferred_to: Option<User>,
    /// One copy of Aircall's reference spells it with one "r"; both are read.
    #[serde(default, deserialize_with = "lenient::object", skip_serializing)]
    pub transfered_by: Option<User>,
    #[serde(default, deserialize_with = "lenient::object", skip_serializing)]
    pub transfered_to: Option<User>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub external_transferred_to: Option<String>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub tags: Option<Vec<Tag>>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub comments: Option<Vec<Comment>>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub teams: Option<Vec<Team>>,
}

impl Call {
    /// Reads `data`, folding the two spellings of the transfer fields into one.
    pub fn from_data(data: &serde_json::Value) -> Result<Call, serde_json::Error> {
        let mut call: Call = serde_json::from_value(data.clone())?;
        if call.transferred_by.is_none() {
            call.transferred_by = call.transfered_by.take();
        }
        if call.transferred_to.is_none() {
            call.transferred_to = call.transfered_to.take();
        }
        Ok(call)
    }
}
