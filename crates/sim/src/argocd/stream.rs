//! `GET /api/v1/stream/applications`: ADDED for every matching app first (unless a
//! `resourceVersion` is given without `name`), then live ADDED/MODIFIED/DELETED from the
//! store, each as `{"result":{"type","application"}}` — one JSON line, or with
//! `Accept: text/event-stream` an SSE `data: … ` event and a `:` keepalive every 15 s. An
//! event byte-identical to the last one sent for that app is dropped, as the forwarder does.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::header;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use crate::argocd::api::{ApiResult, ArgoServer, GrpcError, Req, UNKNOWN};
use crate::argocd::apps::{fields, permitted, projects};
use crate::argocd::session::Claims;
use crate::argocd::state::NAMESPACE;
use crate::resources::{APPLICATIONS, def};
use crate::store::selector::LabelSelector;
use crate::store::{ChangeType, WatchStart};

const KEEPALIVE: Duration = Duration::from_secs(15);

struct Filter {
    selector: LabelSelector,
    projects: Vec<String>,
    min_rv: u64,
}

/// The event as Go marshals `ApplicationWatchEvent`: `type` before `application`.
fn ordered(msg: &Value) -> String {
    let r = &msg["result"];
    match (r.get("type"), r.get("application")) {
        (Some(t), Some(a)) if r.as_object().is_some_and(|m| m.len() == 2) => format!(
            "{{\"result\":{{\"type\":{},\"application\":{}}}}}",
            serde_json::to_string(t).unwrap_or_default(),
            serde_json::to_string(a).unwrap_or_default()
        ),
        _ => serde_json::to_string(msg).unwrap_or_default(),
    }
}

pub fn watch(srv: Arc<ArgoServer>, _who: Claims, req: &Req) -> ApiResult {
    let selector = LabelSelector::parse(req.query.get("selector").unwrap_or("")).map_err(|e| {
        GrpcError::new(UNKNOWN, format!("error parsing labels with selectors: {e}"))
    })?;
    let sse = req
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        == Some("text/event-stream");
    let rv_param = req.query.get("resourceVersion").unwrap_or("").to_string();
    let named = req.query.get("name").is_some_and(|n| !n.is_empty());
    let filter = Filter {
        selector,
        projects: projects(req),
        min_rv: rv_param.parse().unwrap_or(0),
    };
    // The request's name/repo filters and `fields` are applied per event below.
    let probe = Req {
        method: req.method.clone(),
        query: req.query.clone(),
        raw_query: req.raw_query.clone(),
        headers: req.headers.clone(),
        body: Bytes::new(),
    };
    let (start, mut live) = srv
        .shared
        .store
        .watch(def(APPLICATIONS), Some(NAMESPACE), None, |_| true)
        .map_err(|e| GrpcError::new(13, e.message))?;
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    let mut shutdown = srv.shared.shutdown.clone();
    tokio::spawn(async move {
        let mut last: HashMap<String, Bytes> = HashMap::new();
        let send = async |ty: &str, app: Value, last: &mut HashMap<String, Bytes>| -> bool {
            let rv: u64 = app["metadata"]["resourceVersion"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            if rv < filter.min_rv
                || !filter.selector.matches_json(app["metadata"].get("labels"))
                || !permitted(&app, &probe, &filter.projects)
            {
                return true;
            }
            let name = app["metadata"]["name"].as_str().unwrap_or("").to_string();
            let msg = fields(json!({"result": {"type": ty, "application": app}}), &probe);
            let text = ordered(&msg);
            let bytes = Bytes::from(if sse {
                format!("data: {text} \n\n\n")
            } else {
                format!("{text}\n")
            });
            if last.get(&name) == Some(&bytes) {
                return true;
            }
            last.insert(name, bytes.clone());
            tx.send(Ok(bytes)).await.is_ok()
        };
        if let WatchStart::Snapshot(mut items, _) = start
            && (rv_param.is_empty() || named)
        {
            items.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
            for e in items {
                if !send("ADDED", e.value(), &mut last).await {
                    return;
                }
            }
        }
        let mut keepalive =
            tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE);
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                _ = keepalive.tick(), if sse => {
                    if tx.send(Ok(Bytes::from_static(b":\n"))).await.is_err() {
                        break;
                    }
                }
                r = live.recv() => match r {
                    Ok(c) => {
                        let m = &c.entry.meta;
                        if m.def != APPLICATIONS || &*m.namespace != NAMESPACE {
                            continue;
                        }
                        let ty = match c.ty {
                            ChangeType::Added => "ADDED",
                            ChangeType::Modified => "MODIFIED",
                            ChangeType::Deleted => "DELETED",
                        };
                        if !send(ty, c.entry.value(), &mut last).await {
                            break;
                        }
                    }
                    // Too far behind: end the stream; the client re-watches.
                    Err(broadcast::error::RecvError::Lagged(_)) => break,
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            }
        }
    });
    let content_type = if sse {
        "text/event-stream"
    } else {
        "application/json"
    };
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, content_type)
        .header("X-Content-Type-Options", "nosniff")
        .body(body)
        .map_err(|e| GrpcError::new(13, e.to_string()))
}
