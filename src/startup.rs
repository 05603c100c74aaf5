//! Building and running the bridge: open the store (migrations), compile the rules, bind both
//! listeners, start the worker, tell systemd we are ready; on shutdown, drain in order.
//!
//! (Over 300 lines on purpose: start-up is one ordered sequence and shutdown the same in
//! reverse; split over files, the order would be harder to see.)

use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::admin::{self, AdminState};
use crate::clock::{now_ms, SharedClock};
use crate::config::Settings;
use crate::ingest::{self, body::BodyLimits, IngestState};
use crate::listener::{self, ConnectionCount, ListenError};
use crate::metrics::Metrics;
use crate::monday::{MondayClient, MondayError};
use crate::reload::{self, SharedRules};
use crate::store::{Role, Store, StoreError};
use crate::tls::CertificateSlot;
use crate::worker::{Worker, WorkerHealth, WorkerParts};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The board mappings do not compile.
    #[error(transparent)]
    Config(crate::config::ConfigError),
    #[error(transparent)]
    Listen(#[from] ListenError),
    #[error("cannot build the monday client: {0}")]
    Monday(#[from] MondayError),
    /// The certificate or key does not load: a configuration error, like the rules.
    #[error(transparent)]
    Tls(crate::config::ConfigError),
}

pub struct Application {
    public_addr: SocketAddr,
    admin_addr: SocketAddr,
    public: Server,
    admin: Server,
    worker: Worker,
    health: Arc<WorkerHealth>,
    watchdog_limit: Duration,
    /// For housekeeping beside the worker.
    store: Store,
    keep_done: Duration,
    rules: SharedRules,
    /// The public listener's certificate when it serves HTTPS; SIGHUP reloads it too.
    tls: Option<Arc<CertificateSlot>>,
    /// Where SIGHUP re-reads the board mappings from; no reload when unset.
    reload_from: Option<(Option<PathBuf>, reload::Hangup)>,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Application, StartupError> {
        Self::build_with_clock(settings, crate::clock::system()).await
    }

    /// As [`Application::build`], on the given clock (a test's, which it moves itself).
    pub async fn build_with_clock(
        settings: Settings,
        clock: SharedClock,
    ) -> Result<Application, StartupError> {
        let rules = SharedRules::new(settings.compile_rules().map_err(StartupError::Config)?);
        let limits = settings.server.limits.clone();
        let tls = crate::tls::load(&settings)
            .map_err(StartupError::Tls)?
            .map(CertificateSlot::new);
        // Before anything opens a file: a cap the descriptors cannot cover is refused now, not
        // discovered under a flood.
        listener::ensure_descriptors(limits.descriptors_needed(), limits.max_connections)?;
        for warning in crate::config::recovery_warnings(&settings.boards) {
            tracing::warn!("{warning}");
        }
        let store = Store::connect(&settings.store, Role::Worker).await?;
        tracing::info!(store = %store.describe(), "store open");
        let maintenance_store = store.clone();
        let keep_done = settings.store.keep_done;
        let metrics = Arc::new(Metrics::default());
        let wake = Arc::new(Notify::new());
        // One clock for the worker, the receiver and the admin pages.
        let health = Arc::new(WorkerHealth::default());
        health.heartbeat_ms.store(clock.now_ms(), Ordering::Relaxed);
        let monday =
            MondayClient::new(&settings.monday, metrics.clone())?.with_clock(clock.clone());
        if store.is_shared() {
            // Replicas: the account's minute quota is counted in the database they share.
            monday.share_budget(Arc::new(store.clone()));
        }
        // One client for the worker and the cards: one pace keeps Aircall's rate limit.
        let aircall = crate::aircall::api::AircallApi::new(&settings.aircall)
            .ok()
            .map(Arc::new);
        let cards = crate::cards::Cards::new(
            &settings,
            store.clone(),
            aircall.clone(),
            metrics.clone(),
            clock.clone(),
        );
        let worker_settings = Arc::new(settings.worker);
        let worker = Worker::new(WorkerParts {
            store: store.clone(),
            rules: rules.clone(),
            monday: monday.clone(),
            settings: worker_settings.clone(),
            max_batch: settings.monday.max_batch,
            wake: wake.clone(),
            metrics: metrics.clone(),
            health: health.clone(),
            // Fresh links for expired recordings need Aircall's API; without credentials an
            // upload whose link expired is retried, then dead-lettered with that reason.
            aircall,
            clock: clock.clone(),
        });
        // A reconcile may wait for a whole monday request, so the heartbeat can be that old.
        let watchdog_limit = Duration::from_secs(settings.monday.timeout_secs * 2 + 10)
            + Duration::from_millis(worker_settings.poll_interval_ms);

        let url_secret = {
            use secrecy::ExposeSecret;
            let s = settings.aircall.url_secret.expose_secret();
            (!s.is_empty()).then(|| settings.aircall.url_secret.clone())
        };
        let ingest_state = web::Data::new(IngestState {
            store: store.clone(),
            tokens: settings.aircall.webhook_tokens,
            url_secret,
            rules: rules.clone(),
            wake: wake.clone(),
            metrics: metrics.clone(),
            body: BodyLimits {
                max_bytes: settings.server.body_limit_bytes,
                idle: limits.body_idle_timeout,
                min_rate: limits.body_min_rate,
            },
            request_timeout: limits.request_timeout,
            json_max_depth: limits.json_max_depth,
            reserve_bytes: settings.store.reserve_bytes,
            clock: clock.clone(),
            cards,
        });
        let workers = settings.server.workers;
        let per_worker = limits.max_connections.div_ceil(workers).max(1);
        let connections = Arc::new(ConnectionCount::new(
            (per_worker * workers) as u64,
            limits.header_timeout,
            metrics.clone(),
        ));
        let public_listener = listener::bind(settings.server.listen, limits.backlog)?;
        let public_addr = local_addr(&public_listener, settings.server.listen)?;
        let public = HttpServer::new(move || {
            App::new()
                .app_data(ingest_state.clone())
                .wrap_fn(|req, srv| {
                    listener::count_request(req.request());
                    actix_web::dev::Service::call(srv, req)
                })
                .configure(ingest::routes)
        })
        .workers(workers)
        // actix counts per worker; the setting is for the listener.
        .max_connections(per_worker)
        .client_request_timeout(limits.header_timeout)
        .keep_alive(limits.keep_alive)
        .client_disconnect_timeout(Duration::from_secs(1))
        .tls_handshake_timeout(settings.server.tls.handshake_timeout)
        .on_connect(connections.on_connect())
        .disable_signals()
        .shutdown_timeout(30);
        let public = match &tls {
            Some(slot) => {
                public.listen_rustls_0_23(public_listener, crate::tls::server_config(slot.clone()))
            }
            None => public.listen(public_listener),
        }
        .map_err(|e| bind_error(public_addr, e))?
        .run();

        let admin_state = web::Data::new(AdminState {
            store,
            metrics,
            health: health.clone(),
            heartbeat_limit_ms: watchdog_limit.as_millis() as i64,
            started_ms: clock.now_ms(),
            wake,
            monday,
            rules: rules.clone(),
            item_link: settings.server.item_link.clone(),
            form_token: format!("{:032x}", rand::random::<u128>()),
            connections,
            connection_limit: limits.max_connections,
            readiness: admin::Readiness::new(settings.store.reserve_bytes),
            clock: clock.clone(),
        });
        let guard = web::Data::new(admin::Guard::new(&settings.admin));
        let admin_listener = listener::bind(settings.server.admin_listen, 128)?;
        let admin_addr = local_addr(&admin_listener, settings.server.admin_listen)?;
        let admin = HttpServer::new(move || {
            App::new()
                .app_data(admin_state.clone())
                .app_data(guard.clone())
                .wrap(actix_web::middleware::from_fn(admin::guard))
                .configure(admin::routes)
        })
        .workers(1)
        .max_connections(crate::config::ADMIN_MAX_CONNECTIONS)
        .client_request_timeout(limits.header_timeout)
        .keep_alive(limits.keep_alive)
        .disable_signals()
        .shutdown_timeout(5)
        .listen(admin_listener)
        .map_err(|e| bind_error(admin_addr, e))?
        .run();

        Ok(Application {
            public_addr,
            admin_addr,
            public,
            admin,
            worker,
            health,
            watchdog_limit,
            store: maintenance_store,
            keep_done,
            rules,
            tls,
            reload_from: None,
        })
    }

    /// Reload the board mappings from this configuration file on SIGHUP (`systemctl reload`).
    pub fn reload_on_sighup(mut self, config: Option<PathBuf>) -> Application {
        self.reload_from = Some((config, reload::Hangup::listen()));
        self
    }

    /// The board mappings in force (tests and the reload use it).
    pub fn rules(&self) -> SharedRules {
        self.rules.clone()
    }

    pub fn public_addr(&self) -> SocketAddr {
        self.public_addr
    }

    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    /// Serves until `shutdown` resolves, then stops taking webhooks, lets requests in flight
    /// finish, lets the worker finish its reconcile, and returns.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        let public_handle = self.public.handle();
        let admin_handle = self.admin.handle();
        let public = tokio::spawn(self.public);
        let admin = tokio::spawn(self.admin);
        let cancel = CancellationToken::new();
        let worker = tokio::spawn(Arc::new(self.worker).run(cancel.clone()));
        // Once per store: the phone numbers of what was reconciled before the index existed.
        tokio::spawn(crate::cards::index_existing(self.store.clone()));
        let housekeeping = tokio::spawn(crate::maintenance::run(
            self.store,
            self.keep_done,
            cancel.clone(),
        ));
        let watchdog = tokio::spawn(watchdog(
            self.health.clone(),
            self.watchdog_limit,
            cancel.clone(),
        ));
        let reloader = self.reload_from.map(|(config, hup)| {
            tokio::spawn(hup.reload_each_time(config, self.rules.clone(), self.tls.clone()))
        });
        notify(&[sd_notify::NotifyState::Ready]);
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        tracing::info!(public = %self.public_addr, admin = %self.admin_addr, scheme, "bridge ready");

        shutdown.await;
        tracing::info!("shutting down: no new webhooks, finishing the work in flight");
        notify(&[sd_notify::NotifyState::Stopping]);
        public_handle.stop(true).await;
        cancel.cancel();
        let _ = worker.await;
        let _ = housekeeping.await;
        let _ = watchdog.await;
        if let Some(reloader) = reloader {
            reloader.abort();
        }
        admin_handle.stop(true).await;
        let _ = public.await;
        let _ = admin.await;
        tracing::info!("stopped");
        Ok(())
    }
}

