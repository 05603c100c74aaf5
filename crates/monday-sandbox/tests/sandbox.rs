//! Integration tests for the monday sandbox: each spawns it on port 0 and talks real HTTP.

#[path = "sandbox/helpers.rs"]
mod helpers;

#[path = "sandbox/writes.rs"]
mod writes;

#[path = "sandbox/validation.rs"]
mod validation;

#[path = "sandbox/limits.rs"]
mod limits;

#[path = "sandbox/faults.rs"]
mod faults;

#[path = "sandbox/lookup_and_page.rs"]
mod lookup_and_page;
