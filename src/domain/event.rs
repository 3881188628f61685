//! Kubernetes Events, slimmed: what happened to which object, and when.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;

use super::wire::{MetaWire, WireTime, slim_resource, watch_meta};

#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub name: String,
    pub involved_kind: String,
    pub involved_name: String,
    pub reason: String,
    pub message: String,
    pub warning: bool,
    pub count: u32,
    pub last_seen: Option<Timestamp>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(from = "EventWire")]
pub struct WatchedEvent {
    pub meta: ObjectMeta,
    pub row: EventRow,
}

slim_resource!(WatchedEvent, "Event", "", "v1", "events");

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventWire {
    #[serde(default)]
    metadata: MetaWire,
    #[serde(default)]
    involved_object: Option<InvolvedWire>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default, rename = "type")]
    type_: Option<String>,
    #[serde(default)]
    count: Option<u32>,
    #[serde(default)]
    last_timestamp: WireTime,
    #[serde(default)]
    event_time: WireTime,
    #[serde(default)]
    first_timestamp: WireTime,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct InvolvedWire {
    kind: Option<String>,
    name: Option<String>,
}

impl From<EventWire> for WatchedEvent {
    fn from(wire: EventWire) -> Self {
        let meta = watch_meta(&wire.metadata);
        let involved = wire.involved_object.unwrap_or_default();
        let row = EventRow {
            name: wire.metadata.name.unwrap_or_default(),
            involved_kind: involved.kind.unwrap_or_default(),
            involved_name: involved.name.unwrap_or_default(),
            reason: wire.reason.unwrap_or_default(),
            message: wire.message.unwrap_or_default(),
            warning: wire.type_.as_deref() == Some("Warning"),
            count: wire.count.unwrap_or(1),
            last_seen: wire
                .last_timestamp
                .0
                .or(wire.event_time.0)
                .or(wire.first_timestamp.0)
                .or(wire.metadata.creation_timestamp.0),
        };
        WatchedEvent { meta, row }
    }
}
