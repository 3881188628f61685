//! Mutations as data. A `Command` carries everything needed to send it, so the
//! preview the user confirms is exactly what the pipeline sends.

use jiff::Timestamp;
use serde::Serialize;
use serde_json::json;

pub use crate::domain::OpId;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum Command {
    /// Replace every pod of a Deployment, as `kubectl rollout restart` does: stamp the
    /// pod template so the controller rolls it under the Deployment's own strategy.
    RestartDeployment {
        env: String,
        namespace: String,
        name: String,
        /// The value written to `kubectl.kubernetes.io/restartedAt`, fixed at preview time.
        restarted_at: String,
    },
    /// A golang-migrate `up` / `down` / `goto` / `force` on an environment's database,
    /// planned at preview time: the pipeline runs exactly these steps, under the lock,
    /// and refuses if the database moved since.
    Migrate {
        env: String,
        /// The database URL, password redacted.
        database: String,
        plan: rollcall_migrate::Plan,
    },
    /// An Argo Rollouts action, sent exactly as the kubectl-argo-rollouts plugin sends
    /// it; `requests` is the plan shown at preview time, re-checked before sending.
    Rollout {
        env: String,
        namespace: String,
        name: String,
        action: super::rollouts::RolloutAction,
        requests: Vec<super::rollouts::WireRequest>,
    },
    /// `argocd app rollback APP ID`: dry run first, then the rollback.
    ArgocdRollback {
        env: String,
        app: String,
        id: i64,
        /// The history entry's revision, for the preview and the wait.
        revision: Option<String>,
    },
    /// `argocd app sync APP [--revision R]`: dry run first, then the sync.
    ArgocdSync {
        env: String,
        app: String,
        revision: Option<String>,
    },
    /// Turn automated sync off (needed before a rollback). `then_rollback` is the
    /// history id the user is on the way to, for the preview.
    ArgocdDisableAutoSync {
        env: String,
        app: String,
        then_rollback: Option<i64>,
    },
    /// `argocd app terminate-op APP`: stop the app's running sync or rollback.
    ArgocdTerminateOperation { env: String, app: String },
    /// `argocd app get APP --hard-refresh`: Argo CD re-reads git and compares now.
    ArgocdRefresh { env: String, app: String },
    /// Flip a blue/green Service's selector to one colour, as the seed's
    /// `kubectl patch service NAME -p '{"spec":{"selector":{"version":"green"}}}'` does.
    SwitchBlueGreen {
        env: String,
        namespace: String,
        service: String,
        to_colour: crate::config::Colour,
        /// The selector label that names the colour (`version`).
        selector_key: String,
        /// The Deployment of `to_colour`, checked ready again just before sending.
        target_deployment: String,
        /// Set when the user switched to a colour that is not fully ready, and why.
        override_reason: Option<String>,
    },
    /// `kubectl rollout undo deployment/NAME --to-revision=N`, planned at preview time.
    UndoDeployment {
        env: String,
        namespace: String,
        name: String,
        to_revision: u64,
        /// Revision N's pod template without its `pod-template-hash` label.
        template: serde_json::Value,
        /// The annotations as planned from the watched rows (kubectl's merge).
        annotations: std::collections::BTreeMap<String, String>,
    },
    /// Tick or un-tick an item of a release's shared checklist. Applied to the ConfigMap
    /// as it is when sent (GET, apply, PUT; a conflict re-reads), so ticks teammates made
    /// in between stay.
    MarkChecklist {
        env: String,
        namespace: String,
        /// `service@version`.
        release: String,
        item: String,
        /// The item's title, for the preview, the Event and the audit.
        title: String,
        mark: crate::domain::checklist::Mark,
    },
    /// A runbook step rollcall runs itself (a backup, a flag), planned at preview time.
    RunbookStep {
        env: String,
        /// The step's id, for the audit and the runbook pane.
        step: String,
        action: super::runbook::StepAction,
    },
    /// `kafka-consumer-groups.sh --reset-offsets --group G --topic T <spec> --execute`,
    /// run in the broker pod as the seed does with `kubectl exec`; its dry run is the
    /// tool's `--dry-run`. Kafka resets only an inactive group: checked first.
    KafkaResetOffsets {
        env: String,
        broker: super::kafka::Broker,
        group: String,
        topic: String,
        spec: crate::domain::kafka::ResetSpec,
    },
    /// Put a `KafkaTopic`'s configuration back to its backup's: a merge patch of what
    /// Kafka accepts (partitions only grow, replicas are not changed), planned at
    /// preview time and re-planned from a fresh read before sending.
    KafkaTopicRestore {
        env: String,
        namespace: String,
        name: String,
        /// The backup's object, to plan against the live one again.
        backup: serde_json::Value,
        patch: serde_json::Value,
        /// What the backup has that Kafka would refuse, and why: shown, never sent.
        left_out: Vec<String>,
    },
}

