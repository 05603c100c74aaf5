//! Which calls a board mirrors (`when`) and which group an item goes to (`[[boards.routes]]`).
//! Only the structure and the values are checked here; matching is `mapping::routing`.

use serde::Deserialize;

/// The values of the `outcome` field (README, "Outcomes").
pub const OUTCOMES: &[&str] = &[
    "ringing",
    "in_progress",
    "answered",
    "transferred",
    "missed",
    "unanswered",
    "abandoned",
    "voicemail",
];

/// One value, or a list of which any matches.
#[derive(Debug, Deserialize, Clone, PartialEq)]
#[serde(untagged)]
pub enum AnyOf {
    One(String),
    Many(Vec<String>),
}

impl AnyOf {
    pub fn values(&self) -> &[String] {
        match self {
            AnyOf::One(v) => std::slice::from_ref(v),
            AnyOf::Many(v) => v,
        }
    }
}

/// Conditions on a call; every condition given must hold (a list: any of its values).
#[derive(Debug, Deserialize, Clone, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CallFilter {
    /// `inbound` or `outbound`.
    #[serde(default)]
    pub direction: Option<AnyOf>,
    /// The Aircall number, in any writing ("+33 1 23 45 67 89" or E.164).
    #[serde(default)]
    pub line_number: Option<AnyOf>,
    /// The Aircall number's name, case-insensitive.
    #[serde(default)]
    pub line_name: Option<AnyOf>,
    /// A team the call was routed to, case-insensitive.
    #[serde(default)]
    pub team: Option<AnyOf>,
    /// The call's outcome (see `OUTCOMES`).
    #[serde(default)]
    pub outcome: Option<AnyOf>,
}

#[derive(Debug, Deserialize, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// The group of the calls that match.
    pub group_id: String,
    pub when: CallFilter,
}

impl CallFilter {
    pub fn is_empty(&self) -> bool {
        self == &CallFilter::default()
    }

    /// The error is (key relative to the filter, message).
    pub fn validate(&self) -> Result<(), (String, String)> {
        let conditions = [
            ("direction", &self.direction),
            ("line_number", &self.line_number),
            ("line_name", &self.line_name),
            ("team", &self.team),
            ("outcome", &self.outcome),
        ];
        for (key, condition) in conditions {
            let Some(values) = condition.as_ref().map(AnyOf::values) else {
                continue;
            };
            if values.is_empty() || values.iter().any(|v| v.trim().is_empty()) {
                return Err((key.into(), "expected a value or a list of values".into()));
            }
            let allowed: &[&str] = match key {
                "direction" => &["inbound", "outbound"],
                "outcome" => OUTCOMES,
                _ => continue,
            };
            if let Some(bad) = values.iter().find(|v| !allowed.contains(&v.as_str())) {
                return Err((
                    key.into(),
                    format!(
                        "unknown {key} `{bad}`; expected one of {}",
                        allowed.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}
