//! The one path every mutation takes, whatever its family (Kubernetes API, Argo
//! Rollouts, Argo CD, migrations):
//!
//! ```text
//! read-only policy → send once → RBAC → prepare (fresh reads, plan re-checked)
//!   → dry run → send → Kubernetes Event → audit → Report::Finished
//! ```
//!
//! Families differ only in what each stage asks of their client; the order, the
//! refusals and the record are here, once. Clients only carry requests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use tokio::sync::mpsc;
use tracing::Instrument;

use super::audit::{AuditLog, Record, Who};
use super::command::{Command, OpId};
use super::kube::{self, EventSpec, Plan};
use crate::clients::argocd::ArgoClient;
use crate::clients::kube::{AuditEvent, KubeActions, KubeError};
use crate::clients::migrations::{MigrationItem, Target};
use crate::domain::Clock;
use crate::domain::application::ManifestFetch;

/// How many times a GET-edit-PUT (or a create) is prepared again after a 409.
const CONFLICT_ATTEMPTS: usize = 8;

/// A pause before preparing again after a conflict, growing and jittered so writers
/// racing for one object (teammates ticking one checklist) stop colliding.
fn conflict_pause(attempt: usize) -> std::time::Duration {
    std::time::Duration::from_millis(fastrand::u64(5..40) * attempt as u64)
}

