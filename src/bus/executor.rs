//! Runs commands against the clusters, one task per operation.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use tokio::sync::mpsc;
use tracing::Instrument;

use super::audit::{AuditEntry, AuditLog};
use super::command::{Command, OpId};
use crate::clients::kube::KubeActions;
use crate::clients::migrations::MigrationItem;
use crate::domain::application::ManifestFetch;

/// What the bus tells the app.
#[derive(Debug)]
pub enum Report {
    /// An operation finished: what happened, in words.
    Finished {
        op: OpId,
        outcome: Result<String, String>,
    },
    /// The images of an app's manifests at a revision, or why they could not be read.
    Manifests {
        fetch: ManifestFetch,
        result: Result<Vec<String>, String>,
    },
}

/// Where the bus sends its reports (and migration progress): the app's event channel,
/// whose event type the wiring maps them into.
pub trait Sink: From<Report> + From<MigrationItem> + Send + 'static {}
impl<E: From<Report> + From<MigrationItem> + Send + 'static> Sink for E {}

/// The sending side of the bus, held by the main loop.
pub struct Bus<E> {
    inner: Arc<Inner<E>>,
}

impl<E> Clone for Bus<E> {
    fn clone(&self) -> Self {
        Bus {
            inner: self.inner.clone(),
        }
    }
}

struct Inner<E> {
    /// One client per environment name.
    clients: HashMap<String, KubeActions>,
    audit: AuditLog,
    user: String,
    events: mpsc::Sender<E>,
    /// Migration databases by environment name.
    migrations: HashMap<String, crate::clients::migrations::Target>,
    /// Argo CD clients by environment name.
    argocd: HashMap<String, crate::clients::argocd::ArgoClient>,
}

impl<E: Sink> Bus<E> {
    pub fn new(
        clients: HashMap<String, KubeActions>,
        audit: AuditLog,
        user: String,
        events: mpsc::Sender<E>,
    ) -> Self {
        Bus {
            inner: Arc::new(Inner {
                clients,
                audit,
                user,
                events,
                migrations: HashMap::new(),
                argocd: HashMap::new(),
            }),
        }
    }

    /// Adds the environments' migration databases (before the bus is shared).
    pub fn with_migrations(
        mut self,
        targets: HashMap<String, crate::clients::migrations::Target>,
    ) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.migrations = targets;
        }
        self
    }

    /// Adds the environments' Argo CD clients (before the bus is shared).
    pub fn with_argocd(
        mut self,
        clients: HashMap<String, crate::clients::argocd::ArgoClient>,
    ) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.argocd = clients;
        }
        self
    }

    pub fn audit_path(&self) -> &std::path::Path {
        self.inner.audit.path()
    }

    /// Starts the operation; its result arrives later as `Event::OpFinished`.
    pub fn send(&self, op: OpId, command: Command) {
        let inner = self.inner.clone();
        let span = tracing::info_span!("op", %op, command = %command.summary());
        tokio::spawn(
            async move {
                let started = Timestamp::now();
                let outcome = inner.execute(op, &command).await;
                let (result, message) = match &outcome {
                    Ok(m) => ("ok", m.as_str()),
                    Err(m) => ("error", m.as_str()),
                };
                tracing::info!(result, message, "operation finished");
                let entry = AuditEntry {
                    time: Timestamp::now(),
                    started,
                    user: &inner.user,
                    op,
                    target: command.target_name(),
                    command: &command,
                    result,
                    message,
                };
                let outcome = match inner.audit.append(&entry) {
                    Ok(()) => outcome,
                    Err(e) => {
                        tracing::error!(error = %e, "audit log write failed");
                        outcome.map(|m| format!("{m} (audit log write failed: {e})"))
                    }
                };
                // The app may have quit already; nothing to tell then.
                let _ = inner
                    .events
                    .send(Report::Finished { op, outcome }.into())
                    .await;
            }
            .instrument(span),
        );
    }
}

impl<E: Sink> Bus<E> {
    /// Reads an app's manifests at a revision and answers with the images in them as
    /// `Event::Manifests`. A read: not audited, no Event.
    pub fn fetch_manifests(&self, fetch: ManifestFetch) {
        let inner = self.inner.clone();
        let span = tracing::info_span!("manifests", app = %fetch.app, revision = %fetch.revision);
        tokio::spawn(
            async move {
                let result = match inner.argocd.get(&fetch.env_name) {
                    None => Err(format!(
                        "no Argo CD server for environment {}",
                        fetch.env_name
                    )),
                    Some(client) => client
                        .manifests(&fetch.app, &fetch.revision)
                        .await
                        .map(|m| m.images())
                        .map_err(|e| e.to_string()),
                };
                if let Err(e) = &result {
                    tracing::warn!(error = %e, "manifests fetch failed");
                }
                let _ = inner
                    .events
                    .send(Report::Manifests { fetch, result }.into())
                    .await;
            }
            .instrument(span),
        );
    }
}

