//! The webhook events Aircall publishes for calls and contacts (reference/aircall.md §1).
//! `webhook register` subscribes to these for the entities the boards mirror; Aircall answers
//! 400 to names it does not know.

pub const CALL_EVENTS: &[&str] = &[
    "call.created",
    "call.ringing_on_agent",
    "call.agent_declined",
    "call.answered",
    "call.transferred",
    "call.external_transferred",
    "call.unsuccessful_transfer",
    "call.hungup",
    "call.ended",
    "call.hold",
    "call.unhold",
    "call.ivr_option_selected",
    "call.comm_assets_generated",
    "call.voicemail_left",
    "call.assigned",
    "call.archived",
    "call.tagged",
    "call.untagged",
    "call.commented",
];

pub const CONTACT_EVENTS: &[&str] = &["contact.created", "contact.updated", "contact.deleted"];

#[cfg(test)]
mod tests {
    /// The README's paragraph on registering the webhook by hand.
    fn by_hand() -> &'static str {
        let readme = include_str!("../../README.md");
        let start = readme.find("To register by hand").expect("the paragraph");
        &readme[start..start + readme[start..].find("\n\n").unwrap()]
    }

    #[test]
    fn the_readme_lists_every_event_for_registering_by_hand() {
        let ai = super::super::insights::AI_EVENTS;
        for event in super::CALL_EVENTS
            .iter()
            .chain(super::CONTACT_EVENTS)
            .chain(ai)
        {
            assert!(by_hand().contains(&format!("`{event}`")), "{event} missing");
        }
    }
}
