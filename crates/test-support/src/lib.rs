//! What the bridge's tests share, whatever binary they run in (the library's unit tests and
//! the integration tests alike): a scratch PostgreSQL database of their own.

mod postgres;

pub use postgres::{scratch_postgres, ScratchDatabase};
