//! The application watch: list, then follow the server-sent event stream
//! (`GET /api/v1/stream/applications`, shared/reference/03 §4); on any failure, back off,
//! list again in full and reopen the stream, so the state converges whatever was missed.

use std::time::Duration;

use futures::StreamExt;
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{ArgoClient, ArgoError};
use crate::domain::{AppRow, WatchUpdate};

/// Splits an SSE byte stream into event payloads: `data:` lines accumulate, a blank
/// line dispatches, `:` comment lines (the 15 s keepalive) are ignored.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    data: String,
    has_data: bool,
}

impl SseParser {
    /// Feeds bytes; returns the payloads completed by them.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        for &b in bytes {
            if b != b'\n' {
                self.line.push(b);
                continue;
            }
            if self.line.last() == Some(&b'\r') {
                self.line.pop();
            }
            let line = String::from_utf8_lossy(&self.line).into_owned();
            self.line.clear();
            if line.is_empty() {
                if self.has_data {
                    out.push(std::mem::take(&mut self.data));
                    self.has_data = false;
                }
            } else if line.starts_with(':') {
                // keepalive comment
            } else if let Some(rest) = line.strip_prefix("data:") {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(rest.strip_prefix(' ').unwrap_or(rest));
                self.has_data = true;
            }
            // Other fields (event:, id:, retry:) are not used by Argo CD.
        }
        out
    }
}

/// One event of the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    Added(AppRow),
    Modified(AppRow),
    Deleted(AppRow),
}

impl StreamEvent {
    /// Decodes one payload: `{"result":{"type","application"}}`, or the in-stream error
    /// `{"error":{"grpc_code","http_code","message",…}}`.
    pub fn decode(payload: &str) -> Result<Option<StreamEvent>, ArgoError> {
        #[derive(Deserialize)]
        struct Result_ {
            #[serde(rename = "type", default)]
            kind: String,
            application: Option<AppRow>,
        }
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct StreamError {
            message: Option<String>,
            http_code: Option<u16>,
        }
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct Envelope {
            result: Option<Result_>,
            error: Option<StreamError>,
        }
        let env: Envelope = serde_json::from_str(payload).map_err(|e| ArgoError::Decode {
            message: format!("stream event: {e}"),
        })?;
        if let Some(err) = env.error {
            let message = err.message.unwrap_or_else(|| "stream error".into());
            let status = err.http_code.unwrap_or(500);
            let body = serde_json::json!({"message": message}).to_string();
            return Err(ArgoError::from_response(status, body.as_bytes()));
        }
        let Some(r) = env.result else { return Ok(None) };
        let Some(app) = r.application else {
            return Ok(None);
        };
        Ok(match r.kind.as_str() {
            "ADDED" => Some(StreamEvent::Added(app)),
            "MODIFIED" => Some(StreamEvent::Modified(app)),
            "DELETED" => Some(StreamEvent::Deleted(app)),
            _ => None,
        })
    }
}

/// An open event stream.
pub struct EventStream {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    parser: SseParser,
    pending: std::collections::VecDeque<String>,
    idle: Duration,
}

impl EventStream {
    pub(super) fn new(resp: reqwest::Response, idle: Duration) -> Self {
        EventStream {
            body: resp.bytes_stream().boxed(),
            parser: SseParser::default(),
            pending: Default::default(),
            idle,
        }
    }

    /// The next event; `Ok(None)` when the server closed the stream. A server silent
    /// for longer than the idle deadline (keepalives included) is an error.
    pub async fn next(&mut self) -> Result<Option<StreamEvent>, ArgoError> {
        loop {
            while let Some(payload) = self.pending.pop_front() {
                if let Some(ev) = StreamEvent::decode(&payload)? {
                    return Ok(Some(ev));
                }
            }
            let chunk = match tokio::time::timeout(self.idle, self.body.next()).await {
                Err(_) => return Err(ArgoError::Timeout { after: self.idle }),
                Ok(None) => return Ok(None),
                Ok(Some(Err(e))) => return Err(ArgoError::from_reqwest(&e, self.idle)),
                Ok(Some(Ok(c))) => c,
            };
            self.pending.extend(self.parser.push(&chunk));
        }
    }
}

