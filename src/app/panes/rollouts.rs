//! The canary pane's part of `update()`: Rollout, ReplicaSet, AnalysisRun and Experiment
//! watch data per environment, the bounded chart history sampled on the clock, the
//! selected Rollout and revision, and the Argo Rollouts actions, each offered only when it
//! makes sense and sent through the confirm dialog as a `Command::Rollout`.

use std::collections::HashMap;

use ratatui_textarea::TextArea;

use super::{Pane, PaneSpec};
use crate::app::action::{Action, Home};
use crate::app::state::{ConfirmDialog, Mode, State, StreamState, TableCursor};
use crate::app::update::Effect;
use crate::bus::Command;
use crate::bus::rollouts::RolloutAction;
use crate::domain::analysis::view::analysis_view;
use crate::domain::analysis::{AnalysisRunRow, AnalysisView, ExperimentRow};
use crate::domain::rollout::view::{BoardRow, CanaryView, History, canary_view};
use crate::domain::rollout::{ReplicaSetRow, RolloutUpdate};
use crate::domain::{RolloutRow, RowStore};

/// Rollouts of one environment.
#[derive(Debug, Default)]
pub struct RolloutEnv {
    pub rollouts: RowStore<RolloutRow>,
    pub replicasets: RowStore<ReplicaSetRow>,
    pub runs: RowStore<AnalysisRunRow>,
    pub experiments: RowStore<ExperimentRow>,
    /// Why analysis is not shown (its watches failed), if it is not.
    pub analysis_error: Option<String>,
    /// The watch, kept apart from the environment's connection: a cluster without Argo
    /// Rollouts is not down.
    pub stream: Option<StreamState>,
    /// Chart samples by Rollout name.
    pub history: HashMap<String, History>,
}

#[derive(Debug, Default)]
pub struct RolloutsState {
    pub envs: Vec<RolloutEnv>,
    /// Which Rollout of the selected environment the pane shows.
    pub selected: usize,
    /// The revision chosen for undo (index into the shown Rollout's revisions).
    pub revision: TableCursor,
    /// Whether the user moved the undo cursor (j/k). Until then it stays on the
    /// revision before the current one, whatever arrives; once chosen, it stays on
    /// that revision. (Anchoring the default too put it on revision 1 when the
    /// ReplicaSets arrived one by one and revision 2 came last.)
    pub revision_chosen: bool,
}

impl RolloutsState {
    /// Environments are added as their first Rollout data arrives.
    pub fn new() -> Self {
        RolloutsState {
            envs: Vec::new(),
            selected: 0,
            revision: TableCursor {
                selected: 1,
                offset: 0,
            },
            revision_chosen: false,
        }
    }
}

/// Views of every Rollout of environment `env`, in name order.
pub fn views(state: &State, env: usize) -> Vec<CanaryView> {
    let Some(re) = state.rollouts.envs.get(env) else {
        return Vec::new();
    };
    re.rollouts
        .iter()
        .filter_map(|ro| view_of(state, env, ro))
        .collect()
}

/// The canary view of one Rollout of environment `env`.
pub fn view_of(state: &State, env: usize, ro: &RolloutRow) -> Option<CanaryView> {
    let (re, es) = (state.rollouts.envs.get(env)?, state.envs.get(env)?);
    let rss: Vec<&ReplicaSetRow> = re
        .replicasets
        .iter()
        .filter(|rs| {
            rs.owner
                .as_ref()
                .is_some_and(|(k, n)| k == "Rollout" && *n == ro.name)
        })
        .collect();
    // Runs on every frame: a range of the ordered store, not a scan of all pods.
    // An Experiment's pods share the prefix (and may share the canary's hash):
    // their ReplicaSet belongs to the Experiment, so they are not the Rollout's.
    let prefix = format!("{}-", ro.name);
    let pods: Vec<_> = es
        .pods
        .with_name_prefix(&ro.namespace, &prefix)
        .filter(|p| !of_experiment(re, &ro.name, p))
        .collect();
    Some(canary_view(ro, &rss, &pods, state.now))
}

