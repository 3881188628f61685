//! The object store: per-resource `BTreeMap<(namespace, name), Entry>` of compact serialized
//! JSON plus a few extracted index fields, one global resourceVersion counter, a bounded
//! change history for watch resumption and a broadcast fan-out of each change, serialized once.

pub mod index;
pub mod patch;
pub mod selector;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::broadcast;

use crate::resources::{RESOURCES, ResourceDef};
use crate::status::ApiError;
pub use crate::store::index::{Meta, extract_meta};

/// One stored object.
#[derive(Debug, Clone)]
pub struct Entry {
    pub json: Bytes,
    pub meta: Arc<Meta>,
}

impl Entry {
    /// Parses the stored JSON (only when a controller or a patch needs it).
    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.json).unwrap_or(Value::Null)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    Added,
    Modified,
    Deleted,
}

impl ChangeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Added => "ADDED",
            ChangeType::Modified => "MODIFIED",
            ChangeType::Deleted => "DELETED",
        }
    }
}

/// A change, fanned out to every watcher as one `Arc`.
#[derive(Debug)]
pub struct Change {
    pub rv: u64,
    pub ty: ChangeType,
    pub entry: Entry,
    /// Index fields of the previous version (MODIFIED), so a selector watch can turn a change
    /// that leaves or enters the selection into DELETED or ADDED as the real server does.
    pub prev: Option<Arc<Meta>>,
}

/// How a write treats an existing object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    Create,
    /// Update; with `Some(rv)` the stored rv must match (else 409 Conflict).
    Update(Option<u64>),
}

/// Where a watch starts.
pub enum WatchStart {
    /// Current objects as synthetic ADDED, then live changes.
    Snapshot(Vec<Entry>, u64),
    /// Changes after the requested rv, replayed from history, then live.
    Replay(Vec<Arc<Change>>, u64),
}

struct Inner {
    rv: u64,
    tables: Vec<BTreeMap<(String, String), Entry>>,
    history: VecDeque<Arc<Change>>,
    /// The rv of the newest change dropped from history; resuming before it is 410.
    compacted: u64,
}

/// The shared store.
pub struct Store {
    inner: Mutex<Inner>,
    /// First pages of paged lists, so later pages are consistent (see `paging.rs`).
    pub snapshots: crate::api::paging::Snapshots,
    tx: broadcast::Sender<Arc<Change>>,
    history_cap: usize,
}

fn key(ns: &str, name: &str) -> (String, String) {
    (ns.to_string(), name.to_string())
}

impl Store {
    pub fn new(history_cap: usize, fanout_cap: usize) -> Self {
        Self::starting_at(0, history_cap, fanout_cap)
    }

