//! PATCH bodies: JSON patch (RFC 6902) and merge patch (RFC 7386) through the `json-patch`
//! crate, and Kubernetes strategic merge patch for the built-in kinds (merge keys and the
//! `$patch`, `$setElementOrder`, `$retainKeys`, `$deleteFromPrimitiveList` directives).

use serde_json::{Map, Value};

/// The patch types the server accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Json,
    Merge,
    Strategic,
}

/// What a custom resource accepts (no strategic merge).
pub const ACCEPTED_CUSTOM: &str =
    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml";
pub const ACCEPTED: &str = "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json";

impl PatchType {
    /// From a request Content-Type (parameters ignored).
    pub fn from_content_type(ct: &str) -> Option<Self> {
        match ct.split(';').next().unwrap_or("").trim() {
            "application/json-patch+json" => Some(PatchType::Json),
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            _ => None,
        }
    }
}

/// Why a patch was not applied, in the API server's words.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    /// The body is not a patch of its type: a 400.
    #[error("error decoding patch: {0}")]
    Decode(#[source] serde_json::Error),
    /// A merge or strategic merge patch that is not an object: a 400.
    #[error("error decoding patch: {0} must be a JSON object")]
    NotAnObject(&'static str),
    /// A JSON patch operation that failed on this object (a `test`, a missing path): a 422.
    #[error("the server rejected our request due to an error in our request: {0}")]
    Rejected(#[source] json_patch::PatchError),
}

/// Applies a patch body to `doc`.
pub fn apply(doc: &mut Value, ty: PatchType, body: &[u8]) -> Result<(), PatchError> {
    match ty {
        PatchType::Json => {
            let p: json_patch::Patch = serde_json::from_slice(body).map_err(PatchError::Decode)?;
            json_patch::patch(doc, &p.0).map_err(PatchError::Rejected)
        }
        PatchType::Merge => {
            let p: Value = serde_json::from_slice(body).map_err(PatchError::Decode)?;
            if !p.is_object() {
                return Err(PatchError::NotAnObject("merge patch"));
            }
            json_patch::merge(doc, &p);
            Ok(())
        }
        PatchType::Strategic => {
            let p: Value = serde_json::from_slice(body).map_err(PatchError::Decode)?;
            let Some(pm) = p.as_object() else {
                return Err(PatchError::NotAnObject("strategic merge patch"));
            };
            if !doc.is_object() {
                *doc = Value::Object(Map::new());
            }
            if let Some(dm) = doc.as_object_mut() {
                merge_map(dm, pm);
            }
            Ok(())
        }
    }
}

/// The merge key of a list field, or None for lists replaced wholesale.
fn merge_key(field: &str, target: &[Value], patch: &[Value]) -> Option<&'static str> {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "resourceClaims" => Some("name"),
        "volumeMounts" => Some("mountPath"),
        "volumeDevices" => Some("devicePath"),
        "conditions" => Some("type"),
        "ownerReferences" => Some("uid"),
        "hostAliases" => Some("ip"),
        "topologySpreadConstraints" => Some("topologyKey"),
        "ports" => {
            let has = |l: &[Value]| l.iter().any(|e| e.get("containerPort").is_some());
            if has(target) || has(patch) {
                Some("containerPort")
            } else {
                Some("port")
            }
        }
        _ => None,
    }
}

fn is_directive(k: &str) -> bool {
    k.starts_with('$')
}

/// A patch value with directives removed, for inserting where nothing exists yet.
fn strip(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, v)| !is_directive(k) && !v.is_null())
                .map(|(k, v)| (k.clone(), strip(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(
            a.iter()
                .filter(|e| e.get("$patch").is_none())
                .map(strip)
                .collect(),
        ),
        other => other.clone(),
    }
}

fn merge_map(target: &mut Map<String, Value>, patch: &Map<String, Value>) {
    if patch.get("$patch").and_then(Value::as_str) == Some("replace") {
        if let Value::Object(m) = strip(&Value::Object(patch.clone())) {
            *target = m;
        }
        return;
    }
    if let Some(keys) = patch.get("$retainKeys").and_then(Value::as_array) {
        let keep: Vec<&str> = keys.iter().filter_map(Value::as_str).collect();
        target.retain(|k, _| keep.contains(&k.as_str()));
    }
    let mut orders = Vec::new();
    for (k, pv) in patch {
        if let Some(field) = k.strip_prefix("$setElementOrder/") {
            orders.push((field, pv));
            continue;
        }
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(t)), Some(del)) = (target.get_mut(field), pv.as_array()) {
                t.retain(|e| !del.contains(e));
            }
            continue;
        }
        if is_directive(k) {
            continue;
        }
        if pv.is_null() {
            target.remove(k);
            continue;
        }
        match (target.get_mut(k), pv) {
            (Some(Value::Object(tm)), Value::Object(pm)) => {
                if pm.get("$patch").and_then(Value::as_str) == Some("delete") {
                    target.remove(k);
                } else {
                    merge_map(tm, pm);
                }
            }
            (Some(Value::Array(ta)), Value::Array(pa)) => merge_list(k, ta, pa),
            (None, Value::Object(pm))
                if pm.get("$patch").and_then(Value::as_str) == Some("delete") => {}
            _ => {
                target.insert(k.clone(), strip(pv));
            }
        }
    }
    for (field, order) in orders {
        if let (Some(Value::Array(t)), Some(order)) = (target.get_mut(field), order.as_array()) {
            reorder(field, t, order);
        }
    }
}

