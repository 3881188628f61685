//! `rollcall audit verify`: reads the audit log and checks its chain.

use std::path::Path;

use crate::bus::AuditLog;
use crate::bus::audit_verify::{describe, verify};

/// Opens the audit log of a run that can change clusters, writing its session record
/// now: a change is recorded before it is sent, so a log that cannot be written is said
/// before the screen opens. Read-only sends nothing, so it runs on without one.
pub fn open(path: &Path, user: &str, readonly: bool) -> Result<AuditLog, String> {
    match AuditLog::open(path.to_owned(), user) {
        Ok(log) => Ok(log),
        Err(e) if readonly => {
            tracing::warn!(error = %e, "audit log not writable; read-only, nothing to record");
            Ok(AuditLog::unopened(path.to_owned()))
        }
        Err(e) => Err(format!(
            "the audit log {} cannot be written ({e}): rollcall records every change before \
             sending it. Give a writable --audit-log, or run with --readonly",
            path.display()
        )),
    }
}

/// The verdict in words, and the exit status: 0 intact, 1 broken, 2 unreadable.
pub fn run_verify(path: &Path) -> (String, u8) {
    match std::fs::read(path) {
        Err(e) => (format!("cannot read {}: {e}", path.display()), 2),
        Ok(bytes) => {
            let verdict = verify(&bytes);
            let status = if verdict.intact() { 0 } else { 1 };
            (describe(&path.display().to_string(), &verdict), status)
        }
    }
}