/// What the watch reports: row updates with re-list semantics, or why it is down.
// Apps move through the channel once; boxing would add an allocation per event.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum WatchItem {
    Update(WatchUpdate<AppRow>),
    Down(ArgoError),
}

/// Exponential backoff with jitter: 0.5 s, 1 s, 2 s … capped at 30 s.
fn backoff(attempt: u32) -> Duration {
    let base = 500u64.saturating_mul(1u64 << attempt.min(6)).min(30_000);
    Duration::from_millis(base / 2 + fastrand::u64(0..=base / 2))
}

/// Starts the watch of every application on the server. It runs until the receiver is
/// dropped or the handle aborted.
pub fn spawn_watch(client: ArgoClient) -> (JoinHandle<()>, mpsc::Receiver<WatchItem>) {
    let (tx, rx) = mpsc::channel(256);
    let handle = tokio::spawn(async move {
        let mut attempt = 0u32;
        loop {
            if !run_once(&client, &tx, &mut attempt).await {
                return;
            }
            if tx.is_closed() {
                return;
            }
            tokio::time::sleep(backoff(attempt)).await;
            attempt = attempt.saturating_add(1);
        }
    });
    (handle, rx)
}

/// One list + stream cycle. Returns false when the receiver is gone.
async fn run_once(client: &ArgoClient, tx: &mpsc::Sender<WatchItem>, attempt: &mut u32) -> bool {
    let send = |item| async { tx.send(item).await.is_ok() };
    let list = match client.list().await {
        Ok(l) => l,
        Err(e) => return send(WatchItem::Down(e)).await,
    };
    // A full relist: rows not seen again are dropped on InitDone.
    if !send(WatchItem::Update(WatchUpdate::Init)).await {
        return false;
    }
    for app in list.items {
        if !send(WatchItem::Update(WatchUpdate::InitApply(app))).await {
            return false;
        }
    }
    if !send(WatchItem::Update(WatchUpdate::InitDone)).await {
        return false;
    }
    // No resourceVersion: the server starts with an ADDED per app, which covers changes
    // between the list and the stream (applied as upserts).
    let mut stream = match client.open_stream().await {
        Ok(s) => s,
        Err(e) => return send(WatchItem::Down(e)).await,
    };
    *attempt = 0;
    loop {
        let item = match stream.next().await {
            Ok(Some(StreamEvent::Added(a))) | Ok(Some(StreamEvent::Modified(a))) => {
                WatchItem::Update(WatchUpdate::Apply(a))
            }
            Ok(Some(StreamEvent::Deleted(a))) => WatchItem::Update(WatchUpdate::Delete(a)),
            // Closed by the server: relist and reopen after a short pause.
            Ok(None) => return true,
            Err(e) => return send(WatchItem::Down(e)).await,
        };
        if !send(item).await {
            return false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_framing_across_chunks_with_keepalives() {
        let mut p = SseParser::default();
        assert!(p.push(b":\n\ndata: {\"a\"").is_empty());
        assert_eq!(p.push(b":1}\r\n\r\n"), vec!["{\"a\":1}".to_owned()]);
        assert_eq!(
            p.push(b"data: x\ndata: y\n\n:\n\n"),
            vec!["x\ny".to_owned()]
        );
    }

    #[test]
    fn stream_payloads_decode() {
        let ev = StreamEvent::decode(
            r#"{"result":{"type":"MODIFIED","application":{"metadata":{"name":"a","namespace":"argocd"}}}}"#,
        )
        .unwrap();
        assert!(matches!(ev, Some(StreamEvent::Modified(a)) if a.name == "a"));
        let err = StreamEvent::decode(
            r#"{"error":{"grpc_code":16,"http_code":401,"message":"invalid session: token is expired","http_status":"Unauthorized"}}"#,
        )
        .unwrap_err();
        assert!(matches!(err, ArgoError::Unauthorized { message } if message.contains("expired")));
        assert_eq!(
            StreamEvent::decode(r#"{"result":{"type":"BOOKMARK"}}"#).unwrap(),
            None
        );
        assert!(backoff(20) <= Duration::from_secs(30));
    }
}
