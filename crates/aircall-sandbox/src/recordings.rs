//! Recording and voicemail files behind pre-signed links that expire, like Aircall's direct
//! MP3 links (reference/aircall.md §4): `/recordings/<call id>.mp3?expires=<unix seconds>`
//! (`<call id>-voicemail.mp3` for a voicemail) answers 403 once `expires` has passed, with no
//! Authorization needed. `GET /v1/calls/:id` hands out fresh links.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use super::routes::{lock, Shared};
use super::Received;

/// How long a link handed out by `GET /v1/calls/:id` stays valid (Aircall: about an hour).
const LINK_SECS: i64 = 3600;

/// The bytes the sandbox serves for a call's file: an ID3 header and a deterministic body, so
/// tests can check size and digest of what reached monday.
pub fn recording_bytes(call_id: u64, voicemail: bool) -> Vec<u8> {
    let len = 24_000 + (call_id % 997) as usize + if voicemail { 3_000 } else { 0 };
    let mut out = b"ID3\x04\x00\x00\x00\x00\x00\x00".to_vec();
    let mut x = call_id.wrapping_mul(6364136223846793005) ^ u64::from(voicemail);
    while out.len() < len {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        out.push((x >> 33) as u8);
    }
    out
}

/// The link to a call's file, valid until `expires` (UNIX seconds).
pub fn recording_url(base: &str, call_id: u64, voicemail: bool, expires: i64) -> String {
    let suffix = if voicemail { "-voicemail" } else { "" };
    format!(
        "{}/recordings/{call_id}{suffix}.mp3?expires={expires}",
        base.trim_end_matches('/')
    )
}

/// The call as `GET /v1/calls/:id` answers it: its recording and voicemail links fresh.
pub fn with_fresh_links(base: &str, mut call: Value, now_secs: i64) -> Value {
    let Some(id) = call["id"].as_u64() else {
        return call;
    };
    for (key, voicemail) in [("recording", false), ("voicemail", true)] {
        if call.get(key).is_some_and(|v| !v.is_null()) {
            call[key] = Value::String(recording_url(base, id, voicemail, now_secs + LINK_SECS));
        }
    }
    call
}

pub async fn serve(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<std::collections::HashMap<String, String>>,
    shared: Shared,
) -> HttpResponse {
    lock(&shared).received.push(Received {
        method: req.method().to_string(),
        path: req.path().to_string(),
        query: req.query_string().to_string(),
        authorization: None,
        body: Value::Null,
    });
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let expires = q.get("expires").and_then(|e| e.parse::<i64>().ok());
    if expires.is_none_or(|e| e < now) {
        // What S3 answers for an expired pre-signed URL.
        return HttpResponse::Forbidden()
            .content_type("application/xml")
            .body(
                "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
            );
    }
    let name = path.into_inner();
    let (stem, voicemail) = match name.strip_suffix("-voicemail.mp3") {
        Some(stem) => (stem, true),
        None => (name.strip_suffix(".mp3").unwrap_or(""), false),
    };
    let known = stem.parse::<u64>().ok().filter(|id| {
        lock(&shared)
            .calls
            .iter()
            .any(|c| c["id"].as_u64() == Some(*id))
    });
    match known {
        Some(id) => HttpResponse::Ok()
            .content_type("audio/mpeg")
            .body(recording_bytes(id, voicemail)),
        None => HttpResponse::NotFound().finish(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_links_replace_only_the_links_a_call_has() {
        let call = serde_json::json!({"id": 7, "recording": "https://old", "voicemail": null});
        let fresh = with_fresh_links("http://127.0.0.1:1/", call, 1000);
        assert_eq!(
            fresh["recording"],
            "http://127.0.0.1:1/recordings/7.mp3?expires=4600"
        );
        assert!(fresh["voicemail"].is_null());
        assert_ne!(recording_bytes(7, false), recording_bytes(7, true));
    }
}
