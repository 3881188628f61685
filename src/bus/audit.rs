//! The audit log: one JSON line per mutation attempt, appended and flushed before
//! the result is shown, so the record survives whatever happens next.

use std::io::Write;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::Serialize;

use super::command::{Command, OpId};

#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry<'a> {
    pub time: Timestamp,
    pub started: Timestamp,
    pub user: &'a str,
    pub op: OpId,
    pub target: &'a str,
    #[serde(flatten)]
    pub command: &'a Command,
    /// Why it went ahead when the policy asked (outside the change window).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
    pub result: &'static str,
    pub message: &'a str,
}

#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    pub fn new(path: PathBuf) -> Self {
        AuditLog { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn append(&self, entry: &AuditEntry<'_>) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        // One write call per line keeps concurrent appends from interleaving.
        file.write_all(&line)?;
        file.sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_one_json_line_per_entry() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("sub/audit.jsonl"));
        let now: Timestamp = "2026-11-26T14:00:00Z".parse().unwrap();
        let cmd = Command::restart_deployment("prod", "dictamesh-prod", "web", now);
        for result in ["ok", "error"] {
            log.append(&AuditEntry {
                time: now,
                started: now,
                user: "oncall",
                op: OpId(7),
                target: "web",
                command: &cmd,
                reason: None,
                result,
                message: "m",
            })
            .unwrap();
        }
        let text = std::fs::read_to_string(log.path()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["command"], "restart-deployment");
        assert_eq!(lines[0]["name"], "web");
        assert_eq!(lines[1]["result"], "error");
        assert_eq!(lines[0]["user"], "oncall");
        assert_eq!(lines[0]["env"], "prod");
        assert!(!text.contains(r#""env":"prod","env""#));
    }
}
