//! The load generator: plain HTTP/1.1 over kept-alive loopback connections, requests written
//! from bytes prepared before the clock starts, so the generator costs the machine as little
//! as it can (reqwest's per-request work would cap the no-op ceiling on 2 cores, and the
//! ceiling is what the bridge is measured against). Also the no-op ceiling server itself.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A `call.ended` webhook whose call id is new for every request (the bridge would answer a
/// repeat from its dedup table without writing anything, which is not what is measured).
pub struct FreshCalls {
    prefix: Vec<u8>,
    suffix: Vec<u8>,
    next_id: AtomicU64,
}

/// A number no fixture holds, replaced by each request's call id.
const ID_MARK: u64 = 987_654_321_987;

impl FreshCalls {
    pub fn new(token: &str) -> FreshCalls {
        let text = std::fs::read_to_string(crate::helpers::repo_path(
            "tests/fixtures/aircall/inbound_answered.json",
        ))
        .unwrap();
        let day: Vec<Value> = serde_json::from_str(&text).unwrap();
        let mut ended = day
            .into_iter()
            .find(|e| e["event"] == "call.ended")
            .unwrap();
        ended["token"] = json!(token);
        ended["data"]["id"] = json!(ID_MARK);
        let text = ended.to_string();
        let (prefix, suffix) = text.split_once(&ID_MARK.to_string()).unwrap();
        FreshCalls {
            prefix: prefix.as_bytes().to_vec(),
            suffix: suffix.as_bytes().to_vec(),
            next_id: AtomicU64::new(1_000_000_000),
        }
    }

    /// The next body: a call nobody has seen yet.
    pub fn body(&self) -> Vec<u8> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed).to_string();
        [&self.prefix[..], id.as_bytes(), &self.suffix[..]].concat()
    }

    pub fn body_len(&self) -> usize {
        self.prefix.len() + self.suffix.len() + 10
    }
}

/// One kept-alive connection that posts JSON bodies to one path.
struct Conn {
    stream: TcpStream,
    head: Vec<u8>,
    buf: Vec<u8>,
}

impl Conn {
    async fn open(addr: SocketAddr, path: &str) -> Conn {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let head = format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: ").into_bytes();
        Conn {
            stream,
            head,
            buf: Vec::with_capacity(4096),
        }
    }

    /// Posts `body`, reads the whole answer; its status.
    async fn post(&mut self, body: &[u8]) -> u16 {
        let mut request = Vec::with_capacity(self.head.len() + body.len() + 16);
        request.extend_from_slice(&self.head);
        request.extend_from_slice(format!("{}\r\n\r\n", body.len()).as_bytes());
        request.extend_from_slice(body);
        self.stream.write_all(&request).await.unwrap();
        self.buf.clear();
        let header_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&self.buf[..header_end]).to_ascii_lowercase();
        let status: u16 = head[9..12].parse().unwrap();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map(|v| v.trim().parse().unwrap())
            .expect("an answer without content-length");
        while self.buf.len() < header_end + length {
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
        status
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Acknowledgements per second and every request's latency, sorted.
pub struct Load {
    pub rate: f64,
    pub latencies: Vec<Duration>,
}

impl Load {
    /// The `p` quantile in milliseconds (0.5, 0.99, 0.999).
    pub fn ms(&self, p: f64) -> f64 {
        percentile(&self.latencies, p)
    }
}

pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// When a closed-loop run stops: after a while, or once this many requests were answered.
#[derive(Clone, Copy)]
pub enum Until {
    Elapsed(Duration),
    Requests(u64),
}

/// `clients` connections, each posting its next body as soon as the last was answered.
pub async fn closed_loop(
    addr: SocketAddr,
    path: &str,
    bodies: Arc<FreshCalls>,
    clients: usize,
    until: Until,
) -> Load {
    let started = Instant::now();
    let taken = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (path, bodies, taken) = (path.to_string(), bodies.clone(), taken.clone());
            tokio::spawn(async move {
                let mut conn = Conn::open(addr, &path).await;
                let mut latencies = Vec::new();
                loop {
                    let more = match until {
                        Until::Elapsed(d) => started.elapsed() < d,
                        Until::Requests(n) => taken.fetch_add(1, Ordering::Relaxed) < n,
                    };
                    if !more {
                        return latencies;
                    }
                    let body = bodies.body();
                    let t = Instant::now();
                    let status = conn.post(&body).await;
                    assert_eq!(status, 200, "a webhook was not acknowledged");
                    latencies.push(t.elapsed());
                }
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let rate = latencies.len() as f64 / started.elapsed().as_secs_f64();
    latencies.sort();
    Load { rate, latencies }
}

/// Requests sent on a fixed schedule (`per_sec` for `duration`), whatever the answers do;
/// each latency counts from the moment its request was due, so a stall shows in full instead
/// of delaying the requests behind it (no coordinated omission).
pub async fn open_loop(
    addr: SocketAddr,
    path: &str,
    bodies: Arc<FreshCalls>,
    per_sec: u64,
    duration: Duration,
) -> Load {
    let idle: Arc<Mutex<Vec<Conn>>> = Arc::default();
    let period = Duration::from_secs_f64(1.0 / per_sec as f64);
    let count = (duration.as_secs_f64() * per_sec as f64) as u32;
    let started = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(count as usize);
    for i in 0..count {
        let due = started + period * i;
        tokio::time::sleep_until(due).await;
        let (idle, path, body) = (idle.clone(), path.to_string(), bodies.body());
        tasks.push(tokio::spawn(async move {
            let free = idle.lock().unwrap().pop();
            let mut conn = match free {
                Some(c) => c,
                None => Conn::open(addr, &path).await,
            };
            assert_eq!(conn.post(&body).await, 200);
            let latency = due.elapsed();
            idle.lock().unwrap().push(conn);
            latency
        }));
    }
    let mut latencies = Vec::with_capacity(tasks.len());
    for t in tasks {
        latencies.push(t.await.unwrap());
    }
    let rate = latencies.len() as f64 / started.elapsed().as_secs_f64();
    latencies.sort();
    Load { rate, latencies }
}

/// The ceiling: an actix-web 4 server with 2 workers, like the bridge, that parses the JSON
/// and answers 200 without storing anything. Listens on `/` and `/webhooks/aircall`.
pub fn noop_server() -> SocketAddr {
    use actix_web::{web, App, HttpResponse, HttpServer};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let answer = |body: web::Bytes| async move {
        let _: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        HttpResponse::Ok().json(json!({ "status": "stored" }))
    };
    let server = HttpServer::new(move || {
        App::new()
            .route("/", web::post().to(answer))
            .route("/webhooks/aircall", web::post().to(answer))
    })
    .workers(2)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    addr
}

/// A /proc/<pid>/status field in KiB (VmRSS: now, VmHWM: peak).
pub fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// CPU time the process has used so far (user + system), from /proc.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<u64> = after
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name; in ticks.
    let ticks = fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}
