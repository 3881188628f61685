//! events.k8s.io/v1 Events: the same objects as core/v1 Events in another shape, as the API
//! server serves them (one storage, converted per request): `regarding` is `involvedObject`,
//! `note` is `message`, `reportingController` is `reportingComponent`, and the old fields
//! come back as `deprecatedSource`, `deprecatedFirstTimestamp`, `deprecatedLastTimestamp`,
//! `deprecatedCount`. Lists, gets and writes are converted here; watches in `watch.rs`.

use axum::body::Bytes;
use axum::http::Method;
use axum::response::Response;
use serde_json::{Map, Value, json};

use crate::Shared;
use crate::api::handlers;
use crate::api::{ApiRequest, error_response, json_response, value_response};
use crate::resources::{EVENTS, def};
use crate::status::ApiError;
use crate::store::patch::{self, PatchType};

/// (core field, events.k8s.io/v1 field)
const RENAMES: &[(&str, &str)] = &[
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("reportingComponent", "reportingController"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
];

fn rename(obj: &Value, api_version: &str, to_v1: bool) -> Value {
    let Some(m) = obj.as_object() else {
        return obj.clone();
    };
    let mut out = Map::new();
    for (k, v) in m {
        let k = RENAMES
            .iter()
            .find(|(core, v1)| if to_v1 { core == k } else { v1 == k })
            .map_or(k.as_str(), |(core, v1)| if to_v1 { v1 } else { core });
        if !v.is_null() {
            out.insert(k.to_string(), v.clone());
        }
    }
    out.insert("apiVersion".into(), json!(api_version));
    out.insert("kind".into(), json!("Event"));
    Value::Object(out)
}

/// A core/v1 Event as events.k8s.io/v1.
pub fn to_v1(core: &Value) -> Value {
    rename(core, "events.k8s.io/v1", true)
}

/// An events.k8s.io/v1 Event as core/v1.
pub fn to_core(v1: &Value) -> Value {
    rename(v1, "v1", false)
}

fn core_req(req: &ApiRequest, body: Bytes, content_type: &str) -> ApiRequest {
    ApiRequest {
        def: def(EVENTS),
        ns: req.ns.clone(),
        name: req.name.clone(),
        sub: req.sub.clone(),
        query: req.query.clone(),
        table: req.table,
        content_type: content_type.to_string(),
        body,
    }
}

/// Converts the JSON body of a core answer (an Event, or an EventList) to events.k8s.io/v1.
async fn convert_answer(r: Response) -> Response {
    let status = r.status();
    let Ok(bytes) = axum::body::to_bytes(r.into_body(), usize::MAX).await else {
        return error_response(&ApiError::internal("cannot read the stored events"));
    };
    let Ok(mut v) = serde_json::from_slice::<Value>(&bytes) else {
        return json_response(status.as_u16(), bytes);
    };
    match v["kind"].as_str() {
        Some("Event") => v = to_v1(&v),
        Some("EventList") => {
            v["apiVersion"] = json!("events.k8s.io/v1");
            if let Some(items) = v["items"].as_array_mut() {
                for it in items.iter_mut() {
                    *it = to_v1(it);
                }
            }
        }
        _ => {}
    }
    value_response(status.as_u16(), &v)
}

fn parse(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| ApiError::bad_request("error decoding request body: expected a JSON object"))
}

fn as_core_body(v1: &Value) -> Result<Bytes, ApiError> {
    serde_json::to_vec(&to_core(v1))
        .map(Bytes::from)
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// Serves a request for `/apis/events.k8s.io/v1/...` (watches go to `watch.rs`).
pub async fn serve(shared: &Shared, method: &Method, req: &ApiRequest) -> Response {
    let json_ct = "application/json";
    let result = match (method, req.name.is_some()) {
        (&Method::GET, true) => handlers::get(shared, &core_req(req, Bytes::new(), "")),
        (&Method::GET, false) => handlers::list(shared, &core_req(req, Bytes::new(), "")),
        (&Method::POST, false) => parse(&req.body)
            .and_then(|v| as_core_body(&v))
            .and_then(|b| handlers::create(shared, &core_req(req, b, json_ct))),
        (&Method::PUT, true) => parse(&req.body)
            .and_then(|v| as_core_body(&v))
            .and_then(|b| handlers::update(shared, &core_req(req, b, json_ct))),
        (&Method::PATCH, true) => {
            patched(shared, req).and_then(|b| handlers::update(shared, &core_req(req, b, json_ct)))
        }
        (&Method::DELETE, true) => handlers::delete(shared, &core_req(req, req.body.clone(), "")),
        _ => Err(ApiError::method_not_allowed()),
    };
    match result {
        Ok(r) if req.table => r,
        Ok(r) => convert_answer(r).await,
        Err(e) => error_response(&e),
    }
}

/// A patch applies to the events.k8s.io/v1 shape; the result is stored as core/v1.
fn patched(shared: &Shared, req: &ApiRequest) -> Result<Bytes, ApiError> {
    let ty = PatchType::from_content_type(&req.content_type)
        .ok_or_else(|| ApiError::unsupported_media(patch::ACCEPTED))?;
    let name = req.name.as_deref().unwrap_or("");
    let e = shared
        .store
        .get(def(EVENTS), req.ns.as_deref().unwrap_or(""), name)
        .ok_or_else(|| ApiError::not_found(def(crate::resources::EVENTS_V1), name))?;
    let mut v1 = to_v1(&e.value());
    patch::apply(&mut v1, ty, &req.body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    as_core_body(&v1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_both_ways() {
        let core = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "web.1", "namespace": "a"},
            "involvedObject": {"kind": "Deployment", "name": "web"}, "reason": "ScalingReplicaSet",
            "message": "Scaled up", "source": {"component": "deployment-controller"},
            "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z",
            "count": 1, "type": "Normal", "eventTime": null, "reportingComponent": "deployment-controller"});
        let v1 = to_v1(&core);
        assert_eq!(v1["apiVersion"], "events.k8s.io/v1");
        assert_eq!(v1["regarding"]["name"], "web");
        assert_eq!(v1["note"], "Scaled up");
        assert_eq!(v1["deprecatedCount"], 1);
        assert_eq!(v1["reportingController"], "deployment-controller");
        assert!(v1.get("eventTime").is_none() && v1.get("message").is_none());
        let back = to_core(&v1);
        assert_eq!(back["involvedObject"], core["involvedObject"]);
        assert_eq!(back["apiVersion"], "v1");
        assert_eq!(back["message"], "Scaled up");
    }
}
