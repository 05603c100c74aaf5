//! Finding 1 of issue 11: clients that never finish their request. A flood of stalled bodies
//! must not keep a valid webhook from its 200, each stalled socket must be closed within the
//! configured time, and the connection cap must fit under the file descriptor limit.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::app::*;
use crate::helpers::*;
use crate::raw::{self, Stalled};

fn envelope(id: u64) -> serde_json::Value {
    json!({ "resource": "call", "event": "call.created", "timestamp": 1795168800, "token": AIRCALL_TOKEN,
            "data": { "id": id, "direction": "inbound", "status": "initial", "started_at": 1795168800 } })
}

async fn open_stalled(bridge: &Bridge, n: usize) -> Vec<Stalled> {
    let mut stalled = Vec::with_capacity(n);
    for _ in 0..n {
        stalled.push(Stalled::open(bridge.public).await);
    }
    stalled
}

/// Waits for every stalled connection to be closed; (answered 408, closed without an answer,
/// still open, slowest close after its last byte).
async fn closes(stalled: Vec<Stalled>, limit: Duration) -> (usize, usize, usize, Duration) {
    let waits = stalled.into_iter().map(|s| {
        let sent = s.sent_at;
        tokio::spawn(async move { s.closed(limit).await.map(|(st, at)| (st, at - sent)) })
    });
    let (mut timed_out, mut closed, mut open, mut slowest) = (0, 0, 0, Duration::ZERO);
    for w in waits {
        match w.await.unwrap() {
            Some((Some(408), after)) => {
                timed_out += 1;
                slowest = slowest.max(after);
            }
            Some((_, after)) => {
                closed += 1;
                slowest = slowest.max(after);
            }
            None => open += 1,
        }
    }
    (timed_out, closed, open, slowest)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_of_stalled_bodies_neither_blocks_a_webhook_nor_keeps_its_sockets() {
    const STALLED: usize = 600;
    let sandbox = Sandbox::start().await;
    let bridge = Bridge::start(
        &sandbox,
        &[
            ("BRIDGE_TEST_NOFILE", "1024"),
            ("BRIDGE__SERVER__LIMITS__MAX_CONNECTIONS", "800"),
            ("BRIDGE__SERVER__LIMITS__BODY_IDLE_TIMEOUT", "2s"),
        ],
    )
    .await;
    let stalled = open_stalled(&bridge, STALLED).await;
    eventually(
        Duration::from_secs(10),
        "the flood to be accepted",
        || async {
            (bridge.metric("bridge_public_connections_open ").await >= STALLED as f64).then_some(())
        },
    )
    .await;

    let started = Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(10), bridge.post(&envelope(1)))
        .await
        .expect("an answer within 10 s");
    let answered = started.elapsed();
    assert_eq!(r.status(), 200);
    assert!(
        answered < Duration::from_secs(1),
        "answered after {answered:?}"
    );

    // 2 s of silence allowed; the slack covers a loaded machine, not a missing timeout.
    let (timed_out, closed, open, slowest) = closes(stalled, Duration::from_secs(8)).await;
    eprintln!(
        "flood: {STALLED} stalled, webhook answered in {answered:?}; 408 {timed_out}, \
         closed {closed}, open {open}, slowest close {slowest:?} after the last byte"
    );
    assert_eq!((timed_out, closed, open), (STALLED, 0, 0));
    assert!(slowest < Duration::from_secs(5), "{slowest:?}");
    assert_eq!(
        bridge
            .metric("bridge_webhooks_total{event=\"-\",outcome=\"body_too_slow\"}")
            .await,
        STALLED as f64
    );
}

