//! A slim view of an Argo CD `Application` (shared/reference/03 §1): what the release
//! pane and the history view show, decoded leniently (the real fixtures include apps
//! with no metadata, no spec, `operation` without `operationState`, history without
//! `initiatedBy`). Everything else in the object is skipped without being built.

use jiff::Timestamp;

use super::store::Keyed;

pub mod manifests;
mod wire;

pub use manifests::{ManifestFetch, ManifestResponse};

/// One Argo CD Application as the panes use it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AppRow {
    pub name: String,
    /// The namespace the Application object lives in (normally `argocd`).
    pub namespace: String,
    pub project: String,
    /// Where its workloads go.
    pub destination_namespace: Option<String>,
    /// `Synced`, `OutOfSync`, `Unknown` (empty when the controller has not compared yet).
    pub sync_status: String,
    /// The revision the app was last compared against.
    pub sync_revision: Option<String>,
    /// `Healthy`, `Progressing`, `Degraded`, `Suspended`, `Missing`, `Unknown`.
    pub health: String,
    pub health_message: Option<String>,
    /// `spec.syncPolicy.automated`, when auto-sync is on.
    pub automated: Option<AutoSync>,
    /// A requested operation the controller has not picked up or finished (`operation`).
    pub pending_operation: Option<OperationRequest>,
    pub operation_state: Option<OperationState>,
    /// Oldest first, as Argo CD keeps it.
    pub history: Vec<HistoryEntry>,
    /// `status.summary.images`: what the app runs now.
    pub images: Vec<String>,
    pub resources: ResourceSummary,
    /// `status.conditions` as (type, message).
    pub conditions: Vec<(String, String)>,
    /// `metadata.deletionTimestamp`: the Application is being deleted (its finalizer may
    /// be deleting its resources); nothing should be done to it.
    pub deleting: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AutoSync {
    pub prune: bool,
    pub self_heal: bool,
}

/// `operation.sync` (or the copy of it in `operationState.operation`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OperationRequest {
    /// `sync` for a sync or rollback; another key's name otherwise.
    pub kind: String,
    pub revision: Option<String>,
    pub dry_run: bool,
    pub prune: bool,
    pub initiated_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OperationState {
    /// `Running`, `Terminating`, `Failed`, `Error`, `Succeeded`.
    pub phase: String,
    pub message: Option<String>,
    pub operation: Option<OperationRequest>,
    /// `syncResult.revision`: what the operation deployed.
    pub result_revision: Option<String>,
    /// Images of the resources the operation synced.
    pub result_images: Vec<String>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
}

impl OperationState {
    /// Running or Terminating: the operation has not ended.
    pub fn in_flight(&self) -> bool {
        matches!(self.phase.as_str(), "Running" | "Terminating")
    }

    pub fn succeeded(&self) -> bool {
        self.phase == "Succeeded"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HistoryEntry {
    pub id: i64,
    pub revision: String,
    pub deployed_at: Option<Timestamp>,
    pub deploy_started_at: Option<Timestamp>,
    /// `initiatedBy.username`, or `automated` for the controller's own syncs.
    pub initiated_by: Option<String>,
}

/// Counts over `status.resources`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResourceSummary {
    pub total: u32,
    pub out_of_sync: u32,
    pub healthy: u32,
    pub unhealthy: u32,
}

impl AppRow {
    /// Whether an operation is requested or running: a new sync or rollback would be
    /// refused with `another operation is already in progress`.
    pub fn operation_in_flight(&self) -> bool {
        self.pending_operation.is_some()
            || self.operation_state.as_ref().is_some_and(|o| o.in_flight())
    }

    /// An operation argocd-server would terminate: requested and Running (not yet
    /// Terminating, not only queued).
    pub fn operation_running(&self) -> bool {
        self.pending_operation.is_some()
            && self
                .operation_state
                .as_ref()
                .is_some_and(|o| o.phase == "Running")
    }

