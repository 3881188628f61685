//! The command bus: the one place mutations are sent, dry-run, audited and reported.
//! `update()` hands it `(OpId, Command)`; executors run each in its own task and
//! answer with `Event::OpFinished`. Executors never touch state.

pub mod access;
pub mod argocd;
pub mod audit;
pub mod bluegreen;
pub mod command;
pub mod executor;
pub mod rollout;

pub use audit::{AuditEntry, AuditLog};
pub use command::{Command, OpId, Preview};
pub use executor::{Bus, Report, Sink};
