//! The audit log: JSON lines, the intent of a mutation written and synced before
//! anything is sent, its outcome after, and for Argo CD operations how the app settled.
//! Each line carries the SHA-256 of the line before (`prev`), so an edited, removed or
//! inserted record breaks the chain that `rollcall audit verify` checks.
//!
//! Appends take an exclusive lock on the file, so several rollcalls (or a teammate's on
//! a shared host) keep one chain. A line cut short by a kill is left as it is, ended,
//! and chained over: verify reports it as incomplete, not as tampering.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::Serialize;

use super::command::{Command, OpId};

/// `prev` of the first line of a log.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who is behind a record: the name the user declared, the process's uid (which the
/// user cannot choose), and who the cluster says they are.
#[derive(Debug, Clone, Serialize)]
pub struct Who<'a> {
    pub user: &'a str,
    pub uid: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_user: Option<&'a str>,
}

/// What one line says, after `prev`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "record", rename_all = "kebab-case")]
pub enum Record<'a> {
    /// A rollcall started writing to this log.
    Session {
        time: Timestamp,
        session: &'a str,
        user: &'a str,
        uid: u32,
        pid: u32,
        version: &'static str,
    },
    /// About to send: written and synced first; nothing is sent when it cannot be.
    Intent {
        time: Timestamp,
        session: &'a str,
        op: OpId,
        op_uid: String,
        #[serde(flatten)]
        who: Who<'a>,
        target: &'a str,
        #[serde(flatten)]
        command: &'a Command,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<&'a str>,
    },
    /// What the target answered (or why nothing was sent), or "unknown" when rollcall
    /// exited first. Repeats the command so each outcome reads on its own.
    Outcome {
        time: Timestamp,
        started: Timestamp,
        session: &'a str,
        op: OpId,
        op_uid: String,
        #[serde(flatten)]
        who: Who<'a>,
        target: &'a str,
        #[serde(flatten)]
        command: &'a Command,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<&'a str>,
        result: &'a str,
        message: &'a str,
    },
    /// How an accepted Argo CD operation ended (Healthy, failed, timed out), seen by
    /// the app's wait.
    Settled {
        time: Timestamp,
        session: &'a str,
        op: OpId,
        op_uid: String,
        result: &'a str,
        message: &'a str,
    },
}

#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    session: String,
    uid: u32,
}

/// The uid of this process (the owner of `/proc/self`), without unsafe code.
fn process_uid() -> u32 {
    std::fs::metadata("/proc/self").map_or(u32::MAX, |m| m.uid())
}

impl AuditLog {
    /// Opens (creating 0600 in a 0700 directory) the log and writes this session's
    /// first record, so a log that cannot be written is known before any key is pressed.
    pub fn open(path: PathBuf, user: &str) -> std::io::Result<Self> {
        let log = AuditLog {
            path,
            session: format!("{:016x}", fastrand::u64(..)),
            uid: process_uid(),
        };
        let session = log.session.clone();
        log.append(&Record::Session {
            time: Timestamp::now(),
            session: &session,
            user,
            uid: log.uid,
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION"),
        })?;
        Ok(log)
    }

