//! Watch streams: chunked JSON lines of `{"type","object"}` from a snapshot or a replay of the
//! change history, then live changes from the broadcast fan-out; bookmarks, timeouts,
//! selector transitions (ADDED/DELETED when an object enters/leaves the selection), streaming
//! lists (`sendInitialEvents`), one-row Tables for kubectl, and a 410 ERROR event when the
//! requested version is compacted or the watcher falls behind the fan-out buffer.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::{BufMut, Bytes, BytesMut};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use crate::Shared;
use crate::api::handlers::Filter;
use crate::api::table::{IncludeObject, to_table};
use crate::api::{ApiRequest, error_response, json_response};
use crate::resources::{self, ResourceDef};
use crate::status::ApiError;
use crate::store::{Change, ChangeType, Entry, WatchStart};

struct Writer {
    def: &'static ResourceDef,
    table: Option<IncludeObject>,
    first: bool,
    shared: Arc<Shared>,
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    /// Lines held back while a snapshot is sent, so 50,000 initial events go out as a
    /// few hundred writes rather than one write (and one TLS record) each.
    batch: Option<BytesMut>,
}

/// How many bytes of snapshot lines are sent together.
const BATCH_BYTES: usize = 64 * 1024;

fn line(ty: &str, object: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(object.len() + 32);
    b.put_slice(b"{\"type\":\"");
    b.put_slice(ty.as_bytes());
    b.put_slice(b"\",\"object\":");
    b.put_slice(object);
    b.put_slice(b"}\n");
    b.freeze()
}

impl Writer {
    /// Sends one line; false when the client has gone.
    async fn send(&mut self, ty: &str, e: &Entry) -> bool {
        let bytes = match self.table {
            None if self.def.id == resources::EVENTS_V1 => {
                let v = crate::api::events_v1::to_v1(&e.value());
                line(ty, &serde_json::to_vec(&v).unwrap_or_default())
            }
            None => line(ty, &e.json),
            Some(include) => {
                let t = to_table(
                    self.def,
                    &[e.value()],
                    e.meta.rv,
                    self.shared.clock.now(),
                    self.first,
                    include,
                );
                self.first = false;
                line(ty, &serde_json::to_vec(&t).unwrap_or_default())
            }
        };
        self.push(bytes).await
    }

    async fn send_value(&mut self, ty: &str, v: &Value) -> bool {
        let bytes = line(ty, &serde_json::to_vec(v).unwrap_or_default());
        self.push(bytes).await
    }

    /// Sends a line, or adds it to the batch while one is open.
    async fn push(&mut self, bytes: Bytes) -> bool {
        let Some(batch) = self.batch.as_mut() else {
            return self.tx.send(Ok(bytes)).await.is_ok();
        };
        batch.put_slice(&bytes);
        if batch.len() < BATCH_BYTES {
            return true;
        }
        let full = batch.split().freeze();
        self.tx.send(Ok(full)).await.is_ok()
    }

    /// Sends what the batch holds and goes back to one write per line.
    async fn end_batch(&mut self) -> bool {
        match self.batch.take() {
            Some(rest) if !rest.is_empty() => self.tx.send(Ok(rest.freeze())).await.is_ok(),
            _ => true,
        }
    }

