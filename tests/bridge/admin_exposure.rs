//! Finding 2 of issue 11: the admin listener answered any `Host`, so a web page whose name was
//! rebound to 127.0.0.1 could read the status page (with the replay form's token) and replay
//! dead letters. Now a foreign Host is refused on every route, and off loopback a bearer token
//! is required everywhere but /healthz.

use std::time::Duration;

use crate::app::*;
use crate::helpers::*;
use crate::raw::{self, request};

const EVIL: &str = "rebind.evil.example";

/// A bridge with one dead letter, so the status page carries its replay forms.
async fn bridge_with_a_dead_letter(sandbox: &Sandbox) -> App {
    let bridge = spawn_app_with_config(sandbox, &example_with_a_missing_label(), &[]).await;
    let voicemail = fixture("inbound_missed_voicemail");
    bridge
        .deliver(std::slice::from_ref(voicemail.last().unwrap()))
        .await;
    let dead = bridge.retry_until_dead(1).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(bridge.metric("bridge_dead_events ").await, 1.0);
    bridge
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rebinding_host_is_refused_on_every_admin_route() {
    let sandbox = Sandbox::start().await;
    let bridge = bridge_with_a_dead_letter(&sandbox).await;
    let port = bridge.admin.port();
    let good = format!("127.0.0.1:{port}");
    let page = raw::send(bridge.admin, &request("GET", "/", &[("Host", &good)], b"")).await;
    assert_eq!(page.status, 200);
    let token = page
        .text()
        .split("name=token value=\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .map(str::to_string)
        .expect("the page's form token");

    let evil = format!("{EVIL}:{port}");
    let origin = format!("http://{evil}");
    let form = format!("token={token}");
    let replay_headers = [
        ("Host", evil.as_str()),
        ("Origin", origin.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let routes: Vec<(&str, &str, Vec<u8>)> = vec![
        ("GET", "/", vec![]),
        ("GET", "/?replayed=1", vec![]),
        ("GET", "/healthz", vec![]),
        ("GET", "/readyz", vec![]),
        ("GET", "/metrics", vec![]),
        ("GET", "/no-such-route", vec![]),
        ("POST", "/replay", form.clone().into_bytes()),
    ];
    for (method, path, body) in &routes {
        let headers: &[(&str, &str)] = if *method == "POST" {
            &replay_headers
        } else {
            &[("Host", evil.as_str())]
        };
        let answer = raw::send(bridge.admin, &request(method, path, headers, body)).await;
        assert_eq!(answer.status, 403, "{method} {path}: {}", answer.text());
        assert!(
            !answer.text().contains(&token),
            "{method} {path} leaked the form token"
        );
    }
    // Nor without any Host (HTTP/1.0 style), nor through a forwarded-host header.
    let bare = raw::send(bridge.admin, b"GET /metrics HTTP/1.0\r\n\r\n").await;
    assert_eq!(bare.status, 403);
    let forwarded = raw::send(
        bridge.admin,
        &request(
            "GET",
            "/metrics",
            &[("Host", evil.as_str()), ("X-Forwarded-Host", good.as_str())],
            b"",
        ),
    )
    .await;
    assert_eq!(forwarded.status, 403);
    assert_eq!(
        bridge.metric("bridge_dead_events ").await,
        1.0,
        "replayed through a rebinding"
    );

    // The loopback names still work, any port: localhost and [::1] as well as the address.
    for host in [
        good.clone(),
        format!("localhost:{port}"),
        "LOCALHOST".into(),
    ] {
        let answer = raw::send(
            bridge.admin,
            &request("GET", "/healthz", &[("Host", &host)], b""),
        )
        .await;
        assert_eq!(answer.status, 200, "{host}");
    }
}

fn token_env(dir: &std::path::Path) -> Vec<(&'static str, String)> {
    let file = dir.join("admin_token");
    std::fs::write(&file, "admin-s3cret\n").unwrap();
    vec![
        ("BRIDGE__SERVER__ADMIN_LISTEN", "0.0.0.0:0".to_string()),
        ("BRIDGE__ADMIN__TOKEN_FILE", file.display().to_string()),
    ]
}

/// A process of its own: the binary must refuse to start without a token, and the token must
/// stay out of its log.
#[tokio::test(flavor = "multi_thread")]
async fn off_loopback_the_admin_listener_needs_a_bearer_token_except_for_healthz() {
    // Without a token it does not start, and says which key is missing.
    let env = vec![
        (
            "BRIDGE__AIRCALL__WEBHOOK_TOKENS".to_string(),
            AIRCALL_TOKEN.to_string(),
        ),
        ("BRIDGE__SERVER__LISTEN".into(), "127.0.0.1:0".into()),
        ("BRIDGE__SERVER__ADMIN_LISTEN".into(), "0.0.0.0:0".into()),
        (
            "BRIDGE__STORE__PATH".into(),
            tempfile::tempdir()
                .unwrap()
                .path()
                .join("b.db")
                .display()
                .to_string(),
        ),
    ];
    let (code, out) = raw::run_expecting_exit(&env, &["run"], Duration::from_secs(10))
        .expect("the bridge started with its admin listener open to the network and no token");
    assert_ne!(code, 0);
    assert!(
        out.contains("admin.token") && out.contains("0.0.0.0"),
        "{out}"
    );

    let sandbox = Sandbox::start().await;
    let secrets = tempfile::tempdir().unwrap();
    let env = token_env(secrets.path());
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let bridge = Bridge::start(&sandbox, &env).await;
    let host = format!("127.0.0.1:{}", bridge.admin.port());
    let get = |path: &'static str, auth: Option<&'static str>| {
        let host = host.clone();
        let admin = bridge.admin;
        async move {
            let mut headers = vec![("Host", host.as_str())];
            if let Some(a) = auth {
                headers.push(("Authorization", a));
            }
            raw::send(admin, &request("GET", path, &headers, b"")).await
        }
    };
    assert_eq!(get("/healthz", None).await.status, 200);
    for path in ["/", "/readyz", "/metrics"] {
        let refused = get(path, None).await;
        assert_eq!(refused.status, 401, "{path}");
        assert_eq!(
            refused.header("WWW-Authenticate").as_deref(),
            Some("Bearer")
        );
        assert_eq!(get(path, Some("Bearer wrong")).await.status, 401, "{path}");
        assert_eq!(
            get(path, Some("Bearer admin-s3cret")).await.status,
            200,
            "{path}"
        );
    }
    assert!(
        !bridge.log().contains("admin-s3cret"),
        "the token reached the log"
    );
}
