//! `rollcall audit verify`: walks the audit log's hash chain and pairs each intent with
//! its outcome. Pure: the caller reads the file.

use std::collections::BTreeMap;

use serde_json::Value;

use super::audit::{GENESIS, hash_line};

/// What the walk found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    pub records: usize,
    pub sessions: usize,
    /// Lines cut short by a kill mid-write (1-based), chained over by the next record.
    pub incomplete: Vec<usize>,
    /// The first line where the chain breaks, and why: an edited, removed or inserted
    /// record. Nothing after it is checked.
    pub broken: Option<(usize, String)>,
    /// Intents with no outcome (rollcall killed, or still running).
    pub unfinished: Vec<Unfinished>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Unfinished {
    pub line: usize,
    pub op_uid: String,
    pub what: String,
    pub time: String,
}

impl Verdict {
    pub fn intact(&self) -> bool {
        self.broken.is_none()
    }
}

pub fn verify(log: &[u8]) -> Verdict {
    let mut v = Verdict::default();
    let mut expected = GENESIS.to_owned();
    let mut intents: BTreeMap<String, Unfinished> = BTreeMap::new();
    let ends_with_newline = log.last() == Some(&b'\n');
    let body = log.strip_suffix(b"\n").unwrap_or(log);
    let lines: Vec<&[u8]> = if body.is_empty() {
        Vec::new()
    } else {
        body.split(|b| *b == b'\n').collect()
    };
    for (i, line) in lines.iter().enumerate() {
        let number = i + 1;
        let this_hash = hash_line(line);
        let Ok(record) = serde_json::from_slice::<Value>(line) else {
            // A write cut short: fine when the next record chains over it (or it is
            // the last line, unended); anything else does not parse because it was
            // changed.
            let last_unended = number == lines.len() && !ends_with_newline;
            let chained_over = lines.get(i + 1).is_some_and(|next| {
                serde_json::from_slice::<Value>(next)
                    .ok()
                    .is_some_and(|n| n["prev"] == this_hash.as_str())
            });
            if last_unended || chained_over {
                v.incomplete.push(number);
                expected = this_hash;
                continue;
            }
            v.broken = Some((number, "not a JSON record".to_owned()));
            break;
        };
        if record["prev"] != expected.as_str() {
            let why = if number == 1 {
                "the first record does not start a chain: the log's beginning is missing".to_owned()
            } else {
                format!(
                    "its prev does not match line {}: a record was edited, removed or \
                     inserted here",
                    number - 1
                )
            };
            v.broken = Some((number, why));
            break;
        }
        expected = this_hash;
        v.records += 1;
        let op_uid = record["op_uid"].as_str().unwrap_or_default().to_owned();
        match record["record"].as_str() {
            Some("session") => v.sessions += 1,
            Some("intent") => {
                let what = format!(
                    "{} {} in {}",
                    record["command"].as_str().unwrap_or("?"),
                    record["target"].as_str().unwrap_or("?"),
                    record["env"].as_str().unwrap_or("?"),
                );
                let time = record["time"].as_str().unwrap_or_default().to_owned();
                intents.insert(
                    op_uid.clone(),
                    Unfinished {
                        line: number,
                        op_uid,
                        what,
                        time,
                    },
                );
            }
            Some("outcome") => {
                intents.remove(&op_uid);
            }
            _ => {}
        }
    }
    v.unfinished = intents.into_values().collect();
    v.unfinished.sort_by_key(|u| u.line);
    v
}

/// The verdict in words, for the terminal.
pub fn describe(path: &str, v: &Verdict) -> String {
    let mut out = match &v.broken {
        None => format!(
            "{path}: chain intact, {} records in {} sessions",
            v.records, v.sessions
        ),
        Some((line, why)) => format!(
            "{path}: chain BROKEN at line {line}: {why} ({} records verified before it)",
            v.records
        ),
    };
    for line in &v.incomplete {
        out.push_str(&format!(
            "\nline {line}: a record cut short (rollcall killed mid-write); chained over"
        ));
    }
    for u in &v.unfinished {
        out.push_str(&format!(
            "\nline {}: {} ({}) at {} has no outcome: rollcall was killed, or it is still \
             running",
            u.line, u.what, u.op_uid, u.time
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(records: &[&str]) -> Vec<String> {
        let mut prev = GENESIS.to_owned();
        records
            .iter()
            .map(|r| {
                let line = format!(r#"{{"prev":"{prev}",{r}}}"#);
                prev = hash_line(line.as_bytes());
                line
            })
            .collect()
    }

    fn joined(lines: &[String]) -> Vec<u8> {
        let mut text = lines.join("\n").into_bytes();
        text.push(b'\n');
        text
    }

    const RECORDS: [&str; 4] = [
        r#""record":"session","session":"s1""#,
        r#""record":"intent","op_uid":"s1-1","command":"restart-deployment","target":"web","env":"prod","time":"t""#,
        r#""record":"outcome","op_uid":"s1-1","result":"ok""#,
        r#""record":"intent","op_uid":"s1-2","command":"argocd-sync","target":"app","env":"prod","time":"t2""#,
    ];

    #[test]
    fn an_untouched_log_is_intact_and_names_the_op_without_outcome() {
        let v = verify(&joined(&chain(&RECORDS)));
        assert!(v.intact());
        assert_eq!((v.records, v.sessions), (4, 1));
        assert_eq!(v.unfinished.len(), 1);
        assert_eq!(v.unfinished[0].what, "argocd-sync app in prod");
        assert!(describe("a", &v).contains("has no outcome"));
    }

    #[test]
    fn an_edited_removed_or_inserted_record_breaks_the_chain_there() {
        let lines = chain(&RECORDS);
        let mut edited = lines.clone();
        edited[1] = edited[1].replace("web", "api");
        assert_eq!(verify(&joined(&edited)).broken.map(|b| b.0), Some(3));
        let mut removed = lines.clone();
        removed.remove(2);
        assert_eq!(verify(&joined(&removed)).broken.map(|b| b.0), Some(3));
        let mut inserted = lines.clone();
        inserted.insert(1, lines[2].clone());
        assert_eq!(verify(&joined(&inserted)).broken.map(|b| b.0), Some(2));
        let headless = lines[1..].to_vec();
        assert_eq!(verify(&joined(&headless)).broken.map(|b| b.0), Some(1));
    }

    #[test]
    fn a_line_cut_short_is_incomplete_not_broken() {
        let mut lines = chain(&RECORDS[..2]);
        let torn = r#"{"prev":"x","record":"outc"#.to_owned();
        let next = format!(
            r#"{{"prev":"{}","record":"session","session":"s2"}}"#,
            hash_line(torn.as_bytes())
        );
        lines.push(torn);
        lines.push(next);
        let v = verify(&joined(&lines));
        assert!(v.intact(), "{v:?}");
        assert_eq!(v.incomplete, vec![3]);
        // Cut short at the very end, unended.
        let mut text = joined(&chain(&RECORDS[..2]));
        text.extend_from_slice(br#"{"prev":"#);
        let v = verify(&text);
        assert!(v.intact() && v.incomplete == vec![3], "{v:?}");
    }
}