/// Whether a pod under the Rollout's name belongs to an Experiment: its ReplicaSet is
/// owned by one, or (that ReplicaSet not seen yet) is not named `<rollout>-<hash>` as every
/// ReplicaSet of a Rollout is.
fn of_experiment(re: &RolloutEnv, rollout: &str, pod: &crate::domain::PodRow) -> bool {
    let Some((_, rs)) = pod.owner.as_ref().filter(|(k, _)| k == "ReplicaSet") else {
        return false;
    };
    match re.replicasets.get(&pod.namespace, rs) {
        Some(r) => r.owner.as_ref().is_some_and(|(k, _)| k == "Experiment"),
        None => pod
            .template_hash
            .as_deref()
            .is_some_and(|h| *rs != format!("{rollout}-{h}")),
    }
}

/// The analysis of the Rollout the pane shows (its runs for the current version, the
/// failing metric, why it aborted); None without a Rollout.
pub fn analysis(state: &State) -> Option<AnalysisView> {
    let (_, ro) = shown(state)?;
    let re = state.rollouts.envs.get(state.selected_env)?;
    let runs: Vec<&AnalysisRunRow> = re.runs.iter().collect();
    let experiments: Vec<&ExperimentRow> = re.experiments.iter().collect();
    Some(analysis_view(ro, &runs, &experiments))
}

/// The Rollout the pane shows, with its view.
pub fn selected(state: &State) -> Option<(&RolloutRow, CanaryView)> {
    // Only the shown Rollout's view: this runs on every frame and every key.
    let (_, ro) = shown(state)?;
    let view = view_of(state, state.selected_env, ro)?;
    Some((ro, view))
}

/// The Rollout the pane shows, and its index in the environment's.
fn shown(state: &State) -> Option<(usize, &RolloutRow)> {
    let env = state.rollouts.envs.get(state.selected_env)?;
    let i = state
        .rollouts
        .selected
        .min(env.rollouts.len().saturating_sub(1));
    Some((i, env.rollouts.iter().nth(i)?))
}

/// The service of the Rollout the pane shows (its config name, else the Rollout's).
pub fn shown_service(state: &State) -> Option<String> {
    let (_, ro) = shown(state)?;
    let config = &state.envs.get(state.selected_env)?.config;
    Some(
        config
            .services
            .iter()
            .find(|s| s.workload == ro.name)
            .map_or_else(|| ro.name.clone(), |s| s.name.clone()),
    )
}

/// The board: every Rollout of every environment.
pub fn board(state: &State) -> Vec<BoardRow> {
    (0..state.envs.len())
        .flat_map(|i| {
            let env = state.envs[i].config.name.clone();
            views(state, i)
                .into_iter()
                .map(move |v| BoardRow::from_view(&env, &v))
        })
        .collect()
}

pub fn on_event(state: &mut State, env: usize, update: RolloutUpdate) -> bool {
    let now = state.now;
    if env >= state.envs.len() {
        return false;
    }
    if state.rollouts.envs.len() <= env {
        state
            .rollouts
            .envs
            .resize_with(env + 1, RolloutEnv::default);
    }
    let shown = (env == state.selected_env).then(|| anchor(state)).flatten();
    let re = &mut state.rollouts.envs[env];
    let changed = match update {
        RolloutUpdate::Error(message) => {
            let since = match &re.stream {
                Some(StreamState::Down { since, .. }) => *since,
                _ => now,
            };
            re.stream = Some(StreamState::Down { since, message });
            true
        }
        RolloutUpdate::Rollouts(u) => {
            re.stream = Some(StreamState::Live);
            re.rollouts.apply(u)
        }
        RolloutUpdate::ReplicaSets(u) => re.replicasets.apply(u),
        RolloutUpdate::AnalysisRuns(u) => {
            re.analysis_error = None;
            re.runs.apply(u)
        }
        RolloutUpdate::Experiments(u) => re.experiments.apply(u),
        RolloutUpdate::AnalysisError(message) => {
            let changed = re.analysis_error.as_ref() != Some(&message);
            re.analysis_error = Some(message);
            changed
        }
    };
    if changed {
        sample(state, env);
        if let Some(shown) = shown {
            follow(state, shown);
        }
    }
    changed
}

/// What the canary pane's keys act on: the shown Rollout, and the revision number under
/// the undo cursor once the user chose one.
fn anchor(state: &State) -> Option<(String, Option<u64>)> {
    let (ro, view) = selected(state)?;
    let cursor = state.rollouts.revision.selected;
    let revision = view
        .revisions
        .get(cursor)
        .and_then(|r| r.revision)
        .filter(|_| state.rollouts.revision_chosen);
    Some((ro.name.clone(), revision))
}