/// What the bus tells the app.
#[derive(Debug)]
pub enum Report {
    /// An operation finished: what happened, in words.
    Finished {
        op: OpId,
        outcome: Result<String, String>,
    },
    /// The answer to a dry run asked when a dialog opened.
    DryRun {
        command: Command,
        result: Result<String, String>,
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

/// Why a command stopped before anything reached the target. Each says so.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("read-only: rollcall runs with --readonly; nothing was sent")]
    ReadOnly,
    #[error("{op} was already sent; a command is sent once")]
    AlreadySent { op: OpId },
    #[error("{summary} is already in flight as {op}; nothing was sent")]
    InFlight { summary: String, op: OpId },
    #[error("no cluster connection for environment {0}")]
    NoCluster(String),
    #[error("no Argo CD server for environment {0}")]
    NoArgocd(String),
    #[error("no migration database for environment {0}")]
    NoDatabase(String),
    #[error("forbidden: RBAC does not let you {permission}{why}; nothing was sent")]
    Rbac { permission: String, why: String },
    /// Argo CD's own RBAC (`argocd account can-i`) refused.
    #[error(transparent)]
    ArgocdRbac(#[from] super::argocd::ArgocdForbidden),
    #[error("server-side dry run refused: {0}")]
    DryRun(KubeError),
}

/// Why a command of the Kubernetes family did not go through.
#[derive(Debug, thiserror::Error)]
pub enum Failed {
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error(transparent)]
    Unsendable(#[from] kube::Unsendable),
    /// The write itself was refused, after its dry run passed.
    #[error(transparent)]
    Send(KubeError),
    #[error("gave up after {attempts} conflicts: {last}")]
    Conflicts { attempts: usize, last: KubeError },
}

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
    /// One Kubernetes transport per environment name.
    clients: HashMap<String, KubeActions>,
    audit: AuditLog,
    user: String,
    /// Who each environment's cluster says the user is (SelfSubjectReview).
    identities: HashMap<String, String>,
    events: mpsc::Sender<E>,
    /// Migration databases by environment name.
    migrations: HashMap<String, Target>,
    /// Argo CD clients by environment name.
    argocd: HashMap<String, ArgoClient>,
    /// Refuse every command (`--readonly`), whatever the keys let through.
    readonly: bool,
    /// The app's clock, for plans that name a time (a reset to a datetime).
    clock: Clock,
    /// Commands sent and not finished, and every op id ever sent (sent once).
    flight: Mutex<Flight>,
}

#[derive(Default)]
struct Flight {
    running: HashMap<OpId, Command>,
    seen: std::collections::HashSet<OpId>,
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
                identities: HashMap::new(),
                events,
                migrations: HashMap::new(),
                argocd: HashMap::new(),
                readonly: false,
                clock: crate::domain::clock::wall(),
                flight: Mutex::new(Flight::default()),
            }),
        }
    }

    fn configure(mut self, f: impl FnOnce(&mut Inner<E>)) -> Self {
        // Only before the bus is shared; the builders below are called at start.
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            f(inner);
        }
        self
    }

    /// Adds the environments' migration databases.
    pub fn with_migrations(self, targets: HashMap<String, Target>) -> Self {
        self.configure(|inner| inner.migrations = targets)
    }

    /// Adds the environments' Argo CD clients.
    pub fn with_argocd(self, clients: HashMap<String, ArgoClient>) -> Self {
        self.configure(|inner| inner.argocd = clients)
    }

    /// Who each environment's cluster says the user is, for the record.
    pub fn with_identities(self, identities: HashMap<String, String>) -> Self {
        self.configure(|inner| inner.identities = identities)
    }

    /// The app's clock (the demo's runs as fast as the simulated cluster's).
    pub fn with_clock(self, clock: Clock) -> Self {
        self.configure(|inner| inner.clock = clock)
    }

    /// Refuses every command (`--readonly`).
    pub fn readonly(self, readonly: bool) -> Self {
        self.configure(|inner| inner.readonly = readonly)
    }

    pub fn audit_path(&self) -> &std::path::Path {
        self.inner.audit.path()
    }

    /// Starts the operation; its result arrives later as `Report::Finished`.
    pub fn send(&self, op: OpId, command: Command) {
        self.send_with_reason(op, command, None);
    }

    /// `send`, with the reason the user typed (outside the change window), audited.
    pub fn send_with_reason(&self, op: OpId, command: Command, reason: Option<String>) {
        let inner = self.inner.clone();
        let span = tracing::info_span!("op", %op, command = %command.summary());
        tokio::spawn(
            async move {
                let started = Timestamp::now();
                let reason = reason.as_deref();
                let outcome = match inner.take_off(op, &command) {
                    Err(refused) => Err(refused.to_string()),
                    // The record of the intent comes first: unrecorded, nothing is sent.
                    Ok(()) => match inner.record_intent(op, &command, reason) {
                        Err(unrecorded) => {
                            inner.land(op);
                            Err(unrecorded)
                        }
                        Ok(()) => {
                            let outcome = inner.run(op, &command).await;
                            inner.land(op);
                            outcome
                        }
                    },
                };
                let outcome = inner.record(op, &command, reason, started, outcome);
                // The app may have quit already; nothing to tell then.
                let _ = inner
                    .events
                    .send(Report::Finished { op, outcome }.into())
                    .await;
            }
            .instrument(span),
        );
    }

    /// Records how an accepted Argo CD operation ended, once the app's wait settled it.
    /// Off the caller's thread: the app's loop does no file I/O.
    pub fn settled(&self, op: OpId, outcome: Result<String, String>) {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let (result, message) = match &outcome {
                Ok(m) => ("ok", m.as_str()),
                Err(m) => ("error", m.as_str()),
            };
            let audit = &inner.audit;
            let record = Record::Settled {
                time: Timestamp::now(),
                session: audit.session(),
                op,
                op_uid: audit.op_uid(op),
                result,
                message,
            };
            if let Err(e) = audit.append(&record) {
                tracing::error!(error = %e, %op, "audit log write failed for a settled operation");
            }
        });
    }

    /// rollcall is exiting: every command still in flight gets an outcome record saying
    /// it is unknown. Returns how many there were.
    pub fn abandon_in_flight(&self) -> usize {
        let running: Vec<(OpId, Command)> = {
            let mut flight = self.inner.flight.lock().unwrap_or_else(|e| e.into_inner());
            flight.running.drain().collect()
        };
        let now = Timestamp::now();
        for (op, command) in &running {
            let message = "outcome unknown: rollcall exited while the command was in flight";
            if let Err(e) = self
                .inner
                .append_outcome(*op, command, None, now, "unknown", message)
            {
                tracing::error!(error = %e, %op, "audit log write failed for an abandoned command");
            }
        }
        running.len()
    }

    /// Asks the server what `command` would do without doing it (RBAC, the same
    /// preparation as the send, each write with `dryRun=All`); answers with
    /// `Report::DryRun`. Nothing is changed: not audited, no Event.
    pub fn dry_run(&self, command: Command) {
        let inner = self.inner.clone();
        let span = tracing::info_span!("dry-run", command = %command.summary());
        tokio::spawn(
            async move {
                let result = inner.dry_run(&command).await;
                let _ = inner
                    .events
                    .send(Report::DryRun { command, result }.into())
                    .await;
            }
            .instrument(span),
        );
    }

    /// Reads an app's manifests at a revision and answers with the images in them as
    /// `Report::Manifests`. A read: not audited, no Event.
    pub fn fetch_manifests(&self, fetch: ManifestFetch) {
        let inner = self.inner.clone();
        let span = tracing::info_span!("manifests", app = %fetch.app, revision = %fetch.revision);
        tokio::spawn(
            async move {
                let result = match inner.argocd.get(&fetch.env_name) {
                    None => Err(Refused::NoArgocd(fetch.env_name.clone()).to_string()),
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

/// The client a command's family goes through.
enum Route<'a> {
    Kube(&'a KubeActions),
    Argocd(&'a ArgoClient),
    Migrations(&'a Target),
    /// The user's git in their clone: no cluster, no Event; the remote is the judge.
    Git,
    /// The broker's own tools, run in its pod through the cluster's API.
    Kafka(&'a KubeActions),
}

impl<E: Sink> Inner<E> {
    /// Read-only policy and send-once, before anything else.
    fn take_off(&self, op: OpId, command: &Command) -> Result<(), Refused> {
        if self.readonly {
            return Err(Refused::ReadOnly);
        }
        let mut flight = self.flight.lock().unwrap_or_else(|e| e.into_inner());
        if !flight.seen.insert(op) {
            return Err(Refused::AlreadySent { op });
        }
        if let Some((other, _)) = flight.running.iter().find(|(_, c)| *c == command) {
            return Err(Refused::InFlight {
                summary: command.summary(),
                op: *other,
            });
        }
        flight.running.insert(op, command.clone());
        Ok(())
    }

    fn land(&self, op: OpId) {
        let mut flight = self.flight.lock().unwrap_or_else(|e| e.into_inner());
        flight.running.remove(&op);
    }

    fn route(&self, command: &Command) -> Result<Route<'_>, Refused> {
        let env = command.env();
        match command {
            Command::Migrate { .. } => self
                .migrations
                .get(env)
                .map(Route::Migrations)
                .ok_or_else(|| Refused::NoDatabase(env.to_owned())),
            Command::ArgocdRollback { .. }
            | Command::ArgocdSync { .. }
            | Command::ArgocdDisableAutoSync { .. }
            | Command::ArgocdTerminateOperation { .. }
            | Command::ArgocdRefresh { .. } => self
                .argocd
                .get(env)
                .map(Route::Argocd)
                .ok_or_else(|| Refused::NoArgocd(env.to_owned())),
            Command::RunbookStep {
                action: super::runbook::StepAction::Git(_),
                ..
            } => Ok(Route::Git),
            Command::KafkaResetOffsets { .. } => self
                .clients
                .get(env)
                .map(Route::Kafka)
                .ok_or_else(|| Refused::NoCluster(env.to_owned())),
            Command::RestartDeployment { .. }
            | Command::KafkaTopicRestore { .. }
            | Command::Rollout { .. }
            | Command::SwitchBlueGreen { .. }
            | Command::UndoDeployment { .. }
            | Command::MarkChecklist { .. }
            | Command::RunbookStep { .. } => self
                .clients
                .get(env)
                .map(Route::Kube)
                .ok_or_else(|| Refused::NoCluster(env.to_owned())),
        }
    }

    /// The dry run of a Kubernetes-family command: what the server would accept.
    async fn dry_run(&self, command: &Command) -> Result<String, String> {
        if self.readonly {
            return Err(Refused::ReadOnly.to_string());
        }
        let kube = match self.route(command).map_err(|e| e.to_string())? {
            Route::Kube(kube) => kube,
            // The tool's own --dry-run, after the same RBAC check as the send.
            Route::Kafka(kube) => {
                authorize(kube, command).await.map_err(|e| e.to_string())?;
                return super::kafka::dry_run(kube, command, (self.clock)()).await;
            }
            _ => return Err("no dry run for this command before it is confirmed".into()),
        };
        authorize(kube, command).await.map_err(|e| e.to_string())?;
        let prepared = match kube::prepare(kube, command, &self.user)
            .await
            .map_err(|e| e.to_string())?
        {
            Plan::Nothing(why) => return Ok(format!("nothing to send: {why}")),
            Plan::Send(p) => p,
        };
        for w in &prepared.writes {
            kube.write(w, true).await.map_err(|e| e.to_string())?;
        }
        Ok(match prepared.writes.len() {
            1 => "the server accepts it".to_owned(),
            n => format!("the server accepts all {n} writes"),
        })
    }

    /// The stages after take-off, in order.
    async fn run(&self, op: OpId, command: &Command) -> Result<String, String> {
        match self.route(command).map_err(|e| e.to_string())? {
            Route::Kube(kube) => {
                let sent = match authorize(kube, command).await {
                    Ok(()) => self.send_kube(kube, command).await,
                    Err(refused) => Err(refused.into()),
                };
                match sent {
                    Ok((done, Some(event))) => {
                        self.leave_event(command, event, false, Ok(done)).await
                    }
                    // Nothing was sent: the cluster already was as asked.
                    Ok((done, None)) => Ok(done),
                    Err(failed) => Err(failed.to_string()),
                }
            }
            Route::Argocd(client) => {
                // Argo CD's RBAC needs the app's project; the app read also says where
                // its Application lives, for the Event.
                let app = super::argocd::authorize(client, command)
                    .await
                    .map_err(|e| Refused::from(e).to_string())?;
                let outcome = super::argocd::execute(client, command)
                    .await
                    .map_err(|e| e.to_string());
                // Argo CD commands leave their Event whatever the outcome, once past
                // RBAC: a failed dry run or a refusal is worth a Warning on the app.
                let namespace = app.as_ref().map(|a| a.namespace.as_str());
                match super::argocd::event(command, namespace, &self.user, &outcome) {
                    Some(spec) => {
                        self.leave_event(command, spec, outcome.is_err(), outcome)
                            .await
                    }
                    None => outcome,
                }
            }
            Route::Kafka(kube) => {
                authorize(kube, command).await.map_err(|e| e.to_string())?;
                let now = (self.clock)();
                let (done, event) = super::kafka::execute(kube, command, &self.user, now).await?;
                self.leave_event(command, event, false, Ok(done)).await
            }
            Route::Git => match command {
                Command::RunbookStep {
                    action: super::runbook::StepAction::Git(g),
                    ..
                } => super::git::execute(g).await.map_err(|e| e.to_string()),
                _ => Err(format!("{} is not a git step", command.summary())),
            },
            // A database has no RBAC to ask nor dry run to send: the plan the user
            // confirmed is re-checked against the recorded version under the lock.
            Route::Migrations(target) => match command {
                Command::Migrate { plan, .. } => {
                    crate::clients::migrations::run_op(target, op, plan, &self.events)
                        .await
                        .map_err(|e| e.to_string())
                }
                _ => Err(format!("{} is not a migration", command.summary())),
            },
        }
    }

    /// Prepare, dry run and send, for the Kubernetes-API family: what it did, and the
    /// Event to leave.
    async fn send_kube(
        &self,
        kube: &KubeActions,
        command: &Command,
    ) -> Result<(String, Option<EventSpec>), Failed> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let prepared = match kube::prepare(kube, command, &self.user).await? {
                Plan::Nothing(why) => return Ok((why, None)),
                Plan::Send(p) => p,
            };
            // A write someone else made since prepare read (409 on the dry run or the
            // send) means prepare again, for a GET-edit-PUT or a create.
            let mut raced = None;
            for w in &prepared.writes {
                match kube.write(w, true).await {
                    Ok(_) => {}
                    Err(e) if e.code() == Some(409) && prepared.retry_on_conflict => {
                        raced = Some(e);
                        break;
                    }
                    Err(e) => return Err(Refused::DryRun(e).into()),
                }
            }
            if let Some(e) = raced {
                if attempt >= CONFLICT_ATTEMPTS {
                    return Err(Failed::Conflicts {
                        attempts: attempt,
                        last: e,
                    });
                }
                tokio::time::sleep(conflict_pause(attempt)).await;
                continue;
            }
            match send_all(kube, &prepared.writes).await {
                Ok(()) => return Ok((prepared.done, Some(prepared.event))),
                Err(e) if e.code() == Some(409) && prepared.retry_on_conflict => {
                    if attempt >= CONFLICT_ATTEMPTS {
                        return Err(Failed::Conflicts {
                            attempts: attempt,
                            last: e,
                        });
                    }
                    tokio::time::sleep(conflict_pause(attempt)).await;
                }
                Err(e) => return Err(Failed::Send(e)),
            }
        }
    }

    /// Leaves the command's Event on its target. A failed write does not change the
    /// outcome; it is logged and noted in the message.
    async fn leave_event(
        &self,
        command: &Command,
        spec: EventSpec,
        warning: bool,
        outcome: Result<String, String>,
    ) -> Result<String, String> {
        let Some(kube) = self.clients.get(command.env()) else {
            tracing::warn!("no cluster connection for the command's Event");
            return outcome;
        };
        let event = AuditEvent {
            warning,
            target: spec.target,
            reason: spec.reason.to_owned(),
            action: spec.action,
            message: spec.message,
            user: self.user.clone(),
        };
        match kube.record_event(event).await {
            Ok(()) => outcome,
            Err(e) => {
                tracing::warn!(error = %e, "could not record a Kubernetes Event");
                let note = format!(" (could not record a Kubernetes Event: {e})");
                outcome.map(|m| m + &note).map_err(|m| m + &note)
            }
        }
    }

    fn who(&self, command: &Command) -> Who<'_> {
        Who {
            user: &self.user,
            uid: self.audit.uid(),
            cluster_user: self.identities.get(command.env()).map(String::as_str),
        }
    }

    /// Writes and syncs the intent before anything is sent; the refusal when it cannot.
    fn record_intent(
        &self,
        op: OpId,
        command: &Command,
        reason: Option<&str>,
    ) -> Result<(), String> {
        let record = Record::Intent {
            time: Timestamp::now(),
            session: self.audit.session(),
            op,
            op_uid: self.audit.op_uid(op),
            who: self.who(command),
            target: command.target_name(),
            command,
            reason,
        };
        self.audit.append(&record).map_err(|e| {
            tracing::error!(error = %e, "audit log write failed; nothing sent");
            format!(
                "refused: the audit log {} cannot be written ({e}); nothing was sent",
                self.audit.path().display()
            )
        })
    }

    /// Appends the outcome record; a failed write is logged and said with the outcome.
    fn record(
        &self,
        op: OpId,
        command: &Command,
        reason: Option<&str>,
        started: Timestamp,
        outcome: Result<String, String>,
    ) -> Result<String, String> {
        let (result, message) = match &outcome {
            Ok(m) => ("ok", m.as_str()),
            Err(m) => ("error", m.as_str()),
        };
        tracing::info!(result, message, "operation finished");
        match self.append_outcome(op, command, reason, started, result, message) {
            Ok(()) => outcome,
            Err(e) => {
                tracing::error!(error = %e, "audit log write failed");
                outcome.map(|m| format!("{m} (audit log write failed: {e})"))
            }
        }
    }

    fn append_outcome(
        &self,
        op: OpId,
        command: &Command,
        reason: Option<&str>,
        started: Timestamp,
        result: &str,
        message: &str,
    ) -> std::io::Result<()> {
        let record = Record::Outcome {
            time: Timestamp::now(),
            started,
            session: self.audit.session(),
            op,
            op_uid: self.audit.op_uid(op),
            who: self.who(command),
            target: command.target_name(),
            command,
            reason,
            result,
            message,
        };
        self.audit.append(&record)
    }
}

/// RBAC first, as the user would check with `kubectl auth can-i`: a refusal names the
/// permission instead of surfacing as a 403 from the dry run.
async fn authorize(kube: &KubeActions, command: &Command) -> Result<(), Refused> {
    for access in kube::access(command) {
        match kube.can_i(&access).await {
            Ok(None) => {}
            Ok(Some(why)) => {
                let why = if why.is_empty() {
                    String::new()
                } else {
                    format!(" ({why})")
                };
                return Err(Refused::Rbac {
                    permission: access.describe(),
                    why,
                });
            }
            // The server still enforces RBAC on the request itself.
            Err(e) => tracing::warn!(error = %e, "access review failed; sending anyway"),
        }
    }
    Ok(())
}

async fn send_all(
    kube: &KubeActions,
    writes: &[crate::clients::kube::Write],
) -> Result<(), KubeError> {
    for w in writes {
        kube.write(w, false).await?;
    }
    Ok(())
}

/// Whether a dialog can ask the server about `command` before it is confirmed: the
/// Kubernetes API's dry run changes nothing; Argo CD's is an operation on the app (run at
/// confirm), a database has none, git's needs the commit.
pub fn dry_run_family(command: &Command) -> Result<(), &'static str> {
    match command {
        Command::Migrate { .. } => Err("no dry run for a database: the plan is re-checked under \
             its lock when sent"),
        Command::ArgocdRollback { .. } | Command::ArgocdSync { .. } => {
            Err("Argo CD's dry run is an operation on the app: it runs when you confirm")
        }
        Command::ArgocdDisableAutoSync { .. }
        | Command::ArgocdTerminateOperation { .. }
        | Command::ArgocdRefresh { .. } => Err("Argo CD has no dry run for this request"),
        Command::RunbookStep {
            action: super::runbook::StepAction::Git(_),
            ..
        } => Err("git push --dry-run runs when you confirm, on the commit it makes"),
        _ => Ok(()),
    }
}
