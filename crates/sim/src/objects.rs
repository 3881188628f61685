//! Object helpers: names, uids, the pod-template hash, server-side defaulting and the small
//! amount of validation the simulator does, so stored objects have the real server's shape.

use serde_json::{Map, Value, json};

use crate::resources::{self, ResourceDef};
use crate::status::ApiError;

const SAFE_ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// `k8s.io/apimachinery/pkg/util/rand.String`: random characters from the safe alphabet.
pub fn rand_suffix(n: usize) -> String {
    (0..n)
        .map(|_| SAFE_ALPHANUMS[fastrand::usize(..SAFE_ALPHANUMS.len())] as char)
        .collect()
}

/// `rand.SafeEncodeString`: maps each byte into the safe alphabet.
pub fn safe_encode(s: &str) -> String {
    s.bytes()
        .map(|b| SAFE_ALPHANUMS[b as usize % SAFE_ALPHANUMS.len()] as char)
        .collect()
}

/// A random RFC 4122 version-4 UUID.
pub fn new_uid() -> String {
    let mut b = fastrand::u128(..).to_be_bytes();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn fnv32a(data: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in data {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The `pod-template-hash` of a pod template (FNV-32a of its canonical JSON, safe-encoded, as
/// the Deployment controller derives it). The label itself is excluded so the hash is stable.
pub fn template_hash(template: &Value, collision_count: u64) -> String {
    let mut t = template.clone();
    if let Some(l) = t
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        l.remove("pod-template-hash");
    }
    // serde_json maps are sorted (no preserve_order), so this is canonical.
    let mut bytes = serde_json::to_vec(&t).unwrap_or_default();
    if collision_count > 0 {
        bytes.extend_from_slice(collision_count.to_string().as_bytes());
    }
    safe_encode(&fnv32a(&bytes).to_string())
}

/// Templates equal ignoring `pod-template-hash` (the controller's `EqualIgnoreHash`).
pub fn templates_equal(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(l) = v
            .pointer_mut("/metadata/labels")
            .and_then(Value::as_object_mut)
        {
            l.remove("pod-template-hash");
            if l.is_empty()
                && let Some(m) = v.pointer_mut("/metadata").and_then(Value::as_object_mut)
            {
                m.remove("labels");
            }
        }
        v
    };
    strip(a) == strip(b)
}

fn set_default(m: &mut Map<String, Value>, k: &str, v: Value) {
    if m.get(k).is_none_or(Value::is_null) {
        m.insert(k.to_string(), v);
    }
}

fn obj_at<'a>(v: &'a mut Value, ptr: &str) -> Option<&'a mut Map<String, Value>> {
    v.pointer_mut(ptr).and_then(Value::as_object_mut)
}

fn default_probe(p: &mut Value) {
    if let Some(m) = p.as_object_mut() {
        set_default(m, "timeoutSeconds", json!(1));
        set_default(m, "periodSeconds", json!(10));
        set_default(m, "successThreshold", json!(1));
        set_default(m, "failureThreshold", json!(3));
        if let Some(h) = m.get_mut("httpGet").and_then(Value::as_object_mut) {
            set_default(h, "scheme", json!("HTTP"));
        }
    }
}

/// Defaults a PodSpec as the API server does (containers, policies, probes).
pub fn default_pod_spec(spec: &mut Value, is_pod: bool) {
    let Some(m) = spec.as_object_mut() else {
        return;
    };
    set_default(m, "dnsPolicy", json!("ClusterFirst"));
    set_default(m, "restartPolicy", json!("Always"));
    set_default(m, "schedulerName", json!("default-scheduler"));
    set_default(m, "securityContext", json!({}));
    set_default(m, "terminationGracePeriodSeconds", json!(30));
    if is_pod {
        set_default(m, "serviceAccountName", json!("default"));
        set_default(m, "serviceAccount", json!("default"));
        set_default(m, "enableServiceLinks", json!(true));
        set_default(m, "preemptionPolicy", json!("PreemptLowerPriority"));
        set_default(m, "priority", json!(0));
        set_default(
            m,
            "tolerations",
            json!([
                {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
                {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300}
            ]),
        );
    }
    for list in ["containers", "initContainers"] {
        let Some(cs) = m.get_mut(list).and_then(Value::as_array_mut) else {
            continue;
        };
        for c in cs.iter_mut().filter_map(Value::as_object_mut) {
            let image = c.get("image").and_then(Value::as_str).unwrap_or("");
            let tag = image.rsplit('/').next().unwrap_or("");
            let latest = !tag.contains(':') || tag.ends_with(":latest");
            set_default(
                c,
                "imagePullPolicy",
                json!(if latest { "Always" } else { "IfNotPresent" }),
            );
            set_default(c, "terminationMessagePath", json!("/dev/termination-log"));
            set_default(c, "terminationMessagePolicy", json!("File"));
            set_default(c, "resources", json!({}));
            if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
                for p in ports.iter_mut().filter_map(Value::as_object_mut) {
                    set_default(p, "protocol", json!("TCP"));
                }
            }
            for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
                if let Some(p) = c.get_mut(probe) {
                    default_probe(p);
                }
            }
        }
    }
}