    /// A store whose resourceVersions start after `base`, with nothing before it
    /// resumable. Seeding `base` from the wall clock makes a restarted simulator
    /// answer a client's resume from the previous run with 410 Expired, so the
    /// client relists — as a real API server does once its history is compacted.
    pub fn starting_at(base: u64, history_cap: usize, fanout_cap: usize) -> Self {
        let (tx, _) = broadcast::channel(fanout_cap.max(16));
        Store {
            snapshots: Default::default(),
            inner: Mutex::new(Inner {
                rv: base,
                tables: RESOURCES.iter().map(|_| BTreeMap::new()).collect(),
                history: VecDeque::new(),
                compacted: base,
            }),
            tx,
            history_cap: history_cap.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The latest resourceVersion.
    pub fn current_rv(&self) -> u64 {
        self.lock().rv
    }

    /// A receiver of all future changes.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.tx.subscribe()
    }

    pub fn get(&self, def: &ResourceDef, ns: &str, name: &str) -> Option<Entry> {
        self.lock().tables[def.id].get(&key(ns, name)).cloned()
    }

    /// Lists objects (one namespace via a range scan, or all), filtered on index fields.
    pub fn list(
        &self,
        def: &ResourceDef,
        ns: Option<&str>,
        filter: impl Fn(&Meta) -> bool,
    ) -> (u64, Vec<Entry>) {
        let (rv, items, _) = self.list_page(def, ns, None, usize::MAX, filter);
        (rv, items)
    }

    /// One page of a list: at most `limit` objects after the key `after` (namespace, name),
    /// and whether more follow (`limit`/`continue` paging).
    pub fn list_page(
        &self,
        def: &ResourceDef,
        ns: Option<&str>,
        after: Option<(String, String)>,
        limit: usize,
        filter: impl Fn(&Meta) -> bool,
    ) -> (u64, Vec<Entry>, bool) {
        use std::ops::Bound;
        let g = self.lock();
        let t = &g.tables[def.id];
        let lower = match (&after, ns) {
            (Some(k), _) => Bound::Excluded(k.clone()),
            (None, Some(ns)) => Bound::Included(key(ns, "")),
            (None, None) => Bound::Unbounded,
        };
        let mut it = t
            .range((lower, Bound::Unbounded))
            .take_while(|((n, _), _)| ns.is_none_or(|ns| n == ns))
            .filter(|(_, e)| filter(&e.meta));
        let items: Vec<Entry> = it.by_ref().take(limit).map(|(_, e)| e.clone()).collect();
        let more = it.next().is_some();
        (g.rv, items, more)
    }

    fn publish(&self, g: &mut Inner, change: Arc<Change>) {
        g.history.push_back(change.clone());
        while g.history.len() > self.history_cap {
            if let Some(old) = g.history.pop_front() {
                g.compacted = old.rv;
            }
        }
        // No receivers is fine.
        let _ = self.tx.send(change);
    }

    /// Stores `obj` (setting its resourceVersion), publishing ADDED or MODIFIED.
    pub fn write(
        &self,
        def: &ResourceDef,
        obj: &mut Value,
        mode: WriteMode,
    ) -> Result<Entry, ApiError> {
        let ns = obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
        let mut g = self.lock();
        let k = (ns, name);
        let existing = g.tables[def.id].get(&k);
        let prev = existing.map(|e| e.meta.clone());
        let ty = match (mode, existing) {
            (WriteMode::Create, Some(_)) => return Err(ApiError::already_exists(def, &k.1)),
            (WriteMode::Create, None) => ChangeType::Added,
            (WriteMode::Update(_), None) => return Err(ApiError::not_found(def, &k.1)),
            (WriteMode::Update(Some(rv)), Some(e)) if e.meta.rv != rv => {
                return Err(ApiError::conflict(def, &k.1));
            }
            (WriteMode::Update(_), Some(_)) => ChangeType::Modified,
        };
        g.rv += 1;
        let rv = g.rv;
        obj["metadata"]["resourceVersion"] = Value::String(rv.to_string());
        let json =
            Bytes::from(serde_json::to_vec(obj).map_err(|e| ApiError::internal(e.to_string()))?);
        let entry = Entry {
            json,
            meta: Arc::new(extract_meta(def, obj, rv)),
        };
        g.tables[def.id].insert(k, entry.clone());
        self.publish(
            &mut g,
            Arc::new(Change {
                rv,
                ty,
                entry: entry.clone(),
                prev,
            }),
        );
        Ok(entry)
    }

    /// Removes an object, publishing DELETED with a new resourceVersion. `uid` is a precondition.
    pub fn delete(
        &self,
        def: &ResourceDef,
        ns: &str,
        name: &str,
        uid: Option<&str>,
    ) -> Result<Entry, ApiError> {
        let mut g = self.lock();
        let k = key(ns, name);
        match g.tables[def.id].get(&k) {
            None => return Err(ApiError::not_found(def, name)),
            Some(e) if uid.is_some_and(|u| u != &*e.meta.uid) => {
                return Err(ApiError::conflict(def, name));
            }
            Some(_) => {}
        }
        let Some(old) = g.tables[def.id].remove(&k) else {
            return Err(ApiError::not_found(def, name));
        };
        g.rv += 1;
        let rv = g.rv;
        let mut v = old.value();
        v["metadata"]["resourceVersion"] = Value::String(rv.to_string());
        let json = serde_json::to_vec(&v).map(Bytes::from).unwrap_or(old.json);
        let mut meta = (*old.meta).clone();
        meta.rv = rv;
        let entry = Entry {
            json,
            meta: Arc::new(meta),
        };
        self.publish(
            &mut g,
            Arc::new(Change {
                rv,
                ty: ChangeType::Deleted,
                entry: entry.clone(),
                prev: None,
            }),
        );
        Ok(entry)
    }

    /// Drops the whole change history: every resume from an older version is now 410.
    pub fn compact(&self) {
        self.snapshots.clear();
        let mut g = self.lock();
        g.history.clear();
        g.compacted = g.rv;
    }

    /// Starts a watch atomically with its subscription, so no change falls in between.
    /// `from` = None means a snapshot of current objects; `Some(rv)` replays after rv or fails
    /// with 410 Expired when history no longer reaches back that far.
    pub fn watch(
        &self,
        def: &ResourceDef,
        ns: Option<&str>,
        from: Option<u64>,
        filter: impl Fn(&Meta) -> bool,
    ) -> Result<(WatchStart, broadcast::Receiver<Arc<Change>>), ApiError> {
        let g = self.lock();
        let rx = self.tx.subscribe();
        let in_scope =
            |e: &Entry| e.meta.def == def.id && ns.is_none_or(|n| &*e.meta.namespace == n);
        match from {
            None => {
                let t = &g.tables[def.id];
                let items = match ns {
                    Some(n) => t
                        .range(key(n, "")..)
                        .take_while(|((x, _), _)| x == n)
                        .map(|(_, e)| e)
                        .filter(|e| filter(&e.meta))
                        .cloned()
                        .collect(),
                    None => t.values().filter(|e| filter(&e.meta)).cloned().collect(),
                };
                Ok((WatchStart::Snapshot(items, g.rv), rx))
            }
            Some(rv) => {
                // A version this store never issued (from an earlier run of the
                // simulator) cannot be resumed either.
                if rv < g.compacted || rv > g.rv {
                    let oldest = g.history.front().map(|c| c.rv).unwrap_or(g.rv);
                    return Err(ApiError::expired(rv, oldest));
                }
                let start = g.history.partition_point(|c| c.rv <= rv);
                let replay = g
                    .history
                    .range(start..)
                    .filter(|c| in_scope(&c.entry))
                    .cloned()
                    .collect();
                Ok((WatchStart::Replay(replay, g.rv), rx))
            }
        }
    }
}

#[cfg(test)]
mod tests;
