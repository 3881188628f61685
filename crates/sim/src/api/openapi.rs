//! OpenAPI documents, just enough for kubectl's client-side checks: `/openapi/v3` (the
//! discovery of per group-version documents), `/openapi/v3/api/v1`, `/openapi/v3/apis/{g}/{v}`
//! and `/openapi/v2` (protobuf, as client-go asks for it, or JSON).
//!
//! Why not the real schemas: the upstream documents are megabytes, and k8s-openapi carries
//! Rust types, not the schemas. kubectl 1.32 needs far less. Before `apply`/`create` it asks
//! the v3 document of the object's group-version whether the PATCH operation of that kind
//! takes the `fieldValidation` query parameter; if so it sends `fieldValidation=Strict` and
//! leaves validation to the server (which the simulator does, see `fieldcheck.rs`). For
//! Namespaces it always validates client-side against the v2 document, where a kind without
//! a definition is simply not checked. `apply` looks for strategic-merge support in the v3
//! PATCH request body and, finding none declared here, computes its patch from kubectl's
//! compiled-in types, which is what the real schemas would give for built-in kinds. So the
//! documents list every served path with its operations, GVK extensions and parameters, and
//! no component schemas.

use prost::Message;
use serde_json::{Map, Value, json};

use crate::api::discovery::version;
use crate::resources::{RESOURCES, ResourceDef};

/// The query parameters of a write, as the real documents declare them.
const WRITE_PARAMS: &[&str] = &["dryRun", "fieldManager", "fieldValidation", "pretty"];

/// `api/v1` or `apis/{g}/{v}`: the key of a group-version in the v3 discovery.
fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// The group-versions served, in discovery order.
fn group_versions() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for d in RESOURCES {
        if !out.contains(&(d.group, d.version)) {
            out.push((d.group, d.version));
        }
    }
    out
}

/// Go-style operation id part: `apps` → `Apps`, `networking.istio.io` → `NetworkingIstioIo`,
/// core → `Core`.
fn camel(s: &str) -> String {
    if s.is_empty() {
        return "Core".into();
    }
    s.split(['.', '-'])
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn param(name: &str) -> Value {
    json!({"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": true}})
}

fn operation(d: &ResourceDef, verb: &str, action: &str, params: &[&str]) -> Value {
    let scope = if d.namespaced { "Namespaced" } else { "" };
    let id = format!(
        "{verb}{}{}{scope}{}",
        camel(d.group),
        camel(d.version),
        d.kind
    );
    let params: Vec<Value> = params.iter().map(|p| param(p)).collect();
    json!({
        "operationId": id,
        "parameters": params,
        "responses": {"200": {"description": "OK"}, "401": {"description": "Unauthorized"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": d.group, "version": d.version, "kind": d.kind},
    })
}

fn base(d: &ResourceDef) -> String {
    let prefix = if d.group.is_empty() {
        format!("/api/{}", d.version)
    } else {
        format!("/apis/{}/{}", d.group, d.version)
    };
    if d.namespaced {
        format!("{prefix}/namespaces/{{namespace}}/{}", d.plural)
    } else {
        format!("{prefix}/{}", d.plural)
    }
}

/// The v3 document of one group-version, or None if it is not served.
pub fn v3_document(group: &str, version: &str) -> Option<Value> {
    let defs: Vec<&ResourceDef> = RESOURCES
        .iter()
        .filter(|d| d.group == group && d.version == version)
        .collect();
    if defs.is_empty() {
        return None;
    }
    let mut paths = Map::new();
    for d in defs {
        let collection = base(d);
        paths.insert(
            collection.clone(),
            json!({
                "get": operation(d, "list", "list", &["labelSelector", "fieldSelector", "limit", "continue", "resourceVersion", "watch"]),
                "post": operation(d, "create", "post", WRITE_PARAMS),
            }),
        );
        paths.insert(
            format!("{collection}/{{name}}"),
            json!({
                "get": operation(d, "read", "get", &["pretty"]),
                "put": operation(d, "replace", "put", WRITE_PARAMS),
                "patch": operation(d, "patch", "patch", &[WRITE_PARAMS, &["force"]].concat()),
                "delete": operation(d, "delete", "delete", &["dryRun", "gracePeriodSeconds", "propagationPolicy"]),
            }),
        );
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": git_version()},
        "paths": paths,
        "components": {},
    }))
}

/// A short stable digest of a document, for the `hash` of its discovery URL.
fn digest(v: &Value) -> String {
    let bytes = serde_json::to_vec(v).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016X}")
}

/// `GET /openapi/v3`: where each group-version's document lives.
pub fn v3_discovery() -> Value {
    let mut paths = Map::new();
    for (g, v) in group_versions() {
        let key = gv_path(g, v);
        let hash = v3_document(g, v).map(|d| digest(&d)).unwrap_or_default();
        paths.insert(
            key.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={hash}")}),
        );
    }
    json!({"paths": paths})
}

/// The v3 document for a path under `/openapi/v3/` (`api/v1`, `apis/apps/v1`).
pub fn v3_for_path(rest: &str) -> Option<Value> {
    match rest
        .trim_matches('/')
        .split('/')
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["api", v] => v3_document("", v),
        ["apis", g, v] => v3_document(g, v),
        _ => None,
    }
}

/// The protobuf (gnostic `openapi_v2.Document`) fields kubectl reads; everything else is
/// left out, as absent optional fields are.
#[derive(Clone, PartialEq, prost::Message)]
struct Document {
    #[prost(string, tag = "1")]
    swagger: String,
    #[prost(message, optional, tag = "2")]
    info: Option<Info>,
    #[prost(message, optional, tag = "8")]
    paths: Option<Paths>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Info {
    #[prost(string, tag = "1")]
    title: String,
    #[prost(string, tag = "2")]
    version: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Paths {}

fn git_version() -> String {
    version()["gitVersion"].as_str().unwrap_or("").to_string()
}

/// `/openapi/v2` as protobuf: no definitions, so kubectl validates no kind against it.
pub fn v2_protobuf() -> Vec<u8> {
    Document {
        swagger: "2.0".into(),
        info: Some(Info {
            title: "Kubernetes".into(),
            version: git_version(),
        }),
        paths: Some(Paths {}),
    }
    .encode_to_vec()
}

/// `/openapi/v2` as JSON.
pub fn v2_json() -> Value {
    json!({"swagger": "2.0", "info": {"title": "Kubernetes", "version": git_version()}, "paths": {}})
}

pub const V2_PROTOBUF: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_of_each_kind_declares_field_validation() {
        let doc = v3_document("apps", "v1").unwrap();
        let p = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(p["operationId"], "patchAppsV1NamespacedDeployment");
        assert_eq!(p["x-kubernetes-group-version-kind"]["kind"], "Deployment");
        assert!(
            p["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|q| q["name"] == "fieldValidation" && q["in"] == "query")
        );
        let core = v3_document("", "v1").unwrap();
        assert!(core["paths"]["/api/v1/namespaces/{name}"].is_object());
        let disc = v3_discovery();
        let url = disc["paths"]["apis/apps/v1"]["serverRelativeURL"]
            .as_str()
            .unwrap();
        assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="));
        assert!(v3_for_path("apis/nope/v1").is_none());
        let pb = v2_protobuf();
        let back = Document::decode(pb.as_slice()).unwrap();
        assert_eq!(back.swagger, "2.0");
        assert_eq!(back.info.unwrap().title, "Kubernetes");
    }
}
