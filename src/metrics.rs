//! Counters and latency summaries, rendered in Prometheus text format on the admin listener.
//! A handful of series at webhook rates: a mutex around a sorted map is plenty.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

type Key = (&'static str, String);

#[derive(Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<Key, u64>>,
    /// Count and sum of seconds per series; rendered as a Prometheus summary without quantiles.
    timings: Mutex<BTreeMap<Key, (u64, f64)>>,
}

/// What each series means, for the `# HELP` lines.
pub const HELP: &[(&str, &str)] = &[
    (
        "bridge_webhooks_total",
        "Aircall webhooks received, by event and outcome",
    ),
    (
        "bridge_webhook_rejections_total",
        "Webhooks refused, by reason (unauthorized, malformed, too_large, store_unavailable)",
    ),
    (
        "bridge_public_limit_hits_total",
        "Limits actix enforces on the public listener, hit: header_timeout (no whole request in \
         time: 408, connection closed), max_connections (every slot taken: the next connections \
         wait in the backlog)",
    ),
    (
        "bridge_public_connections_without_request_total",
        "Public connections closed before a whole request and before the header timeout (the \
         client left, a failed TLS handshake's socket, or headers actix refused with 400 or 431)",
    ),
    (
        "bridge_monday_errors_total",
        "Failed requests to monday, by monday's error code (or timeout, transport, http_NNN)",
    ),
    (
        "bridge_webhook_ack_seconds",
        "Time from receiving a webhook to answering it",
    ),
    (
        "bridge_monday_requests_total",
        "Requests sent to monday, by operation and outcome",
    ),
    (
        "bridge_monday_request_seconds",
        "Latency of requests to monday, by operation",
    ),
    (
        "bridge_reconciles_total",
        "Reconcile attempts of one call or contact, by outcome",
    ),
    ("bridge_dead_letters_total", "Work moved to the dead letter"),
    (
        "bridge_ai_fetches_total",
        "Aircall AI insight fetches, by resource and outcome (found, not_generated, no_ai_assist, skipped_no_ai_assist, failed, no_credentials)",
    ),
    (
        "bridge_retries_total",
        "Reconciles scheduled for a retry, by reason",
    ),
    (
        "bridge_replayed_events_total",
        "Dead events sent again from the status page",
    ),
];

fn labels(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let v = v
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n");
        let _ = write!(out, "{k}=\"{v}\"");
    }
    out
}

impl Metrics {
    pub fn inc(&self, name: &'static str, pairs: &[(&str, &str)]) {
        self.add(name, pairs, 1);
    }

    pub fn add(&self, name: &'static str, pairs: &[(&str, &str)], n: u64) {
        if let Ok(mut map) = self.counters.lock() {
            *map.entry((name, labels(pairs))).or_default() += n;
        }
    }

    pub fn observe(&self, name: &'static str, pairs: &[(&str, &str)], took: Duration) {
        if let Ok(mut map) = self.timings.lock() {
            let entry = map.entry((name, labels(pairs))).or_default();
            entry.0 += 1;
            entry.1 += took.as_secs_f64();
        }
    }

    /// The value of one counter series (for tests and the status page).
    pub fn counter(&self, name: &'static str, pairs: &[(&str, &str)]) -> u64 {
        let key = (name, labels(pairs));
        self.counters
            .lock()
            .map(|m| m.get(&key).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// Sum of a counter over all its label sets.
    pub fn total(&self, name: &'static str) -> u64 {
        self.counters
            .lock()
            .map(|m| {
                m.iter()
                    .filter(|((n, _), _)| *n == name)
                    .map(|(_, v)| v)
                    .sum()
            })
            .unwrap_or(0)
    }

    /// Renders everything, plus the gauges the caller measured just now.
    pub fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let mut out = String::new();
        let help = |out: &mut String, name: &str, kind: &str| {
            if let Some((_, text)) = HELP.iter().find(|(n, _)| *n == name) {
                let _ = writeln!(out, "# HELP {name} {text}");
            }
            let _ = writeln!(out, "# TYPE {name} {kind}");
        };
        if let Ok(map) = self.counters.lock() {
            let mut last = "";
            for ((name, labels), v) in map.iter() {
                if *name != last {
                    help(&mut out, name, "counter");
                    last = name;
                }
                let _ = writeln!(out, "{name}{{{labels}}} {v}");
            }
        }
        if let Ok(map) = self.timings.lock() {
            let mut last = "";
            for ((name, labels), (count, sum)) in map.iter() {
                if *name != last {
                    help(&mut out, name, "summary");
                    last = name;
                }
                let _ = writeln!(out, "{name}_count{{{labels}}} {count}");
                let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
            }
        }
        for (name, text, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {text}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_summaries_and_gauges_in_text_format() {
        let m = Metrics::default();
        m.inc(
            "bridge_webhooks_total",
            &[("event", "call.created"), ("outcome", "stored")],
        );
        m.inc(
            "bridge_webhooks_total",
            &[("event", "call.created"), ("outcome", "stored")],
        );
        m.observe(
            "bridge_monday_request_seconds",
            &[("op", "create_item")],
            Duration::from_millis(250),
        );
        let text = m.render(&[("bridge_queue_depth", "Pending events", 3.0)]);
        assert!(
            text.contains("# TYPE bridge_webhooks_total counter"),
            "{text}"
        );
        assert!(
            text.contains("bridge_webhooks_total{event=\"call.created\",outcome=\"stored\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("bridge_monday_request_seconds_sum{op=\"create_item\"} 0.25"),
            "{text}"
        );
        assert!(text.contains("bridge_queue_depth 3"), "{text}");
        assert_eq!(m.total("bridge_webhooks_total"), 2);
    }
}
