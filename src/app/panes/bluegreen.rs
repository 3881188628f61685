//! The blue/green pane's part of `update()`: which pair is selected, and the cutover
//! (refused for a colour that is not fully ready unless the user types a reason), sent
//! through the confirm dialog as a command.

use std::borrow::Cow;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui_textarea::TextArea;

use super::{Pane, PaneSpec};
use crate::app::action::Action;
use crate::app::state::{ConfirmDialog, Mode, State, TableCursor};
use crate::app::update::Effect;
use crate::bus::Command;
use crate::domain::bluegreen::{BlueGreenView, bluegreen_view, serving_rows};
use crate::domain::{DeploymentRow, RowStore, WatchUpdate};

#[derive(Debug, Default)]
pub struct BlueGreenState {
    /// The selected pair of the selected environment.
    pub pair: usize,
}

pub const SPEC: PaneSpec = PaneSpec {
    pane: Pane::BlueGreen,
    title: "Blue/green",
    short_title: "B/G",
    focus: Action::PaneBlueGreen,
    pinned: false,
    on_action,
    move_cursor,
};

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
    let rss = state.rollouts.envs.get(env).map(|re| &re.replicasets);
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
    let base = crate::app::panes::rollouts::workloads(state, env);
    let Some(es) = state.envs.get(env) else {
        return base;
    };
    let rows = serving_rows(&es.config, &es.services, &es.deployments);
    if rows.is_empty() {
        return base;
    }
    let mut all = base.into_owned();
    for row in rows {
        all.apply(WatchUpdate::Apply(row));
    }
    Cow::Owned(all)
}

/// Called when the environment changes.
pub fn reset(state: &mut State) {
    state.bluegreen = BlueGreenState::default();
}

fn move_cursor(state: &mut State, delta: isize, _page: usize) {
    let len = views(state, state.selected_env).len();
    let mut c = TableCursor {
        selected: state.bluegreen.pair,
        offset: 0,
    };
    c.move_by(delta, len, len.max(1));
    state.bluegreen.pair = c.selected;
}

fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    match action {
        Action::PaneBlueGreen => state.focus = Pane::BlueGreen,
        Action::SwitchBlueGreen => request_switch(state, None),
        _ => return None,
    }
    Some(Vec::new())
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
    open_confirm(state, command, view.service.clone());
}

fn open_confirm(state: &mut State, command: Command, name: String) {
    let Some(env) = state.env() else { return };
    let dialog = ConfirmDialog::new(command, env.config.production, name);
    crate::app::confirm::open(state, dialog);
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
