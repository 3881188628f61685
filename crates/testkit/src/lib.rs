//! Support shared by rollcall's integration tests (tests/ui, tests/flows, tests/clients,
//! tests/e2e). Everything here is `pub`: a test binary uses what it needs, and nothing
//! has to be allowed as dead code.

pub mod audit;
pub mod bus;
pub mod canary;
pub mod checklist;
pub mod cluster;
pub mod fixtures;
pub mod kafka;
pub mod kafka_state;
pub mod kubectl;
pub mod migrate;
pub mod process;
pub mod pty;
pub mod release;
pub mod state;
pub mod tools;