    async fn bookmark(&mut self, rv: u64, initial_end: bool) -> bool {
        let mut md = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            md["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let obj =
            json!({"kind": self.def.kind, "apiVersion": self.def.api_version(), "metadata": md});
        self.send_value("BOOKMARK", &obj).await
    }

    async fn error(&mut self, e: &ApiError) {
        let _ = self.send_value("ERROR", &e.to_status()).await;
    }

    /// Sends a change as this watcher sees it; false when the client has gone.
    async fn change(&mut self, c: &Change, filter: &Filter, ns: Option<&str>) -> bool {
        let m = &c.entry.meta;
        if m.def != resources::storage(self.def).id || ns.is_some_and(|n| &*m.namespace != n) {
            return true;
        }
        let now = filter.matches(m);
        let ty = match c.ty {
            ChangeType::Added if now => "ADDED",
            ChangeType::Deleted if now => "DELETED",
            ChangeType::Modified => {
                let before = c.prev.as_deref().is_none_or(|p| filter.matches(p));
                match (before, now) {
                    (true, true) => "MODIFIED",
                    (false, true) => "ADDED",
                    (true, false) => "DELETED",
                    (false, false) => return true,
                }
            }
            _ => return true,
        };
        self.send(ty, &c.entry).await
    }
}

/// Handles `GET <collection>?watch=true`.
pub fn watch(shared: Arc<Shared>, req: &ApiRequest) -> Response {
    match start(shared, req) {
        Ok(r) => r,
        Err(e) => error_response(&e),
    }
}

fn start(shared: Arc<Shared>, req: &ApiRequest) -> Result<Response, ApiError> {
    let filter = Filter::from_request(req)?;
    let bookmarks = req.query.flag("allowWatchBookmarks");
    let send_initial = req.query.flag("sendInitialEvents");
    if send_initial && (req.query.get("resourceVersionMatch") != Some("NotOlderThan") || !bookmarks)
    {
        return Err(ApiError::invalid(
            req.def,
            "",
            &[("sendInitialEvents", "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan and allowWatchBookmarks".into())],
        ));
    }
    if send_initial && shared.faults.watch_list_off() {
        return Err(ApiError::invalid(
            req.def,
            "",
            &[("sendInitialEvents", "Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled".into())],
        ));
    }
    let from = match req.query.get("resourceVersion") {
        None | Some("") | Some("0") => None,
        Some(_) if send_initial => None,
        Some(r) => Some(
            r.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {r}")))?,
        ),
    };
    let timeout = req
        .query
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(1800));
    let ns = req.ns.clone();
    let def = req.def;
    let table = req
        .table
        .then(|| IncludeObject::parse(req.query.get("includeObject")));
    let started = shared
        .store
        .watch(resources::storage(def), ns.as_deref(), from, |m| {
            filter.matches(m)
        });
    let (tx, rx) = mpsc::channel(16);
    let mut w = Writer {
        def,
        table,
        first: true,
        shared: shared.clone(),
        tx,
        batch: None,
    };
    let mut shutdown = shared.shutdown.clone();
    let mut expire = shared.expire.subscribe();
    let mut dropper = shared.faults.drop_watches.subscribe();
    tokio::spawn(async move {
        let (begin, mut live) = match started {
            Ok(x) => x,
            Err(e) => {
                w.error(&e).await;
                return;
            }
        };
        let mut last_rv = match begin {
            WatchStart::Snapshot(items, rv) => {
                w.batch = Some(BytesMut::with_capacity(BATCH_BYTES + 8 * 1024));
                for e in &items {
                    if !w.send("ADDED", e).await {
                        return;
                    }
                }
                if send_initial && !w.bookmark(rv, true).await {
                    return;
                }
                if !w.end_batch().await {
                    return;
                }
                rv
            }
            WatchStart::Replay(changes, rv) => {
                for c in &changes {
                    if !w.change(c, &filter, ns.as_deref()).await {
                        return;
                    }
                }
                rv
            }
        };
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let every = w.shared.bookmark_interval;
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            tokio::select! {
                _ = &mut deadline => break,
                _ = shutdown.changed() => break,
                _ = w.tx.closed() => break,
                // Fault injection: the connection just ends, as when a proxy cuts it.
                _ = dropper.changed() => break,
                _ = expire.changed() => {
                    w.error(&ApiError::expired(last_rv, w.shared.store.current_rv())).await;
                    break;
                }
                r = live.recv() => match r {
                    Ok(c) => {
                        last_rv = c.rv;
                        if !w.change(&c, &filter, ns.as_deref()).await {
                            break;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        // Too slow for the fan-out buffer: make the client relist.
                        w.error(&ApiError::expired(last_rv, w.shared.store.current_rv())).await;
                        break;
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                _ = ticks.tick(), if bookmarks && w.table.is_none() => {
                    if !w.bookmark(last_rv, false).await {
                        break;
                    }
                }
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    Ok(json_response(200, Body::from_stream(stream)))
}
