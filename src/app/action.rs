//! What a key means, independent of which key it is. The key map (config/keys.yaml)
//! turns key presses into these; `update()` turns these into state changes and commands.

use serde::{Deserialize, Serialize};

/// A user intent. Names are the kebab-case strings used in keys.yaml.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Quit,
    Help,
    NextPane,
    PrevPane,
    /// Focus the environments pane.
    PaneEnvironments,
    /// Focus the pods pane.
    PanePods,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Drill in: on an environment row, show its pods.
    Select,
    /// Close a dialog, clear a filter, or leave zoom.
    Back,
    Filter,
    /// Cycle the pods pane's order: name, most restarts, newest, trouble first.
    SortPods,
    /// Show the focused pane alone on the whole screen.
    Zoom,
    /// Restart the Deployment that owns the selected pod (`kubectl rollout restart`).
    RestartDeployment,
    /// Show the next environment's pods.
    NextEnvironment,
    /// Show the previous environment's pods.
    PrevEnvironment,
    /// Focus the migrations pane.
    PaneMigrations,
    /// golang-migrate `up`: apply every pending migration.
    MigrateUp,
    /// `up N`: apply pending migrations through the selected one.
    MigrateUpTo,
    /// `down 1`: roll back the current migration.
    MigrateDown,
    /// `goto V` with the selected version.
    MigrateGoto,
    /// `force V` with the selected version: record it clean, run no SQL.
    MigrateForce,
    /// Show the down SQL instead of the up SQL of the selected migration.
    MigrateToggleSql,
    /// Focus the canary pane (Argo Rollouts).
    PaneCanary,
    /// Show the environment's next Rollout in the canary pane.
    NextRollout,
    /// `kubectl argo rollouts promote`: leave the current pause.
    Promote,
    /// `promote --full`: skip the remaining steps.
    PromoteFull,
    /// `abort`: traffic back to stable.
    Abort,
    /// `retry rollout`: start an aborted canary again.
    Retry,
    /// `pause`: set spec.paused.
    PauseRollout,
    /// Clear spec.paused.
    ResumeRollout,
    /// `undo --to-revision N` with the revision chosen in the canary pane.
    UndoRollout,
    /// `set image`: asks for the image, then starts a new canary with it.
    SetImage,
    /// Focus the releases pane (Argo CD promotion matrix).
    PaneReleases,
    /// `argocd app rollback` to the history entry chosen in the history view.
    ArgocdRollback,
    /// `argocd app sync` of the selected app.
    ArgocdSync,
    /// Turn the selected app's automated sync off.
    ArgocdDisableAutoSync,
    /// `argocd app terminate-op`: stop the selected app's running operation.
    ArgocdTerminateOperation,
    /// Focus the blue/green pane.
    #[serde(rename = "pane-bluegreen")]
    PaneBlueGreen,
    /// Focus the revisions pane (Deployment history and undo).
    PaneRevisions,
    /// Flip the selected blue/green Service to its other colour.
    SwitchBlueGreen,
}

impl crate::config::Bindable for Action {
    const ALL: &'static [Action] = Action::ALL;
}