/// What will go over the wire, for the confirm dialog and the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preview {
    pub title: String,
    pub method: &'static str,
    pub path: String,
    pub content_type: &'static str,
    pub body: String,
    /// What the user should expect to happen, in words.
    pub effect: String,
}

pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

impl Command {
    pub fn restart_deployment(env: &str, namespace: &str, name: &str, now: Timestamp) -> Self {
        Command::RestartDeployment {
            env: env.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            // kubectl formats it as RFC 3339 with whole seconds.
            restarted_at: now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        }
    }

    pub fn env(&self) -> &str {
        match self {
            Command::RestartDeployment { env, .. } => env,
            Command::Migrate { env, .. } => env,
            Command::Rollout { env, .. } => env,
            Command::ArgocdRollback { env, .. }
            | Command::ArgocdSync { env, .. }
            | Command::ArgocdDisableAutoSync { env, .. }
            | Command::ArgocdTerminateOperation { env, .. }
            | Command::ArgocdRefresh { env, .. } => env,
            Command::SwitchBlueGreen { env, .. } => env,
            Command::UndoDeployment { env, .. } => env,
            Command::MarkChecklist { env, .. } => env,
            Command::RunbookStep { env, .. } => env,
            Command::KafkaResetOffsets { env, .. } | Command::KafkaTopicRestore { env, .. } => env,
        }
    }

    /// Whether it stops or holds a change rather than making one (abort, pause,
    /// terminate, a refresh that only reads): mid-incident these take one key.
    pub fn de_escalates(&self) -> bool {
        use super::rollouts::RolloutAction;
        match self {
            Command::Rollout { action, .. } => {
                matches!(action, RolloutAction::Abort | RolloutAction::Pause)
            }
            Command::ArgocdTerminateOperation { .. } | Command::ArgocdRefresh { .. } => true,
            _ => false,
        }
    }

    /// The object the command acts on; typed to confirm in production.
    pub fn target_name(&self) -> &str {
        match self {
            Command::RestartDeployment { name, .. } => name,
            // The database is the target; in production the user types its environment.
            Command::Migrate { env, .. } => env,
            Command::Rollout { name, .. } => name,
            Command::ArgocdRollback { app, .. }
            | Command::ArgocdSync { app, .. }
            | Command::ArgocdDisableAutoSync { app, .. }
            | Command::ArgocdTerminateOperation { app, .. }
            | Command::ArgocdRefresh { app, .. } => app,
            Command::SwitchBlueGreen { service, .. } => service,
            Command::UndoDeployment { name, .. } => name,
            Command::MarkChecklist { item, .. } => item,
            Command::RunbookStep { action, .. } => action.target(),
            // A reset acts on the group; in production its name is typed.
            Command::KafkaResetOffsets { group, .. } => group,
            Command::KafkaTopicRestore { name, .. } => name,
        }
    }

    pub fn summary(&self) -> String {
        match self {
            Command::RestartDeployment {
                env,
                namespace,
                name,
                ..
            } => format!("restart deployment/{name} in {env} ({namespace})"),
            Command::Migrate { env, plan, .. } => format!("migrate {} on {env}", plan.request),
            Command::Rollout {
                env, name, action, ..
            } => format!("rollout {} {name} in {env}", action.verb()),
            Command::ArgocdRollback { env, app, id, .. } => {
                format!("argocd app rollback {app} {id} in {env}")
            }
            Command::ArgocdSync {
                env, app, revision, ..
            } => match revision {
                Some(r) => format!("argocd app sync {app} --revision {r} in {env}"),
                None => format!("argocd app sync {app} in {env}"),
            },
            Command::ArgocdDisableAutoSync { env, app, .. } => {
                format!("argocd app set {app} --sync-policy none in {env}")
            }
            Command::ArgocdTerminateOperation { env, app } => {
                format!("argocd app terminate-op {app} in {env}")
            }
            Command::ArgocdRefresh { env, app } => {
                format!("argocd app get {app} --hard-refresh in {env}")
            }
            Command::SwitchBlueGreen {
                env,
                service,
                to_colour,
                override_reason,
                ..
            } => format!(
                "switch service/{service} to {to_colour} in {env}{}",
                if override_reason.is_some() {
                    " (override)"
                } else {
                    ""
                }
            ),
            Command::UndoDeployment {
                env,
                name,
                to_revision,
                ..
            } => format!("undo deployment/{name} to revision {to_revision} in {env}"),
            Command::MarkChecklist {
                env,
                release,
                title,
                mark,
                ..
            } => format!(
                "{} \"{title}\" for {release} in {env}",
                if mark.done { "tick" } else { "untick" }
            ),
            Command::RunbookStep { env, action, .. } => format!("{} in {env}", action.summary()),
            Command::KafkaResetOffsets {
                env,
                group,
                topic,
                spec,
                ..
            } => format!(
                "kafka reset offsets of {group} on {topic} {} in {env}",
                spec.describe()
            ),
            Command::KafkaTopicRestore { env, name, .. } => {
                format!("restore kafkatopic/{name} from the backup in {env}")
            }
        }
    }