fn bind_error(addr: SocketAddr, e: std::io::Error) -> StartupError {
    StartupError::Listen(ListenError::Bind {
        addr,
        message: e.to_string(),
    })
}

fn local_addr(listener: &TcpListener, addr: SocketAddr) -> Result<SocketAddr, StartupError> {
    listener.local_addr().map_err(|e| bind_error(addr, e))
}

fn notify(states: &[sd_notify::NotifyState<'_>]) {
    // Outside systemd there is no socket and nothing to tell; that is not an error.
    let _ = sd_notify::notify(false, states);
}

/// The watchdog interval systemd asks for, as sd_watchdog_enabled(3) reads it: WATCHDOG_USEC,
/// for this process unless WATCHDOG_PID names another one.
fn watchdog_usec() -> Option<u64> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.trim().parse().ok()?;
    let for_us = match std::env::var("WATCHDOG_PID") {
        Ok(pid) => pid.trim().parse::<u32>().ok() == Some(std::process::id()),
        Err(_) => true,
    };
    (usec > 0 && for_us).then_some(usec)
}

/// Pings systemd's watchdog at half its interval, but only while the worker's heartbeat is
/// fresh: a wedged worker stops the pings and systemd restarts the service.
async fn watchdog(health: Arc<WorkerHealth>, limit: Duration, cancel: CancellationToken) {
    let Some(usec) = watchdog_usec() else {
        return;
    };
    let every = Duration::from_micros(usec / 2);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        let age = now_ms() - health.heartbeat_ms.load(Ordering::Relaxed);
        if worker_alive(age, limit) {
            notify(&[sd_notify::NotifyState::Watchdog]);
        } else {
            tracing::error!(
                heartbeat_age_ms = age,
                "worker heartbeat is stale: not pinging the watchdog"
            );
        }
    }
}

