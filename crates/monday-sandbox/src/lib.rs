//! A local stand-in for monday.com's GraphQL API, faithful to `reference/monday.md`: its
//! errors, limits, headers, column formats and idempotency. Tests, the demo and benchmarks
//! run the bridge against it. See `http` for the routes. It knows nothing of the bridge: it is
//! an oracle of monday's behaviour, built from `shared/reference/monday.md`.

#![forbid(unsafe_code)]

mod api;
mod board_view;
mod control;
mod error;
mod exec;
mod faults;
mod graphql;
mod http;
mod idempotency;
mod limits;
mod multipart;
mod mutations;
mod nodes;
mod page;
mod queries;
mod references;
mod schema;
mod seed;
mod state;
mod stats;
mod subitems;
mod users;
mod validate;
mod values;

/// The boards (and users) the bridge's `config/example.toml` maps: the seed of `sandbox`
/// without `--boards`, of the demo, and of the bridge's tests.
pub const EXAMPLE_BOARDS: &str = include_str!("../boards.toml");

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard};

pub use error::SandboxError;
pub use faults::{Fault, FaultUpdate};
pub use limits::{CostModel, Limits};
pub use seed::{load_seed, parse_seed, BoardSeed, ColumnSeed, ColumnType, GroupSeed};
pub use users::{load_users, parse_users, UserSeed};

#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Port 0 picks a free port; `SandboxHandle::addr` reports it.
    pub listen: SocketAddr,
    pub boards: Vec<BoardSeed>,
    /// The account's users (none: a built-in admin and agent).
    pub users: Vec<UserSeed>,
    /// `Some`: requests must send `Authorization: <token>` (or `Bearer <token>`).
    pub api_token: Option<String>,
    pub limits: Limits,
}

/// Everything mutable, behind one lock: requests are short and never await while holding it.
pub(crate) struct Inner {
    pub state: state::State,
    pub limits: Limits,
    pub limiter: limits::Limiter,
    pub faults: faults::Faults,
    pub stats: stats::Stats,
    pub idem: idempotency::IdempotencyCache,
    pub clock: limits::Clock,
}

pub(crate) struct Shared {
    inner: Mutex<Inner>,
    seed: Vec<BoardSeed>,
    users: Vec<UserSeed>,
    initial_limits: Limits,
    token: Option<String>,
    in_flight: AtomicU64,
}

impl Shared {
    fn new(config: SandboxConfig) -> Shared {
        Shared {
            inner: Mutex::new(Inner::fresh(
                &config.boards,
                &config.users,
                config.limits.clone(),
            )),
            seed: config.boards,
            users: config.users,
            initial_limits: config.limits,
            token: config.api_token,
            in_flight: AtomicU64::new(0),
        }
    }

    /// A panic while holding the lock must not take the whole sandbox down with it.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn reset(&self) {
        *self.lock() = Inner::fresh(&self.seed, &self.users, self.initial_limits.clone());
    }
}

impl Inner {
    fn fresh(seed: &[BoardSeed], users: &[UserSeed], limits: Limits) -> Inner {
        Inner {
            state: state::State::from_seed(seed, users::account_users(users)),
            limits,
            limiter: Default::default(),
            faults: Default::default(),
            stats: Default::default(),
            idem: Default::default(),
            clock: Default::default(),
        }
    }
}

/// A running sandbox; `stop` shuts it down.
pub struct SandboxHandle {
    addr: SocketAddr,
    server: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl SandboxHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn api_url(&self) -> String {
        format!("http://{}/v2", self.addr)
    }

    pub fn page_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub async fn stop(self) {
        self.server.stop(false).await;
        // The server future ends once stopped; its result carries nothing we can act on.
        let _ = self.task.await;
    }
}

/// Binds `config.listen`, then serves in the background on the current tokio runtime.
pub async fn spawn(config: SandboxConfig) -> Result<SandboxHandle, SandboxError> {
    let listen = config.listen;
    let bind_err = |source| SandboxError::Bind {
        addr: listen,
        source,
    };
    let listener = std::net::TcpListener::bind(listen).map_err(bind_err)?;
    let addr = listener.local_addr().map_err(bind_err)?;
    let shared = actix_web::web::Data::new(Shared::new(config));
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(shared.clone())
            .configure(http::routes)
    })
    .workers(2)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)
    .map_err(bind_err)?
    .run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    tracing::info!(%addr, "monday sandbox listening");
    Ok(SandboxHandle {
        addr,
        server: handle,
        task,
    })
}
