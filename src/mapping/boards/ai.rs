//! Which boards show Aircall's AI insights.

use super::{BoardRule, Entity};

/// The call fields filled from Aircall's AI insights.
pub const AI_FIELDS: &[&str] = &[
    "summary",
    "custom_summary",
    "sentiment",
    "topics",
    "action_items",
    "transcript",
    "insights",
];

impl BoardRule {
    /// A call board that shows AI insights (an AI field in a column, a transcript file, or AI
    /// updates/subitems): its webhook needs the AI events.
    pub fn uses_ai_insights(&self) -> bool {
        self.entity == Entity::Call
            && (self.transcript_as_updates
                || self.action_items_as_update
                || self.action_items_as_subitems
                || self.columns.values().any(|c| {
                    c.field.as_deref().is_some_and(is_ai_field)
                        || c.upload == Some(super::UploadSource::Transcript)
                }))
    }
}

/// An AI field, or one result of one (`custom_summary.<name>`).
fn is_ai_field(field: &str) -> bool {
    let base = crate::mapping::fields::split_named(field).map_or(field, |(base, _)| base);
    AI_FIELDS.contains(&base)
}
