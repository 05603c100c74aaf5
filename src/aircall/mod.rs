//! Aircall's side: the webhook envelope and its token check, the Call and Contact objects, the
//! REST client and the download of recordings behind their pre-signed links.

pub mod api;
pub mod cards;
pub mod download;
mod envelope;
mod events;
pub mod insights;
pub mod lenient;
mod payload;

pub use envelope::{Envelope, EnvelopeError, Unverified, Verified};
pub use events::{CALL_EVENTS, CONTACT_EVENTS};
pub use insights::AI_EVENTS;
pub use payload::{Call, Comment, Contact, Detail, Line, Tag, Team, User};
