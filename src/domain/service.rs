//! The Service row: what a blue/green cutover reads (the selector) and what a list of
//! Services shows (type, ports), decoded straight from the wire.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use serde_json::Value;

use super::store::Keyed;
use super::wire::{LenientVec, MetaWire, slim_resource, watch_meta};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRow {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    /// `spec.selector`: label → value (string values only; others are skipped).
    pub selector: BTreeMap<String, String>,
    /// `spec.type`; the API server defaults it to ClusterIP.
    pub type_: String,
    /// `port/protocol` per port, as `kubectl get svc` prints them (`8080/TCP`).
    pub ports: Vec<String>,
}

impl Keyed for ServiceRow {
    fn key(&self) -> (&str, &str) {
        (&self.namespace, &self.name)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(from = "ServiceWire")]
pub struct WatchedService {
    pub meta: ObjectMeta,
    pub row: ServiceRow,
}

slim_resource!(WatchedService, "Service", "", "v1", "services");

#[derive(Deserialize)]
struct ServiceWire {
    #[serde(default)]
    metadata: MetaWire,
    #[serde(default)]
    spec: Option<SpecWire>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct SpecWire {
    selector: Option<BTreeMap<String, Value>>,
    #[serde(rename = "type")]
    type_: Option<String>,
    ports: LenientVec<PortWire>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PortWire {
    port: Option<Value>,
    protocol: Option<String>,
}

impl From<ServiceWire> for WatchedService {
    fn from(w: ServiceWire) -> Self {
        let meta = watch_meta(&w.metadata);
        let spec = w.spec.unwrap_or_default();
        let selector = spec
            .selector
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(k, v)| v.as_str().map(|v| (k, v.to_owned())))
            .collect();
        let ports = spec
            .ports
            .0
            .into_iter()
            .filter_map(|p| {
                let port = match p.port? {
                    Value::Number(n) => n.to_string(),
                    Value::String(s) => s,
                    _ => return None,
                };
                Some(format!("{port}/{}", p.protocol.as_deref().unwrap_or("TCP")))
            })
            .collect();
        let row = ServiceRow {
            name: w.metadata.name.unwrap_or_default(),
            namespace: w.metadata.namespace.unwrap_or_default(),
            uid: w.metadata.uid.unwrap_or_default(),
            selector,
            type_: spec.type_.unwrap_or_else(|| "ClusterIP".into()),
            ports,
        };
        WatchedService { meta, row }
    }
}
