//! What follows a sent Argo CD command: the wait after a rollback or sync, as
//! `argocd app wait --health --timeout 600` does (settled from the watched app on every
//! Argo CD event and clock tick, never by polling), and the rollback offered once the
//! auto-sync-off it needed succeeded.

use jiff::Timestamp;

use crate::app::panes::argocd::WAIT_TIMEOUT_SECS;
use crate::app::panes::argocd::commands::open_rollback;
use crate::app::state::{Mode, State};
use crate::bus::{Command, OpId};

/// A wait for an app to be Healthy (and Synced, or at the rolled-back revision).
#[derive(Debug, Clone, PartialEq)]
pub struct Wait {
    /// The rollback or sync waited for: how it settles goes to the audit log.
    pub op: OpId,
    pub env: usize,
    pub app: String,
    pub started: Timestamp,
    pub timeout_secs: i64,
    /// The revision a rollback or sync goes to, when known.
    pub revision: Option<String>,
    pub rollback: bool,
    /// Whether the operation has been seen running (so a finished one is ours).
    pub seen_running: bool,
    /// None while waiting.
    pub outcome: Option<Result<String, String>>,
}

impl Wait {
    pub fn elapsed(&self, now: Timestamp) -> i64 {
        now.duration_since(self.started).as_secs().max(0)
    }
}

pub fn on_tick(state: &mut State) -> bool {
    let waiting = state.argocd.waits.iter().any(|w| w.outcome.is_none());
    check_waits(state);
    waiting
}

/// Settles waits: success when the operation ended and the app is Healthy and Synced
/// (or, after a rollback, runs the rolled-back revision); failure when the operation
/// failed or the timeout passed.
pub(super) fn check_waits(state: &mut State) {
    let now = state.now;
    let mut flash = None;
    for w in state
        .argocd
        .waits
        .iter_mut()
        .filter(|w| w.outcome.is_none())
    {
        let app = state.argocd.envs.get(w.env).and_then(|e| e.app(&w.app));
        if let Some(app) = app {
            if app.operation_in_flight() {
                w.seen_running = true;
            }
            let op = app.operation_state.as_ref();
            let ended = !app.operation_in_flight() && op.is_some_and(|o| !o.in_flight());
            let ours = w.seen_running
                || (w.revision.is_some()
                    && op.and_then(|o| o.result_revision.as_ref()) == w.revision.as_ref());
            if ended && ours {
                let op = op.map(|o| (o.phase.clone(), o.message.clone().unwrap_or_default()));
                if let Some((phase, msg)) = op.filter(|(p, _)| p == "Failed" || p == "Error") {
                    w.outcome = Some(Err(format!("{}: operation {phase}: {msg}", w.app)));
                } else {
                    let at_target = if w.rollback {
                        w.revision.is_none() || app.deployed_revision() == w.revision.as_deref()
                    } else {
                        app.sync_status == "Synced"
                    };
                    if app.health == "Healthy" && at_target {
                        let rev = app
                            .deployed_revision()
                            .map(crate::domain::application::short_revision);
                        w.outcome = Some(Ok(format!(
                            "{}: Healthy and {} at {} after {}s",
                            w.app,
                            if w.rollback { "rolled back" } else { "Synced" },
                            rev.unwrap_or("?"),
                            w.elapsed(now)
                        )));
                    }
                }
            }
        }
        if w.outcome.is_none() && w.elapsed(now) >= w.timeout_secs {
            let (health, sync) = app.map_or(("?".into(), "?".into()), |a| {
                (a.health.clone(), a.sync_status.clone())
            });
            w.outcome = Some(Err(format!(
                "{}: timed out after {}s waiting for Healthy (health {health}, sync {sync})",
                w.app, w.timeout_secs
            )));
        }
        if let Some(o) = &w.outcome {
            state.argocd.settled.push((w.op, o.clone()));
            flash = Some(match o {
                Ok(m) => (m.clone(), true),
                Err(m) => (m.clone(), false),
            });
        }
    }
    if let Some((text, ok)) = flash {
        state.flash = Some((now, format!("wait: {text}"), ok));
    }
}

/// Called when a confirmed command is handed to the bus.
pub fn on_sent(state: &mut State, op: OpId, command: &Command) {
    let env_index = |name: &str| state.envs.iter().position(|e| e.config.name == name);
    match command {
        Command::ArgocdDisableAutoSync { env, app, .. } => {
            if let Some(p) = &mut state.argocd.pending
                && p.app == *app
                && env_index(env) == Some(p.env)
            {
                p.op = Some(op);
            }
        }
        Command::ArgocdRollback {
            env, app, revision, ..
        } => {
            if let Some(i) = env_index(env) {
                state
                    .argocd
                    .wait_on
                    .insert(op, (i, app.clone(), revision.clone(), true));
            }
        }
        Command::ArgocdSync { env, app, revision } => {
            if let Some(i) = env_index(env) {
                state
                    .argocd
                    .wait_on
                    .insert(op, (i, app.clone(), revision.clone(), false));
            }
        }
        _ => {}
    }
}

/// Called when an operation's result arrives: starts the wait after a rollback or sync,
/// and offers the rollback once auto-sync is off.
pub fn on_op_finished(state: &mut State, op: OpId, outcome: &Result<String, String>) {
    if let Some((env, app, revision, rollback)) = state.argocd.wait_on.remove(&op)
        && outcome.is_ok()
    {
        state
            .argocd
            .waits
            .retain(|w| !(w.env == env && w.app == app));
        state.argocd.waits.push(Wait {
            op,
            env,
            app,
            started: state.now,
            timeout_secs: WAIT_TIMEOUT_SECS,
            revision,
            rollback,
            seen_running: false,
            outcome: None,
        });
        check_waits(state);
    }
    let Some(p) = state.argocd.pending.clone().filter(|p| p.op == Some(op)) else {
        return;
    };
    state.argocd.pending = None;
    if outcome.is_err() {
        return;
    }
    if matches!(state.mode, Mode::Normal) {
        open_rollback(state, p.env, &p.app, p.id, p.revision);
    } else {
        let text = format!(
            "{}: auto-sync off; press R in its history to roll back to {}",
            p.app, p.id
        );
        state.flash = Some((state.now, text, true));
    }
}
