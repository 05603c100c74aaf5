//! What the bridge really spends against what the governor's modes explain.
//!
//! A mode's cost model counts the writes of calls: about 4 requests a call live, 1.6
//! coalescing, two a flush in the final-state mode. Requests that do not shrink with the mode
//! are outside it: the hourly `platform_api` read, look-ups of monday users (an agent with no
//! monday user is asked about again every few minutes), a flush whose calls need more than
//! one batch a kind. On a half-size day those were a third of the bridge's requests, and the
//! projection that ignored them spent the reserve by midday. So the governor compares the
//! bridge's own count with what its chosen modes predicted over a recent window, and the
//! excess (never less than zero) is projected over the rest of the day on top of every mode.

/// Samples of (time, own requests, predicted requests), a bucket of the day apart.
#[derive(Debug, Clone, Default)]
pub(super) struct Spend {
    samples: Vec<(i64, u64, f64)>,
    /// What the chosen modes predicted since the day began.
    predicted: f64,
    /// When the last decision was taken, and the pace (requests per ms) its mode predicted.
    last: Option<(i64, f64)>,
}

impl Spend {
    /// Takes the bridge's own count at `now_ms` and answers the pace (requests per ms) beyond
    /// what the modes explained over the last `window_ms`; 0 until the window is half full,
    /// since a few requests are no trend.
    pub fn observe(&mut self, now_ms: i64, own_used: u64, bucket_ms: i64, window_ms: i64) -> f64 {
        if let Some((at, pace)) = self.last {
            self.predicted += pace * (now_ms - at).max(0) as f64;
        }
        self.last = Some((now_ms, self.last.map_or(0.0, |(_, p)| p)));
        match self.samples.last() {
            Some((at, _, _)) if now_ms - at < bucket_ms => {}
            _ => self.samples.push((now_ms, own_used, self.predicted)),
        }
        // Keep one sample at or before the window's start, so the window stays full.
        let start = now_ms - window_ms;
        let keep_from = self
            .samples
            .iter()
            .rposition(|(at, _, _)| *at <= start)
            .unwrap_or(0);
        self.samples.drain(..keep_from);
        let Some(&(at, own0, predicted0)) = self.samples.first() else {
            return 0.0;
        };
        let span = now_ms - at;
        if span < window_ms / 2 {
            return 0.0;
        }
        let spent = own_used.saturating_sub(own0) as f64;
        let excess = spent - (self.predicted - predicted0);
        (excess / span as f64).max(0.0)
    }

    /// The pace the mode chosen now predicts, until the next decision.
    pub fn predict(&mut self, now_ms: i64, pace: f64) {
        self.last = Some((now_ms, pace.max(0.0)));
    }
}