fn merge_list(field: &str, target: &mut Vec<Value>, patch: &[Value]) {
    if field == "finalizers" {
        for p in patch {
            if !target.contains(p) {
                target.push(p.clone());
            }
        }
        return;
    }
    let Some(key) = merge_key(field, target, patch) else {
        *target = patch.iter().map(strip).collect();
        return;
    };
    if patch
        .iter()
        .any(|e| e.get("$patch").and_then(Value::as_str) == Some("replace"))
    {
        *target = patch
            .iter()
            .filter(|e| e.get("$patch").is_none())
            .map(strip)
            .collect();
        return;
    }
    for pe in patch {
        let Some(pm) = pe.as_object() else {
            continue;
        };
        let kv = pm.get(key);
        let pos = target.iter().position(|t| kv.is_some() && t.get(key) == kv);
        if pm.get("$patch").and_then(Value::as_str) == Some("delete") {
            if let Some(i) = pos {
                target.remove(i);
            }
            continue;
        }
        match pos.and_then(|i| target.get_mut(i)) {
            Some(Value::Object(tm)) => merge_map(tm, pm),
            _ => target.push(strip(pe)),
        }
    }
}

fn reorder(field: &str, target: &mut Vec<Value>, order: &[Value]) {
    let Some(key) = merge_key(field, target, order) else {
        return;
    };
    let mut rest = std::mem::take(target);
    for o in order {
        if let Some(i) = rest
            .iter()
            .position(|t| t.get(key).is_some() && t.get(key) == o.get(key))
        {
            target.push(rest.remove(i));
        }
    }
    target.extend(rest);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deploy() -> Value {
        json!({"metadata": {"name": "web", "labels": {"app": "web"}},
               "spec": {"replicas": 3, "template": {"metadata": {"labels": {"app": "web"}},
                 "spec": {"containers": [
                    {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                     "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}]},
                    {"name": "side", "image": "side:1"}]}}}})
    }

    fn sp(doc: &mut Value, p: Value) {
        apply(doc, PatchType::Strategic, p.to_string().as_bytes()).unwrap();
    }

    #[test]
    fn strategic_rollout_restart_and_set_image() {
        let mut d = deploy();
        sp(
            &mut d,
            json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}}}}}),
        );
        assert_eq!(
            d["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"],
            "2026-01-01T00:00:00Z"
        );
        assert_eq!(d["spec"]["template"]["metadata"]["labels"]["app"], "web");
        // kubectl set image
        sp(
            &mut d,
            json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "app"}, {"name": "side"}],
            "containers": [{"image": "app:2", "name": "app"}]}}}}),
        );
        let cs = &d["spec"]["template"]["spec"]["containers"];
        assert_eq!(cs[0]["image"], "app:2");
        assert_eq!(cs[0]["env"][1]["value"], "2");
        assert_eq!(cs[1]["image"], "side:1");
    }

    #[test]
    fn strategic_lists_by_key_and_directives() {
        let mut d = deploy();
        sp(
            &mut d,
            json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}, {"name": "A", "$patch": "delete"}],
             "ports": [{"containerPort": 9090, "name": "metrics"}]},
            {"name": "side", "$patch": "delete"}]}}}}),
        );
        let c = &d["spec"]["template"]["spec"]["containers"];
        assert_eq!(c.as_array().unwrap().len(), 1);
        assert_eq!(
            c[0]["env"],
            json!([{"name": "B", "value": "3"}, {"name": "C", "value": "4"}])
        );
        assert_eq!(c[0]["ports"].as_array().unwrap().len(), 2);
        sp(
            &mut d,
            json!({"metadata": {"labels": {"app": null, "x": "y"}}, "spec": {"replicas": 5}}),
        );
        assert_eq!(d["metadata"]["labels"], json!({"x": "y"}));
        assert_eq!(d["spec"]["replicas"], 5);
        sp(
            &mut d,
            json!({"metadata": {"labels": {"$patch": "replace", "only": "me"}}}),
        );
        assert_eq!(d["metadata"]["labels"], json!({"only": "me"}));
        // Lists without a merge key are replaced.
        let mut o = json!({"spec": {"args": ["a", "b"]}});
        sp(&mut o, json!({"spec": {"args": ["c"]}}));
        assert_eq!(o["spec"]["args"], json!(["c"]));
        let mut f = json!({"metadata": {"finalizers": ["a", "b"]}});
        sp(
            &mut f,
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"], "finalizers": ["c"]}}),
        );
        assert_eq!(f["metadata"]["finalizers"], json!(["b", "c"]));
    }

    #[test]
    fn merge_and_json_patch() {
        let mut d = deploy();
        apply(
            &mut d,
            PatchType::Merge,
            br#"{"spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"x"}]}}}}"#,
        )
        .unwrap();
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"],
            json!([{"name": "x"}])
        );
        apply(&mut d, PatchType::Json, br#"[{"op":"replace","path":"/spec/replicas","value":7},{"op":"add","path":"/metadata/labels/z","value":"1"}]"#).unwrap();
        assert_eq!(d["spec"]["replicas"], 7);
        assert_eq!(d["metadata"]["labels"]["z"], "1");
        assert!(
            apply(
                &mut d,
                PatchType::Json,
                br#"[{"op":"test","path":"/spec/replicas","value":1}]"#
            )
            .is_err()
        );
        assert!(apply(&mut d, PatchType::Merge, b"not json").is_err());
        assert!(apply(&mut d, PatchType::Strategic, b"[1]").is_err());
        assert_eq!(
            PatchType::from_content_type("application/merge-patch+json; charset=utf-8"),
            Some(PatchType::Merge)
        );
    }
}
