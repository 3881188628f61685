//! `GET /api/v1/applications/{name}/manifests?revision=R` (argocd-server's GetManifests):
//! the app's manifests as the repo server renders them at a revision, each a JSON string,
//! in a ManifestResponse of which argocd-server fills only `manifests`. The
//! simulated repo knows each revision's images per workload, so each workload is rendered
//! as a minimal Deployment or Rollout carrying those images and Argo CD's tracking annotation.

use serde_json::{Value, json};

use crate::argocd::api::Req;
use crate::argocd::api::{ApiResult, ArgoServer, GrpcError, UNKNOWN, json_response};
use crate::argocd::repo::{Images, WorkloadKey};
use crate::argocd::session::Claims;
use crate::argocd::state::{TRACKING, tracking_id, workload_def};

pub fn get(srv: &ArgoServer, who: &Claims, req: &Req, name: &str) -> ApiResult {
    let project = req.query.get("project").filter(|p| !p.is_empty());
    let app = srv.get_app(who, "get", name, project)?;
    let source = &app["spec"]["source"];
    let wanted = req
        .query
        .get("revision")
        .filter(|r| !r.is_empty())
        .or(source["targetRevision"].as_str())
        .unwrap_or("HEAD")
        .to_string();
    let path = source["path"].as_str().unwrap_or("");
    let repo = &srv.shared.gitops;
    let rendered = repo
        .resolve(&wanted)
        .and_then(|sha| repo.manifests_at(&sha, path).map(|m| (sha, m)));
    let Some((_, workloads)) = rendered else {
        // The repo server's error as argocd-server wraps it.
        return Err(GrpcError::new(
            UNKNOWN,
            format!(
                "error generating manifests: rpc error: code = Unknown desc = unable to resolve '{wanted}' to a commit SHA"
            ),
        ));
    };
    let manifests: Vec<String> = workloads
        .iter()
        .map(|(key, images)| render(name, key, images).to_string())
        .collect();
    // argocd-server builds a new ManifestResponse with only `manifests` set (the repo
    // server's namespace, revision, sourceType are dropped; empty fields are omitted).
    Ok(json_response(200, &json!({ "manifests": manifests })))
}

/// A workload as `kustomize build` would give it, reduced to what rollcall reads, with
/// the tracking annotation Argo CD adds when it renders.
fn render(app: &str, key: &WorkloadKey, images: &Images) -> Value {
    let (api_version, tracking) = match workload_def(&key.kind) {
        Some(d) => (
            d.api_version(),
            tracking_id(app, d, &key.namespace, &key.name),
        ),
        None => ("apps/v1".to_owned(), String::new()),
    };
    let containers: Vec<Value> = images
        .iter()
        .map(|(name, image)| json!({"name": name, "image": image}))
        .collect();
    json!({
        "apiVersion": api_version,
        "kind": key.kind,
        "metadata": {
            "name": key.name,
            "namespace": key.namespace,
            "annotations": {TRACKING: tracking},
        },
        "spec": {
            "selector": {"matchLabels": {"app": key.name}},
            "template": {
                "metadata": {"labels": {"app": key.name}},
                "spec": {"containers": containers},
            },
        },
    })
}