/// A heartbeat this old still means a working worker: a reconcile may legitimately wait that
/// long for monday. Older, the worker is wedged and systemd should restart the service.
fn worker_alive(heartbeat_age_ms: i64, limit: Duration) -> bool {
    heartbeat_age_ms <= limit.as_millis() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_heartbeat_stops_the_watchdog_pings() {
        let limit = Duration::from_secs(70);
        assert!(worker_alive(0, limit));
        assert!(worker_alive(70_000, limit));
        assert!(
            !worker_alive(70_001, limit),
            "a wedged worker must let systemd restart us"
        );
    }

    #[test]
    fn the_watchdog_is_ours_unless_another_pid_is_named() {
        // One test owns these variables: tests in this binary run in parallel threads.
        std::env::set_var("WATCHDOG_USEC", "30000000");
        std::env::remove_var("WATCHDOG_PID");
        assert_eq!(watchdog_usec(), Some(30_000_000));
        std::env::set_var("WATCHDOG_PID", std::process::id().to_string());
        assert_eq!(watchdog_usec(), Some(30_000_000));
        std::env::set_var("WATCHDOG_PID", "1");
        assert_eq!(watchdog_usec(), None, "another process's watchdog");
        std::env::set_var("WATCHDOG_USEC", "0");
        std::env::remove_var("WATCHDOG_PID");
        assert_eq!(watchdog_usec(), None);
        std::env::remove_var("WATCHDOG_USEC");
        assert_eq!(watchdog_usec(), None);
    }
}
