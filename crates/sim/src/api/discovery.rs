//! Discovery documents: `/version`, `/api`, `/apis`, `/apis/{g}` and the per group-version
//! `APIResourceList`s (legacy discovery; aggregated-discovery Accept headers get these too,
//! as plain `application/json`, which clients accept).

use serde_json::{Value, json};

use crate::resources::{RESOURCES, ResourceDef, VERBS, groups};

pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "emulationMajor": "1",
        "emulationMinor": "32",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "31",
        "gitVersion": "v1.32.4+rollcall-sim",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.23.8",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

pub fn api_versions() -> Value {
    json!({
        "kind": "APIVersions",
        "apiVersion": "v1",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]
    })
}

fn group_json(g: &str, v: &str) -> Value {
    let gv = format!("{g}/{v}");
    json!({
        "name": g,
        "versions": [{"groupVersion": gv, "version": v}],
        "preferredVersion": {"groupVersion": gv, "version": v}
    })
}

/// Groups served without stored kinds: the access reviews (create-only, never stored).
const REVIEW_GROUPS: &[(&str, &str, &str, &str)] = &[
    (
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
    ),
    (
        "authentication.k8s.io",
        "v1",
        "selfsubjectreviews",
        "SelfSubjectReview",
    ),
];

fn all_groups() -> Vec<(&'static str, &'static str)> {
    let mut gs = groups();
    gs.extend(REVIEW_GROUPS.iter().map(|(g, v, _, _)| (*g, *v)));
    gs
}

pub fn api_groups() -> Value {
    let gs: Vec<Value> = all_groups()
        .into_iter()
        .map(|(g, v)| group_json(g, v))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": gs})
}

pub fn api_group(g: &str) -> Option<Value> {
    let (g, v) = all_groups().into_iter().find(|(x, _)| *x == g)?;
    let mut j = group_json(g, v);
    j["kind"] = json!("APIGroup");
    j["apiVersion"] = json!("v1");
    Some(j)
}

fn entry(d: &ResourceDef) -> Value {
    let mut e = json!({
        "name": d.plural,
        "singularName": d.singular,
        "namespaced": d.namespaced,
        "kind": d.kind,
        "verbs": VERBS,
    });
    if !d.short_names.is_empty() {
        e["shortNames"] = json!(d.short_names);
    }
    if !d.categories.is_empty() {
        e["categories"] = json!(d.categories);
    }
    e
}

fn sub_entry(d: &ResourceDef, sub: &str) -> Value {
    let mut e = json!({
        "name": format!("{}/{}", d.plural, sub),
        "singularName": "",
        "namespaced": d.namespaced,
        "kind": d.kind,
        "verbs": ["get", "patch", "update"],
    });
    match sub {
        "scale" => {
            e["kind"] = json!("Scale");
            e["group"] = json!("autoscaling");
            e["version"] = json!("v1");
        }
        "log" => e["verbs"] = json!(["get"]),
        "exec" => {
            e["kind"] = json!("PodExecOptions");
            e["verbs"] = json!(["create", "get"]);
        }
        "proxy" => {
            e["kind"] = json!(format!("{}ProxyOptions", d.kind));
            e["verbs"] = json!(["create", "delete", "get", "patch", "update"]);
        }
        _ => {}
    }
    e
}

/// The `APIResourceList` for a group-version, or None if not served.
pub fn resource_list(g: &str, v: &str) -> Option<Value> {
    let defs: Vec<&ResourceDef> = RESOURCES
        .iter()
        .filter(|d| d.group == g && d.version == v)
        .collect();
    if let Some((g, v, plural, kind)) = REVIEW_GROUPS.iter().find(|r| r.0 == g && r.1 == v) {
        let r = json!({"name": plural, "singularName": "", "namespaced": false, "kind": kind, "verbs": ["create"]});
        return Some(
            json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": format!("{g}/{v}"), "resources": [r]}),
        );
    }
    if defs.is_empty() {
        return None;
    }
    let mut rs = Vec::new();
    for d in defs {
        rs.push(entry(d));
        for sub in d.subresources {
            rs.push(sub_entry(d, sub));
        }
    }
    let gv = if g.is_empty() {
        v.to_string()
    } else {
        format!("{g}/{v}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": rs}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_entry_names_autoscaling() {
        let l = resource_list("apps", "v1").unwrap();
        let scale = l["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "deployments/scale")
            .unwrap();
        assert_eq!(scale["group"], "autoscaling");
        assert_eq!(scale["kind"], "Scale");
        let core = resource_list("", "v1").unwrap();
        assert_eq!(core["groupVersion"], "v1");
        assert!(
            core["resources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["name"] == "pods" && r["shortNames"][0] == "po")
        );
        assert!(resource_list("batch", "v1").is_some());
        assert!(resource_list("batch", "v2").is_none());
    }
}
