//! Admission for writes: the create preparation (names, uid, timestamps, initial status),
//! the update merge (status-subresource rules, server-owned metadata, generation bump),
//! defaulting and validation, shared by the HTTP handlers and the controllers.

use serde_json::{Value, json};

use crate::Shared;
use crate::clock::fmt_time;
use crate::objects::{
    apply_defaults, content_changed, has_generation, new_uid, rand_suffix, spec_changed, validate,
};
use crate::resources::{self, ResourceDef, def as def_of};
use crate::status::ApiError;

pub fn check_type(def: &ResourceDef, obj: &Value) -> Result<(), ApiError> {
    if let Some(av) = obj.get("apiVersion").and_then(Value::as_str)
        && av != def.api_version()
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({av}) does not match the expected API version ({})",
            def.api_version()
        )));
    }
    if let Some(k) = obj.get("kind").and_then(Value::as_str)
        && k != def.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({k}) does not match the expected kind ({})",
            def.kind
        )));
    }
    Ok(())
}

/// Prepares a new object as the API server does on create (name, uid, timestamps, defaults).
pub fn prepare_create(
    shared: &Shared,
    def: &ResourceDef,
    ns: Option<&str>,
    obj: &mut Value,
) -> Result<(), ApiError> {
    check_type(def, obj)?;
    obj["apiVersion"] = json!(def.api_version());
    obj["kind"] = json!(def.kind);
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    let md = &mut obj["metadata"];
    if let Some(ns) = ns {
        match md.get("namespace").and_then(Value::as_str) {
            Some(x) if !x.is_empty() && x != ns => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            _ => md["namespace"] = json!(ns),
        }
        if shared
            .store
            .get(def_of(resources::NAMESPACES), "", ns)
            .is_none()
        {
            return Err(ApiError::not_found(def_of(resources::NAMESPACES), ns));
        }
    } else if let Some(m) = md.as_object_mut() {
        m.remove("namespace");
    }
    let name = md.get("name").and_then(Value::as_str).unwrap_or("");
    if name.is_empty()
        && let Some(g) = md
            .get("generateName")
            .and_then(Value::as_str)
            .filter(|g| !g.is_empty())
    {
        md["name"] = json!(format!("{g}{}", rand_suffix(5)));
    }
    md["uid"] = json!(new_uid());
    md["creationTimestamp"] = json!(fmt_time(shared.clock.now()));
    if let Some(m) = md.as_object_mut() {
        for k in [
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "managedFields",
            "selfLink",
        ] {
            m.remove(k);
        }
    }
    if has_generation(def) {
        md["generation"] = json!(1);
    }
    match def.id {
        resources::PODS => {
            let qos = if obj
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .is_some_and(|cs| {
                    cs.iter().all(|c| {
                        c.pointer("/resources/limits").is_some()
                            && c.pointer("/resources/requests") == c.pointer("/resources/limits")
                    })
                }) {
                "Guaranteed"
            } else if obj
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .is_some_and(|cs| {
                    cs.iter().any(|c| {
                        c.pointer("/resources/requests").is_some()
                            || c.pointer("/resources/limits").is_some()
                    })
                })
            {
                "Burstable"
            } else {
                "BestEffort"
            };
            obj["status"] = json!({"phase": "Pending", "qosClass": qos});
        }
        resources::DEPLOYMENTS | resources::REPLICASETS => obj["status"] = json!({}),
        _ => {}
    }
    apply_defaults(def, obj);
    drop_null_template_time(obj);
    validate(def, obj)
}

/// Go clients serialize an unset template time as `creationTimestamp: null` (kubectl's
/// `rollout undo` sends it); the real server's decoder drops it, so template comparisons
/// (which ReplicaSet a rollback re-uses) must not see it either.
fn drop_null_template_time(obj: &mut Value) {
    if let Some(md) = obj
        .pointer_mut("/spec/template/metadata")
        .and_then(Value::as_object_mut)
        && md.get("creationTimestamp").is_some_and(Value::is_null)
    {
        md.remove("creationTimestamp");
    }
}

/// Merges a proposed new object with the stored one per the status-subresource rules,
/// keeps server-owned metadata, defaults, bumps generation and validates.
pub fn finish_update(
    def: &ResourceDef,
    sub: Option<&str>,
    old: &Value,
    mut new: Value,
) -> Result<Value, ApiError> {
    if def.has_status() {
        if sub == Some("status") {
            let status = new.get("status").cloned().unwrap_or(Value::Null);
            new = old.clone();
            new["status"] = status;
        } else if let Some(m) = new.as_object_mut() {
            match old.get("status") {
                Some(s) => {
                    m.insert("status".into(), s.clone());
                }
                None => {
                    m.remove("status");
                }
            }
        }
    }
    new["apiVersion"] = old["apiVersion"].clone();
    new["kind"] = old["kind"].clone();
    if !new.get("metadata").is_some_and(Value::is_object) {
        new["metadata"] = json!({});
    }
    for k in [
        "uid",
        "creationTimestamp",
        "namespace",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
    ] {
        match old["metadata"].get(k) {
            Some(v) => new["metadata"][k] = v.clone(),
            None => {
                if let Some(m) = new["metadata"].as_object_mut() {
                    m.remove(k);
                }
            }
        }
    }
    if new["metadata"]["name"] != old["metadata"]["name"] {
        return Err(ApiError::bad_request(
            "the name of the object does not match the name on the URL",
        ));
    }
    apply_defaults(def, &mut new);
    drop_null_template_time(&mut new);
    // Without a status subresource (Argo CD Applications) status writes bump it too.
    let changed = if def.has_status() {
        spec_changed(old, &new)
    } else {
        content_changed(old, &new)
    };
    if has_generation(def) && changed {
        let g = old["metadata"]["generation"].as_i64().unwrap_or(1);
        new["metadata"]["generation"] = json!(g + 1);
    }
    validate(def, &new)?;
    Ok(new)
}
