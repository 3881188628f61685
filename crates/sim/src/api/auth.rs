//! Who may do what: bearer-token users (the admin, and a `viewer` that reads everything and
//! writes nothing in production namespaces or at cluster scope), the authorizer run on every
//! request, and the review endpoints kubectl uses — SelfSubjectAccessReview (JSON, or the
//! protobuf body kubectl ≥ 1.32 sends, decoded with `k8s-pb`) and SelfSubjectReview.

use prost::Message;
use serde_json::{Value, json};

use crate::status::ApiError;

/// Name of the viewer user; its token is `SimOptions::viewer_token`.
pub const VIEWER: &str = "viewer";

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub groups: Vec<String>,
    pub admin: bool,
}

impl User {
    pub fn admin(name: &str) -> Self {
        User {
            name: name.into(),
            groups: vec!["system:masters".into(), "system:authenticated".into()],
            admin: true,
        }
    }

    pub fn viewer() -> Self {
        User {
            name: VIEWER.into(),
            groups: vec!["rollcall:viewers".into(), "system:authenticated".into()],
            admin: false,
        }
    }
}

/// One request as the authorizer sees it (RBAC's resource attributes).
#[derive(Debug, Default, Clone)]
pub struct Attributes {
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
}

const READS: &[&str] = &["get", "list", "watch"];
/// Subresources that run something in a pod: the viewer's roles leave them out.
const INTO_PODS: &[&str] = &["exec", "attach", "portforward"];

/// Production namespaces, where the viewer may change nothing.
pub fn is_prod(ns: &str) -> bool {
    ns == "prod" || ns.ends_with("-prod")
}

/// No rule allows the request. Its words are never sent: the caller answers with
/// `forbidden` or `allowed: false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("denied: no RBAC rule allows the request")]
pub struct Denied;

/// The policy: admin may do anything; the viewer may read anything, and write only inside
/// non-production namespaces, and never run anything in a pod (`pods/exec`, `attach`,
/// `portforward`). Returns the RBAC-style reason when allowed.
pub fn authorize(user: &User, a: &Attributes) -> Result<String, Denied> {
    if user.admin {
        return Ok(
            "RBAC: allowed by ClusterRoleBinding \"cluster-admin\" of ClusterRole \"cluster-admin\" to Group \"system:masters\"".into(),
        );
    }
    if a.resource == "pods" && INTO_PODS.contains(&a.subresource.as_str()) {
        return Err(Denied);
    }
    let read = READS.contains(&a.verb.as_str());
    if read || (!a.namespace.is_empty() && !is_prod(&a.namespace)) {
        let (kind, name) = if read {
            ("ClusterRoleBinding", "rollcall-viewers")
        } else {
            ("RoleBinding", "rollcall-viewers-edit")
        };
        return Ok(format!(
            "RBAC: allowed by {kind} \"{name}\" of ClusterRole \"{}\" to Group \"rollcall:viewers\"",
            if read { "view" } else { "edit" }
        ));
    }
    Err(Denied)
}

/// The real server's Forbidden Status for a denied request.
pub fn forbidden(user: &User, a: &Attributes) -> ApiError {
    let res = if a.subresource.is_empty() {
        a.resource.clone()
    } else {
        format!("{}/{}", a.resource, a.subresource)
    };
    let qualified = if a.group.is_empty() {
        a.resource.clone()
    } else {
        format!("{}.{}", a.resource, a.group)
    };
    let target = if a.name.is_empty() {
        qualified
    } else {
        format!("{qualified} \"{}\"", a.name)
    };
    let scope = if a.namespace.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace \"{}\"", a.namespace)
    };
    let mut e = ApiError::new(
        403,
        "Forbidden",
        format!(
            "{target} is forbidden: User \"{}\" cannot {} resource \"{res}\" in API group \"{}\" {scope}",
            user.name, a.verb, a.group
        ),
    );
    let mut d = json!({"name": a.name, "kind": a.resource});
    if !a.group.is_empty() {
        d["group"] = json!(a.group);
    }
    e.details = Some(d);
    e
}

/// The RBAC verb of a request.
pub fn verb_of(method: &axum::http::Method, named: bool, watch: bool) -> &'static str {
    match *method {
        axum::http::Method::GET if named => "get",
        axum::http::Method::GET if watch => "watch",
        axum::http::Method::GET => "list",
        axum::http::Method::POST => "create",
        axum::http::Method::PUT => "update",
        axum::http::Method::PATCH => "patch",
        axum::http::Method::DELETE if named => "delete",
        axum::http::Method::DELETE => "deletecollection",
        _ => "get",
    }
}

/// The protobuf envelope magic (`k8s\0`).
pub const PB_MAGIC: &[u8] = b"k8s\0";

/// The raw object bytes inside a protobuf envelope.
fn pb_raw(body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let rest = body
        .strip_prefix(PB_MAGIC)
        .ok_or_else(|| ApiError::bad_request("protobuf body without the k8s envelope"))?;
    let unknown = k8s_pb::apimachinery::pkg::runtime::Unknown::decode(rest)
        .map_err(|e| ApiError::bad_request(format!("error decoding request body: {e}")))?;
    Ok(unknown.raw.unwrap_or_default())
}

