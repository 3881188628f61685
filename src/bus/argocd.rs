//! The Argo CD family of the pipeline: the preview (the exact call); the RBAC check
//! (`argocd account can-i`); the dry run where the API has one (sync and rollback take
//! `dryRun`; Argo CD runs a dry run as an operation, so it must finish before the real
//! request is accepted), then the call; and the Event the command leaves on its
//! Application.

use std::time::Duration;

use k8s_openapi::api::core::v1::ObjectReference;

use super::kube::EventSpec;
use super::{Command, Preview};
use crate::clients::argocd::{ApiCall, ArgoClient, ArgoError, Permission, requests};
use crate::domain::AppRow;
use crate::domain::application::short_revision;

/// Where Argo CD keeps its Applications unless it says otherwise.
const APPS_NAMESPACE: &str = "argocd";

/// How long the dry run's operation may take before the command gives up.
const DRY_RUN_LIMIT: Duration = Duration::from_secs(60);
const DRY_RUN_POLL: Duration = Duration::from_millis(500);

pub fn rollback_call(app: &str, id: i64, prune: bool) -> ApiCall {
    requests::rollback(app, id, prune, false)
}

pub fn sync_call(app: &str, revision: Option<&str>, prune: bool) -> ApiCall {
    requests::sync(app, revision, prune, false)
}

fn preview_of(title: String, call: &ApiCall, effect: String) -> Preview {
    Preview {
        title,
        method: call.method,
        path: call.path_and_query(),
        content_type: "application/json",
        body: call.body_pretty(),
        effect,
    }
}

pub fn rollback_preview(env: &str, app: &str, id: i64, revision: Option<&str>) -> Preview {
    let call = rollback_call(app, id, false);
    let rev = revision.map(short_revision).unwrap_or("?");
    preview_of(
        format!("argocd app rollback {app} {id} ({env})"),
        &call,
        format!(
            "Argo CD syncs {app} to history id {id} (revision {rev}). The same request with \
             \"dryRun\": true is sent first and its operation must succeed. Auto-sync must be off, \
             or Argo CD refuses. Then rollcall waits for Healthy (as argocd app wait --health)."
        ),
    )
}

pub fn sync_preview(env: &str, app: &str, revision: Option<&str>) -> Preview {
    let call = sync_call(app, revision, false);
    let target = revision.map_or("its target revision".to_owned(), |r| {
        format!("revision {}", short_revision(r))
    });
    preview_of(
        format!("argocd app sync {app} ({env})"),
        &call,
        format!(
            "Argo CD syncs {app} to {target}, without pruning. A dry run is sent first and its \
             operation must succeed. Then rollcall waits for Healthy and Synced."
        ),
    )
}

pub fn disable_auto_sync_preview(env: &str, app: &str, then_rollback: Option<i64>) -> Preview {
    let call = requests::disable_auto_sync(app);
    let mut effect = "Turns automated sync off for this app (spec.syncPolicy.automated removed), \
                      as the Argo CD UI's Disable Auto-Sync does. Argo CD has no dry run for this \
                      request. Git changes stop reaching the app until auto-sync is turned on again."
        .to_owned();
    if let Some(id) = then_rollback {
        // Short: the dialog shows about two lines of it.
        effect = format!(
            "Auto-sync is on, and Argo CD refuses: \"rollback cannot be initiated when auto-sync \
             is enabled\". Confirm to turn it off first (audited; no dry run exists for this); \
             the rollback to id {id} is offered next."
        );
    }
    preview_of(format!("Disable auto-sync of {app} ({env})"), &call, effect)
}

pub fn terminate_preview(env: &str, app: &str) -> Preview {
    let call = requests::terminate(app);
    preview_of(
        format!("argocd app terminate-op {app} ({env})"),
        &call,
        format!(
            "Argo CD stops the running operation of {app}: its phase goes Terminating, then \
             Failed with \"Operation terminated\". Resources it already synced stay as they \
             are. Argo CD has no dry run for this request."
        ),
    )
}

pub fn refresh_preview(env: &str, app: &str) -> Preview {
    let call = requests::get_refreshed(app, true);
    preview_of(
        format!("argocd app get {app} --hard-refresh ({env})"),
        &call,
        format!(
            "Argo CD drops its cached manifests of {app}, reads git again and compares the \
             app with the cluster now; the answer is the app as it then stands. Nothing is \
             deployed."
        ),
    )
}

