//! Server-side field validation (`fieldValidation=Strict|Warn|Ignore`): fields the kind's
//! schema does not declare. The schema is k8s-openapi's generated type: an object decoded
//! into it and encoded again keeps exactly the declared fields, so any non-null field of the
//! request that the round trip drops is unknown. Custom resources are not checked (their
//! CRDs in the simulator carry no schema).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::resources::{self, ResourceDef};
use crate::status::ApiError;

/// What the client asked the server to do with unknown fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    Ignore,
    /// Accept, answering with a `Warning` header per field (the server's default).
    Warn,
    Strict,
}

impl FieldValidation {
    pub fn parse(v: Option<&str>) -> Result<Self, ApiError> {
        match v {
            None | Some("") | Some("Warn") => Ok(FieldValidation::Warn),
            Some("Ignore") => Ok(FieldValidation::Ignore),
            Some("Strict") => Ok(FieldValidation::Strict),
            Some(other) => Err(ApiError::bad_request(format!(
                "fieldValidation must be one of \"Ignore\", \"Warn\", or \"Strict\", got {other:?}"
            ))),
        }
    }
}

fn roundtrip<T: DeserializeOwned + Serialize>(obj: &Value) -> Option<Value> {
    let typed = T::deserialize(obj).ok()?;
    serde_json::to_value(typed).ok()
}

/// The typed round trip of a built-in kind, or None for kinds without a Rust type.
fn typed(def: &ResourceDef, obj: &Value) -> Option<Value> {
    use k8s_openapi::api::{apps::v1 as apps, batch::v1 as batch, core::v1 as core};
    match def.id {
        resources::PODS => roundtrip::<core::Pod>(obj),
        resources::SERVICES => roundtrip::<core::Service>(obj),
        resources::CONFIGMAPS => roundtrip::<core::ConfigMap>(obj),
        resources::NAMESPACES => roundtrip::<core::Namespace>(obj),
        resources::EVENTS => roundtrip::<core::Event>(obj),
        resources::SECRETS => roundtrip::<core::Secret>(obj),
        resources::SERVICEACCOUNTS => roundtrip::<core::ServiceAccount>(obj),
        resources::NODES => roundtrip::<core::Node>(obj),
        resources::DEPLOYMENTS => roundtrip::<apps::Deployment>(obj),
        resources::REPLICASETS => roundtrip::<apps::ReplicaSet>(obj),
        resources::JOBS => roundtrip::<batch::Job>(obj),
        _ => None,
    }
}

fn walk(sent: &Value, kept: &Value, path: &str, out: &mut Vec<String>) {
    match (sent, kept) {
        (Value::Object(s), Value::Object(k)) => {
            for (key, v) in s {
                if v.is_null() {
                    continue;
                }
                let p = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match k.get(key) {
                    Some(kv) => walk(v, kv, &p, out),
                    None => out.push(p),
                }
            }
        }
        (Value::Array(s), Value::Array(k)) => {
            for (i, (sv, kv)) in s.iter().zip(k).enumerate() {
                walk(sv, kv, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Paths of the fields in `obj` its kind does not declare (`spec.template.spec.containers[0].imagez`).
pub fn unknown_fields(def: &ResourceDef, obj: &Value) -> Vec<String> {
    let Some(kept) = typed(def, obj) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    walk(obj, &kept, "", &mut out);
    out
}

/// Applies the directive to the unknown fields of `obj`: the error for Strict, else the
/// warnings to send back (none for Ignore).
pub fn check(
    def: &ResourceDef,
    obj: &Value,
    mode: FieldValidation,
) -> Result<Vec<String>, ApiError> {
    if mode == FieldValidation::Ignore {
        return Ok(Vec::new());
    }
    let unknown = unknown_fields(def, obj);
    if unknown.is_empty() {
        return Ok(Vec::new());
    }
    let fields: Vec<String> = unknown
        .iter()
        .map(|f| format!("unknown field \"{f}\""))
        .collect();
    if mode == FieldValidation::Strict {
        return Err(ApiError::bad_request(format!(
            "{} in version \"{}\" cannot be handled as a {}: strict decoding error: {}",
            def.kind,
            def.version,
            def.kind,
            fields.join(", ")
        )));
    }
    Ok(fields)
}

/// A `Warning` header value (RFC 7234 style, code 299, as the API server sends).
pub fn warning_header(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
    format!("299 - \"{escaped}\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{CONFIGMAPS, DEPLOYMENTS, ROLLOUTS, def};
    use serde_json::json;

    #[test]
    fn finds_undeclared_fields_only() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"any-key": "x"}, "creationTimestamp": null},
            "spec": {"replicas": 1, "bogus": true, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                    {"name": "a", "image": "x:1", "imagez": "y", "resources": {"limits": {"cpu": "1"}}}]}}}});
        assert_eq!(
            unknown_fields(def(DEPLOYMENTS), &d),
            ["spec.bogus", "spec.template.spec.containers[0].imagez"]
        );
        let e = check(def(DEPLOYMENTS), &d, FieldValidation::Strict).unwrap_err();
        assert_eq!(e.code, 400);
        assert_eq!(
            e.message,
            "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.bogus\", unknown field \"spec.template.spec.containers[0].imagez\""
        );
        let w = check(def(DEPLOYMENTS), &d, FieldValidation::Warn).unwrap();
        assert_eq!(w[0], "unknown field \"spec.bogus\"");
        assert_eq!(
            warning_header(&w[0]),
            "299 - \"unknown field \\\"spec.bogus\\\"\""
        );
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}});
        assert!(unknown_fields(def(CONFIGMAPS), &cm).is_empty());
        assert!(unknown_fields(def(ROLLOUTS), &json!({"spec": {"anything": 1}})).is_empty());
        assert!(FieldValidation::parse(Some("Loud")).is_err());
    }
}
