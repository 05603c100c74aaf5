//! `aircall-monday-bridge demo`: the whole path on one machine with no account anywhere.
//! Starts the monday sandbox with the example boards, starts the bridge pointed at it (the
//! real `Application`, configured from config/example.toml plus environment overrides),
//! replays a realistic day of Aircall webhooks over HTTP, and shows where to watch. Aircall's
//! API stand-in serves the AI insights of the day's calls with AI Assist.

pub mod ai_day;
pub mod day;
mod serve;

pub use serve::{serve_sandbox, SandboxOptions};

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use crate::clock::now_ms;
use crate::config::{Settings, Source};
use crate::startup::Application;
use crate::store::Store;
use monday_sandbox::{self as sandbox, Limits, SandboxConfig};

pub const EXAMPLE_TOML: &str = include_str!("../../config/example.toml");
const DEMO_AIRCALL_TOKEN: &str = "demo-aircall-token";
const DEMO_MONDAY_TOKEN: &str = "demo-monday-token";
const DEMO_AIRCALL_API_ID: &str = "demo-aircall-api-id";
const DEMO_AIRCALL_API_TOKEN: &str = "demo-aircall-api-token";

pub struct DemoOptions {
    pub sandbox_listen: SocketAddr,
    pub data_dir: PathBuf,
    pub calls: usize,
    pub pace: Duration,
    pub seed: u64,
    pub exit_when_done: bool,
}

/// The real configuration path: the example file, then environment-style overrides pointing
/// it at the sandbox (its API, and its board page for the status page's item links).
fn settings(
    sandbox: SocketAddr,
    db: &std::path::Path,
    aircall_api: &str,
) -> anyhow::Result<Settings> {
    let overrides = [
        ("BRIDGE__AIRCALL__API_URL", aircall_api.to_string()),
        ("BRIDGE__AIRCALL__API_ID", DEMO_AIRCALL_API_ID.into()),
        ("BRIDGE__AIRCALL__API_TOKEN", DEMO_AIRCALL_API_TOKEN.into()),
        ("BRIDGE__WORKER__INSIGHTS_DEBOUNCE", "2s".into()),
        ("BRIDGE__MONDAY__API_URL", format!("http://{sandbox}/v2")),
        ("BRIDGE__MONDAY__API_TOKEN", DEMO_MONDAY_TOKEN.into()),
        ("BRIDGE__AIRCALL__WEBHOOK_TOKENS", DEMO_AIRCALL_TOKEN.into()),
        ("BRIDGE__SERVER__LISTEN", "127.0.0.1:0".into()),
        ("BRIDGE__SERVER__ADMIN_LISTEN", "127.0.0.1:0".into()),
        ("BRIDGE__STORE__PATH", db.display().to_string()),
        (
            "BRIDGE__SERVER__ITEM_LINK",
            format!("http://{sandbox}/boards/{{board_id}}#item-{{item_id}}"),
        ),
    ];
    Ok(Settings::load_from(
        Source::Text {
            name: "config/example.toml (built in)",
            toml: EXAMPLE_TOML,
        },
        overrides.iter().map(|(k, v)| (k.to_string(), v.clone())),
    )?)
}

