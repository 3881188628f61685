//! The rollback advisor: for one service in one environment, every way back that the
//! deployed state allows, each as ordered steps with why, how long, and the risks found,
//! ranked safest and fastest first. Pure: the app and `rollcall advise` fill a
//! `Situation` from what they read, and turn the steps into the same commands the
//! single actions send. A new layer plugs in as one more `Strategy` function, or, like
//! the Kafka replay (`replay.rs`), as steps every way back ends with.

mod replay;

pub use replay::{GroupFacts, bad_version_since, tool_time};

use jiff::Timestamp;
use serde::Serialize;

use super::application::AppRow;
use super::bluegreen::{BlueGreenView, DeploymentRevisions};
use super::migrations::{EnvMigrations, RowState};
use super::rollout::RolloutRow;
use super::rollout::view::CanaryView;
use crate::config::Colour;

/// What the advisor reads about one service in one environment.
#[derive(Debug, Default)]
pub struct Situation<'a> {
    pub env: &'a str,
    pub production: bool,
    pub service: &'a str,
    pub now: Option<Timestamp>,
    /// The service's Argo Rollout, and the canary pane's view of it.
    pub rollout: Option<(&'a RolloutRow, CanaryView)>,
    /// The service's blue/green pair.
    pub bluegreen: Option<BlueGreenView>,
    /// The service's Deployment revisions (not for a Rollout).
    pub revisions: Option<DeploymentRevisions>,
    /// The Argo CD app deploying the service.
    pub app: Option<&'a AppRow>,
    pub migrations: Option<&'a EnvMigrations>,
    /// When the newest completed backup of the environment's database finished, and the
    /// policy's maximum age in seconds (from the checklist), when known.
    pub backup: Option<(Option<Timestamp>, i64)>,
    /// Open gates of the release checklist, by name.
    pub open_gates: Vec<String>,
    /// The service's consumer groups (its `consumer_groups:`), as Kafka was last read.
    pub consumer_groups: Vec<GroupFacts<'a>>,
}

/// One step of a plan: what to send (built into the same command as the single
/// action), why it is there, and how long it should take.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanStep {
    pub action: StepAction,
    pub why: String,
    pub expected_secs: u64,
    /// Why this step cannot run as things are, and what to do first; the steps before
    /// it can (the plan is not blocked), and the run stops here if it still holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocker: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum StepAction {
    AbortCanary {
        namespace: String,
        rollout: String,
    },
    SwitchBlueGreen {
        to: Colour,
    },
    DisableAutoSync {
        app: String,
    },
    ArgocdRollback {
        app: String,
        id: i64,
        revision: String,
    },
    WaitHealthy {
        app: String,
    },
    UndoDeployment {
        deployment: String,
        to_revision: u64,
    },
    /// `kafka-consumer-groups.sh --reset-offsets --to-datetime`: the group reads its
    /// topic again from `to`.
    ResetConsumerGroup {
        group: String,
        topic: String,
        to: Timestamp,
    },
}