impl Action {
    pub const ALL: &'static [Action] = &[
        Action::Quit,
        Action::Help,
        Action::NextPane,
        Action::PrevPane,
        Action::PaneEnvironments,
        Action::PanePods,
        Action::Up,
        Action::Down,
        Action::PageUp,
        Action::PageDown,
        Action::Top,
        Action::Bottom,
        Action::Select,
        Action::Back,
        Action::Filter,
        Action::SortPods,
        Action::Zoom,
        Action::RestartDeployment,
        Action::NextEnvironment,
        Action::PrevEnvironment,
        Action::PaneMigrations,
        Action::MigrateUp,
        Action::MigrateUpTo,
        Action::MigrateDown,
        Action::MigrateGoto,
        Action::MigrateForce,
        Action::MigrateToggleSql,
        Action::PaneCanary,
        Action::NextRollout,
        Action::Promote,
        Action::PromoteFull,
        Action::Abort,
        Action::Retry,
        Action::PauseRollout,
        Action::ResumeRollout,
        Action::UndoRollout,
        Action::SetImage,
        Action::PaneReleases,
        Action::ArgocdRollback,
        Action::ArgocdSync,
        Action::ArgocdDisableAutoSync,
        Action::ArgocdTerminateOperation,
        Action::PaneBlueGreen,
        Action::PaneRevisions,
        Action::SwitchBlueGreen,
    ];

    /// One line for the help screen.
    pub fn description(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Help => "show or hide this help",
            Action::NextPane => "focus the next pane",
            Action::PrevPane => "focus the previous pane",
            Action::PaneEnvironments => "focus environments",
            Action::PanePods => "focus pods",
            Action::Up => "move up",
            Action::Down => "move down",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Top => "go to the first row",
            Action::Bottom => "go to the last row",
            Action::Select => "open the selected environment's pods",
            Action::Back => "close dialog / clear filter / unzoom",
            Action::Filter => "filter rows",
            Action::SortPods => "sort pods: name, most restarts, newest, trouble first",
            Action::Zoom => "zoom the focused pane",
            Action::RestartDeployment => "restart the selected pod's Deployment",
            Action::NextEnvironment => "next environment",
            Action::PrevEnvironment => "previous environment",
            Action::PaneMigrations => "focus migrations",
            Action::MigrateUp => "migrate up: apply all pending migrations",
            Action::MigrateUpTo => "migrate up through the selected migration",
            Action::MigrateDown => "migrate down 1",
            Action::MigrateGoto => "migrate goto the selected version",
            Action::MigrateForce => "migrate force the selected version (no SQL)",
            Action::MigrateToggleSql => "show up / down SQL of the selected migration",
            Action::PaneCanary => "focus canary (Argo Rollouts)",
            Action::NextRollout => "show the environment's next Rollout",
            Action::Promote => "promote the canary past its pause",
            Action::PromoteFull => "promote the canary fully (skip all steps)",
            Action::Abort => "abort the canary (traffic back to stable)",
            Action::Retry => "retry an aborted canary",
            Action::PauseRollout => "pause the Rollout",
            Action::ResumeRollout => "resume a paused Rollout",
            Action::UndoRollout => "undo to the chosen revision: the Rollout (3) or Deployment (7)",
            Action::SetImage => "set the Rollout's image (starts a new canary)",
            Action::PaneReleases => "focus releases (Argo CD); Enter opens an app's history",
            Action::ArgocdRollback => "Argo CD rollback to the history entry chosen (j/k)",
            Action::ArgocdSync => "Argo CD sync of the selected app",
            Action::ArgocdDisableAutoSync => "turn the selected app's Argo CD auto-sync off",
            Action::ArgocdTerminateOperation => "stop the selected app's running Argo CD operation",
            Action::PaneBlueGreen => "focus blue/green",
            Action::PaneRevisions => "focus revisions (Deployment history, undo)",
            Action::SwitchBlueGreen => "switch the blue/green Service to its other colour",
        }
    }

    /// Whether the action changes the cluster; hidden in read-only mode.
    pub fn is_mutating(self) -> bool {
        matches!(
            self,
            Action::RestartDeployment
                | Action::MigrateUp
                | Action::MigrateUpTo
                | Action::MigrateDown
                | Action::MigrateGoto
                | Action::MigrateForce
                | Action::Promote
                | Action::PromoteFull
                | Action::Abort
                | Action::Retry
                | Action::PauseRollout
                | Action::ResumeRollout
                | Action::UndoRollout
                | Action::SetImage
                | Action::ArgocdRollback
                | Action::ArgocdSync
                | Action::ArgocdDisableAutoSync
                | Action::ArgocdTerminateOperation
                | Action::SwitchBlueGreen
        )
    }
}

#[cfg(test)]
mod keymap_tests {
    use super::*;
    use crate::config::{KeyMap, action_name};
    use crossterm::event::KeyEvent;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn press(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn builtin_binds_every_action() {
        let map = KeyMap::<Action>::builtin().expect("built-in keys load");
        for action in Action::ALL {
            assert!(!map.keys(*action).is_empty(), "{action:?} has no key");
        }
        assert_eq!(map.help().len(), Action::ALL.len());
        assert_eq!(map.help()[0], ("q, ctrl-c".to_owned(), Action::Quit));
    }

    #[test]
    fn builtin_lookups() {
        let map = KeyMap::<Action>::default();
        let none = KeyModifiers::NONE;
        assert_eq!(
            map.action(&press(KeyCode::Char('q'), none)),
            Some(Action::Quit)
        );
        assert_eq!(
            map.action(&press(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            map.action(&press(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Action::PrevPane)
        );
        assert_eq!(
            map.action(&press(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(
            map.action(&press(KeyCode::Char('g'), none)),
            Some(Action::Top)
        );
        assert_eq!(map.action(&press(KeyCode::Char('x'), none)), None);
        assert_eq!(map.keys_for(Action::PageDown), vec!["pgdn", "ctrl-f"]);
    }

    #[test]
    fn builtin_config_reads_no_user_file() {
        let config = crate::config::load::<Action>(&crate::config::LoadOptions::default())
            .expect("built-in config loads");
        assert!(config.sources.is_empty());
        assert_eq!(config.theme.name, "default");
        assert_eq!(config.keys, KeyMap::<Action>::default());
    }

    #[test]
    fn action_names_are_kebab_case() {
        assert_eq!(action_name(Action::RestartDeployment), "restart-deployment");
    }
}
