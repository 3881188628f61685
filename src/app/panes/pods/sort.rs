//! The pods pane's order: by namespace and name (the store's own order), or by what an
//! on-call engineer hunts for: most restarts, newest, or trouble first. The other
//! orders are kept as an ordered index updated per change (O(log n)), never by sorting
//! 50,000 rows on a frame.

use std::collections::{BTreeSet, HashMap};

use crate::domain::{PodPhase, PodRow, RowStore, WatchUpdate};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PodSort {
    #[default]
    Name,
    Restarts,
    Newest,
    Trouble,
}

impl PodSort {
    /// The next order for the sort key to cycle to.
    pub fn next(self) -> PodSort {
        match self {
            PodSort::Name => PodSort::Restarts,
            PodSort::Restarts => PodSort::Newest,
            PodSort::Newest => PodSort::Trouble,
            PodSort::Trouble => PodSort::Name,
        }
    }

    /// For the pane title.
    pub fn label(self) -> &'static str {
        match self {
            PodSort::Name => "by name",
            PodSort::Restarts => "most restarts first",
            PodSort::Newest => "newest first",
            PodSort::Trouble => "trouble first",
        }
    }

    /// Where a row sorts: its rank, then namespace and name.
    pub fn key(self, pod: &PodRow) -> (i64, &str, &str) {
        (self.rank(pod), &pod.namespace, &pod.name)
    }

    /// Rows sort by this, then by namespace and name; smaller comes first.
    fn rank(self, pod: &PodRow) -> i64 {
        match self {
            PodSort::Name => 0,
            PodSort::Restarts => -i64::from(pod.restarts),
            PodSort::Newest => pod.created.map_or(0, |t| -t.as_second()),
            PodSort::Trouble => trouble(pod),
        }
    }
}

/// Terminating and failing pods first, then not ready, pending, ready, completed.
fn trouble(pod: &PodRow) -> i64 {
    if pod.phase == PodPhase::Failed || pod.reason.is_some() && !pod.is_ready() {
        0
    } else if pod.deleting {
        1
    } else if pod.phase == PodPhase::Running && !pod.is_ready() {
        2
    } else if pod.phase == PodPhase::Pending || pod.phase == PodPhase::Unknown {
        3
    } else if pod.phase == PodPhase::Succeeded {
        5
    } else {
        4
    }
}

type Key = (i64, String, String);

/// Pods of one environment in a `PodSort` order other than by name.
#[derive(Debug, Clone, Default)]
pub struct PodSortIndex {
    sort: PodSort,
    env: usize,
    /// The store version the index matches.
    version: u64,
    order: BTreeSet<Key>,
    /// Each pod's current rank, to find its old place when it changes.
    ranks: HashMap<(String, String), i64>,
}

impl PodSortIndex {
    pub fn is_current(&self, env: usize, sort: PodSort, pods: &RowStore<PodRow>) -> bool {
        self.env == env && self.sort == sort && self.version == pods.version()
    }

    pub fn rebuild(&mut self, env: usize, sort: PodSort, pods: &RowStore<PodRow>) {
        self.order.clear();
        self.ranks.clear();
        if sort != PodSort::Name {
            for pod in pods.iter() {
                self.insert(sort, pod);
            }
        }
        self.env = env;
        self.sort = sort;
        self.version = pods.version();
    }

    fn insert(&mut self, sort: PodSort, pod: &PodRow) {
        let rank = sort.rank(pod);
        let id = (pod.namespace.clone(), pod.name.clone());
        if let Some(old) = self.ranks.insert(id.clone(), rank) {
            self.order.remove(&(old, id.0.clone(), id.1.clone()));
        }
        self.order.insert((rank, id.0, id.1));
    }

    fn remove(&mut self, namespace: &str, name: &str) {
        let id = (namespace.to_owned(), name.to_owned());
        if let Some(old) = self.ranks.remove(&id) {
            self.order.remove(&(old, id.0, id.1));
        }
    }

    /// Mirrors one update of `env`'s pods, which the caller has just applied to `pods`;
    /// only called when the index matched the store before that update.
    pub fn follow(&mut self, env: usize, pods: &RowStore<PodRow>, update: &WatchUpdate<PodRow>) {
        if self.sort == PodSort::Name || self.env != env {
            return;
        }
        self.version = pods.version();
        match update {
            WatchUpdate::InitApply(row) | WatchUpdate::Apply(row) => self.insert(self.sort, row),
            WatchUpdate::Delete(row) => self.remove(&row.namespace, &row.name),
            WatchUpdate::Init => {}
            // A relist drops the rows it did not see again.
            WatchUpdate::InitDone => {
                let gone: Vec<(String, String)> = self
                    .ranks
                    .keys()
                    .filter(|(ns, name)| pods.get(ns, name).is_none())
                    .cloned()
                    .collect();
                for (ns, name) in gone {
                    self.remove(&ns, &name);
                }
            }
        }
    }

    /// Rows in this order.
    pub fn rows<'a>(&'a self, pods: &'a RowStore<PodRow>) -> impl Iterator<Item = &'a PodRow> {
        self.order
            .iter()
            .filter_map(|(_, ns, name)| pods.get(ns, name))
    }
}
