//! The last minutes of each group's total lag, for the pane's chart: one sample per
//! read, at most `CAPACITY` kept per group, groups that went away forgotten.

use std::collections::{HashMap, VecDeque};

/// Samples kept per group: ten minutes at one read every ten seconds.
pub const CAPACITY: usize = 60;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LagHistory {
    groups: HashMap<String, VecDeque<u64>>,
}

impl LagHistory {
    /// Adds one read's totals; groups not in it are dropped.
    pub fn record<'a>(&mut self, totals: impl IntoIterator<Item = (&'a str, u64)>) {
        let mut kept = HashMap::new();
        for (group, lag) in totals {
            let mut samples = self.groups.remove(group).unwrap_or_default();
            if samples.len() == CAPACITY {
                samples.pop_front();
            }
            samples.push_back(lag);
            kept.insert(group.to_owned(), samples);
        }
        self.groups = kept;
    }

    /// The group's samples, oldest first.
    pub fn samples(&self, group: &str) -> Vec<u64> {
        self.groups
            .get(group)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_forgets_groups_that_left() {
        let mut h = LagHistory::default();
        for i in 0..(CAPACITY as u64 + 5) {
            h.record([("a", i), ("b", 1)]);
        }
        let a = h.samples("a");
        assert_eq!(a.len(), CAPACITY);
        assert_eq!(a[0], 5);
        assert_eq!(*a.last().unwrap(), CAPACITY as u64 + 4);
        h.record([("a", 0)]);
        assert!(h.samples("b").is_empty());
    }
}
