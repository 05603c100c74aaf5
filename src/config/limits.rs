//! What a client of the public listener may cost us (`[server.limits]`) and who may use the
//! admin listener (`[admin]`). The listener faces the open internet: every resource a client
//! controls (a socket, a slow body, a deep document) has a bound here, with a safe default.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    /// Connections the kernel queues before we accept them (`listen(2)` backlog).
    pub backlog: u32,
    /// Connections served at once; beyond it new ones wait in the backlog. Must fit, with a
    /// reserve, under the process's file descriptor limit (checked at start-up).
    pub max_connections: usize,
    /// Time to receive a request's headers (actix answers 408).
    #[serde(with = "humantime_serde")]
    pub header_timeout: Duration,
    /// How long an idle keep-alive connection stays open.
    #[serde(with = "humantime_serde")]
    pub keep_alive: Duration,
    /// The longest pause between two pieces of a body; also the grace before the minimum rate
    /// applies.
    #[serde(with = "humantime_serde")]
    pub body_idle_timeout: Duration,
    /// After the grace, a body slower than this on average (bytes per second) is cut with 408.
    pub body_min_rate: u64,
    /// From the headers to the answer: the whole request, body and store included.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Deepest nesting of arrays and objects accepted in a webhook body.
    pub json_max_depth: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSettings {
    /// `Host` names the admin listener answers to (any port); others get 403, which defeats
    /// DNS rebinding. Loopback names by default.
    pub hosts: Vec<String>,
    /// Bearer token required on every admin route but /healthz. Required when the admin
    /// listener is not on loopback. Prefer token_file or the systemd credential `admin_token`.
    pub token: SecretString,
    pub token_file: Option<PathBuf>,
}

/// Descriptors the process needs beside client connections: the store's files, the admin
/// listener's connections, outbound connections to monday and Aircall, epoll and event fds.
pub const DESCRIPTOR_RESERVE: u64 = 128;

/// At most this many admin connections at once (it serves people and a scraper).
pub const ADMIN_MAX_CONNECTIONS: usize = 32;

impl LimitSettings {
    /// File descriptors the process needs with every connection slot in use.
    pub fn descriptors_needed(&self) -> u64 {
        self.max_connections as u64 + ADMIN_MAX_CONNECTIONS as u64 + DESCRIPTOR_RESERVE
    }

    /// (key, message) of the first setting out of range.
    pub(super) fn check(&self) -> Result<(), (&'static str, String)> {
        let positive = [
            ("server.limits.header_timeout", self.header_timeout),
            ("server.limits.body_idle_timeout", self.body_idle_timeout),
            ("server.limits.request_timeout", self.request_timeout),
        ];
        for (key, value) in positive {
            if value.is_zero() {
                return Err((key, "expected a duration above zero, e.g. \"5s\"".into()));
            }
        }
        if self.max_connections == 0 {
            return Err((
                "server.limits.max_connections",
                "expected at least 1".into(),
            ));
        }
        if self.backlog == 0 {
            return Err(("server.limits.backlog", "expected at least 1".into()));
        }
        if self.json_max_depth < 4 {
            return Err((
                "server.limits.json_max_depth",
                "expected at least 4 (an Aircall envelope nests 3 to 4 deep)".into(),
            ));
        }
        Ok(())
    }
}

/// True when only this machine can reach `addr`.
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

#[cfg(test)]
mod tests {
    use super::super::Settings;

    fn load(pairs: &[(&str, &str)]) -> Result<Settings, String> {
        let env = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        Settings::load_with_env(None, env).map_err(|e| e.to_string())
    }

    #[test]
    fn the_defaults_are_safe_and_fit_the_shipped_unit() {
        let s = load(&[]).unwrap();
        let l = &s.server.limits;
        assert_eq!(
            (l.backlog, l.max_connections, l.json_max_depth),
            (1024, 512, 32)
        );
        assert!(
            l.descriptors_needed() <= 1024,
            "fits even a default ulimit -n"
        );
        assert!(
            s.store.reserve_bytes > 4 << 20,
            "above what the WAL grows to"
        );
        assert_eq!(s.admin.hosts, ["localhost", "127.0.0.1", "[::1]"]);
        let unit = include_str!("../../systemd/aircall-monday-bridge.service");
        assert!(
            unit.contains("LimitNOFILE=4096"),
            "the unit sets the descriptor limit"
        );
    }

    #[test]
    fn limits_and_hosts_come_from_the_environment_and_are_checked() {
        let s = load(&[
            ("BRIDGE__SERVER__LIMITS__BODY_IDLE_TIMEOUT", "2s"),
            ("BRIDGE__ADMIN__HOSTS", "bridge.internal,localhost"),
        ])
        .unwrap();
        assert_eq!(s.server.limits.body_idle_timeout.as_secs(), 2);
        assert_eq!(s.admin.hosts, ["bridge.internal", "localhost"]);
        for (key, value, named) in [
            (
                "BRIDGE__SERVER__LIMITS__REQUEST_TIMEOUT",
                "0s",
                "server.limits.request_timeout",
            ),
            (
                "BRIDGE__SERVER__LIMITS__MAX_CONNECTIONS",
                "0",
                "server.limits.max_connections",
            ),
            (
                "BRIDGE__SERVER__LIMITS__JSON_MAX_DEPTH",
                "2",
                "server.limits.json_max_depth",
            ),
        ] {
            let e = load(&[(key, value)]).unwrap_err();
            assert!(e.contains(named), "{key}={value}: {e}");
        }
    }

    #[test]
    fn an_admin_listener_off_loopback_needs_a_token() {
        let off = [
            ("BRIDGE__AIRCALL__WEBHOOK_TOKENS", "tok"),
            ("BRIDGE__SERVER__ADMIN_LISTEN", "0.0.0.0:9090"),
        ];
        let s = load(&off).unwrap();
        let e = s.require_secrets().unwrap_err().to_string();
        assert!(
            e.contains("admin.token") && e.contains("0.0.0.0:9090"),
            "{e}"
        );
        let mut with_token = off.to_vec();
        with_token.push(("BRIDGE__ADMIN__TOKEN", "t0ken"));
        let s = load(&with_token).unwrap();
        s.require_secrets().unwrap();
        assert!(
            !format!("{s:?}").contains("t0ken"),
            "the token shows in Debug"
        );
    }
}