    /// The history entry whose revision is deployed now (the newest with that revision).
    pub fn current_history_id(&self) -> Option<i64> {
        let rev = self.deployed_revision()?;
        self.history
            .iter()
            .rev()
            .find(|h| h.revision == rev)
            .map(|h| h.id)
    }

    /// What runs now: the last successful operation's revision, else the compared one.
    /// After a rollback the app is OutOfSync with its target but runs this revision.
    pub fn deployed_revision(&self) -> Option<&str> {
        let from_op = self
            .operation_state
            .as_ref()
            .filter(|o| o.succeeded() && !o.operation.as_ref().is_some_and(|r| r.dry_run))
            .and_then(|o| o.result_revision.as_deref());
        from_op
            .or(self.history.last().map(|h| h.revision.as_str()))
            .or(self.sync_revision.as_deref())
    }

    /// The first image's tag (what the matrix shows), e.g. `v1.2.0`.
    pub fn image_tag(&self) -> Option<&str> {
        self.images.first().map(|i| image_tag(i))
    }
}

/// The tag of an image reference (`repo/name:tag` → `tag`; digest or none → the name).
pub fn image_tag(image: &str) -> &str {
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once('@') {
        Some((name, _)) => name,
        None => last.split_once(':').map_or(last, |(_, tag)| tag),
    }
}

/// The short form of a git revision (7 characters), as the Argo CD UI shows it.
pub fn short_revision(rev: &str) -> &str {
    if rev.len() > 7 && rev.chars().all(|c| c.is_ascii_hexdigit()) {
        &rev[..7]
    } else {
        rev
    }
}

impl Keyed for AppRow {
    fn key(&self) -> (&str, &str) {
        (&self.namespace, &self.name)
    }
}

/// Drift of an app's sync policy from its environment's deploy mode: an `auto`
/// environment expects automated sync, a manual one expects it off.
pub fn deploy_mode_drift(mode: crate::config::DeployMode, app: &AppRow) -> Option<String> {
    use crate::config::DeployMode;
    match (mode, app.automated) {
        (DeployMode::Auto, None) => Some(format!("{}: auto-sync off, policy auto", app.name)),
        (DeployMode::Manual | DeployMode::ManualWindow, Some(_)) => {
            Some(format!("{}: auto-sync on, policy {mode}", app.name))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_short_revisions() {
        assert_eq!(image_tag("ghcr.io/x/customer-adapter:v1.2.0"), "v1.2.0");
        assert_eq!(image_tag("nginx:latest"), "latest");
        assert_eq!(image_tag("localhost:5000/web"), "web");
        assert_eq!(image_tag("web@sha256:abc"), "web");
        assert_eq!(
            short_revision("041eab7439ece92c99b043f0e171788185b8fc1d"),
            "041eab7"
        );
        assert_eq!(short_revision("rev1"), "rev1");
        assert_eq!(short_revision("v1.2.0-release"), "v1.2.0-release");
    }

    #[test]
    fn automated_enabled_false_is_off_and_odd_shapes_decode() {
        let app: AppRow = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "a", "namespace": "argocd"},
            "spec": {"syncPolicy": {"automated": {"enabled": false, "prune": true}}},
            "status": {"history": {}, "conditions": {}, "resources": null,
                "summary": {"images": "nope"},
                "operationState": {"phase": "Running", "startedAt": 12}}
        }))
        .unwrap();
        assert_eq!(app.automated, None);
        assert!(app.history.is_empty());
        assert!(app.operation_in_flight());
        let on: AppRow = serde_json::from_value(serde_json::json!({
            "spec": {"syncPolicy": {"automated": {}}},
            "status": {"history": [{"id": "3", "revision": "abc"}, {"revision": "no-id"},
                {"id": 1, "revision": "old", "initiatedBy": {"automated": true}}]}
        }))
        .unwrap();
        assert_eq!(on.automated, Some(AutoSync::default()));
        assert_eq!(on.history.iter().map(|h| h.id).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(on.history[0].initiated_by.as_deref(), Some("automated"));
        assert_eq!(on.current_history_id(), Some(3));
    }
}
