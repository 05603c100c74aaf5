//! The one table: a row per figure, its baseline from the same run, the ratio, the issue's
//! target and whether it was met.

use std::fmt::Write;

pub struct Row {
    /// The figure's number in issue 14's list (15 for the budget figures of issue 15).
    pub number: &'static str,
    pub what: String,
    pub bridge: String,
    pub baseline: String,
    pub ratio: Option<f64>,
    pub target: String,
    /// None: a figure without a target (shown for context).
    pub met: Option<bool>,
}

impl Row {
    pub fn new(number: &'static str, what: impl Into<String>) -> Row {
        Row {
            number,
            what: what.into(),
            bridge: String::new(),
            baseline: String::new(),
            ratio: None,
            target: String::new(),
            met: None,
        }
    }

    pub fn bridge(mut self, text: impl Into<String>) -> Row {
        self.bridge = text.into();
        self
    }

    pub fn baseline(mut self, text: impl Into<String>) -> Row {
        self.baseline = text.into();
        self
    }

    pub fn ratio(mut self, ratio: f64) -> Row {
        self.ratio = Some(ratio);
        self
    }

    /// The target's text and whether the measured figure met it.
    pub fn target(mut self, text: impl Into<String>, met: bool) -> Row {
        self.target = text.into();
        self.met = Some(met);
        self
    }
}

/// A Markdown table, so BENCHMARKS.md can hold it as printed.
pub fn render(rows: &[Row]) -> String {
    let header = [
        "#",
        "figure",
        "bridge",
        "baseline (same run)",
        "ratio",
        "target",
        "met",
    ];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.number.to_string(),
                r.what.clone(),
                r.bridge.clone(),
                r.baseline.clone(),
                r.ratio.map(|x| format!("{x:.2}")).unwrap_or_default(),
                r.target.clone(),
                match r.met {
                    Some(true) => "met".into(),
                    Some(false) => "NOT MET".into(),
                    None => String::new(),
                },
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |row: &[String]| {
        let mut out = String::from("|");
        for (c, w) in row.iter().zip(widths) {
            let _ = write!(out, " {c}{} |", " ".repeat(w - c.chars().count()));
        }
        out.push('\n');
        out
    };
    let mut out = line(&header.map(String::from));
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    out.push_str(&line(&rule));
    for row in &cells {
        out.push_str(&line(row));
    }
    out
}

/// Milliseconds with two decimals.
pub fn ms(x: f64) -> String {
    format!("{x:.2} ms")
}

/// A rate, to the unit.
pub fn per_sec(x: f64) -> String {
    format!("{x:.0}/s")
}

pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}
