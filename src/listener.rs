//! The sockets the bridge listens on and what they may cost: bound through socket2 so the
//! configured backlog reaches `listen(2)` (the standard library always asks for 128), a
//! connection cap that fits under the file descriptor limit, and a count of open connections.
//!
//! Two limits are enforced by actix itself, out of sight of the handlers: the header timeout
//! (actix answers 408 and closes the connection before any handler runs) and the connection cap
//! (actix stops accepting). They are counted here from the connections' lives: a connection
//! that closes with no request served after the header timeout was cut by it, and a connection
//! accepted with every slot then taken made the next ones wait in the backlog.

use std::any::Any;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::Extensions;
use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
use socket2::{Domain, Protocol, Socket, Type};

use crate::metrics::Metrics;

/// Limits hit on the public listener, by limit (`header_timeout`, `max_connections`).
pub const LIMIT_HITS: &str = "bridge_public_limit_hits_total";
/// Connections that closed before a whole request and before the header timeout.
pub const WITHOUT_REQUEST: &str = "bridge_public_connections_without_request_total";

#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("cannot listen on {addr}: {message}")]
    Bind { addr: SocketAddr, message: String },
    #[error(
        "server.limits.max_connections = {max_connections} needs {needed} file descriptors, but \
         this process may open only {limit}: raise LimitNOFILE= in the unit (or `ulimit -n`), or \
         lower server.limits.max_connections"
    )]
    Descriptors {
        max_connections: usize,
        needed: u64,
        limit: u64,
    },
}

/// Binds `addr` with `backlog` queued connections.
pub fn bind(addr: SocketAddr, backlog: u32) -> Result<TcpListener, ListenError> {
    let err = |e: std::io::Error| ListenError::Bind {
        addr,
        message: e.to_string(),
    };
    let socket =
        Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)).map_err(err)?;
    // A restarted bridge must not wait for the old sockets' TIME_WAIT to end.
    socket.set_reuse_address(true).map_err(err)?;
    socket.bind(&addr.into()).map_err(err)?;
    socket
        .listen(backlog.min(i32::MAX as u32) as i32)
        .map_err(err)?;
    let listener = TcpListener::from(socket);
    listener.set_nonblocking(true).map_err(err)?;
    Ok(listener)
}

/// Makes sure `needed` descriptors can be opened: raises the soft limit towards the hard one if
/// it must, and refuses when even the hard limit is too low. Running out of descriptors would
/// stop the listener accepting anyone, valid webhooks included, and could stop SQLite opening
/// its files; a connection cap below the limit makes the excess wait in the backlog instead.
/// Returns the soft limit now in force.
pub fn ensure_descriptors(needed: u64, max_connections: usize) -> Result<u64, ListenError> {
    let limits = getrlimit(Resource::Nofile);
    // `None` means unlimited.
    let current = limits.current.unwrap_or(u64::MAX);
    if current >= needed {
        return Ok(current);
    }
    let hard = limits.maximum.unwrap_or(u64::MAX);
    if hard >= needed {
        let raised = Rlimit {
            current: Some(needed),
            maximum: limits.maximum,
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            tracing::info!(
                from = current,
                to = needed,
                "raised the file descriptor limit"
            );
            return Ok(needed);
        }
    }
    Err(ListenError::Descriptors {
        max_connections,
        needed,
        // The most we could have had: the hard limit, or the soft one if raising it failed.
        limit: if hard >= needed { current } else { hard },
    })
}

/// Connections of one listener: open now, the most open at once, accepted in all; and the
/// limits actix enforces on them, counted into `metrics`.
pub struct ConnectionCount {
    open: AtomicU64,
    peak: AtomicU64,
    total: AtomicU64,
    /// Connections open at once when every worker is at its cap.
    cap: u64,
    header_timeout: Duration,
    metrics: Arc<Metrics>,
}

