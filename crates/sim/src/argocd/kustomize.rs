//! The part of kustomize the demo's overlays use: `images:` entries (name, newName,
//! newTag, digest) applied to the bare image names of an overlay's workload manifest, as
//! `kustomize build` applies them, and the files the demo's history writes.

use serde::Deserialize;
use serde_json::json;

use super::repo::WorkloadKey;

/// One entry of a kustomization's `images:`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageEntry {
    pub name: String,
    #[serde(default)]
    pub new_name: Option<String>,
    #[serde(default)]
    pub new_tag: Option<String>,
    #[serde(default)]
    pub digest: Option<String>,
}

#[derive(Deserialize)]
struct Kustomization {
    #[serde(default)]
    images: Vec<ImageEntry>,
}

/// The `images:` of a kustomization file.
pub fn images(text: &str) -> Result<Vec<ImageEntry>, serde_saphyr::Error> {
    serde_saphyr::from_str::<Kustomization>(text).map(|k| k.images)
}

/// The image a container declared as `name` runs after the overlay's `images:`.
pub fn apply(name: &str, images: &[ImageEntry]) -> String {
    let Some(e) = images.iter().find(|e| e.name == name) else {
        return name.to_owned();
    };
    let base = e.new_name.as_deref().unwrap_or(name);
    match (&e.digest, &e.new_tag) {
        (Some(d), _) => format!("{base}@{d}"),
        (None, Some(t)) => format!("{base}:{t}"),
        (None, None) => base.to_owned(),
    }
}

/// An overlay's `kustomization.yaml`, laid out as `kustomize edit` leaves it.
pub fn kustomization(namespace: &str, resources: &[String], images: &[ImageEntry]) -> String {
    let mut out =
        String::from("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n");
    out.push_str(&format!("namespace: {namespace}\nresources:\n"));
    for r in resources {
        out.push_str(&format!("- {r}\n"));
    }
    out.push_str("labels:\n- pairs:\n    app.kubernetes.io/part-of: dictamesh\nimages:\n");
    for e in images {
        out.push_str(&format!("- name: {}\n", e.name));
        if let Some(n) = &e.new_name {
            out.push_str(&format!("  newName: {n}\n"));
        }
        if let Some(t) = &e.new_tag {
            out.push_str(&format!("  newTag: {t}\n"));
        }
    }
    out
}

/// The workload manifest of an overlay: its containers run the bare image names the
/// kustomization's `images:` fill in.
pub fn workload_manifest(key: &WorkloadKey, containers: &[(String, String)]) -> String {
    let api_version = if key.kind == "Rollout" {
        "argoproj.io/v1alpha1"
    } else {
        "apps/v1"
    };
    let containers: Vec<serde_json::Value> = containers
        .iter()
        .map(|(c, image)| json!({"name": c, "image": image}))
        .collect();
    let doc = json!({
        "apiVersion": api_version,
        "kind": key.kind,
        "metadata": {"name": key.name, "labels": {"app": key.name}},
        "spec": {
            "selector": {"matchLabels": {"app": key.name}},
            "template": {"metadata": {"labels": {"app": key.name}}, "spec": {"containers": containers}},
        },
    });
    // JSON is YAML; kustomize reads it as such.
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn images_apply_as_kustomize_applies_them() {
        let text = kustomization(
            "dictamesh-prod",
            &["deployment.yaml".into()],
            &[ImageEntry {
                name: "customer-adapter".into(),
                new_name: Some("ghcr.io/controle-digital/customer-adapter".into()),
                new_tag: Some("v1.2.0".into()),
                digest: None,
            }],
        );
        let imgs = images(&text).unwrap();
        assert_eq!(
            apply("customer-adapter", &imgs),
            "ghcr.io/controle-digital/customer-adapter:v1.2.0"
        );
        assert_eq!(apply("other", &imgs), "other");
        let digest = images("images:\n- name: a\n  digest: sha256:ab\n").unwrap();
        assert_eq!(apply("a", &digest), "a@sha256:ab");
        assert!(images("images: [").is_err());
        assert_eq!(images("resources: []\n").unwrap(), vec![]);
    }
}