/// Server-side defaulting per kind, applied on create and update.
pub fn apply_defaults(def: &ResourceDef, obj: &mut Value) {
    match def.id {
        resources::PODS => {
            if let Some(spec) = obj.get_mut("spec") {
                default_pod_spec(spec, true);
            }
        }
        resources::DEPLOYMENTS | resources::REPLICASETS => {
            if let Some(s) = obj_at(obj, "/spec") {
                set_default(s, "replicas", json!(1));
                if def.id == resources::DEPLOYMENTS {
                    set_default(s, "revisionHistoryLimit", json!(10));
                    set_default(s, "progressDeadlineSeconds", json!(600));
                    set_default(s, "strategy", json!({"type": "RollingUpdate"}));
                }
            }
            if let Some(st) = obj_at(obj, "/spec/strategy") {
                set_default(st, "type", json!("RollingUpdate"));
                if st.get("type") == Some(&json!("RollingUpdate")) {
                    set_default(st, "rollingUpdate", json!({}));
                    if let Some(ru) = st.get_mut("rollingUpdate").and_then(Value::as_object_mut) {
                        set_default(ru, "maxSurge", json!("25%"));
                        set_default(ru, "maxUnavailable", json!("25%"));
                    }
                }
            }
            if let Some(spec) = obj.pointer_mut("/spec/template/spec") {
                default_pod_spec(spec, false);
            }
        }
        resources::SERVICES => {
            if let Some(s) = obj_at(obj, "/spec") {
                set_default(s, "type", json!("ClusterIP"));
                set_default(s, "sessionAffinity", json!("None"));
                set_default(s, "ipFamilies", json!(["IPv4"]));
                set_default(s, "ipFamilyPolicy", json!("SingleStack"));
                set_default(s, "internalTrafficPolicy", json!("Cluster"));
                if s.get("clusterIP").is_none_or(Value::is_null) {
                    let ip = format!("10.43.{}.{}", fastrand::u8(0..=255), fastrand::u8(1..=254));
                    s.insert("clusterIP".into(), json!(ip));
                    s.insert("clusterIPs".into(), json!([ip]));
                }
                if let Some(ports) = s.get_mut("ports").and_then(Value::as_array_mut) {
                    for p in ports.iter_mut().filter_map(Value::as_object_mut) {
                        set_default(p, "protocol", json!("TCP"));
                        if let Some(port) = p.get("port").cloned() {
                            set_default(p, "targetPort", port);
                        }
                    }
                }
            }
            if obj.get("status").is_none() {
                obj["status"] = json!({"loadBalancer": {}});
            }
        }
        resources::NAMESPACES => {
            if obj.get("spec").is_none() {
                obj["spec"] = json!({"finalizers": ["kubernetes"]});
            }
            if obj.get("status").is_none() {
                obj["status"] = json!({"phase": "Active"});
            }
            let name = obj["metadata"]["name"].clone();
            if let Some(md) = obj_at(obj, "/metadata") {
                set_default(md, "labels", json!({}));
                if let Some(l) = md.get_mut("labels").and_then(Value::as_object_mut) {
                    l.insert("kubernetes.io/metadata.name".into(), name);
                }
            }
        }
        _ => crate::api::kinds::apply_defaults(def, obj),
    }
}

/// Validates what the simulator checks on create/update; returns a 422 on failure.
pub fn validate(def: &ResourceDef, obj: &Value) -> Result<(), ApiError> {
    typed_check(def, obj)?;
    let name = obj["metadata"]["name"].as_str().unwrap_or("");
    let mut causes: Vec<(&str, String)> = Vec::new();
    if name.is_empty() {
        causes.push((
            "metadata.name",
            "Required value: name or generateName is required".into(),
        ));
    } else if name.len() > 253
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        || name.starts_with(['-', '.'])
        || name.ends_with(['-', '.'])
    {
        causes.push((
            "metadata.name",
            format!("Invalid value: {name:?}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"),
        ));
    }
    crate::api::kinds::validate(def, obj, &mut causes);
    let containers_at = match def.id {
        resources::PODS => Some("/spec/containers"),
        resources::DEPLOYMENTS | resources::REPLICASETS | resources::JOBS => {
            Some("/spec/template/spec/containers")
        }
        _ => None,
    };
    if let Some(ptr) = containers_at
        && obj
            .pointer(ptr)
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
    {
        let field = if def.id == resources::PODS {
            "spec.containers"
        } else {
            "spec.template.spec.containers"
        };
        causes.push((field, "Required value".into()));
    }
    if matches!(def.id, resources::DEPLOYMENTS | resources::REPLICASETS) {
        let sel = obj.pointer("/spec/selector");
        match sel.map(crate::store::selector::LabelSelector::from_object) {
            None => causes.push(("spec.selector", "Required value".into())),
            Some(Err(e)) => causes.push(("spec.selector", format!("Invalid value: {e}"))),
            Some(Ok(s)) if s.is_empty() => causes.push((
                "spec.selector",
                "Invalid value: empty selector is invalid for deployment".into(),
            )),
            Some(Ok(s)) => {
                if !s.matches_json(obj.pointer("/spec/template/metadata/labels")) {
                    causes.push((
                        "spec.template.metadata.labels",
                        "Invalid value: `selector` does not match template `labels`".into(),
                    ));
                }
            }
        }
        if obj
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .is_some_and(|r| r < 0)
        {
            causes.push((
                "spec.replicas",
                "Invalid value: must be greater than or equal to 0".into(),
            ));
        }
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(def, name, &causes))
    }
}

