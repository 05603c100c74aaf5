//! What went wrong with a monday request, and what to do about it. monday answers most
//! application errors with HTTP 200 and `errors[].extensions.code`; codes changed case and
//! name across API versions, so they are matched case-insensitively, with the HTTP status and
//! `extensions.status_code` as the fallback (reference/monday.md §4.4–§4.7).

use std::time::Duration;

#[derive(Debug, Clone, thiserror::Error)]
pub enum MondayError {
    /// No answer: connection refused or dropped, timeout, unreadable body.
    #[error("no answer from monday: {message}")]
    Transport {
        message: String,
        timed_out: bool,
        /// The connection was never made, so monday cannot have seen the request.
        not_sent: bool,
    },
    /// An HTTP error without a GraphQL error body (e.g. a proxy's 502 page).
    #[error("monday answered HTTP {status} at {url}{}{}", colon(snippet), http_hint(*status, url))]
    Http {
        status: u16,
        retry_after: Option<Duration>,
        snippet: String,
        /// Where the request went: a 404 is most often a wrong `monday.api_url`.
        url: String,
    },
    /// A GraphQL error from monday.
    #[error("monday error {code}: {message}{}", code_hint(code))]
    Api {
        code: String,
        message: String,
        http_status: u16,
        status_code: Option<u16>,
        retry_after: Option<Duration>,
        request_id: Option<String>,
    },
    /// Not sent: monday's budgets (or a 429 it gave earlier) say to wait this long first.
    #[error("not sent: monday's rate budget refills in {} s", wait.as_secs())]
    Throttled { wait: Duration },
    /// A 200 answer that is not the shape we asked for.
    #[error("unexpected answer from monday: {0}")]
    Decode(String),
}

/// What the worker does after an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Transient: try again, after the server's hint when it gave one.
    Retry { hint: Option<Duration> },
    /// Permanent: the same request will fail again until someone changes something.
    DeadLetter,
    /// The daily call budget is spent: send nothing until midnight UTC; keep accepting.
    PauseUntilMidnight,
    /// The item is gone from the board (a person deleted it).
    ItemGone,
}

const RETRY_CODES: &[&str] = &[
    "complexity_budget_exhausted",
    "complexitybudgetexhausted",
    "complexityexception",
    "maxconcurrencyexceeded",
    "max_concurrency_exceeded",
    "rate_limit_exceeded",
    "ratelimitexceeded",
    "rate limit exceeded",
    "minute limit rate exceeded",
    "ip_rate_limit_exceeded",
    "field_limit_exceeded",
    "idempotency_conflict",
    "api_temporarily_blocked",
    "internal_server_error",
    "internal server error",
    "resource is currently locked, please try again later",
    "resource_locked",
];

const PERMANENT_CODES: &[&str] = &[
    "columnvalueexception",
    "correctedvalueexception",
    "createboardexception",
    "invalidargumentexception",
    "invalidboardidexception",
    "invalidcolumnidexception",
    "invaliduseridexception",
    "invalidversionexception",
    "invalidgroupidexception",
    "itemnametoolongexception",
    "itemslimitationexception",
    "missingrequiredpermissions",
    "resourcenotfoundexception",
    "userunauthorizedexception",
    "user_unauthorized",
    "user_access_denied",
    "unauthorized",
    "undefinedfield",
    "graphql_validation_failed",
    "jsonparseexception",
    "recordinvalidexception",
    "bad request",
    "deletelastgroupexception",
];

