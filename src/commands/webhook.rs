//! `webhook register | list | delete`: the Aircall webhook through Aircall's API, subscribed to
//! exactly the events the board mappings use.

use std::io::Write;
use std::path::Path;

use secrecy::ExposeSecret;

use crate::aircall::api::{AircallApi, AircallApiError, Webhook};
use crate::aircall::{AI_EVENTS, CALL_EVENTS, CONTACT_EVENTS};
use crate::config::{Entity, Settings};

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(transparent)]
    Api(#[from] AircallApiError),
    #[error("no board mirrors calls or contacts: add a [[boards]] mapping first, so the webhook subscribes to its events")]
    NothingToSubscribe,
    #[error("Aircall only delivers to HTTPS URLs with a valid certificate; got {0}")]
    NotHttps(String),
    #[error("cannot store the webhook token in {path}: {message}")]
    TokenFile { path: String, message: String },
}

/// The events the mappings need: all call events if a board mirrors calls, the AI insight
/// events if a call board uses AI insights, and so on.
pub fn events_for(settings: &Settings) -> Vec<&'static str> {
    let mut events = Vec::new();
    if settings.mirrors(Entity::Call) {
        events.extend_from_slice(CALL_EVENTS);
    }
    if settings.boards.iter().any(|b| b.uses_ai_insights()) {
        events.extend_from_slice(AI_EVENTS);
    }
    if settings.mirrors(Entity::Contact) {
        events.extend_from_slice(CONTACT_EVENTS);
    }
    events
}

/// The URL Aircall posts to: the public one, plus the URL secret when one is configured.
pub fn webhook_url(base: &str, settings: &Settings) -> String {
    let secret = settings.aircall.url_secret.expose_secret();
    let base = base.trim_end_matches('/');
    if secret.is_empty() {
        base.to_string()
    } else {
        format!("{base}/{secret}")
    }
}

pub struct Registered {
    pub webhook: Webhook,
    /// Where the token was written, if anywhere.
    pub stored_in: Option<String>,
}

pub async fn register(
    settings: &Settings,
    base_url: &str,
    name: &str,
    token_file: Option<&Path>,
) -> Result<Registered, WebhookError> {
    if !base_url.starts_with("https://") {
        return Err(WebhookError::NotHttps(base_url.to_string()));
    }
    let events = events_for(settings);
    if events.is_empty() {
        return Err(WebhookError::NothingToSubscribe);
    }
    let api = AircallApi::new(&settings.aircall)?;
    let webhook = api
        .create_webhook(&webhook_url(base_url, settings), name, &events)
        .await?;
    let target = token_file
        .map(Path::to_path_buf)
        .or_else(|| settings.aircall.webhook_tokens_file.clone());
    let stored_in = match (&target, &webhook.token) {
        (Some(path), Some(token)) => {
            append_token(path, token)?;
            Some(path.display().to_string())
        }
        _ => None,
    };
    Ok(Registered { webhook, stored_in })
}

pub async fn list(settings: &Settings) -> Result<Vec<Webhook>, WebhookError> {
    Ok(AircallApi::new(&settings.aircall)?.list_webhooks().await?)
}

pub async fn delete(settings: &Settings, id: &str) -> Result<(), WebhookError> {
    Ok(AircallApi::new(&settings.aircall)?
        .delete_webhook(id)
        .await?)
}

/// Appends the token (the file lists one token per line, so an old one keeps working until
/// it is removed), readable by the owner only.
fn append_token(path: &Path, token: &str) -> Result<(), WebhookError> {
    let err = |e: std::io::Error| WebhookError::TokenFile {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(err)?;
    writeln!(file, "{token}").map_err(err)
}