impl StepAction {
    /// The step in a few words.
    pub fn describe(&self) -> String {
        match self {
            StepAction::AbortCanary { rollout, .. } => format!("abort the canary of {rollout}"),
            StepAction::SwitchBlueGreen { to } => format!("switch the Service back to {to}"),
            StepAction::DisableAutoSync { app } => format!("turn {app}'s auto-sync off"),
            StepAction::ArgocdRollback { app, id, revision } => format!(
                "roll {app} back to history id {id} ({})",
                &revision[..revision.len().min(7)]
            ),
            StepAction::WaitHealthy { app } => format!("wait for {app} to be Healthy"),
            StepAction::UndoDeployment {
                deployment,
                to_revision,
            } => format!("undo deployment/{deployment} to revision {to_revision}"),
            StepAction::ResetConsumerGroup { group, topic, to } => {
                format!("replay {group} on {topic} from {}", tool_time(*to))
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Note,
    Warning,
    /// The plan must not run as it is.
    Blocker,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Risk {
    pub severity: Severity,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// The way back, in a few words.
    pub title: String,
    pub steps: Vec<PlanStep>,
    pub risks: Vec<Risk>,
    pub expected_secs: u64,
    /// Why it ranks where it does.
    pub rank_reason: String,
    /// Higher runs first; a plan with a blocker ranks below every other.
    #[serde(skip)]
    score: u32,
}

impl Plan {
    pub fn blocked(&self) -> bool {
        self.risks.iter().any(|r| r.severity == Severity::Blocker)
    }
}

/// Every way back, best first. Empty when nothing is deployed that can be rolled back.
pub fn advise(s: &Situation<'_>) -> Vec<Plan> {
    let mut plans: Vec<Plan> = [abort_canary, switch_back, argocd_rollback, deployment_undo]
        .iter()
        .filter_map(|strategy| strategy(s))
        .collect();
    let shared = shared_risks(s);
    let (replay_steps, replay_risks) = replay::replay(s);
    for p in &mut plans {
        p.steps.extend(replay_steps.iter().cloned());
        p.risks.extend(replay_risks.iter().cloned());
        p.risks.extend(shared.iter().cloned());
        p.expected_secs = p.steps.iter().map(|st| st.expected_secs).sum();
    }
    plans.sort_by_key(|p| (p.blocked(), std::cmp::Reverse(p.score)));
    plans
}

fn step(action: StepAction, why: impl Into<String>, expected_secs: u64) -> PlanStep {
    PlanStep {
        action,
        why: why.into(),
        expected_secs,
        blocker: None,
    }
}

fn plan(title: String, steps: Vec<PlanStep>, score: u32, rank_reason: &str) -> Plan {
    Plan {
        title,
        steps,
        risks: Vec::new(),
        expected_secs: 0,
        rank_reason: rank_reason.into(),
        score,
    }
}

/// A canary in flight: abort sends all traffic back to the stable ReplicaSet at once,
/// changes nothing in Git, so self-heal has nothing to undo.
fn abort_canary(s: &Situation<'_>) -> Option<Plan> {
    let (ro, view) = s.rollout.as_ref()?;
    if ro.fully_promoted() || ro.abort || ro.invalid_spec() {
        return None;
    }
    let stable = view.stable_image.as_deref().unwrap_or("the stable version");
    let why = format!(
        "the canary ({}, {}% of traffic) stops; {stable} keeps serving. Git is not \
         touched, so Argo CD has nothing to revert",
        view.canary_image.as_deref().unwrap_or("?"),
        view.actual_weight
    );
    let action = StepAction::AbortCanary {
        namespace: ro.namespace.clone(),
        rollout: ro.name.clone(),
    };
    let mut p = plan(
        format!("abort the canary of {}", ro.name),
        vec![step(action, why, 10)],
        100,
        "instant, and no Git change: the stable pods already serve",
    );
    p.risks.push(Risk {
        severity: Severity::Note,
        text: "the Rollout shows Degraded until Git names the stable version again \
               (roll back in Argo CD, or fix forward)"
            .into(),
    });
    Some(p)
}

/// A blue/green pair whose other colour still runs the previous version, fully ready:
/// one selector change moves all traffic back.
fn switch_back(s: &Situation<'_>) -> Option<Plan> {
    let view = s.bluegreen.as_ref()?;
    let live = view.live?;
    let to = view.target();
    let target = view.side(to);
    let live_side = view.side(live);
    if target.images.is_empty() || target.images == live_side.images {
        return None;
    }
    // The other colour may hold a newer version, deployed and waiting for its switch:
    // sending traffic there is a release, not a way back.
    let newer = matches!((target.since, live_side.since), (Some(t), Some(l)) if t > l);
    if newer {
        return None;
    }
    let why = format!(
        "the Service selects {to} again ({}); the {live} pods stay for a switch forward",
        target.images.join(", ")
    );
    let mut p = plan(
        format!("switch {} back to {to}", view.service),
        vec![step(StepAction::SwitchBlueGreen { to }, why, 5)],
        90,
        "instant: the previous version is running and ready",
    );
    if target.since.is_none() || live_side.since.is_none() {
        p.risks.push(Risk {
            severity: Severity::Warning,
            text: format!(
                "rollcall cannot tell when {to} got {}: make sure it is the version that \
                 ran before, not a newer one waiting for its switch",
                target.images.join(", ")
            ),
        });
    }
    if let Some(not_ready) = target.not_ready_reason() {
        p.risks.push(Risk {
            severity: Severity::Blocker,
            text: format!("{to} cannot take the traffic: {not_ready}"),
        });
    }
    Some(p)
}

/// The Argo CD app back to the last history entry at another revision, auto-sync off
/// first when it is on (Argo CD refuses a rollback otherwise), then the wait.
fn argocd_rollback(s: &Situation<'_>) -> Option<Plan> {
    let app = s.app?;
    let current = app.current_history_id();
    let current_rev = app.deployed_revision();
    let target = app
        .history
        .iter()
        .rev()
        .find(|h| Some(h.id) != current && Some(h.revision.as_str()) != current_rev)?;
    let mut steps = Vec::new();
    if app.automated.is_some() {
        steps.push(step(
            StepAction::DisableAutoSync {
                app: app.name.clone(),
            },
            "Argo CD refuses a rollback while auto-sync is on, and self-heal would put the \
             Git revision back",
            5,
        ));
    }
    steps.push(step(
        StepAction::ArgocdRollback {
            app: app.name.clone(),
            id: target.id,
            revision: target.revision.clone(),
        },
        format!(
            "the last release before the current one (deployed {})",
            target
                .deployed_at
                .map_or("?".into(), |t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        ),
        15,
    ));
    steps.push(step(
        StepAction::WaitHealthy {
            app: app.name.clone(),
        },
        "the pods roll to the old version; done when the app is Healthy at it",
        120,
    ));
    let mut p = plan(
        format!("roll {} back in Argo CD to id {}", app.name, target.id),
        steps,
        70,
        "re-rolls every pod (minutes), but cluster and Argo CD agree on what runs",
    );
    if app.operation_in_flight() {
        p.risks.push(Risk {
            severity: Severity::Blocker,
            text: format!(
                "{}: an operation is in progress; terminate it first",
                app.name
            ),
        });
    }
    if app.automated.is_some() {
        p.risks.push(Risk {
            severity: Severity::Note,
            text: "auto-sync stays off afterwards: turn it on again once Git names a good \
                   version"
                .into(),
        });
    }
    p.risks.extend(schema_risks(s, target.deployed_at));
    Some(p)
}

/// `kubectl rollout undo` of a Deployment to its previous revision: fast, but behind
/// Argo CD's back.
fn deployment_undo(s: &Situation<'_>) -> Option<Plan> {
    let revs = s.revisions.as_ref()?;
    let current = revs.current?;
    let previous = revs.revisions.iter().find(|r| r.revision < current)?;
    let mut steps = Vec::new();
    let self_heal = s.app.and_then(|a| a.automated).is_some_and(|a| a.self_heal);
    if let Some(app) = s.app.filter(|_| self_heal) {
        steps.push(step(
            StepAction::DisableAutoSync {
                app: app.name.clone(),
            },
            "self-heal would put the Git revision back within seconds",
            5,
        ));
    }
    steps.push(step(
        StepAction::UndoDeployment {
            deployment: revs.deployment.clone(),
            to_revision: previous.revision,
        },
        format!(
            "the pod template of revision {} ({})",
            previous.revision,
            previous.images.join(", ")
        ),
        60,
    ));
    let mut p = plan(
        format!(
            "undo deployment/{} to revision {}",
            revs.deployment, previous.revision
        ),
        steps,
        50,
        "re-rolls the pods behind Argo CD's back: the app shows OutOfSync until Git follows",
    );
    p.risks.extend(schema_risks(s, previous.created));
    Some(p)
}

/// Rules a version written before the migration cannot live with.
fn breaks_old_code(rule: rollcall_sqllint::Rule) -> bool {
    use rollcall_sqllint::Rule::*;
    matches!(
        rule,
        DropTable | DropColumn | Rename | TypeChange | AddColumnNotNull | SetNotNull
    )
}

/// Applied migrations the old version may not live with: a blocker when the newest was
/// applied after the release rolled back to went out.
fn schema_risks(s: &Situation<'_>, target_deployed: Option<Timestamp>) -> Vec<Risk> {
    let Some(m) = s.migrations else {
        return Vec::new();
    };
    let Some(snap) = &m.source else {
        return Vec::new();
    };
    let last_change = match &m.status {
        Some(Ok(st)) => st.last_change,
        _ => None,
    };
    let mut out = Vec::new();
    let rows = m.rows();
    let applied = rows.iter().filter(|r| {
        matches!(
            r.state,
            RowState::Applied | RowState::Current | RowState::Dirty
        )
    });
    for row in applied {
        let Some(report) = snap.lint.get(&row.version) else {
            continue;
        };
        let breaking: Vec<&str> = report
            .findings
            .iter()
            .map(|f| f.rule)
            .filter(|r| breaks_old_code(*r))
            .map(|r| r.tag())
            .collect();
        if breaking.is_empty() {
            continue;
        }
        let newest = row.state != RowState::Applied;
        let after_target = matches!((last_change, target_deployed), (Some(c), Some(t)) if c > t);
        let (severity, when) = if newest && after_target {
            (
                Severity::Blocker,
                "applied after the release this goes back to: the old version reads what it \
                 removed. Restore the schema first (a down migration that is not \
                 destructive), or fix forward",
            )
        } else {
            (
                Severity::Warning,
                "check that the old version does not use what it changed",
            )
        };
        out.push(Risk {
            severity,
            text: format!(
                "migration {} {} ({}): {when}",
                row.version,
                row.title,
                breaking.join(", ")
            ),
        });
    }
    out
}

/// Risks every plan shares: the database, the backup, the checklist.
fn shared_risks(s: &Situation<'_>) -> Vec<Risk> {
    let mut out = Vec::new();
    if let Some(m) = s.migrations
        && let Some(r) = m.recorded()
        && r.dirty
    {
        out.push(Risk {
            severity: Severity::Warning,
            text: format!(
                "the database is dirty at version {}: a migration failed half-way; fix it \
                 (force after checking the schema) before any migrate",
                r.version
            ),
        });
    }
    if let (Some((newest, max_age)), Some(now)) = (s.backup, s.now) {
        let too_old = newest.is_none_or(|t| now.duration_since(t).as_secs() > max_age);
        if too_old {
            let age = newest.map_or("no completed backup".into(), |t| {
                format!(
                    "the newest backup is {} old",
                    super::format::duration(now.duration_since(t).as_secs())
                )
            });
            out.push(Risk {
                severity: Severity::Warning,
                text: format!(
                    "{age}, older than the policy's {}: take one before touching the schema",
                    super::format::duration(max_age)
                ),
            });
        }
    }
    for gate in &s.open_gates {
        out.push(Risk {
            severity: Severity::Note,
            text: format!("checklist gate still open: {gate}"),
        });
    }
    out
}