#[test]
fn a_connection_cap_over_the_descriptor_limit_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let env = vec![
        ("BRIDGE_TEST_NOFILE".to_string(), "256".to_string()),
        (
            "BRIDGE__AIRCALL__WEBHOOK_TOKENS".into(),
            AIRCALL_TOKEN.into(),
        ),
        ("BRIDGE__SERVER__LISTEN".into(), "127.0.0.1:0".into()),
        ("BRIDGE__SERVER__ADMIN_LISTEN".into(), "127.0.0.1:0".into()),
        (
            "BRIDGE__STORE__PATH".into(),
            dir.path().join("bridge.db").display().to_string(),
        ),
    ];
    let exit = raw::run_expecting_exit(&env, &["run"], Duration::from_secs(10));
    let (code, out) =
        exit.expect("the bridge started with 512 connections allowed and 256 descriptors");
    assert_ne!(code, 0);
    assert!(
        out.contains("max_connections = 512")
            && out.contains("LimitNOFILE=")
            && out.contains("256"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_beyond_the_cap_waits_in_the_backlog_without_exhausting_descriptors() {
    const STALLED: usize = 300;
    let sandbox = Sandbox::start().await;
    let bridge = Bridge::start(
        &sandbox,
        &[
            ("BRIDGE_TEST_NOFILE", "256"),
            ("BRIDGE__SERVER__LIMITS__MAX_CONNECTIONS", "64"),
            ("BRIDGE__SERVER__LIMITS__BODY_IDLE_TIMEOUT", "1s"),
        ],
    )
    .await;
    // More stalled clients than descriptors: without the cap, accept(2) fails with EMFILE.
    let stalled = open_stalled(&bridge, STALLED).await;
    let (timed_out, closed, open, slowest) = closes(stalled, Duration::from_secs(30)).await;
    let peak = tokio::time::timeout(
        Duration::from_secs(10),
        bridge.metric("bridge_public_connections_peak "),
    )
    .await
    .expect("the admin listener answers within 10 s");
    eprintln!(
        "beyond the cap: {STALLED} stalled, 408 {timed_out}, closed {closed}, open {open}, \
         last closed {slowest:?} after its last byte, peak {peak} connections"
    );
    assert_eq!(
        (timed_out, open),
        (STALLED, 0),
        "closed without 408: {closed}"
    );
    assert!(peak <= 64.0, "peak {peak}");
    let r = bridge.post(&envelope(2)).await;
    assert_eq!(r.status(), 200);
    assert!(
        !bridge.log().contains("Too many open files"),
        "{}",
        bridge.log()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_configured_backlog_reaches_listen() {
    if !crate::tools::available("ss", "apt-get install iproute2") {
        return;
    }
    let sandbox = Sandbox::start().await;
    let bridge = Bridge::start(&sandbox, &[("BRIDGE__SERVER__LIMITS__BACKLOG", "777")]).await;
    assert_eq!(raw::listen_backlog(bridge.public.port()), Some(777));
}

/// Half a request's headers, then nothing: actix's header timeout, not a handler, answers it.
async fn open_slow_headers(public: std::net::SocketAddr) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut s = tokio::net::TcpStream::connect(public).await.unwrap();
    s.write_all(b"POST /webhooks/aircall HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    s
}

/// The answer's status line and whether the server closed the connection after it.
async fn answer_then_close(mut s: tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(15), s.read_to_end(&mut out))
        .await
        .expect("closed by the server")
        .unwrap();
    String::from_utf8_lossy(&out)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_limits_actix_enforces_itself_are_counted_in_metrics() {
    let sandbox = Sandbox::start().await;
    let bridge = spawn_app_with(
        &sandbox,
        &[
            ("BRIDGE__SERVER__WORKERS", "1"),
            ("BRIDGE__SERVER__LIMITS__MAX_CONNECTIONS", "2"),
            ("BRIDGE__SERVER__LIMITS__HEADER_TIMEOUT", "1s"),
        ],
    )
    .await;
    let hits = |limit: &'static str| {
        let bridge = &bridge;
        async move {
            bridge
                .metric(&format!(
                    "bridge_public_limit_hits_total{{limit=\"{limit}\"}}"
                ))
                .await
        }
    };
    assert_eq!(hits("header_timeout").await, 0.0);
    assert_eq!(hits("max_connections").await, 0.0);

    // Two slow headers fill both slots; actix answers each 408 after a second and closes it.
    let slow = [
        open_slow_headers(bridge.public).await,
        open_slow_headers(bridge.public).await,
    ];
    for s in slow {
        assert_eq!(answer_then_close(s).await, "HTTP/1.1 408 Request Timeout");
    }
    eventually(
        Duration::from_secs(10),
        "two header timeouts counted",
        || async { (hits("header_timeout").await == 2.0).then_some(()) },
    )
    .await;
    assert_eq!(
        hits("max_connections").await,
        1.0,
        "the second connection took the last slot"
    );

    // A client that connects and leaves at once is no timeout.
    let early = tokio::net::TcpStream::connect(bridge.public).await.unwrap();
    drop(early);
    eventually(
        Duration::from_secs(10),
        "a connection without request",
        || async {
            (bridge
                .metric("bridge_public_connections_without_request_total")
                .await
                == 1.0)
                .then_some(())
        },
    )
    .await;
    // A served request is neither, and webhooks still get their 200.
    let r = bridge.post(&envelope(1843299001)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(hits("header_timeout").await, 2.0);
    let text = bridge.metrics().await;
    assert!(
        text.contains("# TYPE bridge_public_limit_hits_total counter"),
        "{text}"
    );
}
