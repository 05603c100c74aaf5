//! Reading a webhook body under the limits a client must respect. actix bounds the headers and
//! idle keep-alive, but not the body: a client that sends its headers and then a few bytes of a
//! promised body would hold its connection (and a file descriptor) for ever.

use std::pin::Pin;
use std::time::{Duration, Instant};

use actix_web::web::{self, Bytes, BytesMut};
use futures_core::Stream;

/// The bounds on one body (`server.limits` and `server.body_limit_bytes`).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub max_bytes: usize,
    /// The longest pause between two chunks, and the grace before `min_rate` applies.
    pub idle: Duration,
    /// Bytes per second, on average since the headers arrived, once the grace is over.
    pub min_rate: u64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BodyError {
    #[error("body over the size limit (server.body_limit_bytes)")]
    TooLarge,
    /// The client paused longer than the idle timeout, or sends slower than the minimum rate,
    /// or the request's deadline passed.
    #[error("body not received in time ({0})")]
    TooSlow(&'static str),
    #[error("body could not be read: {0}")]
    Broken(String),
}

/// Reads the whole body, or fails as soon as one limit is broken. `started` is when the
/// headers arrived; `deadline` is the whole request's.
pub async fn read(
    payload: &mut web::Payload,
    declared_len: Option<usize>,
    limits: BodyLimits,
    started: Instant,
    deadline: Instant,
) -> Result<Bytes, BodyError> {
    if declared_len.is_some_and(|n| n > limits.max_bytes) {
        return Err(BodyError::TooLarge);
    }
    let mut body = BytesMut::with_capacity(declared_len.unwrap_or(0).min(limits.max_bytes));
    let mut last_chunk = started;
    loop {
        let (until, reason) = next_deadline(&limits, started, last_chunk, body.len(), deadline);
        let chunk = tokio::time::timeout_at(until.into(), next_chunk(payload)).await;
        match chunk {
            Err(_) => return Err(BodyError::TooSlow(reason)),
            Ok(None) => return Ok(body.freeze()),
            Ok(Some(Err(e))) => return Err(BodyError::Broken(e.to_string())),
            Ok(Some(Ok(bytes))) => {
                if body.len() + bytes.len() > limits.max_bytes {
                    return Err(BodyError::TooLarge);
                }
                body.extend_from_slice(&bytes);
                last_chunk = Instant::now();
            }
        }
    }
}

async fn next_chunk(
    payload: &mut web::Payload,
) -> Option<Result<Bytes, actix_web::error::PayloadError>> {
    std::future::poll_fn(|cx| Pin::new(&mut *payload).poll_next(cx)).await
}

/// When the next chunk must have arrived, and which limit that time comes from. An average
/// rate of `min_rate` after `received` bytes holds until `started + received / min_rate`; the
/// grace (`idle`) comes first.
fn next_deadline(
    limits: &BodyLimits,
    started: Instant,
    last_chunk: Instant,
    received: usize,
    deadline: Instant,
) -> (Instant, &'static str) {
    let idle = last_chunk + limits.idle;
    let rate = match limits.min_rate {
        0 => None,
        r => Some(
            started
                + limits
                    .idle
                    .max(Duration::from_secs_f64(received as f64 / r as f64)),
        ),
    };
    let mut best = (idle, "idle longer than server.limits.body_idle_timeout");
    if let Some(rate) = rate.filter(|r| *r < best.0) {
        best = (rate, "slower than server.limits.body_min_rate");
    }
    if deadline < best.0 {
        best = (deadline, "past server.limits.request_timeout");
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: BodyLimits = BodyLimits {
        max_bytes: 1 << 20,
        idle: Duration::from_secs(5),
        min_rate: 100,
    };

    #[test]
    fn a_silent_client_gets_the_idle_timeout() {
        let t0 = Instant::now();
        let far = t0 + Duration::from_secs(60);
        let (at, why) = next_deadline(&LIMITS, t0, t0, 0, far);
        assert_eq!(at, t0 + Duration::from_secs(5));
        assert!(why.contains("idle"));
    }

    #[test]
    fn a_trickle_is_cut_once_below_the_average_rate() {
        let t0 = Instant::now();
        let far = t0 + Duration::from_secs(600);
        // 700 bytes at 100 B/s buy 7 s from the start, though the last chunk came at 6.5 s.
        let last = t0 + Duration::from_millis(6500);
        let (at, why) = next_deadline(&LIMITS, t0, last, 700, far);
        assert_eq!(at, t0 + Duration::from_secs(7));
        assert!(why.contains("body_min_rate"), "{why}");
    }

    #[test]
    fn the_request_deadline_caps_everything() {
        let t0 = Instant::now();
        let deadline = t0 + Duration::from_secs(2);
        let (at, why) = next_deadline(&LIMITS, t0, t0, 0, deadline);
        assert_eq!(at, deadline);
        assert!(why.contains("request_timeout"));
    }
}
