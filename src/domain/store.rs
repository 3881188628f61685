//! Rows kept from a watch, with the watcher's re-list semantics.
//!
//! A watch that restarts (410 Gone, reconnect) lists everything again. Rows arrive as
//! `InitApply` and are shown at once, so the first page appears before the whole list
//! has come; on `InitDone` the rows that were not seen again are dropped.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry as Slot;

/// A watcher event for one row type, independent of kube-rs.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchUpdate<T> {
    Init,
    InitApply(T),
    InitDone,
    Apply(T),
    Delete(T),
}

/// Anything that can be kept in a `RowStore`.
pub trait Keyed {
    /// Unique and sort key: (namespace, name).
    fn key(&self) -> (&str, &str);
}

impl Keyed for super::PodRow {
    fn key(&self) -> (&str, &str) {
        (&self.namespace, &self.name)
    }
}

impl Keyed for super::DeploymentRow {
    fn key(&self) -> (&str, &str) {
        (&self.namespace, &self.name)
    }
}

/// `namespace NUL name`: one allocation per row, and it sorts as (namespace, name) does,
/// because NUL sorts before every byte a Kubernetes name may hold.
fn joined(namespace: &str, name: &str) -> String {
    let mut key = String::with_capacity(namespace.len() + 1 + name.len());
    key.push_str(namespace);
    key.push('\0');
    key.push_str(name);
    key
}

#[derive(Debug, Clone)]
pub struct RowStore<T> {
    rows: BTreeMap<String, Entry<T>>,
    epoch: u32,
    /// Bumped on every change; views cache on it.
    version: u64,
    listed: bool,
}

#[derive(Debug, Clone)]
struct Entry<T> {
    epoch: u32,
    row: T,
}

impl<T> Default for RowStore<T> {
    fn default() -> Self {
        RowStore {
            rows: BTreeMap::new(),
            epoch: 0,
            version: 0,
            listed: false,
        }
    }
}

impl<T: Keyed + PartialEq> RowStore<T> {
    /// Applies one watch update; returns whether anything visible changed.
    pub fn apply(&mut self, update: WatchUpdate<T>) -> bool {
        let changed = match update {
            WatchUpdate::Init => {
                self.epoch = self.epoch.wrapping_add(1);
                false
            }
            WatchUpdate::InitApply(row) | WatchUpdate::Apply(row) => self.upsert(row),
            WatchUpdate::InitDone => {
                let epoch = self.epoch;
                let before = self.rows.len();
                self.rows.retain(|_, e| e.epoch == epoch);
                let first = !self.listed;
                self.listed = true;
                first || self.rows.len() != before
            }
            WatchUpdate::Delete(row) => {
                let (ns, name) = row.key();
                self.rows.remove(&joined(ns, name)).is_some()
            }
        };
        if changed {
            self.version += 1;
        }
        changed
    }

    fn upsert(&mut self, row: T) -> bool {
        let epoch = self.epoch;
        let (ns, name) = row.key();
        match self.rows.entry(joined(ns, name)) {
            Slot::Occupied(mut slot) => {
                let entry = slot.get_mut();
                entry.epoch = epoch;
                if entry.row == row {
                    return false;
                }
                entry.row = row;
            }
            Slot::Vacant(slot) => {
                slot.insert(Entry { epoch, row });
            }
        }
        true
    }
}

impl<T> RowStore<T> {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Whether a complete list has arrived at least once.
    pub fn listed(&self) -> bool {
        self.listed
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    /// Rows in (namespace, name) order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        self.rows.values().map(|e| &e.row)
    }

    /// Rows of `namespace` whose name starts with `prefix`, in name order: one range
    /// of the ordered map, so a workload's pods cost O(log n + k), not a full scan.
    pub fn with_name_prefix<'a>(
        &'a self,
        namespace: &'a str,
        prefix: &'a str,
    ) -> impl Iterator<Item = &'a T> + 'a {
        let start = joined(namespace, prefix);
        let ns_len = namespace.len();
        self.rows
            .range(start..)
            .take_while(move |(key, _)| {
                key.as_bytes().get(ns_len) == Some(&0)
                    && key.get(..ns_len) == Some(namespace)
                    && key
                        .get(ns_len + 1..)
                        .is_some_and(|name| name.starts_with(prefix))
            })
            .map(|(_, e)| &e.row)
    }

    pub fn get(&self, namespace: &str, name: &str) -> Option<&T> {
        self.rows.get(&joined(namespace, name)).map(|e| &e.row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct R(&'static str, u32);
    impl Keyed for R {
        fn key(&self) -> (&str, &str) {
            ("ns", self.0)
        }
    }

    #[test]
    fn relist_drops_rows_not_seen_again_and_shows_rows_before_done() {
        let mut s = RowStore::default();
        s.apply(WatchUpdate::Init);
        s.apply(WatchUpdate::InitApply(R("a", 1)));
        assert_eq!(s.len(), 1, "first page visible before InitDone");
        s.apply(WatchUpdate::InitApply(R("b", 1)));
        assert!(s.apply(WatchUpdate::InitDone));
        assert!(s.listed());

        s.apply(WatchUpdate::Init);
        s.apply(WatchUpdate::InitApply(R("b", 2)));
        assert_eq!(s.len(), 2, "old rows stay until the relist completes");
        assert!(s.apply(WatchUpdate::InitDone));
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![&R("b", 2)]);
    }

    #[derive(Debug, Clone, PartialEq)]
    struct N(&'static str, &'static str);
    impl Keyed for N {
        fn key(&self) -> (&str, &str) {
            (self.0, self.1)
        }
    }

    #[test]
    fn name_prefix_is_one_range_of_one_namespace() {
        let mut s = RowStore::default();
        for (ns, name) in [
            ("a", "web-1"),
            ("a", "web-2"),
            ("a", "webhook-1"),
            ("a", "api-1"),
            ("b", "web-3"),
        ] {
            s.apply(WatchUpdate::Apply(N(ns, name)));
        }
        let names: Vec<_> = s.with_name_prefix("a", "web-").map(|r| r.1).collect();
        assert_eq!(names, ["web-1", "web-2"]);
        assert_eq!(s.with_name_prefix("c", "web-").count(), 0);
    }

    #[test]
    fn unchanged_apply_reports_no_change() {
        let mut s = RowStore::default();
        assert!(s.apply(WatchUpdate::Apply(R("a", 1))));
        let v = s.version();
        assert!(!s.apply(WatchUpdate::Apply(R("a", 1))));
        assert_eq!(s.version(), v);
        assert!(s.apply(WatchUpdate::Delete(R("a", 1))));
        assert!(!s.apply(WatchUpdate::Delete(R("a", 1))));
    }
}
