//! Downloads a call's recording or voicemail for a file column. Aircall's direct links are
//! pre-signed and short-lived (about an hour): the file is fetched as soon as the call is
//! reconciled, and when the link has expired (403, 404 or 410) the call is fetched again from
//! Aircall's API for a fresh one. Without API credentials that is impossible: the error says
//! so, and the worker retries on its schedule before moving the call to the dead letter.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use super::job::{Failure, Job};
use super::{Planned, Worker};
use crate::aircall::api::{AircallApi, AircallApiError};
use crate::config::UploadSource;
use crate::mapping::{MondayCommand, Rules};

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

/// A client for pre-signed links: no Authorization header (the signature is in the URL).
pub(super) fn download_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("aircall-monday-bridge/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
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

/// The file behind `url`, or behind the fresh link of the call when `url` has expired.
pub async fn fetch(
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

impl Worker {
    /// Downloads the file of an `AddFile` step and uploads it; records the outcome in its job.
    pub(super) async fn upload(&self, rules: &Rules, jobs: &mut [Job], p: Planned) {
        let MondayCommand::AddFile {
            call_id,
            source,
            url,
            idempotency_key,
            ..
        } = &p.step.command
        else {
            return;
        };
        let key = idempotency_key.clone();
        let rule = &rules.boards()[jobs[p.job].boards[p.board].index];
        let bytes = match fetch(
            &self.downloads,
            self.aircall.as_deref(),
            call_id,
            *source,
            url,
        )
        .await
        {
            Ok(bytes) => bytes,
            Err(error) => {
                tracing::warn!(%call_id, board = %rule.name, %error, "cannot get the file to upload");
                let job = &mut jobs[p.job];
                if job.failure.is_none() {
                    job.failure = Some(Failure::Download {
                        board: rule.name.clone(),
                        message: error.to_string(),
                    });
                }
                return;
            }
        };
        let chunk = [p];
        if !self.write_intents(rules, jobs, &chunk, &key).await {
            return;
        }
        let [p] = chunk;
        let MondayCommand::AddFile {
            board_id,
            item_id,
            column_id,
            file_name,
            idempotency_key,
            ..
        } = &p.step.command
        else {
            return;
        };
        let result = self
            .monday
            .add_file(
                board_id,
                item_id,
                column_id,
                file_name,
                bytes,
                idempotency_key,
            )
            .await;
        jobs[p.job].answered(&p.step, &result);
        self.settle(rules, jobs, p, result);
    }
}
