//! `ManifestResponse` (argocd-server's GetManifests): an app's manifests rendered at one
//! revision, each a JSON string. rollcall reads the images of the workloads in it, to
//! show what an old history entry ran. Decoded leniently: a manifest that does not parse,
//! or has no pod template, contributes nothing.

use serde::Deserialize;
use serde_json::Value;

/// One manifests request: which app at which revision, and where to deliver the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestFetch {
    /// Index of the environment (for the answer).
    pub env: usize,
    /// Its name (the bus keys Argo CD clients by it).
    pub env_name: String,
    pub app: String,
    pub revision: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ManifestResponse {
    /// One JSON (or YAML, from some sources) document per object.
    #[serde(deserialize_with = "lenient_strings")]
    pub manifests: Vec<String>,
    pub namespace: String,
    pub server: String,
    /// The commit the revision resolved to.
    pub revision: String,
    pub source_type: String,
}

/// The strings of a list; null or any other shape is empty (the response is small, so
/// going through a `Value` costs nothing that matters).
fn lenient_strings<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v = Value::deserialize(d)?;
    Ok(v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default())
}

impl ManifestResponse {
    /// The container images of every workload, sorted and deduplicated as
    /// `status.summary.images` is.
    pub fn images(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .manifests
            .iter()
            .filter_map(|m| serde_json::from_str::<Value>(m).ok())
            .flat_map(|obj| object_images(&obj))
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// Images of a Pod, or of any workload with a pod template (`spec.template.spec`), or of
/// a CronJob (`spec.jobTemplate.spec.template.spec`).
fn object_images(obj: &Value) -> Vec<String> {
    let spec = [
        "/spec/template/spec",
        "/spec/jobTemplate/spec/template/spec",
    ]
    .iter()
    .find_map(|p| obj.pointer(p))
    .or_else(|| (obj["kind"] == "Pod").then(|| &obj["spec"]));
    let Some(spec) = spec else {
        return Vec::new();
    };
    ["initContainers", "containers"]
        .iter()
        .filter_map(|k| spec[k].as_array())
        .flatten()
        .filter_map(|c| c["image"].as_str())
        .filter(|i| !i.is_empty())
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_of_workloads_and_nothing_from_the_rest() {
        let r: ManifestResponse = serde_json::from_value(serde_json::json!({
            "manifests": [
                r#"{"kind":"Deployment","spec":{"template":{"spec":{"containers":[{"name":"a","image":"x/a:v2"}],"initContainers":[{"name":"i","image":"x/init:v1"}]}}}}"#,
                r#"{"kind":"Rollout","spec":{"template":{"spec":{"containers":[{"name":"a","image":"x/a:v2"}]}}}}"#,
                r#"{"kind":"Service","spec":{"selector":{"app":"a"}}}"#,
                "kind: ConfigMap\n",
                r#"{"kind":"Pod","spec":{"containers":[{"image":"x/p:v1"}]}}"#
            ],
            "revision": "abc",
            "sourceType": "Kustomize"
        }))
        .unwrap();
        assert_eq!(r.images(), ["x/a:v2", "x/init:v1", "x/p:v1"]);
        let empty: ManifestResponse =
            serde_json::from_value(serde_json::json!({"manifests": null})).unwrap();
        assert!(empty.images().is_empty());
    }
}
