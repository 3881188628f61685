//! The blue/green and revisions panes' part of `update()`: which pair and which
//! Deployment revision is selected, the cutover (refused for a colour that is not fully
//! ready unless the user types a reason) and the Deployment undo, each sent through the
//! confirm dialog as a command.

use std::borrow::Cow;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui_textarea::TextArea;

use super::action::Action;
use super::state::{ConfirmDialog, Mode, Pane, State, TableCursor};
use super::update::Effect;
use crate::bus::Command;
use crate::domain::bluegreen::{
    BlueGreenView, DeploymentRevisions, bluegreen_view, deployment_revisions,
};
use crate::domain::{DeploymentRow, RowStore, WatchUpdate};

#[derive(Debug, Default)]
pub struct BlueGreenState {
    /// The selected pair of the selected environment.
    pub pair: usize,
    /// The selected Deployment in the revisions pane.
    pub deployment: TableCursor,
    /// The Deployment whose revisions are open (Enter), by name.
    pub opened: Option<String>,
    /// The chosen revision (index, newest first) of the open Deployment.
    pub revision: TableCursor,
}

/// The reason prompt of an override: the switch it would send.
#[derive(Debug)]
pub struct ReasonPrompt {
    pub title: String,
    /// Why the switch was refused, shown above the input.
    pub refusal: String,
    pub input: TextArea<'static>,
    pub pair: usize,
}

/// Views of the blue/green services of environment `env`, in config order.
pub fn views(state: &State, env: usize) -> Vec<BlueGreenView> {
    let Some(es) = state.envs.get(env) else {
        return Vec::new();
    };
    let rss = state.canary.envs.get(env).map(|re| &re.replicasets);
    es.config
        .services
        .iter()
        .filter_map(|svc| {
            let pair = svc.blue_green.as_ref()?;
            Some(bluegreen_view(
                &svc.name,
                &svc.workload,
                &es.config.namespace,
                pair,
                &es.services,
                &es.deployments,
                rss,
            ))
        })
        .collect()
}

/// The environment's workloads for its summary: a blue/green service counts as the
/// Deployment its Service selects (the one serving), under the Service's name; the
/// idle colour is shown in the blue/green pane.
pub fn workloads<'a>(state: &'a State, env: usize) -> Cow<'a, RowStore<DeploymentRow>> {
    let base = super::canary::workloads(state, env);
    let views = views(state, env);
    if views.is_empty() {
        return base;
    }
    let Some(es) = state.envs.get(env) else {
        return base;
    };
    let mut all = base.into_owned();
    for v in views {
        let Some(live) = v.live else { continue };
        if let Some(d) = es.deployments.get(&v.namespace, &v.side(live).deployment) {
            let mut row = d.clone();
            row.name = v.service.clone();
            all.apply(WatchUpdate::Apply(row));
        }
    }
    Cow::Owned(all)
}

/// Deployments of the selected environment, in name order.
pub fn deployments(state: &State) -> Vec<&DeploymentRow> {
    state
        .env()
        .map(|e| e.deployments.iter().collect())
        .unwrap_or_default()
}

/// The revisions of the Deployment opened in the revisions pane.
pub fn opened_revisions(state: &State) -> Option<DeploymentRevisions> {
    let name = state.bluegreen.opened.as_ref()?;
    let env = state.env()?;
    let d = env.deployments.iter().find(|d| d.name == *name)?;
    let rss = state.canary.envs.get(state.selected_env)?;
    Some(deployment_revisions(d, rss.replicasets.iter()))
}

pub fn move_cursor(state: &mut State, delta: isize, page: usize) {
    match state.focus {
        Pane::BlueGreen => {
            let len = views(state, state.selected_env).len();
            let mut c = TableCursor {
                selected: state.bluegreen.pair,
                offset: 0,
            };
            c.move_by(delta, len, len.max(1));
            state.bluegreen.pair = c.selected;
        }
        Pane::Revisions if state.bluegreen.opened.is_some() => {
            let len = opened_revisions(state).map_or(0, |r| r.revisions.len());
            state.bluegreen.revision.move_by(delta, len, page);
        }
        Pane::Revisions => {
            let len = deployments(state).len();
            state.bluegreen.deployment.move_by(delta, len, page);
        }
        _ => {}
    }
}

/// Enter in the revisions pane: open the selected Deployment's revisions, with the one
/// before the current chosen (what a bare `kubectl rollout undo` goes back to).
pub fn open_selected(state: &mut State) {
    let Some(d) = deployments(state)
        .get(state.bluegreen.deployment.selected)
        .map(|d| d.name.clone())
    else {
        return;
    };
    state.bluegreen.opened = Some(d);
    let current = opened_revisions(state)
        .and_then(|r| r.revisions.iter().position(|e| e.current))
        .unwrap_or(0);
    state.bluegreen.revision = TableCursor {
        selected: current + 1,
        offset: 0,
    };
    let len = opened_revisions(state).map_or(0, |r| r.revisions.len());
    state.bluegreen.revision.scroll_into_view(len, len.max(1));
}

/// Esc in the revisions pane goes back from the revisions to the Deployments.
pub fn close(state: &mut State) -> bool {
    if state.focus == Pane::Revisions && state.bluegreen.opened.is_some() {
        state.bluegreen.opened = None;
        return true;
    }
    false
}

/// Called when the environment changes.
pub fn reset(state: &mut State) {
    state.bluegreen = BlueGreenState::default();
}

