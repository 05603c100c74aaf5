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