impl ConnectionCount {
    /// `cap` is the connections actix serves at once over all workers; `header_timeout` the
    /// time a first request has to arrive.
    pub fn new(cap: u64, header_timeout: Duration, metrics: Arc<Metrics>) -> ConnectionCount {
        // Present at 0 from the start, so a rate over them is defined before the first hit.
        for limit in ["header_timeout", "max_connections"] {
            metrics.add(LIMIT_HITS, &[("limit", limit)], 0);
        }
        metrics.add(WITHOUT_REQUEST, &[], 0);
        ConnectionCount {
            open: AtomicU64::new(0),
            peak: AtomicU64::new(0),
            total: AtomicU64::new(0),
            cap,
            header_timeout,
            metrics,
        }
    }

    pub fn open(&self) -> u64 {
        self.open.load(Ordering::Relaxed)
    }

    pub fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }

    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// For `HttpServer::on_connect`: counts the connection and leaves a guard in its
    /// extensions, which actix drops with the connection.
    pub fn on_connect(self: &Arc<Self>) -> impl Fn(&dyn Any, &mut Extensions) + Send + Sync {
        let count = self.clone();
        move |_, extensions| {
            let now = count.open.fetch_add(1, Ordering::Relaxed) + 1;
            count.peak.fetch_max(now, Ordering::Relaxed);
            count.total.fetch_add(1, Ordering::Relaxed);
            if now >= count.cap {
                count
                    .metrics
                    .inc(LIMIT_HITS, &[("limit", "max_connections")]);
            }
            extensions.insert(Open {
                count: count.clone(),
                since: Instant::now(),
                requests: AtomicU64::new(0),
            });
        }
    }
}

/// Counts a request on its connection; for a middleware of the listener's app, so a
/// connection that closes with none is told apart.
pub fn count_request(req: &actix_web::HttpRequest) {
    if let Some(open) = req.conn_data::<Open>() {
        open.requests.fetch_add(1, Ordering::Relaxed);
    }
}

/// A connection's stay in the count; actix drops it with the connection.
pub struct Open {
    count: Arc<ConnectionCount>,
    since: Instant,
    requests: AtomicU64,
}

impl Drop for Open {
    fn drop(&mut self) {
        let count = &self.count;
        count.open.fetch_sub(1, Ordering::Relaxed);
        if self.requests.load(Ordering::Relaxed) > 0 {
            return;
        }
        if timed_out(self.since.elapsed(), count.header_timeout) {
            count
                .metrics
                .inc(LIMIT_HITS, &[("limit", "header_timeout")]);
        } else {
            count.metrics.inc(WITHOUT_REQUEST, &[]);
        }
    }
}

/// Whether a connection that closed without a request after `lived` was actix's 408. actix
/// sets its head timer from a clock it refreshes every 500 ms (actix-http's `DateService`), so
/// the 408 can come up to half a second before `timeout` has passed (seen: a 1 s timeout
/// counted as a client that left); a tenth more covers scheduling. A client that leaves
/// within that last stretch of the timeout is counted as a timeout: near enough.
fn timed_out(lived: Duration, timeout: Duration) -> bool {
    const ACTIX_CLOCK_STEP: Duration = Duration::from_millis(500);
    lived + ACTIX_CLOCK_STEP + timeout / 10 >= timeout
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_408_up_to_half_a_second_early_is_a_header_timeout_and_a_quick_exit_is_not() {
        let timeout = Duration::from_secs(1);
        assert!(timed_out(Duration::from_millis(520), timeout));
        assert!(timed_out(Duration::from_millis(1_000), timeout));
        assert!(!timed_out(Duration::from_millis(5), timeout));
        let default = Duration::from_secs(5);
        assert!(timed_out(Duration::from_millis(4_500), default));
        assert!(!timed_out(Duration::from_millis(3_000), default));
    }

    #[test]
    fn a_need_under_the_current_limit_changes_nothing() {
        let before = getrlimit(Resource::Nofile);
        assert!(ensure_descriptors(16, 1).is_ok());
        assert_eq!(getrlimit(Resource::Nofile).current, before.current);
    }

    #[test]
    fn a_need_over_the_hard_limit_is_refused_naming_the_setting() {
        let hard = getrlimit(Resource::Nofile).maximum;
        let Some(hard) = hard else {
            return; // unlimited: nothing can be over it
        };
        let e = ensure_descriptors(hard + 1, 99).unwrap_err().to_string();
        assert!(e.contains("max_connections = 99"), "{e}");
        assert!(e.contains("LimitNOFILE="), "{e}");
    }
}