pub fn on_action(state: &mut State, action: Action) {
    match action {
        Action::PaneBlueGreen => state.focus = Pane::BlueGreen,
        Action::PaneRevisions => state.focus = Pane::Revisions,
        Action::SwitchBlueGreen => request_switch(state, None),
        Action::UndoRollout => request_undo(state),
        _ => {}
    }
}

/// `b`: switch the selected pair to its other colour. A colour that is not fully ready
/// is refused; the reason prompt then lets the user send it anyway, with a reason.
fn request_switch(state: &mut State, override_reason: Option<String>) {
    let views = views(state, state.selected_env);
    let index = state.bluegreen.pair.min(views.len().saturating_sub(1));
    let Some(view) = views.get(index) else {
        let why =
            "no blue-green service in this environment (kind: blue-green in environments.yaml)";
        state.flash = Some((state.now, why.into(), false));
        return;
    };
    if !view.service_found {
        let why = format!("service/{} not found in {}", view.service, view.namespace);
        state.flash = Some((state.now, why, false));
        return;
    }
    let to = view.target();
    let target = view.side(to);
    if override_reason.is_none()
        && let Some(refusal) = target.not_ready_reason()
    {
        let mut input = TextArea::default();
        input.set_placeholder_text("why switch anyway (recorded in the audit log)");
        state.mode = Mode::Reason(Box::new(ReasonPrompt {
            title: format!(" switch service/{} to {to} anyway? ", view.service),
            refusal: format!("refused: {refusal}"),
            input,
            pair: index,
        }));
        return;
    }
    let Some(env) = state.env() else { return };
    let command = Command::SwitchBlueGreen {
        env: env.config.name.clone(),
        namespace: view.namespace.clone(),
        service: view.service.clone(),
        to_colour: to,
        selector_key: view.selector_key.clone(),
        target_deployment: target.deployment.clone(),
        override_reason,
    };
    open_confirm(state, command, view.service.clone(), None);
}

/// `u` in the revisions pane: undo the open Deployment to the chosen revision.
fn request_undo(state: &mut State) {
    let Some(revs) = opened_revisions(state) else {
        let why = "open a Deployment's revisions first (Enter), then choose one with j/k";
        state.flash = Some((state.now, why.into(), false));
        return;
    };
    let Some(entry) = revs.revisions.get(state.bluegreen.revision.selected) else {
        let why = "choose a revision with j/k first";
        state.flash = Some((state.now, why.into(), false));
        return;
    };
    let Some(env) = state.env() else { return };
    let Some(d) = env.deployments.get(&revs.namespace, &revs.deployment) else {
        return;
    };
    let rs = state
        .canary
        .envs
        .get(state.selected_env)
        .and_then(|re| re.replicasets.get(&revs.namespace, &entry.replica_set));
    let plan = match rs {
        Some(rs) => crate::bus::bluegreen::plan_undo(d, rs),
        None => Err(format!("replicaset/{} is gone", entry.replica_set)),
    };
    let (to_revision, template, annotations) = match plan {
        Ok(p) => p,
        Err(why) => {
            state.flash = Some((state.now, why, false));
            return;
        }
    };
    let command = Command::UndoDeployment {
        env: env.config.name.clone(),
        namespace: revs.namespace.clone(),
        name: revs.deployment.clone(),
        to_revision,
        template,
        annotations,
    };
    let warning = self_heal_warning(state, &revs.deployment);
    open_confirm(state, command, revs.deployment.clone(), warning);
}

/// When an Argo CD app with automated sync and self-heal deploys this Deployment, an
/// undo behind its back is reverted within seconds: say so, and point at the rollback
/// that sticks (release pane, `R`).
fn self_heal_warning(state: &State, deployment: &str) -> Option<String> {
    let env = state.env()?;
    let service = env.config.services.iter().find(|s| {
        s.workload == deployment
            || s.blue_green
                .as_ref()
                .is_some_and(|p| p.blue == deployment || p.green == deployment)
    })?;
    let app = state
        .releases
        .env(state.selected_env)?
        .app(&service.argocd_app)?;
    let auto = app.automated.as_ref()?;
    auto.self_heal.then(|| {
        format!(
            "Argo CD app {} has automated sync with self-heal: it will put the Git \
             revision back within seconds. Roll back in Argo CD instead (releases \
             pane 5, Enter for history, R), or turn auto-sync off there first (A).",
            app.name
        )
    })
}

fn open_confirm(state: &mut State, command: Command, name: String, warning: Option<String>) {
    let Some(env) = state.env() else { return };
    let dialog = ConfirmDialog::new(command, env.config.production, name).with_warning(warning);
    state.mode = Mode::Confirm(Box::new(dialog));
}

/// Keys in the reason prompt: Enter with a reason opens the confirm dialog of the
/// override, Esc cancels.
pub fn on_reason_key(state: &mut State, key: KeyEvent) -> (Vec<Effect>, bool) {
    let Mode::Reason(prompt) = &mut state.mode else {
        return (Vec::new(), false);
    };
    match key.code {
        KeyCode::Esc => {
            state.mode = Mode::Normal;
            state.flash = Some((state.now, "cancelled: nothing switched".into(), true));
        }
        KeyCode::Enter => {
            let reason = prompt.input.lines().join(" ").trim().to_owned();
            let pair = prompt.pair;
            state.mode = Mode::Normal;
            if reason.is_empty() {
                let why = "no reason given: nothing switched";
                state.flash = Some((state.now, why.into(), false));
            } else {
                state.bluegreen.pair = pair;
                request_switch(state, Some(reason));
            }
        }
        _ => {
            prompt.input.input(key);
        }
    }
    (Vec::new(), true)
}