    /// The body of a restart patch: strategic merge on the pod template's annotations.
    pub fn restart_patch(restarted_at: &str) -> serde_json::Value {
        json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: restarted_at}}}}})
    }

    pub fn preview(&self) -> Preview {
        match self {
            Command::RestartDeployment {
                namespace,
                name,
                restarted_at,
                ..
            } => Preview {
                title: format!("Restart deployment/{name}"),
                method: "PATCH",
                path: format!("/apis/apps/v1/namespaces/{namespace}/deployments/{name}"),
                content_type: "application/strategic-merge-patch+json",
                body: serde_json::to_string_pretty(&Self::restart_patch(restarted_at))
                    .unwrap_or_default(),
                effect: "Every pod is replaced under the Deployment's rolling-update strategy \
                         (maxSurge / maxUnavailable). A server-side dry run is sent first."
                    .to_owned(),
            },
            Command::Migrate {
                env,
                database,
                plan,
            } => Preview {
                title: format!("migrate {} on {env}", plan.request),
                method: "SQL",
                path: database.clone(),
                content_type: "application/sql (as golang-migrate runs it)",
                body: plan.preview(),
                effect: rollcall_migrate::ops::effect(plan),
            },
            Command::Rollout {
                namespace,
                name,
                action,
                requests,
                ..
            } => super::rollouts::preview(namespace, name, action, requests),
            Command::ArgocdRollback {
                env,
                app,
                id,
                revision,
            } => super::argocd::rollback_preview(env, app, *id, revision.as_deref()),
            Command::ArgocdSync { env, app, revision } => {
                super::argocd::sync_preview(env, app, revision.as_deref())
            }
            Command::ArgocdDisableAutoSync {
                env,
                app,
                then_rollback,
            } => super::argocd::disable_auto_sync_preview(env, app, *then_rollback),
            Command::ArgocdTerminateOperation { env, app } => {
                super::argocd::terminate_preview(env, app)
            }
            Command::ArgocdRefresh { env, app } => super::argocd::refresh_preview(env, app),
            Command::SwitchBlueGreen {
                namespace,
                service,
                to_colour,
                selector_key,
                override_reason,
                ..
            } => super::bluegreen::switch_preview(
                namespace,
                service,
                selector_key,
                to_colour.as_str(),
                override_reason.as_deref(),
            ),
            Command::UndoDeployment {
                namespace,
                name,
                to_revision,
                template,
                annotations,
                ..
            } => {
                super::bluegreen::undo_preview(namespace, name, *to_revision, template, annotations)
            }
            Command::MarkChecklist {
                namespace,
                release,
                item,
                title,
                mark,
                ..
            } => super::checklist::preview(namespace, release, item, title, mark),
            Command::RunbookStep { action, .. } => action.preview(),
            Command::KafkaResetOffsets {
                broker,
                group,
                topic,
                spec,
                ..
            } => super::kafka::reset_preview(broker, group, topic, spec),
            Command::KafkaTopicRestore {
                namespace,
                name,
                patch,
                left_out,
                ..
            } => super::kafka::topic_preview(namespace, name, patch, left_out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_preview_is_the_kubectl_patch() {
        let now: Timestamp = "2026-11-26T14:02:11.734Z".parse().unwrap();
        let cmd = Command::restart_deployment("prod", "dictamesh-prod", "metadata-catalog", now);
        let p = cmd.preview();
        assert_eq!(p.method, "PATCH");
        assert_eq!(
            p.path,
            "/apis/apps/v1/namespaces/dictamesh-prod/deployments/metadata-catalog"
        );
        assert_eq!(p.content_type, "application/strategic-merge-patch+json");
        let body: serde_json::Value = serde_json::from_str(&p.body).unwrap();
        assert_eq!(
            body["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT],
            "2026-11-26T14:02:11Z"
        );
    }
}