/// Decodes the object into its k8s-openapi type, which rejects wrongly typed fields exactly
/// where the real server's decoder would (and keeps controllers from meeting odd shapes).
fn typed_check(def: &ResourceDef, obj: &Value) -> Result<(), ApiError> {
    use k8s_openapi::api::{apps::v1 as apps, batch::v1 as batch, core::v1 as core};
    fn check<T: serde::de::DeserializeOwned>(obj: &Value) -> Result<(), ApiError> {
        T::deserialize(obj)
            .map(|_| ())
            .map_err(|e| ApiError::bad_request(format!("error decoding request body: {e}")))
    }
    match def.id {
        resources::PODS => check::<core::Pod>(obj),
        resources::SERVICES => check::<core::Service>(obj),
        resources::CONFIGMAPS => check::<core::ConfigMap>(obj),
        resources::NAMESPACES => check::<core::Namespace>(obj),
        resources::EVENTS => check::<core::Event>(obj),
        resources::DEPLOYMENTS => check::<apps::Deployment>(obj),
        resources::REPLICASETS => check::<apps::ReplicaSet>(obj),
        resources::SECRETS => check::<core::Secret>(obj),
        resources::SERVICEACCOUNTS => check::<core::ServiceAccount>(obj),
        resources::NODES => check::<core::Node>(obj),
        resources::JOBS => check::<batch::Job>(obj),
        _ => Ok(()),
    }
}

/// True when anything outside `metadata` and `status` differs (bumps `metadata.generation`).
pub fn spec_changed(old: &Value, new: &Value) -> bool {
    let strip = |v: &Value| -> Map<String, Value> {
        v.as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| *k != "metadata" && *k != "status")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    strip(old) != strip(new)
}

/// True when anything outside `metadata` differs (kinds without a status subresource).
pub fn content_changed(old: &Value, new: &Value) -> bool {
    let strip = |v: &Value| -> Map<String, Value> {
        v.as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| *k != "metadata")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    strip(old) != strip(new)
}

/// Whether a kind tracks metadata.generation.
pub fn has_generation(def: &ResourceDef) -> bool {
    matches!(
        def.id,
        resources::DEPLOYMENTS
            | resources::REPLICASETS
            | resources::ROLLOUTS
            | resources::APPLICATIONS
            | resources::JOBS
            | resources::CNPG_CLUSTERS
            | resources::CNPG_BACKUPS
            | resources::VULNERABILITYREPORTS
            | resources::ANALYSISRUNS
            | resources::ANALYSISTEMPLATES
            | resources::CLUSTERANALYSISTEMPLATES
            | resources::EXPERIMENTS
            | resources::KAFKATOPICS
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{DEPLOYMENTS, def};

    #[test]
    fn hash_is_stable_and_safe() {
        let t = json!({"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "a", "image": "i:1"}]}});
        let mut t2 = t.clone();
        t2["metadata"]["labels"]["pod-template-hash"] = json!("zzz");
        let h = template_hash(&t, 0);
        assert_eq!(h, template_hash(&t2, 0));
        assert!(h.len() >= 8 && h.chars().all(|c| SAFE_ALPHANUMS.contains(&(c as u8))));
        assert_ne!(h, template_hash(&t, 1));
        assert!(templates_equal(&t, &t2));
        assert_eq!(new_uid().len(), 36);
    }

    #[test]
    fn deployment_defaults_and_validation() {
        let mut d = json!({"metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "a", "image": "x:1.0"}]}}}});
        apply_defaults(def(DEPLOYMENTS), &mut d);
        assert_eq!(d["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
            "IfNotPresent"
        );
        assert!(validate(def(DEPLOYMENTS), &d).is_ok());
        d["spec"]["template"]["metadata"]["labels"]["app"] = json!("other");
        let e = validate(def(DEPLOYMENTS), &d).unwrap_err();
        assert_eq!(e.code, 422);
    }
}
