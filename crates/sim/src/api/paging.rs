//! `limit` / `continue` paging of lists. The continue token is, as on the real server, an
//! opaque base64 JSON `{"v":"meta.k8s.io/v1","rv":N,"start":"ns/name"}`.
//!
//! Consistency: etcd serves every page of a paged list at the first page's revision. The
//! simulator keeps no old versions, so a first page that has more to come keeps the whole
//! selected list (entries share the stored bytes) as a snapshot keyed by kind, namespace,
//! selectors and resourceVersion; later pages are cut from it. Snapshots live five minutes
//! (etcd's default compaction interval) and at most `MAX_SNAPSHOTS` are kept; a compaction
//! (`SimHandle::expire_watches`, the expire-watches fault) drops them all. Continuing from a
//! snapshot that is gone answers 410 Expired with the real message and, like the API server,
//! a continue token with `rv: -1` that goes on from the current state (inconsistently).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::api::ApiRequest;
use crate::status::ApiError;
use crate::store::{Entry, Meta};

const MAX_SNAPSHOTS: usize = 8;
const SNAPSHOT_TTL: Duration = Duration::from_secs(300);

/// The API server's message for a continue token whose revision was compacted.
pub const INCONSISTENT_CONTINUE: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/// The page a list request asks for.
pub struct Page {
    pub limit: usize,
    pub after: Option<(String, String)>,
    /// The resourceVersion of the first page, when continuing; -1 continues from the
    /// current state.
    pub rv: Option<i64>,
}

fn bad_token() -> ApiError {
    ApiError::bad_request(
        "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
    )
}

/// A continue token after `(ns, name)` at `rv`.
pub fn encode(rv: i64, ns: &str, name: &str) -> String {
    let start = format!("{ns}/{name}");
    STANDARD.encode(json!({"v": "meta.k8s.io/v1", "rv": rv, "start": start}).to_string())
}

impl Page {
    pub fn from_request(req: &ApiRequest) -> Result<Self, ApiError> {
        let limit = match req.query.get("limit") {
            None | Some("") | Some("0") => usize::MAX,
            Some(l) => l
                .parse::<usize>()
                .map_err(|_| ApiError::bad_request(format!("invalid limit: {l:?}")))?,
        };
        let Some(token) = req.query.get("continue").filter(|c| !c.is_empty()) else {
            return Ok(Page {
                limit,
                after: None,
                rv: None,
            });
        };
        let raw = STANDARD.decode(token).map_err(|_| bad_token())?;
        let v: Value = serde_json::from_slice(&raw).map_err(|_| bad_token())?;
        let start = v["start"].as_str().ok_or_else(bad_token)?;
        let (ns, name) = start.split_once('/').ok_or_else(bad_token)?;
        let rv = v["rv"].as_i64().filter(|r| *r == -1 || *r > 0);
        Ok(Page {
            limit,
            after: Some((ns.to_string(), name.to_string())),
            rv: Some(rv.ok_or_else(bad_token)?),
        })
    }

    /// The token that continues after `last`.
    pub fn token(&self, rv: i64, last: &Meta) -> String {
        encode(rv, &last.namespace, &last.name)
    }
}

/// What a snapshot was taken of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotKey {
    pub def: usize,
    pub ns: Option<String>,
    pub labels: String,
    pub fields: String,
    pub rv: u64,
}

impl SnapshotKey {
    pub fn of(req: &ApiRequest, rv: u64) -> Self {
        SnapshotKey {
            def: req.def.id,
            ns: req.ns.clone(),
            labels: req.query.get("labelSelector").unwrap_or("").to_string(),
            fields: req.query.get("fieldSelector").unwrap_or("").to_string(),
            rv,
        }
    }
}

/// One kept list: what it is of, when it was taken, its entries in key order.
type Snapshot = (SnapshotKey, Instant, Arc<Vec<Entry>>);

/// The kept first-page lists of paged lists.
#[derive(Default)]
pub struct Snapshots {
    inner: Mutex<VecDeque<Snapshot>>,
}

impl Snapshots {
    pub fn keep(&self, key: SnapshotKey, items: Arc<Vec<Entry>>) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.retain(|(k, made, _)| *k != key && made.elapsed() < SNAPSHOT_TTL);
        while g.len() >= MAX_SNAPSHOTS {
            g.pop_front();
        }
        g.push_back((key, Instant::now(), items));
    }

    pub fn find(&self, key: &SnapshotKey) -> Option<Arc<Vec<Entry>>> {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.iter()
            .find(|(k, made, _)| k == key && made.elapsed() < SNAPSHOT_TTL)
            .map(|(_, _, items)| items.clone())
    }

    pub fn clear(&self) {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// One page of a snapshot: at most `limit` entries after `after`, and whether more follow.
pub fn cut(items: &[Entry], after: Option<&(String, String)>, limit: usize) -> (Vec<Entry>, bool) {
    let start = match after {
        None => 0,
        Some((ns, name)) => items.partition_point(|e| {
            (&*e.meta.namespace, &*e.meta.name) <= (ns.as_str(), name.as_str())
        }),
    };
    let rest = &items[start.min(items.len())..];
    let page: Vec<Entry> = rest.iter().take(limit).cloned().collect();
    let more = rest.len() > page.len();
    (page, more)
}

/// The 410 for a continue token whose snapshot is gone, carrying the token that goes on
/// from the current state.
pub fn expired_status(after: &(String, String)) -> Value {
    let mut s = ApiError::new(410, "Expired", INCONSISTENT_CONTINUE).to_status();
    s["metadata"]["continue"] = json!(encode(-1, &after.0, &after.1));
    s
}
