//! Changes a GitOps controller takes back: a Deployment undo, a Rollout undo or set
//! image sent while an Argo CD app with self-heal deploys the workload. The dialog warns
//! before (`confirm`); this notices after: the workload's images changed as sent, then
//! went back to what they were, and the screen says so instead of leaving the ✔ flash
//! to lie.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};

use super::state::{ConfirmDialog, Mode, State};
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
    /// A change the user set aside to turn self-heal's auto-sync off first (Ctrl+O in
    /// its dialog): offered again once that command succeeds.
    after_off: Option<AfterOff>,
}

#[derive(Debug)]
struct AfterOff {
    env: usize,
    app: String,
    command: Command,
    /// The auto-sync-off command, once confirmed.
    op: Option<OpId>,
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
         history, R), or press Ctrl+O to turn its auto-sync off first: this change is \
         offered again once it is off."
    ))
}

/// Ctrl+O in a dialog warned about self-heal: set its change aside, and ask to turn the
/// app's auto-sync off first. Refused in the dialog when nothing self-heals it.
pub fn auto_sync_off_first(state: &mut State) {
    let Mode::Confirm(dialog) = &state.mode else {
        return;
    };
    let app = target(state, &dialog.command)
        .and_then(|(env, _, _, name)| Some((env, self_heal_app(state, env, &name)?)));
    let Some((env, app)) = app else {
        if let Mode::Confirm(dialog) = &mut state.mode {
            dialog.error = Some("no Argo CD app with self-heal deploys this workload".into());
        }
        return;
    };
    let Mode::Confirm(dialog) = std::mem::replace(&mut state.mode, Mode::Normal) else {
        return;
    };
    let Some(e) = state.envs.get(env) else {
        return;
    };
    let production = e.config.production;
    let off = Command::ArgocdDisableAutoSync {
        env: e.config.name.clone(),
        app: app.clone(),
        then_rollback: None,
    };
    state.reverts.after_off = Some(AfterOff {
        env,
        app,
        command: dialog.command,
        op: None,
    });
    let name = off.target_name().to_owned();
    super::confirm::open(state, ConfirmDialog::new(off, production, name));
}

/// A confirmed command: remember the images it starts from, if self-heal may revert it.
pub fn on_sent(state: &mut State, op: OpId, command: &Command) {
    if let Command::ArgocdDisableAutoSync { env, app, .. } = command
        && let Some(after) = &mut state.reverts.after_off
        && after.app == *app
        && state
            .envs
            .get(after.env)
            .is_some_and(|e| e.config.name == *env)
    {
        after.op = Some(op);
    }
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

/// The command finished: watch the workload if it went through; after auto-sync off,
/// offer the change that waited for it.
pub fn on_op_finished(state: &mut State, op: OpId, ok: bool) {
    if state
        .reverts
        .after_off
        .as_ref()
        .is_some_and(|a| a.op == Some(op))
        && let Some(after) = state.reverts.after_off.take()
    {
        reoffer(state, op, ok, after);
    }
    if let Some(mut w) = state.reverts.sent.remove(&op)
        && ok
    {
        w.since = state.now;
        state.reverts.watching.push(w);
    }
}

fn reoffer(state: &mut State, op: OpId, ok: bool, after: AfterOff) {
    let summary = after.command.summary();
    if !ok {
        let text = format!(
            "{}: auto-sync is still on; not offering {summary}",
            after.app
        );
        state.flash = Some((state.now, text, false));
        return;
    }
    let Some(e) = state.envs.get(after.env) else {
        return;
    };
    if !matches!(state.mode, Mode::Normal) {
        let text = format!(
            "{}: auto-sync off ({op}); {summary} was not sent",
            after.app
        );
        state.flash = Some((state.now, text, true));
        return;
    }
    let name = after.command.target_name().to_owned();
    let mut dialog = ConfirmDialog::new(after.command, e.config.production, name);
    // The app's watch may not show the change yet: say what is known instead of the
    // self-heal warning.
    dialog.warning = Some(format!(
        "Argo CD app {} has auto-sync off now ({op}): self-heal will not take this back. \
         Git still says otherwise; turn auto-sync on again only once Git matches.",
        after.app
    ));
    super::confirm::open(state, dialog);
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
                 Roll back in Argo CD instead (5, Enter, R), or turn its auto-sync off first (5, A).",
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
