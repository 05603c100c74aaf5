//! What the bridge's tests share, whatever binary they run in (the library's unit tests and
//! the integration tests alike): a scratch PostgreSQL database of their own, and a PostgreSQL
//! server of their own to stop and start under load.

mod postgres;
mod server;

pub use postgres::{scratch_postgres, ScratchDatabase};
pub use server::PrivateServer;
