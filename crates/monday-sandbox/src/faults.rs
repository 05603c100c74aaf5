//! Fault injection: a queue of scripted faults for the next API requests, a steady fault for
//! every request, a random 500 rate, and an outage switch. Every fault served is counted.

use std::collections::{BTreeMap, VecDeque};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    #[serde(rename = "http_500")]
    Http500,
    #[serde(rename = "http_503")]
    Http503,
    /// Sleep before answering (the request still runs afterwards, unless the client left).
    Timeout { ms: u64 },
    RateLimited {
        #[serde(default = "default_retry")]
        retry_in_seconds: u64,
    },
    /// 423 "Resource is currently locked, please try again later".
    Locked,
    /// No HTTP answer: nothing is applied and the connection is cut.
    DropConnection,
    /// The request is applied, then the connection is cut so the answer is lost.
    ApplyThenDrop,
    /// The request is applied, then the answer is held back for `ms` (a window in which a
    /// test can kill the client between monday's effect and the client learning of it).
    ApplyThenHold { ms: u64 },
    /// In the queue: `fault`, for the first request with a root field named `field`; requests
    /// without it pass it by.
    Only { field: String, fault: Box<Fault> },
}

impl Fault {
    /// Whether a request with these root fields takes this queued fault.
    fn for_request(&self, fields: &[&str]) -> bool {
        match self {
            Fault::Only { field, .. } => fields.contains(&field.as_str()),
            _ => true,
        }
    }

    fn unwrapped(self) -> Fault {
        match self {
            Fault::Only { fault, .. } => fault.unwrapped(),
            f => f,
        }
    }
}

fn default_retry() -> u64 {
    2
}

impl Fault {
    pub fn name(&self) -> &'static str {
        match self {
            Fault::Http500 => "http_500",
            Fault::Http503 => "http_503",
            Fault::Timeout { .. } => "timeout",
            Fault::RateLimited { .. } => "rate_limited",
            Fault::Locked => "locked",
            Fault::DropConnection => "drop_connection",
            Fault::ApplyThenDrop => "apply_then_drop",
            Fault::ApplyThenHold { .. } => "apply_then_hold",
            Fault::Only { fault, .. } => fault.name(),
        }
    }
}

/// Body of `POST /_sandbox/faults`; absent fields keep their current setting.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultUpdate {
    /// Replaces the queue (or extends it with `append: true`).
    pub queue: Option<Vec<Fault>>,
    #[serde(default)]
    pub append: bool,
    /// `null` turns the steady fault off.
    #[serde(default, with = "double_option")]
    pub steady: Option<Option<Fault>>,
    pub error_rate: Option<f64>,
    /// What a request hit by `error_rate` gets, drawn evenly (default: `http_500`).
    pub mix: Option<Vec<Fault>>,
    /// Seeds the draws of `error_rate` and `mix`, so a run can be repeated.
    pub seed: Option<u64>,
    /// Serve the queue only to requests with a root field of this name (`create_update`,
    /// `items_page_by_column_values`, `add_file_to_column`, ...); `null`: to any request.
    #[serde(default, with = "double_option")]
    pub queue_field: Option<Option<String>>,
    pub outage: Option<bool>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[derive(Debug, Default)]
pub struct Faults {
    queue: VecDeque<Fault>,
    queue_field: Option<String>,
    steady: Option<Fault>,
    error_rate: f64,
    mix: Vec<Fault>,
    rng: Option<StdRng>,
    outage: bool,
    pub served: BTreeMap<String, u64>,
}

impl Faults {
    pub fn update(&mut self, u: FaultUpdate) {
        if let Some(q) = u.queue {
            if !u.append {
                self.queue.clear();
            }
            self.queue.extend(q);
        }
        if let Some(s) = u.steady {
            self.steady = s;
        }
        if let Some(r) = u.error_rate {
            self.error_rate = r.clamp(0.0, 1.0);
        }
        if let Some(mix) = u.mix {
            self.mix = mix;
        }
        if let Some(seed) = u.seed {
            self.rng = Some(StdRng::seed_from_u64(seed));
        }
        if let Some(field) = u.queue_field {
            self.queue_field = field;
        }
        if let Some(o) = u.outage {
            self.outage = o;
        }
    }

    /// Clears the configuration; the served counters stay (they are statistics).
    pub fn clear(&mut self) {
        self.queue.clear();
        self.queue_field = None;
        self.steady = None;
        self.error_rate = 0.0;
        self.mix.clear();
        self.rng = None;
        self.outage = false;
    }

    /// The fault for the next API request (whose root fields are `fields`), if any; counts it
    /// as served.
    pub fn next(&mut self, fields: &[&str]) -> Option<Fault> {
        let queue_serves = self
            .queue_field
            .as_deref()
            .is_none_or(|f| fields.contains(&f));
        let (fault, label) = if self.outage {
            (Fault::Http503, "outage")
        } else if let Some(i) = self
            .queue
            .iter()
            .position(|f| queue_serves && f.for_request(fields))
        {
            let f = self
                .queue
                .remove(i)
                .map(Fault::unwrapped)
                .unwrap_or(Fault::Http500);
            let label = f.name();
            (f, label)
        } else if let Some(f) = self.steady.clone() {
            let label = f.name();
            (f, label)
        } else if self.error_rate > 0.0 && self.draw() < self.error_rate {
            let fault = match self.mix.len() {
                0 => Fault::Http500,
                n => {
                    let i = (self.draw() * n as f64) as usize;
                    self.mix[i.min(n - 1)].clone()
                }
            };
            (fault, "error_rate")
        } else {
            return None;
        };
        *self.served.entry(label.to_string()).or_default() += 1;
        Some(fault)
    }

    /// A number in [0, 1): from the seeded generator once seeded.
    fn draw(&mut self) -> f64 {
        match &mut self.rng {
            Some(rng) => rng.gen(),
            None => rand::thread_rng().gen(),
        }
    }

    pub fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "queue": self.queue,
            "steady": self.steady,
            "error_rate": self.error_rate,
            "mix": self.mix,
            "queue_field": self.queue_field,
            "outage": self.outage,
            "served": self.served,
        })
    }
}
