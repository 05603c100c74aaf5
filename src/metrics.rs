//! Counters and latency histograms, rendered in Prometheus text format (0.0.4) on the admin
//! listener by `prometheus-client`. Every family is named and described once, in [`HELP`], and
//! registered at start; latencies are real histograms (`histogram_quantile` works on them).

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

type Labels = Vec<(String, String)>;
type Histograms = Family<Labels, Histogram, fn() -> Histogram>;

/// 0.5 ms to about 16 s, doubling: webhook acknowledgements sit at the low end, monday's
/// requests in the middle, its time-outs at the top.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

pub struct Metrics {
    counters: HashMap<&'static str, Family<Labels, Counter>>,
    histograms: HashMap<&'static str, Histograms>,
    /// Measured by the admin listener at each scrape; registered when first seen.
    gauges: Mutex<HashMap<String, Gauge<f64, AtomicU64>>>,
    registry: Mutex<Registry>,
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
        "Aircall AI insight fetches, by resource and outcome (found, not_generated, no_ai_assist, skipped_no_ai_assist, failed, no_credentials; resource call: found, not_found, failed)",
    ),
    (
        "bridge_insight_cards_sent_total",
        "Aircall insight cards pushed onto a ringing call",
    ),
    (
        "bridge_insight_cards_skipped_total",
        "Calls that got no insight card, by reason (outbound, anonymous, unknown_caller, \
         duplicate, late)",
    ),
    (
        "bridge_insight_cards_failed_total",
        "Insight cards Aircall did not take (never retried), by reason (rate_limited, timeout, \
         unknown_call, unauthorized, refused, server_error, transport, store)",
    ),
    (
        "bridge_insight_card_seconds",
        "Time from receiving a call's webhook to Aircall accepting its insight card",
    ),
    (
        "bridge_budget_held_total",
        "Calls held back by the daily-budget governor (their changes go out together later), by mode",
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

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::default();
        let mut counters = HashMap::new();
        let mut histograms = HashMap::new();
        for (name, help) in HELP {
            if let Some(base) = name.strip_suffix("_total") {
                let family = Family::<Labels, Counter>::default();
                // The encoder adds `_total` to a counter's name.
                registry.register(base, *help, family.clone());
                counters.insert(*name, family);
            } else {
                let family: Histograms = Family::new_with_constructor(latency_histogram);
                registry.register(*name, *help, family.clone());
                histograms.insert(*name, family);
            }
        }
        Metrics {
            counters,
            histograms,
            gauges: Mutex::new(HashMap::new()),
            registry: Mutex::new(registry),
        }
    }
}

impl Metrics {
    pub fn inc(&self, name: &'static str, pairs: &[(&str, &str)]) {
        self.add(name, pairs, 1);
    }

    pub fn add(&self, name: &'static str, pairs: &[(&str, &str)], n: u64) {
        match self.counters.get(name) {
            Some(family) => {
                family.get_or_create(&labels(pairs)).inc_by(n);
            }
            None => unknown(name),
        }
    }

    pub fn observe(&self, name: &'static str, pairs: &[(&str, &str)], took: Duration) {
        match self.histograms.get(name) {
            Some(family) => family
                .get_or_create(&labels(pairs))
                .observe(took.as_secs_f64()),
            None => unknown(name),
        }
    }

    /// The value of one counter series (0 when it never moved).
    pub fn counter(&self, name: &'static str, pairs: &[(&str, &str)]) -> u64 {
        self.counters
            .get(name)
            .and_then(|f| f.get(&labels(pairs)).map(|c| c.get()))
            .unwrap_or(0)
    }

    /// Renders everything, with the gauges the caller measured just now.
    pub fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let Ok(mut registry) = self.registry.lock() else {
            return String::new();
        };
        if let Ok(mut known) = self.gauges.lock() {
            for (name, help, value) in gauges {
                let gauge = known.entry(name.to_string()).or_insert_with(|| {
                    let gauge = Gauge::<f64, AtomicU64>::default();
                    registry.register(*name, *help, gauge.clone());
                    gauge
                });
                gauge.set(*value);
            }
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_text::encode(&mut out, &registry);
        out
    }
}

/// A series missing from [`HELP`] is a bug of ours: loud in tests, ignored in production.
fn unknown(name: &str) {
    debug_assert!(false, "metric {name} is not registered in metrics::HELP");
    tracing::warn!(metric = name, "unregistered metric");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_gauges_in_prometheus_text_format() {
        let m = Metrics::default();
        let stored = [("event", "call.created"), ("outcome", "stored")];
        m.inc("bridge_webhooks_total", &stored);
        m.inc("bridge_webhooks_total", &stored);
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
            text.contains("# TYPE bridge_monday_request_seconds histogram"),
            "{text}"
        );
        assert!(
            text.contains("bridge_monday_request_seconds_sum{op=\"create_item\"} 0.25"),
            "{text}"
        );
        // 0.25 s falls in the bucket up to 0.256 s (0.0005 * 2^9), not in the one below.
        assert!(
            text.contains(
                "bridge_monday_request_seconds_bucket{op=\"create_item\",le=\"0.256\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "bridge_monday_request_seconds_bucket{op=\"create_item\",le=\"0.128\"} 0"
            ),
            "{text}"
        );
        assert!(text.contains("# TYPE bridge_queue_depth gauge"), "{text}");
        assert!(text.contains("bridge_queue_depth 3.0"), "{text}");
        assert_eq!(m.counter("bridge_webhooks_total", &stored), 2);
        // The same gauge measured again replaces its value.
        let again = m.render(&[("bridge_queue_depth", "Pending events", 5.0)]);
        assert!(again.contains("bridge_queue_depth 5.0"), "{again}");
    }
}
