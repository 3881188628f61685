//! Reading the audit log in tests.

use std::path::Path;

use serde_json::Value;

/// Every record, parsed (a missing file has none).
pub fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("audit lines are JSON"))
        .collect()
}

/// The records of one kind: "session", "intent", "outcome" or "settled".
pub fn of_kind(path: &Path, kind: &str) -> Vec<Value> {
    records(path)
        .into_iter()
        .filter(|r| r["record"] == kind)
        .collect()
}

/// The outcome records: one per command sent or refused.
pub fn outcomes(path: &Path) -> Vec<Value> {
    of_kind(path, "outcome")
}
