//! Changes a GitOps controller takes back: a Deployment undo, a Rollout undo or set
//! image sent while an Argo CD app with self-heal deploys the workload. The dialog warns
//! before (`confirm`); this notices after: the workload's images changed as sent, then
//! went back to what they were, and the screen says so instead of leaving the ✔ flash
//! to lie.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};

use super::state::State;
use crate::bus::{Command, OpId};

/// How long after the change a return to the old images counts as a revert.
const WATCH_FOR: SignedDuration = SignedDuration::from_mins(3);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    pub env: usize,
    pub rollout: bool,
    pub namespace: String,
    pub name: String,
    /// The Argo CD app with self-heal that deploys it.
    pub app: String,
    /// The images before the change.
    pub before: Vec<String>,
    /// Whether the images have moved away from `before` since.
    pub changed: bool,
    pub since: Timestamp,
}

#[derive(Debug, Default)]
pub struct Reverts {
    sent: HashMap<OpId, Watched>,
    watching: Vec<Watched>,
}

/// The workload a command changes the pod template of: (env, rollout, namespace, name).
fn target(state: &State, command: &Command) -> Option<(usize, bool, String, String)> {
    use crate::bus::rollouts::RolloutAction;
    let (env, rollout, namespace, name) = match command {
        Command::UndoDeployment {
            env,
            namespace,
            name,
            ..
        } => (env, false, namespace, name),
        Command::Rollout {
            env,
            namespace,
            name,
            action: RolloutAction::Undo { .. } | RolloutAction::SetImage { .. },
            ..
        } => (env, true, namespace, name),
        _ => return None,
    };
    let env = state.envs.iter().position(|e| &e.config.name == env)?;
    Some((env, rollout, namespace.clone(), name.clone()))
}

fn images(state: &State, env: usize, rollout: bool, namespace: &str, name: &str) -> Vec<String> {
    if rollout {
        state
            .rollouts
            .envs
            .get(env)
            .and_then(|e| e.rollouts.get(namespace, name))
            .map(|r| r.images.iter().map(|(_, i)| i.clone()).collect())
            .unwrap_or_default()
    } else {
        state
            .envs
            .get(env)
            .and_then(|e| e.deployments.get(namespace, name))
            .and_then(|d| d.image.clone())
            .into_iter()
            .collect()
    }
}

/// The self-heal app deploying `name` in `env`, if any.
pub fn self_heal_app(state: &State, env: usize, name: &str) -> Option<String> {
    let config = &state.envs.get(env)?.config;
    let service = config.services.iter().find(|s| {
        s.workload == name
            || s.name == name
            || s.blue_green
                .as_ref()
                .is_some_and(|p| p.blue == name || p.green == name)
    })?;
    let app = state.argocd.env(env)?.app(&service.argocd_app)?;
    app.automated
        .as_ref()
        .is_some_and(|a| a.self_heal)
        .then(|| app.name.clone())
}

/// The dialog's warning for a command self-heal will take back.
pub fn warning(state: &State, command: &Command) -> Option<String> {
    let (env, _, _, name) = target(state, command)?;
    let app = self_heal_app(state, env, &name)?;
    Some(format!(
        "Argo CD app {app} has automated sync with self-heal: it will put the Git revision \
         back within seconds. Roll back in Argo CD instead (releases pane 5, Enter for \
         history, R), or turn auto-sync off there first (A)."
    ))
}

/// A confirmed command: remember the images it starts from, if self-heal may revert it.
pub fn on_sent(state: &mut State, op: OpId, command: &Command) {
    let Some((env, rollout, namespace, name)) = target(state, command) else {
        return;
    };
    let Some(app) = self_heal_app(state, env, &name) else {
        return;
    };
    let before = images(state, env, rollout, &namespace, &name);
    let since = state.now;
    state.reverts.sent.insert(
        op,
        Watched {
            env,
            rollout,
            namespace,
            name,
            app,
            before,
            changed: false,
            since,
        },
    );
}

/// The command finished: watch the workload if it went through.
pub fn on_op_finished(state: &mut State, op: OpId, ok: bool) {
    if let Some(mut w) = state.reverts.sent.remove(&op)
        && ok
    {
        w.since = state.now;
        state.reverts.watching.push(w);
    }
}

/// After any update: a watched workload back on its old images was reverted.
pub fn check(state: &mut State) {
    if state.reverts.watching.is_empty() {
        return;
    }
    let now = state.now;
    let mut watching = std::mem::take(&mut state.reverts.watching);
    watching.retain_mut(|w| {
        if now.duration_since(w.since) > WATCH_FOR {
            return false;
        }
        let current = images(state, w.env, w.rollout, &w.namespace, &w.name);
        if current.is_empty() {
            return true;
        }
        if current != w.before {
            w.changed = true;
            return true;
        }
        if !w.changed {
            return true;
        }
        let kind = if w.rollout { "rollout" } else { "deployment" };
        state.flash = Some((
            now,
            format!(
                "⚠ {kind}/{} is back on {}: Argo CD app {} reverted the change (self-heal). \
                 Roll back in Argo CD instead (5, Enter, R), or turn auto-sync off first (A).",
                w.name,
                w.before.join(", "),
                w.app
            ),
            false,
        ));
        false
    });
    state.reverts.watching = watching;
}
