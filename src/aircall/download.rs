//! Downloads a call's recording or voicemail. Aircall's direct links are pre-signed and
//! short-lived (about an hour): when the link has expired (403, 404 or 410) the call is
//! fetched again from Aircall's API for a fresh one. Without API credentials that is
//! impossible, and the error says so.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use super::api::{AircallApi, AircallApiError};
use crate::config::UploadSource;

/// A file larger than this is refused rather than held in memory (monday's own upload limit
/// has been 20 MB to 500 MB over time; an hour of MP3 is about 60 MB).
const MAX_BYTES: usize = 200 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("the {0} link has expired (HTTP {1}) and no fresh one can be fetched: set aircall.api_id and aircall.api_token")]
    ExpiredWithoutApi(&'static str, u16),
    #[error("the {0} link has expired (HTTP {1}) and Aircall's call {2} has no fresh one")]
    NoFreshLink(&'static str, u16, String),
    #[error("fetching call {0} from Aircall for a fresh link: {1}")]
    Api(String, AircallApiError),
    #[error("downloading the {0}: HTTP {1}")]
    Http(&'static str, u16),
    #[error("downloading the {0}: {1}")]
    Transport(&'static str, String),
    #[error("the {0} is larger than {MAX_BYTES} bytes")]
    TooLarge(&'static str),
}

/// Fetches recordings and voicemails: a client for pre-signed links (no Authorization
/// header, the signature is in the URL) and, when credentials are configured, Aircall's API
/// for fresh links.
pub struct Downloads {
    http: reqwest::Client,
    api: Option<Arc<AircallApi>>,
}

impl Downloads {
    pub fn new(api: Option<Arc<AircallApi>>) -> Downloads {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("aircall-monday-bridge/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Downloads { http, api }
    }

    /// The file behind `url`, or behind the fresh link of the call when `url` has expired.
    pub async fn fetch(
        &self,
        call_id: &str,
        source: UploadSource,
        url: &str,
    ) -> Result<Vec<u8>, DownloadError> {
        fetch(&self.http, self.api.as_deref(), call_id, source, url).await
    }
}

enum Got {
    Bytes(Vec<u8>),
    Expired(u16),
}

async fn get(http: &reqwest::Client, what: &'static str, url: &str) -> Result<Got, DownloadError> {
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|e| DownloadError::Transport(what, e.without_url().to_string()))?;
    let status = response.status();
    if matches!(
        status,
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND | StatusCode::GONE
    ) {
        return Ok(Got::Expired(status.as_u16()));
    }
    if !status.is_success() {
        return Err(DownloadError::Http(what, status.as_u16()));
    }
    if response
        .content_length()
        .is_some_and(|n| n as usize > MAX_BYTES)
    {
        return Err(DownloadError::TooLarge(what));
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| DownloadError::Transport(what, e.without_url().to_string()))?;
    if bytes.len() > MAX_BYTES {
        return Err(DownloadError::TooLarge(what));
    }
    Ok(Got::Bytes(bytes.to_vec()))
}

async fn fetch(
    http: &reqwest::Client,
    api: Option<&AircallApi>,
    call_id: &str,
    source: UploadSource,
    url: &str,
) -> Result<Vec<u8>, DownloadError> {
    let what = source.as_str();
    let status = match get(http, what, url).await? {
        Got::Bytes(b) => return Ok(b),
        Got::Expired(status) => status,
    };
    let Some(api) = api else {
        return Err(DownloadError::ExpiredWithoutApi(what, status));
    };
    let id: u64 = call_id
        .parse()
        .map_err(|_| DownloadError::NoFreshLink(what, status, call_id.to_string()))?;
    let call = api
        .get_call(id)
        .await
        .map_err(|e| DownloadError::Api(call_id.to_string(), e))?;
    let fresh = call
        .get(what)
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty() && *u != url)
        .ok_or_else(|| DownloadError::NoFreshLink(what, status, call_id.to_string()))?;
    tracing::info!(
        call_id,
        source = what,
        "the link had expired: using the fresh one from Aircall"
    );
    match get(http, what, fresh).await? {
        Got::Bytes(b) => Ok(b),
        Got::Expired(status) => Err(DownloadError::Http(what, status)),
    }
}
