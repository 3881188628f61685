//! A reset's plan: per partition, the committed offset now and where the tool's dry run
//! says it goes, and what that means for the consumer: messages it reads again
//! (replayed, new < current) or never reads (skipped, new > current).

use super::table::{OffsetRow, ResetRow};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionPlan {
    pub topic: String,
    pub partition: u32,
    /// The committed offset now; `None` when nothing is committed.
    pub current: Option<i64>,
    pub new: i64,
}

impl PartitionPlan {
    /// Messages read again: current − new, when positive.
    pub fn replayed(&self) -> u64 {
        self.current
            .map_or(0, |c| u64::try_from(c - self.new).unwrap_or(0))
    }

    /// Messages never read: new − current, when positive.
    pub fn skipped(&self) -> u64 {
        self.current
            .map_or(0, |c| u64::try_from(self.new - c).unwrap_or(0))
    }

    /// `customers.entity_changed[0]  1200 → 1100  replays 100`.
    pub fn line(&self) -> String {
        let current = self
            .current
            .map_or_else(|| "- (none committed)".to_owned(), |c| c.to_string());
        let what = match (self.replayed(), self.skipped()) {
            (0, 0) if self.current.is_some() => "unchanged".to_owned(),
            (0, 0) => "starts here".to_owned(),
            (r, 0) => format!("replays {r}"),
            (_, s) => format!("skips {s}"),
        };
        format!(
            "{}[{}]  {current} → {}  {what}",
            self.topic, self.partition, self.new
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetPlan {
    pub group: String,
    pub partitions: Vec<PartitionPlan>,
    /// The tool's `Warn:` lines (a partition with nothing at or after the time).
    pub warnings: Vec<String>,
}

impl ResetPlan {
    /// Joins the dry run's rows with the committed offsets read just before.
    pub fn new(
        group: &str,
        current: &[OffsetRow],
        reset: &[ResetRow],
        warnings: Vec<String>,
    ) -> Self {
        let partitions = reset
            .iter()
            .map(|r| PartitionPlan {
                topic: r.topic.clone(),
                partition: r.partition,
                current: current
                    .iter()
                    .find(|c| c.topic == r.topic && c.partition == r.partition)
                    .and_then(|c| c.current),
                new: r.new_offset,
            })
            .collect();
        ResetPlan {
            group: group.to_owned(),
            partitions,
            warnings,
        }
    }

    pub fn replayed(&self) -> u64 {
        self.partitions.iter().map(PartitionPlan::replayed).sum()
    }

    pub fn skipped(&self) -> u64 {
        self.partitions.iter().map(PartitionPlan::skipped).sum()
    }

    /// The totals in words: `replays 340 messages`, `skips 12 messages`, both, or none.
    pub fn totals(&self) -> String {
        let plural = |n: u64| if n == 1 { "message" } else { "messages" };
        match (self.replayed(), self.skipped()) {
            (0, 0) => "moves no committed offset".to_owned(),
            (r, 0) => format!("replays {r} {}", plural(r)),
            (0, s) => format!("skips {s} {}", plural(s)),
            (r, s) => format!("replays {r} {} and skips {s} {}", plural(r), plural(s)),
        }
    }

    /// The plan as the dialog shows it: the totals, a line per partition, the warnings.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!("{}: {}", self.group, self.totals())];
        out.extend(self.partitions.iter().map(|p| format!("  {}", p.line())));
        out.extend(self.warnings.iter().map(|w| format!("  ⚠ {w}")));
        out
    }
}