/// Why an Argo CD command did not go through, once past RBAC.
#[derive(Debug, thiserror::Error)]
pub enum ArgocdFailed {
    #[error(transparent)]
    Call(#[from] ArgoError),
    /// The dry run's operation could not be followed to its end.
    #[error("dry run: {0}")]
    DryRunLost(ArgoError),
    /// The dry run's operation ended Failed or Error.
    #[error("dry run {phase}: {message}")]
    DryRun { phase: String, message: String },
    #[error("{0}: Argo CD still reports auto-sync on")]
    StillAutomated(String),
    #[error("{0} is not an Argo CD command")]
    NotArgocd(String),
}

/// Argo CD's RBAC said no (`argocd account can-i`).
#[derive(Debug, thiserror::Error)]
#[error("forbidden: Argo CD RBAC does not let you {permission}; nothing was sent")]
pub struct ArgocdForbidden {
    pub permission: String,
}

/// Sends the dry run, waits for its operation, and reports how it ended.
async fn dry_run(client: &ArgoClient, app: &str, call: ApiCall) -> Result<(), ArgocdFailed> {
    let _: serde_json::Value = client.call(&call).await?;
    let after = client
        .wait_operation_done(app, DRY_RUN_LIMIT, DRY_RUN_POLL)
        .await
        .map_err(ArgocdFailed::DryRunLost)?;
    match after.operation_state {
        Some(op) if op.phase == "Failed" || op.phase == "Error" => Err(ArgocdFailed::DryRun {
            phase: op.phase.to_lowercase(),
            message: op.message.unwrap_or_default(),
        }),
        _ => Ok(()),
    }
}

pub async fn rollback(
    client: &ArgoClient,
    app: &str,
    id: i64,
    prune: bool,
) -> Result<String, ArgocdFailed> {
    dry_run(client, app, requests::rollback(app, id, prune, true)).await?;
    client.rollback(app, id, prune, false).await?;
    Ok(format!("{app}: rollback to history id {id} started"))
}

pub async fn sync(
    client: &ArgoClient,
    app: &str,
    revision: Option<&str>,
    prune: bool,
) -> Result<String, ArgocdFailed> {
    dry_run(client, app, requests::sync(app, revision, prune, true)).await?;
    client.sync(app, revision, prune, false).await?;
    Ok(format!("{app}: sync started"))
}

pub async fn terminate(client: &ArgoClient, app: &str) -> Result<String, ArgocdFailed> {
    client.terminate_operation(app).await?;
    Ok(format!("{app}: operation terminating"))
}

pub async fn disable_auto_sync(client: &ArgoClient, app: &str) -> Result<String, ArgocdFailed> {
    let after = client.disable_auto_sync(app).await?;
    if after.automated.is_some() {
        return Err(ArgocdFailed::StillAutomated(app.to_owned()));
    }
    Ok(format!("{app}: auto-sync off"))
}

/// RBAC, then the app read for the Event; `Ok(None)` when the app could not be read (the
/// command goes ahead: the server enforces RBAC on the request itself).
pub(super) async fn authorize(
    client: &ArgoClient,
    command: &Command,
) -> Result<Option<AppRow>, ArgocdForbidden> {
    match rbac_action(command) {
        Some(action) => check_rbac(client, command.target_name(), action).await,
        None => Ok(None),
    }
}

/// The dry run (where Argo CD has one), then the call.
pub(super) async fn execute(
    client: &ArgoClient,
    command: &Command,
) -> Result<String, ArgocdFailed> {
    match command {
        Command::ArgocdRollback { app, id, .. } => rollback(client, app, *id, false).await,
        Command::ArgocdSync { app, revision, .. } => {
            sync(client, app, revision.as_deref(), false).await
        }
        Command::ArgocdDisableAutoSync { app, .. } => disable_auto_sync(client, app).await,
        Command::ArgocdTerminateOperation { app, .. } => terminate(client, app).await,
        Command::ArgocdRefresh { app, .. } => {
            let row = client
                .call::<AppRow>(&requests::get_refreshed(app, true))
                .await?;
            Ok(format!(
                "{app} refreshed: {} · {} at {}",
                row.sync_status,
                row.health,
                row.sync_revision
                    .as_deref()
                    .map_or("no revision", |r| r.get(..7).unwrap_or(r))
            ))
        }
        _ => Err(ArgocdFailed::NotArgocd(command.summary())),
    }
}

/// The Argo CD RBAC action a command needs on its application, as argocd-server enforces
/// it: sync, terminate and rollback (while `server.rbac.rollback.enforce.enable` is off,
/// its default) need `sync`, the auto-sync-off PATCH needs `update`.
pub fn rbac_action(command: &Command) -> Option<&'static str> {
    match command {
        Command::ArgocdRollback { .. } | Command::ArgocdSync { .. } => Some("sync"),
        Command::ArgocdDisableAutoSync { .. } => Some("update"),
        // argocd-server's TerminateOperation enforces `sync`.
        Command::ArgocdTerminateOperation { .. } => Some("sync"),
        // A refresh is a get with ?refresh=, enforced as `get`.
        Command::ArgocdRefresh { .. } => Some("get"),
        _ => None,
    }
}

