//! The status page in a real browser: headless Chromium (Debian's `chromium` package) loads
//! it, a mouse click on a dead letter's Replay button posts the form, and the call reaches its
//! board. Driven over the Chrome DevTools protocol with a plain websocket.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::app::*;
use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(20);
/// For Chromium to come up and say its debugging port.
const START_WAIT: Duration = Duration::from_secs(60);

/// A headless Chromium with its own throw-away profile; killed on drop.
pub(crate) struct Chromium {
    child: Child,
    _profile: tempfile::TempDir,
    port: u16,
}

impl Chromium {
    pub(crate) fn start() -> Chromium {
        let profile = tempfile::tempdir().unwrap();
        // Beside the profile, not in it: what Chromium says when it does not come up.
        let log_path = profile.path().with_extension("stderr");
        let log = std::fs::File::create(&log_path).unwrap();
        let mut child = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1200,900",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start chromium ({e}): install Debian's package with \
                     `apt-get install -y chromium` (.ci/run does this when it is missing)"
                )
            });
        // With port 0, Chromium picks one and writes it to DevToolsActivePort: the port, then
        // the browser's path, so a file with both lines is whole. A first start on a loaded
        // machine (a build beside the suite) took over 20 s once.
        let file: PathBuf = profile.path().join("DevToolsActivePort");
        let deadline = Instant::now() + START_WAIT;
        let port = loop {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let mut lines = text.lines();
            if let (Some(port), Some(_path)) = (lines.next(), lines.next()) {
                break port
                    .trim()
                    .parse()
                    .expect("DevToolsActivePort starts with a port");
            }
            let said = || std::fs::read_to_string(&log_path).unwrap_or_default();
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "chromium exited ({status}) before opening its debugging port:\n{}",
                    said()
                );
            }
            assert!(
                Instant::now() < deadline,
                "chromium did not open its debugging port within {START_WAIT:?}:\n{}",
                said()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let _ = std::fs::remove_file(&log_path);
        Chromium {
            child,
            _profile: profile,
            port,
        }
    }

    /// The first page's DevTools websocket.
    pub(crate) async fn page(&self) -> String {
        let url = format!("http://127.0.0.1:{}/json/list", self.port);
        eventually(WAIT, "a page target", || async {
            let targets: Vec<Value> = reqwest::get(&url).await.ok()?.json().await.ok()?;
            targets
                .into_iter()
                .find(|t| t["type"] == "page")
                .and_then(|t| t["webSocketDebuggerUrl"].as_str().map(String::from))
        })
        .await
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal DevTools client: send a command, wait for its answer (events are skipped).
pub(crate) struct Cdp {
    ws: tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>,
    next: u64,
}

impl Cdp {
    pub(crate) fn connect(url: &str) -> Cdp {
        let (ws, _) = tungstenite::connect(url).unwrap();
        Cdp { ws, next: 0 }
    }

    pub(crate) fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let msg = json!({ "id": id, "method": method, "params": params }).to_string();
        self.ws.send(tungstenite::Message::text(msg)).unwrap();
        loop {
            let msg = self.ws.read().unwrap();
            let Ok(text) = msg.to_text() else { continue };
            let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    }

    pub(crate) fn eval(&mut self, expression: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true }),
        );
        r["result"]["value"].clone()
    }

    /// Polls `expression` until it is truthy.
    pub(crate) fn wait_for(&mut self, expression: &str) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let v = self.eval(expression);
            if !(v.is_null() || v == false || v == "") {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {expression}; page: {}",
                self.eval("document.body && document.body.innerText")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A real mouse click at the centre of the element.
    fn click(&mut self, selector: &str) {
        let rect = self.wait_for(&format!(
            "(() => {{ const e = document.querySelector('{selector}'); if (!e) return null; \
             e.scrollIntoView(); const r = e.getBoundingClientRect(); \
             return {{x: r.x + r.width / 2, y: r.y + r.height / 2}}; }})()"
        ));
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({ "type": kind, "x": rect["x"], "y": rect["y"], "button": "left", "clickCount": 1 }),
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_status_page_replays_a_dead_letter_from_a_browser_click() {
    let sandbox = Sandbox::start().await;
    let wrong = example_with_a_missing_label();
    let item_link = format!(
        "http://{}/boards/{{board_id}}#item-{{item_id}}",
        sandbox.handle.addr()
    );
    let bridge = spawn_app_with_config(
        &sandbox,
        &wrong,
        &[("BRIDGE__SERVER__ITEM_LINK", &item_link)],
    )
    .await;
    let answered = fixture("inbound_answered");
    bridge.deliver(&answered).await;
    let voicemail = fixture("inbound_missed_voicemail");
    let dead_call = voicemail[0]["data"]["id"].as_u64().unwrap();
    bridge
        .deliver(std::slice::from_ref(voicemail.last().unwrap()))
        .await;
    assert_eq!(bridge.retry_until_dead(1).await.len(), 1);
    bridge.drain().await;
    assert_eq!(bridge.metric("bridge_dead_events ").await, 1.0);

    // Another site cannot post the form, with or without the token.
    let admin = format!("http://{}", bridge.admin);
    let html = reqwest::get(format!("{admin}/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = html
        .split("name=token value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let http = reqwest::Client::new();
    for (origin, token) in [
        ("http://evil.example", token.as_str()),
        (admin.as_str(), "guess"),
    ] {
        let r = http
            .post(format!("{admin}/replay"))
            .header("Origin", origin)
            .form(&[("token", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "origin {origin}");
    }

    // Fix the mapping first, as the page says.
    bridge.reload(&std::fs::read_to_string(repo_path("config/example.toml")).unwrap());

    if !crate::tools::available("chromium", "apt-get install -y chromium") {
        return;
    }
    let chromium = Chromium::start();
    let ws = chromium.page().await;
    let page_url = format!("{admin}/");
    let link_board = format!("/boards/{CALLS_BOARD}#item-");
    let result = tokio::task::spawn_blocking(move || {
        let mut cdp = Cdp::connect(&ws);
        cdp.call("Page.navigate", json!({ "url": page_url }));
        cdp.wait_for(
            "document.readyState === 'complete' && document.querySelector('#dead') !== null",
        );
        let page = cdp
            .eval("document.body.innerText")
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            page.contains("Dead letters") && page.contains("ColumnValueException"),
            "{page}"
        );
        let links = cdp.eval(&format!(
            "document.querySelectorAll('#recent a[href*=\"{link_board}\"]').length"
        ));
        assert!(
            links.as_u64().unwrap() >= 1,
            "a link to the answered call's item: {page}"
        );
        cdp.click("button.replay");
        let flash = cdp.wait_for(
            "document.querySelector('#flash') && document.querySelector('#flash').innerText",
        );
        let dead_count = cdp.eval("document.querySelector('#dead-count').innerText");
        (flash, dead_count)
    })
    .await
    .unwrap();
    assert!(
        result.0.as_str().unwrap().contains("Replayed 1 dead event"),
        "{result:?}"
    );
    assert_eq!(
        result.1, "0",
        "the page after the replay shows no dead letter"
    );

    let item = eventually(WAIT, "the replayed call on its board", || async {
        sandbox
            .items_for(CALLS_BOARD, dead_call)
            .await
            .into_iter()
            .find(|i| text(i, "status").as_deref() == Some("Voicemail"))
    })
    .await;
    assert!(value(&item, "voicemail").is_some(), "{item:#}");
    bridge.drain().await;
    assert_eq!(bridge.metric("bridge_dead_events ").await, 0.0);
    assert_eq!(bridge.metric("bridge_replayed_events_total").await, 1.0);
}
