//! The systemd protocol as the unit relies on it: READY=1 once listening, WATCHDOG=1 while the
//! worker is alive, STOPPING=1 on SIGTERM. A datagram socket stands in for systemd.

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use crate::helpers::*;

fn messages_until(socket: &UnixDatagram, want: &str, limit: Duration) -> Vec<String> {
    let deadline = Instant::now() + limit;
    let mut seen = Vec::new();
    let mut buf = [0u8; 512];
    while Instant::now() < deadline {
        if let Ok(n) = socket.recv(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]).to_string();
            let done = text.lines().any(|l| l == want);
            seen.push(text);
            if done {
                return seen;
            }
        }
    }
    panic!("no {want} within {limit:?}; got {seen:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn ready_watchdog_and_stopping_reach_systemd() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let sandbox = Sandbox::start().await;
    let notify = path.display().to_string();
    // A one-second watchdog: the bridge pings at half of it while its worker is alive.
    let mut bridge = Bridge::start(
        &sandbox,
        &[("NOTIFY_SOCKET", &notify), ("WATCHDOG_USEC", "1000000")],
    )
    .await;

    let seen = messages_until(&socket, "READY=1", Duration::from_secs(10));
    assert!(
        seen.iter().all(|m| !m.contains("WATCHDOG=1")),
        "a ping before READY: {seen:?}"
    );
    // READY comes after the listeners are bound: the receiver answers.
    assert_eq!(
        bridge.post(&fixture("outbound_answered")[0]).await.status(),
        200
    );
    let started = Instant::now();
    messages_until(&socket, "WATCHDOG=1", Duration::from_secs(3));
    messages_until(&socket, "WATCHDOG=1", Duration::from_secs(3));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "two pings within a watchdog interval or so"
    );

    let status = bridge.terminate();
    assert!(status.success());
    messages_until(&socket, "STOPPING=1", Duration::from_secs(5));
}
