//! The event recorder: core/v1 Events named `<involved>.<hex>` as the controllers and the
//! kubelet write them, plus their expiry after an hour of simulated time.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::Shared;
use crate::clock::fmt_time;
use crate::objects::new_uid;
use crate::resources::{EVENTS, def};
use crate::store::WriteMode;

static SEQ: AtomicU64 = AtomicU64::new(0);

/// Who reports an event.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub component: &'a str,
    pub host: Option<&'a str>,
}

/// Describes one event about `obj`.
pub struct NewEvent<'a> {
    pub obj: &'a Value,
    pub field_path: Option<String>,
    pub reason: &'a str,
    pub message: String,
    pub warning: bool,
    pub source: Source<'a>,
}

/// Records events and remembers them for expiry.
#[derive(Default)]
pub struct Recorder {
    recorded: VecDeque<(Timestamp, String, String)>,
}

/// Events live an hour on a real API server (`--event-ttl`).
const TTL: SignedDuration = SignedDuration::from_secs(3600);

impl Recorder {
    pub fn record(&mut self, shared: &Shared, ev: NewEvent<'_>) {
        if !shared.events_enabled() {
            return;
        }
        let now = shared.clock.now();
        let md = &ev.obj["metadata"];
        let ns = md["namespace"].as_str().unwrap_or("default").to_string();
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        let nanos = now.as_nanosecond() as u64;
        let name = format!(
            "{}.{:x}",
            md["name"].as_str().unwrap_or(""),
            nanos.wrapping_add(seq)
        );
        let mut involved = json!({
            "kind": ev.obj["kind"], "namespace": ns, "name": md["name"], "uid": md["uid"],
            "apiVersion": ev.obj["apiVersion"], "resourceVersion": md["resourceVersion"],
        });
        if let Some(fp) = &ev.field_path {
            involved["fieldPath"] = json!(fp);
        }
        let mut source = json!({"component": ev.source.component});
        if let Some(h) = ev.source.host {
            source["host"] = json!(h);
        }
        let t = fmt_time(now);
        let mut e = json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": ns, "uid": new_uid(), "creationTimestamp": t},
            "involvedObject": involved,
            "reason": ev.reason,
            "message": ev.message,
            "type": if ev.warning { "Warning" } else { "Normal" },
            "source": source,
            "firstTimestamp": t,
            "lastTimestamp": t,
            "count": 1,
            "eventTime": null,
            "reportingComponent": ev.source.component,
            "reportingInstance": ev.source.host.unwrap_or(""),
        });
        if shared
            .store
            .write(def(EVENTS), &mut e, WriteMode::Create)
            .is_ok()
        {
            self.recorded.push_back((now, ns, name));
        }
    }

    /// Deletes events older than the TTL.
    pub fn expire(&mut self, shared: &Shared) {
        let now = shared.clock.now();
        while let Some((t, _, _)) = self.recorded.front() {
            if now.duration_since(*t) < TTL {
                break;
            }
            if let Some((_, ns, name)) = self.recorded.pop_front() {
                let _ = shared.store.delete(def(EVENTS), &ns, &name, None);
            }
        }
    }
}