impl<E: Sink> Inner<E> {
    async fn execute(&self, op: OpId, command: &Command) -> Result<String, String> {
        if let Command::Migrate { env, plan, .. } = command {
            let target = self
                .migrations
                .get(env)
                .ok_or_else(|| format!("no migration database for environment {env}"))?;
            return crate::clients::migrations::run_op(target, op, plan, &self.events).await;
        }
        if let Some(result) = self.execute_argocd(command).await {
            return result;
        }
        let client = self
            .clients
            .get(command.env())
            .ok_or_else(|| format!("no cluster connection for environment {}", command.env()))?;
        // RBAC first, as the user would check with `kubectl auth can-i`: a refusal names
        // the permission instead of surfacing as a 403 from the dry run.
        for access in command.access() {
            match crate::clients::kube::can_i(client.client(), &access).await {
                Ok(None) => {}
                Ok(Some(why)) => {
                    let why = if why.is_empty() {
                        String::new()
                    } else {
                        format!(" ({why})")
                    };
                    return Err(format!(
                        "forbidden: RBAC does not let you {}{why}; nothing was sent",
                        access.describe()
                    ));
                }
                // The server still enforces RBAC on the request itself.
                Err(e) => tracing::warn!(error = %e, "access review failed; sending anyway"),
            }
        }
        match command {
            Command::RestartDeployment {
                namespace,
                name,
                restarted_at,
                ..
            } => {
                client
                    .restart_deployment(namespace, name, restarted_at, &self.user)
                    .await
            }
            // Handled above, before a cluster client is needed.
            Command::Migrate { .. } => Err("migration commands need no cluster".into()),
            Command::ArgocdRollback { .. }
            | Command::ArgocdSync { .. }
            | Command::ArgocdDisableAutoSync { .. }
            | Command::ArgocdTerminateOperation { .. } => {
                Err("Argo CD commands need no cluster".into())
            }
            Command::Rollout {
                namespace,
                name,
                action,
                requests,
                ..
            } => {
                crate::clients::rollouts::execute(
                    client.client(),
                    namespace,
                    name,
                    action,
                    requests,
                    &self.user,
                )
                .await
            }
            Command::SwitchBlueGreen {
                namespace,
                service,
                to_colour,
                selector_key,
                target_deployment,
                override_reason,
                ..
            } => {
                crate::clients::bluegreen::switch(
                    client.client(),
                    crate::clients::bluegreen::Switch {
                        namespace,
                        service,
                        selector_key,
                        target_deployment,
                        to: *to_colour,
                        override_reason: override_reason.as_deref(),
                        user: &self.user,
                    },
                )
                .await
            }
            Command::UndoDeployment {
                namespace,
                name,
                to_revision,
                template,
                ..
            } => {
                crate::clients::bluegreen::undo(
                    client.client(),
                    namespace,
                    name,
                    *to_revision,
                    template,
                    &self.user,
                )
                .await
            }
        }
    }
}

impl<E: Sink> Inner<E> {
    /// Runs an Argo CD command; `None` for every other command.
    async fn execute_argocd(&self, command: &Command) -> Option<Result<String, String>> {
        let client = match command {
            Command::ArgocdRollback { env, .. }
            | Command::ArgocdSync { env, .. }
            | Command::ArgocdDisableAutoSync { env, .. }
            | Command::ArgocdTerminateOperation { env, .. } => match self.argocd.get(env) {
                Some(c) => c,
                None => return Some(Err(format!("no Argo CD server for environment {env}"))),
            },
            _ => return None,
        };
        let mut app_row = None;
        if let Some(action) = super::argocd::rbac_action(command) {
            match super::argocd::check_rbac(client, command.target_name(), action).await {
                Ok(row) => app_row = row,
                // Nothing was sent, so no Event either.
                Err(refused) => return Some(Err(refused)),
            }
        }
        let outcome = match command {
            Command::ArgocdRollback { app, id, .. } => {
                super::argocd::rollback(client, app, *id, false).await
            }
            Command::ArgocdSync { app, revision, .. } => {
                super::argocd::sync(client, app, revision.as_deref(), false).await
            }
            Command::ArgocdDisableAutoSync { app, .. } => {
                super::argocd::disable_auto_sync(client, app).await
            }
            Command::ArgocdTerminateOperation { app, .. } => {
                super::argocd::terminate(client, app).await
            }
            _ => return None,
        };
        let namespace = app_row.as_ref().map(|a| a.namespace.as_str());
        Some(self.argocd_event(command, namespace, outcome).await)
    }

    /// Leaves the command's Event on its Application. A failed write does not change the
    /// outcome; it is logged and noted in the message, as for the Kubernetes commands.
    async fn argocd_event(
        &self,
        command: &Command,
        namespace: Option<&str>,
        outcome: Result<String, String>,
    ) -> Result<String, String> {
        let Some(event) = super::argocd::audit_event(command, namespace, &self.user, &outcome)
        else {
            return outcome;
        };
        let Some(kube) = self.clients.get(command.env()) else {
            tracing::warn!("no cluster connection for the Argo CD command's Event");
            return outcome;
        };
        match crate::clients::kube::record_event(kube.client(), event).await {
            Ok(()) => outcome,
            Err(e) => {
                tracing::warn!(error = %e, "could not record a Kubernetes Event");
                let note = format!(" (could not record a Kubernetes Event: {e})");
                outcome.map(|m| m + &note).map_err(|m| m + &note)
            }
        }
    }
}