/// Keeps the pane on the Rollout and revision it showed before a watch event: a Rollout
/// added above it, or a revision added on top, must not slide another under the keys.
fn follow(state: &mut State, (name, revision): (String, Option<u64>)) {
    let Some(re) = state.rollouts.envs.get(state.selected_env) else {
        return;
    };
    let Some(i) = re.rollouts.iter().position(|r| r.name == name) else {
        return;
    };
    state.rollouts.selected = i;
    let Some(revision) = revision else {
        return;
    };
    let at = selected(state).and_then(|(_, view)| {
        view.revisions
            .iter()
            .position(|r| r.revision == Some(revision))
    });
    if let Some(at) = at {
        state.rollouts.revision.selected = at;
    }
}

/// Adds chart samples for the Rollouts of `env` (bounded, at most one per interval).
fn sample(state: &mut State, env: usize) {
    let views = views(state, env);
    let now = state.now;
    let Some(re) = state.rollouts.envs.get_mut(env) else {
        return;
    };
    re.history
        .retain(|name, _| views.iter().any(|v| v.name == *name));
    for v in &views {
        re.history.entry(v.name.clone()).or_default().sample(v, now);
    }
}

/// Called on each clock tick: keeps the chart moving while nothing changes.
pub fn on_tick(state: &mut State) {
    for env in 0..state.rollouts.envs.len() {
        if !state.rollouts.envs[env].rollouts.is_empty() {
            sample(state, env);
        }
    }
}

/// j/k in the canary pane choose the revision to undo to.
pub fn move_cursor(state: &mut State, delta: isize) {
    let len = selected(state).map_or(0, |(_, v)| v.revisions.len());
    state.rollouts.revision.move_by(delta, len, len.max(1));
    state.rollouts.revision_chosen = true;
}

pub const SPEC: PaneSpec = PaneSpec {
    pane: Pane::Rollouts,
    title: "Canary",
    short_title: "Canary",
    focus: Action::PaneCanary,
    pinned: true,
    on_action: take,
    move_cursor: |state, delta, _page| move_cursor(state, delta),
};

/// The pane takes its own actions (Argo Rollouts' promote, abort, retry, undo, …),
/// whatever has the focus, and only those.
fn take(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    (action.home() == Home::Pane(Pane::Rollouts)).then(|| {
        on_action(state, action);
        Vec::new()
    })
}

fn on_action(state: &mut State, action: Action) {
    if action == Action::PaneCanary {
        state.focus = Pane::Rollouts;
        return;
    }
    if action == Action::NextRollout {
        let len = state
            .rollouts
            .envs
            .get(state.selected_env)
            .map_or(0, |e| e.rollouts.len());
        state.rollouts.selected = (state.rollouts.selected + 1) % len.max(1);
        state.rollouts.revision = TableCursor {
            selected: 1,
            offset: 0,
        };
        state.rollouts.revision_chosen = false;
        return;
    }
    if action == Action::SetImage {
        return open_image_prompt(state);
    }
    let Some((ro, view)) = selected(state) else {
        return no_rollout(state);
    };
    let rollout_action = match action {
        Action::Promote => RolloutAction::Promote { full: false },
        Action::PromoteFull => RolloutAction::Promote { full: true },
        Action::Abort => RolloutAction::Abort,
        Action::Retry => RolloutAction::Retry,
        Action::PauseRollout => RolloutAction::Pause,
        Action::ResumeRollout => RolloutAction::Resume,
        Action::UndoRollout => {
            let i = state.rollouts.revision.selected;
            match view
                .revisions
                .get(i)
                .and_then(|r| r.revision.map(|n| (n, r)))
            {
                Some((revision, r)) if i > 0 => RolloutAction::Undo {
                    revision,
                    replica_set: format!("{}-{}", ro.name, r.hash),
                },
                _ => {
                    let why = "choose an older revision with j/k first".to_owned();
                    state.flash = Some((state.now, why, false));
                    return;
                }
            }
        }
        _ => return,
    };
    if let Some(why) = rollout_action.refusal(ro) {
        state.flash = Some((state.now, why, false));
        return;
    }
    let requests = rollout_action.requests(ro);
    confirm(
        state,
        ro.namespace.clone(),
        ro.name.clone(),
        rollout_action,
        requests,
    );
}

