//! The pre-deployment checklist of one release going into one environment: which items
//! are done, failing or open, from the live checks (`checks`) and the ticks people made,
//! which are shared through a ConfigMap in the environment's namespace (`shared`).

pub mod checks;
pub mod git;
pub mod metric;
pub mod shared;
pub mod walk;

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::config::Check;

/// A service at a version, on its way into an environment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Release {
    pub service: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid release `{0}`: expected SERVICE@VERSION, e.g. customer-adapter@v1.2.0")]
pub struct ReleaseParseError(pub String);

impl Release {
    pub fn new(service: &str, version: &str) -> Release {
        Release {
            service: service.to_owned(),
            version: version.to_owned(),
        }
    }

    /// `customer-adapter@v1.2.0`.
    pub fn parse(text: &str) -> Result<Release, ReleaseParseError> {
        let bad = || ReleaseParseError(text.to_owned());
        let (service, version) = text.trim().split_once('@').ok_or_else(bad)?;
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if !valid(service) || !valid(version) {
            return Err(bad());
        }
        Ok(Release::new(service, version))
    }
}

impl fmt::Display for Release {
    /// `customer-adapter@v1.2.0`, the form `--release` takes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.service, self.version)
    }
}

/// A person's tick (or un-tick) of an item, with who and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub done: bool,
    /// The cluster identity of who ticked it (SelfSubjectReview), else the local user.
    pub by: String,
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// A runbook step passed over (the note says why) rather than done.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
}

/// What an automatic check concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    /// Waiting for the data it reads (a list, a first probe).
    Pending,
    /// Nothing to read (not configured): a person decides, by ticking it.
    CannotTell,
}

/// A check's verdict and the evidence for it: what was read, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub verdict: Verdict,
    pub evidence: String,
    pub read_at: Option<Timestamp>,
}

impl Evaluation {
    pub fn new(verdict: Verdict, evidence: impl Into<String>, read_at: Option<Timestamp>) -> Self {
        Evaluation {
            verdict,
            evidence: evidence.into(),
            read_at,
        }
    }
}

/// An item as the checklist shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ItemState {
    /// A check failed: the release should not go.
    Failing,
    /// Waiting for a person, or for a check's first reading.
    Open,
    Checking,
    Done,
}

impl ItemState {
    /// The mark in front of the item, readable without colour.
    pub fn symbol(self) -> &'static str {
        match self {
            ItemState::Done => "✔",
            ItemState::Failing => "✖",
            ItemState::Open => "☐",
            ItemState::Checking => "…",
        }
    }
}

/// Whether a person may tick the item: manual items, and checks that cannot tell.
pub fn tickable(check: &Check, evaluation: Option<&Evaluation>) -> bool {
    !check.is_automatic() || evaluation.is_some_and(|e| e.verdict == Verdict::CannotTell)
}

/// An item's state from its check's evaluation and the last mark on it.
pub fn item_state(
    check: &Check,
    evaluation: Option<&Evaluation>,
    mark: Option<&Mark>,
) -> ItemState {
    if tickable(check, evaluation) {
        return if mark.is_some_and(|m| m.done) {
            ItemState::Done
        } else {
            ItemState::Open
        };
    }
    match evaluation.map(|e| e.verdict) {
        Some(Verdict::Pass) => ItemState::Done,
        Some(Verdict::Fail) => ItemState::Failing,
        Some(Verdict::Pending) | None => ItemState::Checking,
        Some(Verdict::CannotTell) => ItemState::Open,
    }
}

/// Counts of a checklist's items by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub done: usize,
    pub failing: usize,
    pub open: usize,
    pub checking: usize,
}

impl Progress {
    pub fn add(&mut self, state: ItemState) {
        match state {
            ItemState::Done => self.done += 1,
            ItemState::Failing => self.failing += 1,
            ItemState::Open => self.open += 1,
            ItemState::Checking => self.checking += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.done + self.failing + self.open + self.checking
    }

    /// Every item done: the gate is open.
    pub fn complete(&self) -> bool {
        self.done == self.total()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_parse_and_print() {
        let r = Release::parse("customer-adapter@v1.2.0").unwrap();
        assert_eq!(r, Release::new("customer-adapter", "v1.2.0"));
        assert_eq!(r.to_string(), "customer-adapter@v1.2.0");
        for bad in ["customer-adapter", "@v1", "a@", "a b@v1", "a@v1@v2"] {
            assert!(Release::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn manual_items_follow_their_last_mark_and_checks_their_verdict() {
        let at: Timestamp = "2026-12-04T10:00:00Z".parse().unwrap();
        let mark = |done| Mark {
            done,
            by: "alice".into(),
            at,
            note: String::new(),
            skipped: false,
        };
        assert_eq!(item_state(&Check::Manual, None, None), ItemState::Open);
        assert_eq!(
            item_state(&Check::Manual, None, Some(&mark(true))),
            ItemState::Done
        );
        assert_eq!(
            item_state(&Check::Manual, None, Some(&mark(false))),
            ItemState::Open
        );
        let eval = |verdict| Evaluation::new(verdict, "", None);
        let check = Check::Migrations;
        assert_eq!(item_state(&check, None, None), ItemState::Checking);
        assert_eq!(
            item_state(&check, Some(&eval(Verdict::Fail)), Some(&mark(true))),
            ItemState::Failing,
            "a tick never hides a failing check"
        );
        assert_eq!(
            item_state(&check, Some(&eval(Verdict::CannotTell)), Some(&mark(true))),
            ItemState::Done
        );
        let mut p = Progress::default();
        p.add(ItemState::Done);
        assert!(p.complete());
        p.add(ItemState::Checking);
        assert!(!p.complete());
    }
}