/// A SelfSubjectAccessReview body (JSON or protobuf) as JSON.
pub fn ssar_from_body(body: &[u8]) -> Result<Value, ApiError> {
    if !body.starts_with(PB_MAGIC) {
        let v: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding request body: {e}")))?;
        return Ok(v);
    }
    use k8s_pb::api::authorization::v1::SelfSubjectAccessReview;
    let r = SelfSubjectAccessReview::decode(pb_raw(body)?.as_slice())
        .map_err(|e| ApiError::bad_request(format!("error decoding request body: {e}")))?;
    let spec = r.spec.unwrap_or_default();
    let mut out = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "metadata": {"creationTimestamp": null}, "spec": {}});
    if let Some(ra) = spec.resource_attributes {
        let mut m = serde_json::Map::new();
        for (k, v) in [
            ("namespace", ra.namespace),
            ("verb", ra.verb),
            ("group", ra.group),
            ("version", ra.version),
            ("resource", ra.resource),
            ("subresource", ra.subresource),
            ("name", ra.name),
        ] {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                m.insert(k.into(), json!(v));
            }
        }
        out["spec"]["resourceAttributes"] = Value::Object(m);
    }
    if let Some(nr) = spec.non_resource_attributes {
        out["spec"]["nonResourceAttributes"] =
            json!({"path": nr.path.unwrap_or_default(), "verb": nr.verb.unwrap_or_default()});
    }
    Ok(out)
}

/// Answers a SelfSubjectAccessReview for `user`: the review with its `status` filled in.
pub fn review(user: &User, mut review: Value) -> Result<Value, ApiError> {
    let spec = review.get("spec").cloned().unwrap_or(Value::Null);
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let result = if let Some(ra) = spec.get("resourceAttributes").filter(|v| v.is_object()) {
        authorize(
            user,
            &Attributes {
                verb: s(ra, "verb"),
                group: s(ra, "group"),
                resource: s(ra, "resource"),
                subresource: s(ra, "subresource"),
                namespace: s(ra, "namespace"),
                name: s(ra, "name"),
            },
        )
    } else if let Some(nr) = spec.get("nonResourceAttributes").filter(|v| v.is_object()) {
        if user.admin || READS.contains(&s(nr, "verb").as_str()) {
            Ok("RBAC: allowed by ClusterRoleBinding \"system:discovery\"".into())
        } else {
            Err(Denied)
        }
    } else {
        return Err(ApiError::new(
            422,
            "Invalid",
            "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: spec.resourceAttributes: Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified",
        ));
    };
    review["apiVersion"] = json!("authorization.k8s.io/v1");
    review["kind"] = json!("SelfSubjectAccessReview");
    review["status"] = match result {
        Ok(reason) => json!({"allowed": true, "reason": reason}),
        Err(_) => json!({"allowed": false}),
    };
    Ok(review)
}

/// The SelfSubjectReview answer (`kubectl auth whoami`).
pub fn whoami(user: &User) -> Value {
    json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview",
        "metadata": {"creationTimestamp": null},
        "status": {"userInfo": {"username": user.name, "groups": user.groups}}})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(verb: &str, ns: &str) -> Attributes {
        Attributes {
            verb: verb.into(),
            group: "apps".into(),
            resource: "deployments".into(),
            namespace: ns.into(),
            name: "web".into(),
            ..Attributes::default()
        }
    }

    #[test]
    fn viewer_reads_everywhere_and_writes_outside_prod() {
        let v = User::viewer();
        assert!(authorize(&v, &attrs("list", "dictamesh-prod")).is_ok());
        assert!(authorize(&v, &attrs("patch", "dictamesh-prod")).is_err());
        assert!(authorize(&v, &attrs("patch", "dictamesh-dev")).is_ok());
        assert!(authorize(&v, &attrs("delete", "")).is_err());
        assert!(authorize(&User::admin("a"), &attrs("delete", "")).is_ok());
        let e = forbidden(&v, &attrs("patch", "dictamesh-prod"));
        assert_eq!(
            e.message,
            "deployments.apps \"web\" is forbidden: User \"viewer\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"dictamesh-prod\""
        );
    }

    #[test]
    fn protobuf_review_decodes() {
        use k8s_pb::api::authorization::v1 as az;
        use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
        let r = az::SelfSubjectAccessReview {
            spec: Some(az::SelfSubjectAccessReviewSpec {
                resource_attributes: Some(az::ResourceAttributes {
                    namespace: Some("dictamesh-prod".into()),
                    verb: Some("patch".into()),
                    group: Some("apps".into()),
                    resource: Some("deployments".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let env = Unknown {
            type_meta: Some(TypeMeta {
                api_version: Some("authorization.k8s.io/v1".into()),
                kind: Some("SelfSubjectAccessReview".into()),
            }),
            raw: Some(r.encode_to_vec()),
            ..Default::default()
        };
        let mut body = PB_MAGIC.to_vec();
        body.extend(env.encode_to_vec());
        let v = ssar_from_body(&body).unwrap();
        assert_eq!(v["spec"]["resourceAttributes"]["verb"], "patch");
        let out = review(&User::viewer(), v).unwrap();
        assert_eq!(out["status"]["allowed"], false);
        assert!(ssar_from_body(b"k8s\0\xff\xff").is_err());
    }
}
