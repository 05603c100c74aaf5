//! Aircall's side: the webhook envelope and its token check, and the Call and Contact objects.

mod envelope;
pub mod lenient;
mod payload;

pub use envelope::{Envelope, EnvelopeError, Unverified, Verified};
pub use payload::{Call, Comment, Contact, Detail, Line, Tag, Team, User};
