//! Bytes on a socket, for the tests a well-behaved HTTP client cannot write: stalled bodies,
//! forged Host headers, bodies that are not UTF-8. Everything talks to 127.0.0.1.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An answer as it came off the wire.
#[derive(Debug)]
pub struct RawAnswer {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl RawAnswer {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `request` as is (it should say `Connection: close`) and reads the answer to EOF.
pub async fn send(addr: SocketAddr, request: &[u8]) -> RawAnswer {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("an answer within 10 s")
        .unwrap();
    parse(&out).unwrap_or_else(|| panic!("not an HTTP answer: {:?}", String::from_utf8_lossy(&out)))
}

fn parse(out: &[u8]) -> Option<RawAnswer> {
    let end = out.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&out[..end]).into_owned();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some(RawAnswer {
        status,
        head,
        body: out[end + 4..].to_vec(),
    })
}

/// A request with `method`, `path`, `headers` (without Host unless given) and `body`.
pub fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        r.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    r.push_str("\r\n");
    let mut bytes = r.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A client that sent its headers, promised 1,000 bytes of body, sent 5, and went quiet.
pub struct Stalled {
    stream: TcpStream,
    pub sent_at: Instant,
}

impl Stalled {
    pub async fn open(addr: SocketAddr) -> Stalled {
        // A listener that stopped accepting leaves the kernel's queue full: connect then hangs.
        let mut stream = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(addr))
            .await
            .expect("connected within 10 s: the listener is accepting")
            .unwrap();
        let head = "POST /webhooks/aircall HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                    Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"res";
        stream.write_all(head.as_bytes()).await.unwrap();
        Stalled {
            stream,
            sent_at: Instant::now(),
        }
    }

    /// Waits until the server closes the connection (or `limit` passes): the status it sent
    /// first, if any, and when it closed.
    pub async fn closed(mut self, limit: Duration) -> Option<(Option<u16>, Instant)> {
        let mut out = Vec::new();
        let read = tokio::time::timeout(limit, self.stream.read_to_end(&mut out)).await;
        match read {
            Err(_) => None,
            // A reset counts as closed too: the socket is gone either way.
            Ok(_) => Some((parse(&out).map(|a| a.status), Instant::now())),
        }
    }
}

/// Starts `bridge run` and waits up to `limit` for it to exit by itself: its exit code and
/// output, or `None` if it was still running (it is then killed).
pub fn run_expecting_exit(
    env: &[(String, String)],
    args: &[&str],
    limit: Duration,
) -> Option<(i32, String)> {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.log");
    let out = std::fs::File::create(&out_path).unwrap();
    let mut child = crate::helpers::bridge_command(env)
        .args(args)
        .envs(env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let text = std::fs::read_to_string(&out_path).unwrap_or_default();
            return Some((status.code().unwrap_or(-1), text));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The backlog the kernel holds for the listener on `port`, from `ss` (Send-Q of a socket
/// in LISTEN is its backlog).
pub fn listen_backlog(port: u16) -> Option<u32> {
    let out = Command::new("ss")
        .args(["-ltnH", &format!("sport = :{port}")])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().next()?.split_whitespace().nth(2)?.parse().ok()
}
