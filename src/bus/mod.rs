//! The command bus: the one place mutations are sent. `update()` hands it
//! `(OpId, Command)`; `pipeline` takes every command, of every family, through the same
//! stages (read-only policy, send once, RBAC, prepare, dry run, send, Kubernetes Event,
//! audit) and reports `Report::Finished`. It never touches app state.
//!
//! - `command`: commands as data, with the preview the user confirms;
//! - `pipeline`: the stages, in order;
//! - `kube`, `argocd`: what each stage asks of the family's client;
//! - `rollout`, `bluegreen`: the pure planners of the requests kubectl and the Argo
//!   Rollouts plugin send;
//! - `audit`: the JSON-lines record.

pub mod argocd;
pub mod audit;
pub mod audit_verify;
pub mod bluegreen;
pub mod checklist;
pub mod command;
pub mod git;
pub mod kube;
pub mod pipeline;
pub mod rollouts;
pub mod runbook;

pub use audit::{AuditLog, Record};
pub use command::{Command, OpId, Preview};
pub use pipeline::{Bus, Refused, Report, Sink, dry_run_family};
