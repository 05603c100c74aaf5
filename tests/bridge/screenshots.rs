//! The pages in a real browser at 1400 px: the sandbox's board page fits without scrolling
//! sideways and shows its chips; the status page's search and a call's trace render. Each is
//! captured as a PNG: into docs/ with BRIDGE_TEST_SCREENSHOTS=docs (how the README's pictures
//! are made), else into cargo's temporary directory.

use std::path::PathBuf;

use base64::Engine;
use serde_json::{json, Value};

use aircall_monday_bridge::demo::day::realistic_day;

use crate::app::*;
use crate::helpers::*;
use crate::status_page::{Cdp, Chromium};

const WIDTH: u64 = 1400;

fn shot_path(name: &str) -> PathBuf {
    match std::env::var("BRIDGE_TEST_SCREENSHOTS").as_deref() {
        Ok("docs") => repo_path(&format!("docs/{name}")),
        _ => PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name),
    }
}

/// Loads `url` at 1400 px wide, waits for `ready`, and captures the whole page.
fn capture(cdp: &mut Cdp, url: &str, ready: &str, name: &str) -> Value {
    cdp.call(
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": WIDTH, "height": 900, "deviceScaleFactor": 1, "mobile": false }),
    );
    cdp.call("Page.navigate", json!({ "url": url }));
    cdp.wait_for(&format!("document.readyState === 'complete' && ({ready})"));
    let size = cdp.eval(
        "({w: document.documentElement.scrollWidth, h: document.documentElement.scrollHeight})",
    );
    let height = size["h"].as_u64().unwrap_or(900).clamp(300, 2400);
    cdp.call(
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": false }),
    );
    let png = cdp.call("Page.captureScreenshot", json!({ "format": "png" }));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(png["data"].as_str().unwrap())
        .unwrap();
    std::fs::write(shot_path(name), bytes).unwrap();
    size
}

#[tokio::test(flavor = "multi_thread")]
async fn the_board_page_fits_1400_px_and_the_pages_are_captured() {
    if !crate::tools::available("chromium", "apt-get install -y chromium") {
        return;
    }
    let sandbox = Sandbox::start().await;
    let item_link = format!(
        "http://{}/boards/{{board_id}}#item-{{item_id}}",
        sandbox.handle.addr()
    );
    let bridge = spawn_app_with(&sandbox, &[("BRIDGE__SERVER__ITEM_LINK", &item_link)]).await;
    let day = realistic_day(AIRCALL_TOKEN, 2026, 24, 1_795_168_800);
    bridge.deliver(&day).await;
    bridge.drain().await;
    let call = day
        .iter()
        .find(|e| e["event"] == "call.created" && e["data"]["raw_digits"].is_string())
        .unwrap();
    let call_id = call["data"]["id"].as_u64().unwrap();
    let digits: String = call["data"]["raw_digits"]
        .as_str()
        .unwrap()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();

    let chromium = Chromium::start();
    let ws = chromium.page().await;
    let board = format!("http://{}/boards/{CALLS_BOARD}", sandbox.handle.addr());
    let admin = format!("http://{}", bridge.admin);
    let (board_size, chips) = tokio::task::spawn_blocking(move || {
        let mut cdp = Cdp::connect(&ws);
        let size = capture(
            &mut cdp,
            &board,
            "document.querySelector('#board .chip') !== null",
            "board-page.png",
        );
        let chips = cdp.eval("document.querySelectorAll('#board .chip').length");
        capture(
            &mut cdp,
            &format!("{admin}/calls?q={digits}"),
            "document.querySelector('#found') !== null",
            "status-search.png",
        );
        capture(
            &mut cdp,
            &format!("{admin}/calls/{call_id}"),
            "document.querySelector('#trace') !== null",
            "status-call.png",
        );
        (size, chips)
    })
    .await
    .unwrap();
    assert!(
        board_size["w"].as_u64().unwrap() <= WIDTH,
        "the board page scrolls sideways at {WIDTH} px: {board_size}"
    );
    assert!(chips.as_u64().unwrap() >= 10, "status chips: {chips}");
}