pub async fn run(
    opts: DemoOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let boards =
        sandbox::parse_seed(sandbox::EXAMPLE_BOARDS).context("the built-in sandbox boards")?;
    let users =
        sandbox::parse_users(sandbox::EXAMPLE_BOARDS).context("the built-in sandbox users")?;
    let sandbox = sandbox::spawn(SandboxConfig {
        listen: opts.sandbox_listen,
        boards,
        users,
        api_token: Some(DEMO_MONDAY_TOKEN.into()),
        limits: Limits::default(),
    })
    .await
    .with_context(|| format!("starting the monday sandbox on {}", opts.sandbox_listen))?;

    std::fs::create_dir_all(&opts.data_dir)
        .with_context(|| format!("creating {}", opts.data_dir.display()))?;
    let db = opts.data_dir.join("demo.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let day = ai_day::with_ai_insights(day::realistic_day(
        DEMO_AIRCALL_TOKEN,
        opts.seed,
        opts.calls,
        now_ms() / 1000 - 10 * 3600,
    ));
    let aircall = aircall_stand_in(&day).await?;
    let settings = settings(sandbox.addr(), &db, &aircall.api_url())?;
    let mapped: Vec<String> = settings.boards.iter().map(|b| b.board_id.clone()).collect();
    let app = Application::build(settings).await?;
    let webhook_url = format!("http://{}/webhooks/aircall", app.public_addr());
    let admin = app.admin_addr();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let bridge = tokio::spawn(app.run_until(async {
        let _ = stop_rx.await;
    }));

    println!();
    println!("  monday sandbox board page:  {}", sandbox.page_url());
    println!("  bridge webhook endpoint:    {webhook_url}");
    println!("  bridge metrics:             http://{admin}/metrics");
    println!();
    println!("  Open the board page, then watch a day of Aircall calls arrive.");
    println!();

    let http = reqwest::Client::new();
    let mut acknowledged = 0usize;
    for (i, envelope) in day.iter().enumerate() {
        let response = http.post(&webhook_url).json(envelope).send().await?;
        anyhow::ensure!(
            response.status().is_success(),
            "the bridge answered {} to a webhook",
            response.status()
        );
        acknowledged += 1;
        if (i + 1) % 25 == 0 || i + 1 == day.len() {
            println!("  delivered {:>4}/{} webhooks", i + 1, day.len());
        }
        tokio::time::sleep(opts.pace).await;
    }

    let store = Store::open(&db)?;
    let drained = wait_until_drained(&store, Duration::from_secs(120)).await?;
    let summary: serde_json::Value = http
        .get(format!("http://{}/_sandbox/stats", sandbox.addr()))
        .send()
        .await?
        .json()
        .await?;
    let boards: serde_json::Value = http
        .get(format!("http://{}/_sandbox/boards", sandbox.addr()))
        .send()
        .await?
        .json()
        .await?;
    println!();
    println!(
        "  {acknowledged} webhooks acknowledged; queue {}",
        if drained {
            "drained"
        } else {
            "NOT drained (see the logs)"
        }
    );
    // The boards the example maps (the sandbox has others, for the tests).
    let mut total_items = 0;
    for board in boards["boards"].as_array().into_iter().flatten() {
        if !mapped.iter().any(|id| board["id"].as_str() == Some(id)) {
            continue;
        }
        let items = board["items"].as_array().map(|a| a.len()).unwrap_or(0);
        total_items += items;
        println!(
            "  board {:<10} {items} items",
            board["name"].as_str().unwrap_or("?")
        );
    }
    let requests = summary
        .pointer("/requests/requests_total")
        .and_then(|v| v.as_u64())
        .unwrap_or(0);
    println!(
        "  requests to monday: {requests} ({:.1} per item, against {} webhooks)",
        requests as f64 / total_items.max(1) as f64,
        acknowledged
    );
    println!();
    if opts.exit_when_done {
        println!("  done.");
    } else {
        println!(
            "  The board page stays up: {}  (Ctrl-C to stop)",
            sandbox.page_url()
        );
        shutdown.await;
    }
    let _ = stop_tx.send(());
    let _ = bridge.await;
    sandbox.stop().await;
    aircall.stop().await;
    anyhow::ensure!(drained, "the queue did not drain");
    Ok(())
}

/// Aircall's API stand-in, serving the AI insights of the day's calls that have AI events.
async fn aircall_stand_in(
    day: &[serde_json::Value],
) -> anyhow::Result<aircall_sandbox::AircallSandboxHandle> {
    let api = aircall_sandbox::spawn(aircall_sandbox::AircallSandboxConfig {
        listen: "127.0.0.1:0".parse()?,
        api_id: DEMO_AIRCALL_API_ID.into(),
        api_token: DEMO_AIRCALL_API_TOKEN.into(),
        per_minute: 6000,
        window_secs: 60,
        calls: Vec::new(),
        contacts: Vec::new(),
    })
    .await
    .context("starting Aircall's API stand-in")?;
    let seed: Vec<serde_json::Value> = ai_day::ai_call_ids(day)
        .into_iter()
        .flat_map(|id| {
            aircall_sandbox::sample_insights(id)
                .into_iter()
                .map(move |(resource, body)| {
                    serde_json::json!({ "call_id": id, "resource": resource, "body": body })
                })
        })
        .collect();
    reqwest::Client::new()
        .post(format!("{}_aircall/insights", api.api_url()))
        .json(&seed)
        .send()
        .await?
        .error_for_status()?;
    Ok(api)
}

async fn wait_until_drained(store: &Store, limit: Duration) -> anyhow::Result<bool> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let stats = store.stats(now_ms()).await?;
        if stats.pending_events == 0 {
            return Ok(true);
        }
        if tokio::time::Instant::now() > deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demos_item_links_go_to_the_sandboxs_board_page() {
        let addr = "127.0.0.1:8900".parse().unwrap();
        let settings = super::settings(
            addr,
            std::path::Path::new("data/demo.db"),
            "http://127.0.0.1:8901/",
        )
        .unwrap();
        assert_eq!(
            settings.server.item_link,
            "http://127.0.0.1:8900/boards/{board_id}#item-{item_id}"
        );
    }
}