/// `set image`: the image typed in the prompt, for the shown Rollout's first container.
pub fn request_set_image(state: &mut State, image: &str) {
    let Some((ro, _)) = selected(state) else {
        return;
    };
    let container = ro
        .images
        .first()
        .map(|(c, _)| c.clone())
        .unwrap_or_else(|| "*".into());
    let action = RolloutAction::SetImage {
        container,
        image: image.trim().to_owned(),
    };
    let requests = action.requests(ro);
    confirm(
        state,
        ro.namespace.clone(),
        ro.name.clone(),
        action,
        requests,
    );
}

fn confirm(
    state: &mut State,
    namespace: String,
    name: String,
    action: RolloutAction,
    requests: Vec<crate::bus::rollouts::WireRequest>,
) {
    let Some(env) = state.env() else { return };
    let command = Command::Rollout {
        env: env.config.name.clone(),
        namespace,
        name: name.clone(),
        action,
        requests,
    };
    let dialog = ConfirmDialog::new(command, env.config.production, name);
    crate::app::confirm::open(state, dialog);
}

/// Why restart must not be offered for the selected pod: it belongs to an Argo Rollout,
/// whose ReplicaSet name looks like a Deployment's but whose owner is not one.
pub fn owned_by_rollout(state: &State) -> Option<String> {
    if state.focus != Pane::Pods {
        return None;
    }
    let pod = state.selected_pod()?;
    let re = state.rollouts.envs.get(state.selected_env)?;
    let rs = pod.owner.as_ref().filter(|(k, _)| k == "ReplicaSet")?;
    let by_rs = re
        .replicasets
        .get(&pod.namespace, &rs.1)
        .and_then(|r| r.owner.clone())
        .filter(|(k, _)| k == "Rollout")
        .map(|(_, n)| n);
    let by_name = re
        .rollouts
        .iter()
        .find(|ro| ro.namespace == pod.namespace && rs.1.starts_with(&format!("{}-", ro.name)))
        .map(|ro| ro.name.clone());
    let rollout = by_rs.or(by_name)?;
    Some(format!(
        "{} belongs to Argo Rollout {rollout}, not a Deployment: use the canary pane (3)",
        pod.name
    ))
}

/// The environment's workloads for its summary: its Deployments, plus its Rollouts as
/// workload rows (borrowed as is when it has no Rollouts).
pub fn workloads<'a>(
    state: &'a State,
    env: usize,
) -> std::borrow::Cow<'a, RowStore<crate::domain::DeploymentRow>> {
    let deployments = &state.envs[env].deployments;
    match state.rollouts.envs.get(env) {
        Some(re) if !re.rollouts.is_empty() => {
            let mut all = deployments.clone();
            for ro in re.rollouts.iter() {
                let stable = ro.stable_image(re.replicasets.iter());
                all.apply(crate::domain::WatchUpdate::Apply(ro.as_workload(stable)));
            }
            std::borrow::Cow::Owned(all)
        }
        _ => std::borrow::Cow::Borrowed(deployments),
    }
}

/// The set-image question: which image, for which Rollout.
#[derive(Debug)]
pub struct Prompt {
    pub title: String,
    pub input: TextArea<'static>,
}

fn no_rollout(state: &mut State) {
    let why = "no Argo Rollout in this environment".to_owned();
    state.flash = Some((state.now, why, false));
}

fn open_image_prompt(state: &mut State) {
    let Some((ro, _)) = selected(state) else {
        return no_rollout(state);
    };
    let current = ro.image().unwrap_or("").to_owned();
    let mut input = TextArea::new(vec![current]);
    input.move_cursor(ratatui_textarea::CursorMove::End);
    state.mode = Mode::Prompt(Box::new(Prompt {
        title: format!(" set image · rollout/{} ", ro.name),
        input,
    }));
}

/// Keys in the prompt: Enter asks to confirm the set image, Esc cancels.
pub fn on_prompt_key(
    state: &mut State,
    key: crossterm::event::KeyEvent,
) -> (Vec<crate::app::update::Effect>, bool) {
    use crossterm::event::KeyCode;
    let Mode::Prompt(prompt) = &mut state.mode else {
        return (Vec::new(), false);
    };
    match key.code {
        KeyCode::Esc => {
            state.mode = Mode::Normal;
            state.flash = Some((state.now, "cancelled".into(), true));
        }
        KeyCode::Enter => {
            let image = prompt.input.lines().join("");
            state.mode = Mode::Normal;
            if image.trim().is_empty() {
                state.flash = Some((state.now, "no image given".into(), false));
            } else {
                request_set_image(state, &image);
            }
        }
        _ => {
            prompt.input.input(key);
        }
    }
    (Vec::new(), true)
}
