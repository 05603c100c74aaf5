//! Aircall's side: the webhook envelope and its token check, and the Call and Contact objects.

pub mod api;
mod envelope;
mod events;
pub mod lenient;
mod payload;

pub use envelope::{Envelope, EnvelopeError, Unverified, Verified};
pub use events::{CALL_EVENTS, CONTACT_EVENTS};
pub use payload::{Call, Comment, Contact, Detail, Line, Tag, Team, User};
