//! The webhook envelope and its verification. A body is parsed into an [`Unverified`]
//! envelope; only [`Unverified::verify`] against the configured tokens yields a [`Verified`]
//! one, so an unauthenticated payload cannot reach the store.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::config::Entity;

#[derive(Debug, Deserialize)]
struct RawEnvelope {
    event: String,
    timestamp: i64,
    token: String,
    data: Value,
}

/// An envelope whose token has not been checked yet.
#[derive(Debug)]
pub struct Unverified(Envelope);

/// An envelope whose token matched one of the configured tokens.
#[derive(Debug, Clone)]
pub struct Verified(Envelope);

#[derive(Debug, Clone)]
pub struct Envelope {
    pub event: String,
    /// When Aircall built the payload, UNIX seconds.
    pub timestamp: i64,
    pub data: Value,
    token: String,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EnvelopeError {
    #[error("body is not an Aircall webhook envelope: {0}")]
    Malformed(String),
    #[error("token does not match any configured webhook token")]
    BadToken,
}

impl Unverified {
    pub fn parse(body: &[u8]) -> Result<Unverified, EnvelopeError> {
        let raw: RawEnvelope =
            serde_json::from_slice(body).map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
        if raw.event.trim().is_empty() || !raw.event.contains('.') {
            return Err(EnvelopeError::Malformed(format!(
                "`event` should look like \"call.created\", got {:?}",
                raw.event
            )));
        }
        if !raw.data.is_object() {
            return Err(EnvelopeError::Malformed(
                "`data` should be an object".into(),
            ));
        }
        Ok(Unverified(Envelope {
            event: raw.event,
            timestamp: raw.timestamp,
            data: raw.data,
            token: raw.token,
        }))
    }

    /// Compares the body's token with every configured token in constant time. Both sides are
    /// hashed first so that not even the length of a configured token leaks through timing.
    pub fn verify(self, tokens: &[SecretString]) -> Result<Verified, EnvelopeError> {
        let wanted = tokens.iter().map(|t| t.expose_secret());
        if crate::config::is_one_of(&self.0.token, wanted) {
            Ok(Verified(self.0))
        } else {
            Err(EnvelopeError::BadToken)
        }
    }
}

impl Verified {
    pub fn envelope(&self) -> &Envelope {
        &self.0
    }

    /// The call or contact this event is about; `None` for events the bridge does not mirror
    /// (users, numbers, messages, ...).
    pub fn entity(&self) -> Option<Entity> {
        if super::insights::Resource::of_event(&self.0.event).is_some() {
            return Some(Entity::Call);
        }
        let family = self.0.event.split('.').next()?;
        Entity::parse(family)
    }

    /// The Aircall id of the call or contact, from `data.id`; for an AI insight event, the
    /// call's, from `data.call_id`.
    pub fn entity_id(&self) -> Option<u64> {
        if super::insights::Resource::of_event(&self.0.event).is_some() {
            return super::insights::call_id(&self.0.data);
        }
        match self.0.data.get("id")? {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// Aircall has no event id, so a delivery is identified by what it says: the event, the
    /// entity id, the timestamp and the whole `data` (serde_json sorts keys, so equal objects
    /// hash equally whatever order Aircall wrote them in).
    pub fn dedup_key(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.0.event.as_bytes());
        hasher.update([0]);
        hasher.update(self.entity_id().unwrap_or(0).to_le_bytes());
        hasher.update(self.0.timestamp.to_le_bytes());
        hasher.update(self.0.data.to_string().as_bytes());
        hex::encode(hasher.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(list: &[&str]) -> Vec<SecretString> {
        list.iter()
            .map(|t| SecretString::from(t.to_string()))
            .collect()
    }

    fn body(token: &str) -> String {
        format!(
            r#"{{"resource":"call","event":"call.created","timestamp":1,"token":"{token}","data":{{"id":7}}}}"#
        )
    }

    #[test]
    fn accepts_any_configured_token_and_rejects_others() {
        let list = tokens(&["old", "new"]);
        for good in ["old", "new"] {
            let v = Unverified::parse(body(good).as_bytes())
                .unwrap()
                .verify(&list);
            assert_eq!(v.unwrap().entity_id(), Some(7));
        }
        for bad in ["", "ol", "old ", "newer"] {
            let v = Unverified::parse(body(bad).as_bytes())
                .unwrap()
                .verify(&list);
            assert_eq!(v.unwrap_err(), EnvelopeError::BadToken);
        }
    }

    #[test]
    fn rejects_bodies_that_are_not_envelopes() {
        for body in [
            "",
            "{",
            "[]",
            r#"{"event":"call.created","timestamp":1,"token":"t"}"#,
            r#"{"event":"call.created","timestamp":"x","token":"t","data":{}}"#,
            r#"{"event":"nodot","timestamp":1,"token":"t","data":{}}"#,
            r#"{"event":"call.created","timestamp":1,"token":"t","data":[]}"#,
        ] {
            assert!(
                matches!(
                    Unverified::parse(body.as_bytes()),
                    Err(EnvelopeError::Malformed(_))
                ),
                "accepted {body}"
            );
        }
    }

    #[test]
    fn dedup_key_ignores_key_order_but_not_content() {
        let list = tokens(&["t"]);
        let parse = |b: &str| {
            Unverified::parse(b.as_bytes())
                .unwrap()
                .verify(&list)
                .unwrap()
        };
        let a = parse(
            r#"{"event":"call.ended","timestamp":5,"token":"t","data":{"id":1,"duration":9}}"#,
        );
        let b = parse(
            r#"{"token":"t","data":{"duration":9,"id":1},"timestamp":5,"event":"call.ended"}"#,
        );
        let c = parse(
            r#"{"event":"call.ended","timestamp":5,"token":"t","data":{"id":1,"duration":10}}"#,
        );
        assert_eq!(a.dedup_key(), b.dedup_key());
        assert_ne!(a.dedup_key(), c.dedup_key());
    }
}