/// RBAC first, as `argocd account can-i` would be asked: a refusal names the permission
/// before any dry run is sent. The subresource needs the app's project, so the app is read
/// first (and returned, for the Event). If either call fails, that is logged and the
/// command goes ahead: the server still enforces RBAC on the request itself.
pub async fn check_rbac(
    client: &ArgoClient,
    app: &str,
    action: &'static str,
) -> Result<Option<AppRow>, ArgocdForbidden> {
    let row = match client.get(app).await {
        Ok(row) => row,
        Err(e) => {
            tracing::warn!(error = %e, "reading the app for the can-i check failed; sending anyway");
            return Ok(None);
        }
    };
    let permission = Permission::on_app(action, &row.project, app);
    match client.can_i(&permission).await {
        Ok(true) => Ok(Some(row)),
        Ok(false) => Err(ArgocdForbidden {
            permission: permission.describe(),
        }),
        Err(e) => {
            tracing::warn!(error = %e, "Argo CD can-i failed; sending anyway");
            Ok(Some(row))
        }
    }
}

/// The Kubernetes Event an Argo CD command leaves on its Application (in the namespace
/// the app lives in, `argocd` unless Argo CD said otherwise): Normal when it went
/// through, Warning when Argo CD refused or the dry run failed.
pub(super) fn event(
    command: &Command,
    namespace: Option<&str>,
    user: &str,
    outcome: &Result<String, String>,
) -> Option<EventSpec> {
    let (app, reason, action, what) = match command {
        Command::ArgocdRollback { app, id, .. } => (
            app,
            "ArgocdRollback",
            "Rollback",
            format!("rollback to history id {id}"),
        ),
        Command::ArgocdSync { app, revision, .. } => (
            app,
            "ArgocdSync",
            "Sync",
            match revision {
                Some(r) => format!("sync to {}", short_revision(r)),
                None => "sync".to_owned(),
            },
        ),
        Command::ArgocdDisableAutoSync { app, .. } => (
            app,
            "ArgocdDisableAutoSync",
            "DisableAutoSync",
            "auto-sync off".to_owned(),
        ),
        Command::ArgocdTerminateOperation { app, .. } => (
            app,
            "ArgocdTerminateOperation",
            "TerminateOperation",
            "terminate-op".to_owned(),
        ),
        _ => return None,
    };
    let message = match outcome {
        Ok(_) => format!("{user} ran {what} of application/{app} with rollcall"),
        Err(e) => format!("{user}'s {what} of application/{app} with rollcall failed: {e}"),
    };
    Some(EventSpec {
        target: ObjectReference {
            api_version: Some("argoproj.io/v1alpha1".into()),
            kind: Some("Application".into()),
            name: Some(app.clone()),
            namespace: Some(
                namespace
                    .filter(|n| !n.is_empty())
                    .unwrap_or(APPS_NAMESPACE)
                    .to_owned(),
            ),
            ..Default::default()
        },
        reason,
        action: action.to_owned(),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_command_asks_what_argocd_server_enforces() {
        let env = || "prod".to_owned();
        let app = || "a".to_owned();
        let rollback = Command::ArgocdRollback {
            env: env(),
            app: app(),
            id: 1,
            revision: None,
        };
        let sync = Command::ArgocdSync {
            env: env(),
            app: app(),
            revision: None,
        };
        let off = Command::ArgocdDisableAutoSync {
            env: env(),
            app: app(),
            then_rollback: None,
        };
        let terminate = Command::ArgocdTerminateOperation {
            env: env(),
            app: app(),
        };
        assert_eq!(rbac_action(&rollback), Some("sync"));
        assert_eq!(rbac_action(&sync), Some("sync"));
        assert_eq!(rbac_action(&off), Some("update"));
        assert_eq!(rbac_action(&terminate), Some("sync"));
        let ok = Ok(String::new());
        let spec = event(&terminate, None, "u", &ok).unwrap();
        assert_eq!(spec.target.namespace.as_deref(), Some("argocd"));
        assert_eq!(
            spec.message,
            "u ran terminate-op of application/a with rollcall"
        );
        let failed = event(&off, Some("ops"), "u", &Err("no".into())).unwrap();
        assert_eq!(failed.target.namespace.as_deref(), Some("ops"));
        assert!(failed.message.contains("failed: no"));
    }
}
