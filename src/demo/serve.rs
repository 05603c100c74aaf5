//! `aircall-monday-bridge sandbox`: the monday stand-in on its own, for trying the bridge
//! against a board page by hand.

use std::net::SocketAddr;
use std::path::PathBuf;

use monday_sandbox::{self as sandbox, Limits, SandboxConfig};

pub struct SandboxOptions {
    pub listen: SocketAddr,
    /// Boards to start with; the example boards when `None`.
    pub boards: Option<PathBuf>,
    pub token: Option<String>,
    /// Limits and cost model as TOML.
    pub limits: Option<PathBuf>,
    /// Where to write the bound address as JSON once listening.
    pub ready_file: Option<PathBuf>,
}

/// Serves the sandbox until `shutdown` completes.
pub async fn serve_sandbox(
    opts: SandboxOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let (boards, users) = match &opts.boards {
        Some(path) => (sandbox::load_seed(path)?, sandbox::load_users(path)?),
        None => (
            sandbox::parse_seed(sandbox::EXAMPLE_BOARDS)?,
            sandbox::parse_users(sandbox::EXAMPLE_BOARDS)?,
        ),
    };
    let limits = match &opts.limits {
        Some(path) => {
            let text = std::fs::read_to_string(path)?;
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => Limits::default(),
    };
    let handle = sandbox::spawn(SandboxConfig {
        listen: opts.listen,
        boards,
        users,
        api_token: opts.token,
        limits,
    })
    .await?;
    println!(
        "monday sandbox: API {}  board page {}",
        handle.api_url(),
        handle.page_url()
    );
    if let Some(path) = &opts.ready_file {
        std::fs::write(
            path,
            serde_json::json!({ "addr": handle.addr() }).to_string(),
        )?;
    }
    shutdown.await;
    handle.stop().await;
    Ok(())
}
