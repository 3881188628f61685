//! The requests as data: method, path and body, built once and used both by the confirm
//! dialog's preview and by the client, so what the user confirms is what is sent.

use serde::Serialize;
use serde_json::json;

pub const APPS_PATH: &str = "/api/v1/applications";
pub const STREAM_PATH: &str = "/api/v1/stream/applications";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiCall {
    pub method: &'static str,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<serde_json::Value>,
}

impl ApiCall {
    pub fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            return self.path.clone();
        }
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.query {
            q.append_pair(k, v);
        }
        format!("{}?{}", self.path, q.finish())
    }

    /// The body as the confirm dialog shows it.
    pub fn body_pretty(&self) -> String {
        match &self.body {
            Some(b) => serde_json::to_string_pretty(b).unwrap_or_default(),
            None => "(no body)".into(),
        }
    }
}

/// A path segment, escaped (app names are DNS names, but config is user input).
fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn list() -> ApiCall {
    ApiCall {
        method: "GET",
        path: APPS_PATH.into(),
        query: Vec::new(),
        body: None,
    }
}

pub fn get(name: &str) -> ApiCall {
    ApiCall {
        method: "GET",
        path: format!("{APPS_PATH}/{}", seg(name)),
        query: Vec::new(),
        body: None,
    }
}

/// `argocd app get NAME --refresh` / `--hard-refresh`: the get with `?refresh=`, which
/// argocd-server answers once the controller has reconciled.
pub fn get_refreshed(name: &str, hard: bool) -> ApiCall {
    ApiCall {
        method: "GET",
        path: format!("{APPS_PATH}/{}", seg(name)),
        query: vec![(
            "refresh".to_owned(),
            if hard { "hard" } else { "normal" }.to_owned(),
        )],
        body: None,
    }
}

/// `ApplicationSyncRequest`; fields left out are the server's defaults.
pub fn sync(name: &str, revision: Option<&str>, prune: bool, dry_run: bool) -> ApiCall {
    let mut body = json!({"name": name, "prune": prune, "dryRun": dry_run});
    if let Some(rev) = revision.filter(|r| !r.is_empty()) {
        body["revision"] = json!(rev);
    }
    ApiCall {
        method: "POST",
        path: format!("{APPS_PATH}/{}/sync", seg(name)),
        query: Vec::new(),
        body: Some(body),
    }
}

/// `ApplicationRollbackRequest`: `id` is a JSON number (int64 through Go's encoder).
pub fn rollback(name: &str, id: i64, prune: bool, dry_run: bool) -> ApiCall {
    ApiCall {
        method: "POST",
        path: format!("{APPS_PATH}/{}/rollback", seg(name)),
        query: Vec::new(),
        body: Some(json!({"name": name, "id": id, "dryRun": dry_run, "prune": prune})),
    }
}

/// `ApplicationPatchRequest` with a merge patch that removes `spec.syncPolicy.automated`
/// (what the UI's "Disable Auto-Sync" and `argocd app set --sync-policy none` leave).
pub fn disable_auto_sync(name: &str) -> ApiCall {
    let patch = json!({"spec": {"syncPolicy": {"automated": null}}}).to_string();
    ApiCall {
        method: "PATCH",
        path: format!("{APPS_PATH}/{}", seg(name)),
        query: Vec::new(),
        body: Some(json!({"name": name, "patch": patch, "patchType": "merge"})),
    }
}

/// What an action needs of Argo CD's RBAC: `argocd account can-i ACTION RESOURCE SUBRESOURCE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    /// `applications` for everything rollcall does.
    pub resource: &'static str,
    /// `get`, `sync`, `update`, `delete`, … (rbac.Actions).
    pub action: &'static str,
    /// `<project>/<app>` for an application.
    pub subresource: String,
}

impl Permission {
    /// A permission on one application of `project`.
    pub fn on_app(action: &'static str, project: &str, app: &str) -> Self {
        let project = if project.is_empty() {
            "default"
        } else {
            project
        };
        Permission {
            resource: "applications",
            action,
            subresource: format!("{project}/{app}"),
        }
    }

    /// In the words of Argo CD's policy lines, for messages: `sync applications default/x`.
    pub fn describe(&self) -> String {
        format!("{} {} {}", self.action, self.resource, self.subresource)
    }
}

/// `GET /api/v1/account/can-i/{resource}/{action}/{subresource=**}`: the subresource is
/// the rest of the path, so its slash stays a path separator (each part escaped).
pub fn can_i(p: &Permission) -> ApiCall {
    let sub: Vec<String> = p.subresource.split('/').map(seg).collect();
    ApiCall {
        method: "GET",
        path: format!(
            "/api/v1/account/can-i/{}/{}/{}",
            seg(p.resource),
            seg(p.action),
            sub.join("/")
        ),
        query: Vec::new(),
        body: None,
    }
}

/// `GET /api/v1/applications/{name}/manifests?revision=R`: the app rendered at R.
pub fn manifests(name: &str, revision: &str) -> ApiCall {
    ApiCall {
        method: "GET",
        path: format!("{APPS_PATH}/{}/manifests", seg(name)),
        query: vec![("revision".into(), revision.into())],
        body: None,
    }
}

pub fn terminate(name: &str) -> ApiCall {
    ApiCall {
        method: "DELETE",
        path: format!("{APPS_PATH}/{}/operation", seg(name)),
        query: Vec::new(),
        body: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_argo_cds() {
        let r = rollback("customer-adapter-prod", 4, false, true);
        assert_eq!(
            r.path,
            "/api/v1/applications/customer-adapter-prod/rollback"
        );
        assert_eq!(
            r.body.unwrap(),
            json!({"name":"customer-adapter-prod","id":4,"dryRun":true,"prune":false})
        );
        let p = disable_auto_sync("a");
        assert_eq!(p.method, "PATCH");
        let body = p.body.unwrap();
        assert_eq!(body["patchType"], "merge");
        let patch: serde_json::Value =
            serde_json::from_str(body["patch"].as_str().unwrap()).unwrap();
        assert!(patch["spec"]["syncPolicy"]["automated"].is_null());
        assert!(
            sync("a", None, false, false)
                .body
                .unwrap()
                .get("revision")
                .is_none()
        );
        assert_eq!(
            sync("a", Some("abc"), true, false).body.unwrap()["revision"],
            "abc"
        );
        assert_eq!(get("a b/c").path, "/api/v1/applications/a%20b%2Fc");
        let p = Permission::on_app("sync", "", "customer-adapter-prod");
        assert_eq!(
            can_i(&p).path,
            "/api/v1/account/can-i/applications/sync/default/customer-adapter-prod"
        );
        assert_eq!(
            p.describe(),
            "sync applications default/customer-adapter-prod"
        );
    }
}