    /// A log for a read-only run whose file cannot be written: its appends fail, and
    /// read-only sends nothing that would need one.
    pub fn unopened(path: PathBuf) -> Self {
        AuditLog {
            path,
            session: format!("{:016x}", fastrand::u64(..)),
            uid: process_uid(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn session(&self) -> &str {
        &self.session
    }

    pub fn uid(&self) -> u32 {
        self.uid
    }

    /// The id of `op` across sessions: op numbers restart with each rollcall.
    pub fn op_uid(&self, op: OpId) -> String {
        format!("{}-{}", self.session, op.0)
    }

    /// Appends one record after the hash of the last line, and syncs it to disk.
    pub fn append(&self, record: &Record<'_>) -> std::io::Result<()> {
        #[derive(Serialize)]
        struct Line<'a> {
            prev: String,
            #[serde(flatten)]
            record: &'a Record<'a>,
        }
        let mut file = open_private(&self.path)?;
        file.lock()?;
        let (prev, ended) = last_line_hash(&mut file)?;
        let mut bytes = Vec::new();
        if !ended {
            // The last write was cut short: end its line, and chain over it.
            bytes.push(b'\n');
        }
        let line = Line { prev, record };
        serde_json::to_writer(&mut bytes, &line).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        // One write per record: with O_APPEND and the lock, lines never interleave.
        file.write_all(&bytes)?;
        file.sync_data()
    }
}

/// Opens the log for appending, creating it 0600 (and its directory 0700), and narrows
/// an existing regular file that others could read.
fn open_private(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)?;
    let meta = file.metadata()?;
    if meta.is_file() && meta.mode() & 0o077 != 0 && meta.uid() == process_uid() {
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

pub fn hash_line(line: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, line);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash of the file's last line (GENESIS when empty), and whether the file ends
/// with a newline. Reads back from the end only as far as that line starts.
fn last_line_hash(file: &mut File) -> std::io::Result<(String, bool)> {
    let len = file.seek(SeekFrom::End(0))?;
    if len == 0 {
        return Ok((GENESIS.to_owned(), true));
    }
    let mut window = 4096u64;
    loop {
        let start = len.saturating_sub(window);
        file.seek(SeekFrom::Start(start))?;
        let mut tail = Vec::with_capacity((len - start) as usize);
        Read::by_ref(file)
            .take(len - start)
            .read_to_end(&mut tail)?;
        let ended = tail.last() == Some(&b'\n');
        let body = if ended {
            &tail[..tail.len() - 1]
        } else {
            &tail[..]
        };
        match body.iter().rposition(|b| *b == b'\n') {
            Some(nl) => return Ok((hash_line(&body[nl + 1..]), ended)),
            None if start == 0 => return Ok((hash_line(body), ended)),
            None => window = window.saturating_mul(4),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-26T14:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_session_line_then_intent_and_outcome_chained() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path().join("sub/audit.jsonl"), "oncall").unwrap();
        let cmd = Command::restart_deployment("prod", "dictamesh-prod", "web", now());
        let who = Who {
            user: "oncall",
            uid: log.uid(),
            cluster_user: Some("oidc:alice"),
        };
        let session = log.session().to_owned();
        log.append(&Record::Intent {
            time: now(),
            session: &session,
            op: OpId(7),
            op_uid: log.op_uid(OpId(7)),
            who: who.clone(),
            target: "web",
            command: &cmd,
            reason: None,
        })
        .unwrap();
        log.append(&Record::Outcome {
            time: now(),
            started: now(),
            session: &session,
            op: OpId(7),
            op_uid: log.op_uid(OpId(7)),
            who,
            target: "web",
            command: &cmd,
            reason: None,
            result: "ok",
            message: "m",
        })
        .unwrap();
        let text = std::fs::read_to_string(log.path()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let json: Vec<serde_json::Value> = lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(json.len(), 3);
        assert_eq!(json[0]["record"], "session");
        assert_eq!(json[0]["prev"], GENESIS);
        assert_eq!(json[1]["record"], "intent");
        assert_eq!(json[1]["prev"], hash_line(lines[0].as_bytes()));
        assert_eq!(json[2]["prev"], hash_line(lines[1].as_bytes()));
        assert_eq!(json[1]["command"], "restart-deployment");
        assert_eq!(json[1]["cluster_user"], "oidc:alice");
        assert_eq!(json[2]["result"], "ok");
        assert_eq!(json[2]["op_uid"], format!("{}-7", log.session()));
        assert!(!text.contains(r#""env":"prod","env""#));
        let mode = |p: &Path| std::fs::metadata(p).unwrap().mode() & 0o777;
        assert_eq!(mode(log.path()), 0o600);
        assert_eq!(mode(&dir.path().join("sub")), 0o700);
    }

    #[test]
    fn a_line_cut_short_is_ended_and_chained_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let first = AuditLog::open(path.clone(), "a").unwrap();
        drop(first);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(br#"{"prev":"ab","record":"inte"#).unwrap();
        AuditLog::open(path.clone(), "b").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        let last: serde_json::Value = serde_json::from_str(lines[2]).unwrap();
        assert_eq!(last["prev"], hash_line(lines[1].as_bytes()));
    }

    #[test]
    fn an_unwritable_log_fails_at_open() {
        if !Path::new("/dev/full").exists() {
            return;
        }
        let err = AuditLog::open(PathBuf::from("/dev/full"), "a").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(28), "{err}");
    }
}