impl MondayError {
    pub fn decision(&self) -> Decision {
        match self {
            MondayError::Transport { .. } | MondayError::Decode(_) => {
                Decision::Retry { hint: None }
            }
            MondayError::Throttled { wait } => Decision::Retry { hint: Some(*wait) },
            MondayError::Http {
                status,
                retry_after,
                ..
            } => by_status(*status, *retry_after),
            MondayError::Api {
                code,
                http_status,
                status_code,
                retry_after,
                ..
            } => {
                let code = code.to_ascii_lowercase();
                if code == "daily_limit_exceeded" {
                    Decision::PauseUntilMidnight
                } else if code == "invaliditemidexception" {
                    Decision::ItemGone
                } else if RETRY_CODES.contains(&code.as_str()) {
                    Decision::Retry { hint: *retry_after }
                } else if PERMANENT_CODES.contains(&code.as_str())
                    || code.starts_with("parse error")
                {
                    Decision::DeadLetter
                } else {
                    // An unknown code: judge by the statuses. A 200 with an unknown code is
                    // retried; the retry schedule still ends in the dead letter if it persists.
                    let status = status_code.filter(|s| *s != 200).unwrap_or(*http_status);
                    if status == 200 {
                        Decision::Retry { hint: *retry_after }
                    } else {
                        by_status(status, *retry_after)
                    }
                }
            }
        }
    }

    /// The request may have been applied even though it failed: no answer, an unreadable
    /// one, or a server error. A rate limit, a lock, a 503 or a GraphQL error was not applied.
    pub fn is_ambiguous(&self) -> bool {
        match self {
            MondayError::Transport { not_sent, .. } => !not_sent,
            MondayError::Decode(_) => true,
            MondayError::Throttled { .. } => false,
            MondayError::Http { status, .. } => matches!(status, 500 | 502 | 504),
            MondayError::Api {
                code, http_status, ..
            } => {
                code.eq_ignore_ascii_case("INTERNAL_SERVER_ERROR")
                    || matches!(http_status, 500 | 502 | 504)
            }
        }
    }

    /// A short label for metrics and logs.
    pub fn kind(&self) -> String {
        match self {
            MondayError::Transport {
                timed_out: true, ..
            } => "timeout".into(),
            MondayError::Transport { .. } => "transport".into(),
            MondayError::Http { status, .. } => format!("http_{status}"),
            MondayError::Api { code, .. } => code.clone(),
            MondayError::Decode(_) => "decode".into(),
            MondayError::Throttled { .. } => "throttled".into(),
        }
    }
}

/// ": text", or nothing for an empty body.
fn colon(snippet: &str) -> String {
    match snippet.trim() {
        "" => String::new(),
        text => format!(": {text}"),
    }
}

/// What to do about an error code that is the configuration's fault.
fn code_hint(code: &str) -> &'static str {
    match code.to_ascii_lowercase().as_str() {
        "unauthorized"
        | "user_unauthorized"
        | "userunauthorizedexception"
        | "not authenticated" => {
            " (monday refused the token. It is read from monday.api_token_file, else \
             monday.api_token, else the credential monday_token: a placeholder left in \
             monday.api_token hides the credential. A token comes from monday: avatar → \
             Developers → My access tokens)"
        }
        _ => "",
    }
}

/// What to do about an HTTP status that is the configuration's fault.
fn http_hint(status: u16, url: &str) -> String {
    match status {
        404 | 405 if !url.trim_end_matches('/').ends_with("/v2") && !url.ends_with("/v2/file") => {
            " (no GraphQL API at this URL: monday.api_url must end in /v2, e.g. \
             https://api.monday.com/v2 or the sandbox's http://127.0.0.1:8900/v2)"
                .into()
        }
        404 | 405 => " (no GraphQL API at this URL: check monday.api_url)".into(),
        401 | 403 => " (monday refused the token: check monday.api_token, api_token_file or \
                     the credential monday_token)"
            .into(),
        _ => String::new(),
    }
}

fn by_status(status: u16, retry_after: Option<Duration>) -> Decision {
    match status {
        501 => Decision::DeadLetter,
        408 | 409 | 423 | 425 | 429 | 500..=599 => Decision::Retry { hint: retry_after },
        401 | 403 => Decision::DeadLetter,
        400..=499 => Decision::DeadLetter,
        _ => Decision::Retry { hint: retry_after },
    }
}

#[cfg(test)]
mod tests;
