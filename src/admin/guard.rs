//! Who may talk to the admin listener. It can replay dead letters and shows the replay form's
//! token, so a web page must not reach it: a `Host` header that is not one of `admin.hosts`
//! is refused on every route (DNS rebinding points a foreign name at 127.0.0.1, but the
//! browser still sends that foreign name). When a bearer token is set (required off loopback),
//! every route but `/healthz` needs it.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::config::AdminSettings;

pub struct Guard {
    /// Lower case, without a trailing dot.
    hosts: Vec<String>,
    token: Option<SecretString>,
}

impl Guard {
    pub fn new(settings: &AdminSettings) -> Guard {
        Guard {
            hosts: settings.hosts.iter().map(|h| normalise(h)).collect(),
            token: (!settings.token.expose_secret().is_empty()).then(|| settings.token.clone()),
        }
    }

    fn host_allowed(&self, host: Option<&str>) -> bool {
        host.map(|h| normalise(strip_port(h)))
            .is_some_and(|h| self.hosts.contains(&h))
    }

    fn authorised(&self, authorization: Option<&str>) -> bool {
        let Some(want) = &self.token else {
            return true;
        };
        let given = authorization
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        crate::config::same_secret(given.trim(), want.expose_secret())
    }
}

/// The middleware: refuse a foreign Host (403) or a missing token (401) before any handler.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(guard) = req.app_data::<web::Data<Guard>>().cloned() else {
        // Not configured is a programming error; fail closed.
        return Ok(req.into_response(HttpResponse::InternalServerError().finish()));
    };
    // The raw header, never X-Forwarded-Host or Forwarded: a client chooses those too.
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    if !guard.host_allowed(host.as_deref()) {
        tracing::warn!(host = ?host, path = req.path(), "admin request refused: Host not in admin.hosts");
        let response = HttpResponse::Forbidden().json(json!({
            "error": "this Host is not one of admin.hosts"
        }));
        return Ok(req.into_response(response));
    }
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok());
    if req.path() != "/healthz" && !guard.authorised(authorization) {
        let response = HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
            .json(json!({ "error": "a bearer token (admin.token) is required" }));
        return Ok(req.into_response(response));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// `127.0.0.1:9090` → `127.0.0.1`, `[::1]:9090` → `[::1]`, `localhost` → `localhost`.
fn strip_port(host: &str) -> &str {
    if let Some(end) = host.find(']') {
        return &host[..=end];
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

fn normalise(host: &str) -> String {
    host.trim().trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(token: &str) -> Guard {
        Guard::new(&AdminSettings {
            hosts: vec!["localhost".into(), "127.0.0.1".into(), "[::1]".into()],
            token: SecretString::from(token.to_string()),
            token_file: None,
        })
    }

    #[test]
    fn only_configured_names_pass_whatever_the_port() {
        let g = guard("");
        for ok in [
            "localhost",
            "LOCALHOST:9090",
            "localhost.",
            "127.0.0.1:1",
            "[::1]:9090",
        ] {
            assert!(g.host_allowed(Some(ok)), "{ok}");
        }
        for bad in [
            "rebind.evil.example:9090",
            "127.0.0.1.evil.example",
            "localhost.evil",
            "",
        ] {
            assert!(!g.host_allowed(Some(bad)), "{bad}");
        }
        assert!(!g.host_allowed(None), "no Host at all");
    }

    #[test]
    fn a_token_must_match_exactly() {
        assert!(guard("").authorised(None));
        let g = guard("s3cret");
        assert!(g.authorised(Some("Bearer s3cret")));
        assert!(!g.authorised(Some("Bearer s3cre")));
        assert!(!g.authorised(Some("s3cret")));
        assert!(!g.authorised(None));
    }
}
