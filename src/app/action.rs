//! What a key means, independent of which key it is. The key map (config/keys.yaml)
//! turns key presses into these; `update()` turns these into state changes and commands.
//!
//! One table below declares every action: its keys.yaml name (the variant in kebab
//! case), where it is handled (the app, or its home pane, which gets it whatever has
//! the focus), whether it changes a cluster (hidden and refused in read-only mode), and
//! its line on the help screen, which lists actions in the table's order.

use serde::{Deserialize, Serialize};

use super::Pane;

/// Where an action is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Home {
    /// By the app itself (focus, cursor, zoom, quit), after the focused pane passed.
    App,
    /// By this pane, whichever pane has the focus (the focused one is asked first).
    Pane(Pane),
}

/// Whether an action changes a cluster or a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    Reads,
    Mutates,
}

macro_rules! actions {
    ($( $(#[$attr:meta])* $name:ident => $home:ident $(($pane:expr))?, $reach:ident, $help:literal; )*) => {
        /// A user intent. Names are the kebab-case strings used in keys.yaml.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum Action {
            $( $(#[$attr])* $name, )*
        }

        impl Action {
            /// Every action, in the help screen's order.
            pub const ALL: &'static [Action] = &[$(Action::$name),*];

            fn spec(self) -> (Home, Reach, &'static str) {
                match self {
                    $( Action::$name => (Home::$home $(($pane))?, reach!($reach), $help), )*
                }
            }
        }
    };
}

macro_rules! reach {
    (reads) => {
        Reach::Reads
    };
    (mutates) => {
        Reach::Mutates
    };
}

actions! {
    Quit => App, reads, "quit";
    Help => App, reads, "show or hide this help";
    /// The rollback advisor for the service in view.
    Advise => App, reads, "rollback advisor: ranked ways back for the service in view";
    NextPane => App, reads, "focus the next pane";
    PrevPane => App, reads, "focus the previous pane";
    /// Focus the environments pane.
    PaneEnvironments => Pane(Pane::Environments), reads, "focus environments";
    /// Focus the pods pane.
    PanePods => Pane(Pane::Pods), reads, "focus pods";
    Up => App, reads, "move up";
    Down => App, reads, "move down";
    PageUp => App, reads, "page up";
    PageDown => App, reads, "page down";
    Top => App, reads, "go to the first row";
    Bottom => App, reads, "go to the last row";
    /// Drill in: on an environment row, show its pods.
    Select => App, reads, "open the selected environment's pods";
    /// Close a dialog, clear a filter, or leave zoom.
    Back => App, reads, "close dialog / clear filter / unzoom";
    Filter => Pane(Pane::Pods), reads, "filter rows";
    /// Cycle the pods pane's order: name, most restarts, newest, trouble first.
    SortPods => Pane(Pane::Pods), reads, "sort pods: name, most restarts, newest, trouble first";
    /// Show the focused pane alone on the whole screen.
    Zoom => App, reads, "zoom the focused pane";
    /// Restart the Deployment that owns the selected pod (`kubectl rollout restart`).
    RestartDeployment => Pane(Pane::Pods), mutates, "restart the selected pod's Deployment";
    /// Show the next environment's pods.
    NextEnvironment => App, reads, "next environment";
    /// Show the previous environment's pods.
    PrevEnvironment => App, reads, "previous environment";
    /// Focus the migrations pane.
    PaneMigrations => Pane(Pane::Migrations), reads, "focus migrations";
    /// golang-migrate `up`: apply every pending migration.
    MigrateUp => Pane(Pane::Migrations), mutates, "migrate up: apply all pending migrations";
    /// `up N`: apply pending migrations through the selected one.
    MigrateUpTo => Pane(Pane::Migrations), mutates, "migrate up through the selected migration";
    /// `down 1`: roll back the current migration.
    MigrateDown => Pane(Pane::Migrations), mutates, "migrate down 1";
    /// `goto V` with the selected version.
    MigrateGoto => Pane(Pane::Migrations), mutates, "migrate goto the selected version";
    /// `force V` with the selected version: record it clean, run no SQL.
    MigrateForce => Pane(Pane::Migrations), mutates, "migrate force the selected version (no SQL)";
    /// Show the down SQL instead of the up SQL of the selected migration.
    MigrateToggleSql => Pane(Pane::Migrations), reads, "show up / down SQL of the selected migration";
    /// Focus the canary pane (Argo Rollouts).
    PaneCanary => Pane(Pane::Rollouts), reads, "focus canary (Argo Rollouts)";
    /// Show the environment's next Rollout in the canary pane.
    NextRollout => Pane(Pane::Rollouts), reads, "show the environment's next Rollout";
    /// `kubectl argo rollouts promote`: leave the current pause.
    Promote => Pane(Pane::Rollouts), mutates, "promote the canary past its pause";
    /// `promote --full`: skip the remaining steps.
    PromoteFull => Pane(Pane::Rollouts), mutates, "promote the canary fully (skip all steps)";
    /// `abort`: traffic back to stable.
    Abort => Pane(Pane::Rollouts), mutates, "abort the canary (traffic back to stable)";
    /// `retry rollout`: start an aborted canary again.
    Retry => Pane(Pane::Rollouts), mutates, "retry an aborted canary";
    /// `pause`: set spec.paused.
    PauseRollout => Pane(Pane::Rollouts), mutates, "pause the Rollout";
    /// Clear spec.paused.
    ResumeRollout => Pane(Pane::Rollouts), mutates, "resume a paused Rollout";
    /// `undo --to-revision N` with the revision chosen in the canary pane.
    UndoRollout => Pane(Pane::Rollouts), mutates, "undo to the chosen revision: the Rollout (3) or Deployment (7)";
    /// `set image`: asks for the image, then starts a new canary with it.
    SetImage => Pane(Pane::Rollouts), mutates, "set the Rollout's image (starts a new canary)";
    /// Focus the releases pane (Argo CD promotion matrix).
    PaneReleases => Pane(Pane::Argocd), reads, "focus releases (Argo CD); Enter opens an app's history";
    /// `argocd app rollback` to the history entry chosen in the history view.
    ArgocdRollback => Pane(Pane::Argocd), mutates, "Argo CD rollback to the history entry chosen (j/k)";
    /// `argocd app sync` of the selected app.
    ArgocdSync => Pane(Pane::Argocd), mutates, "Argo CD sync of the selected app";
    /// Turn the selected app's automated sync off.
    ArgocdDisableAutoSync => Pane(Pane::Argocd), mutates, "turn the selected app's Argo CD auto-sync off";
    /// `argocd app terminate-op`: stop the selected app's running operation.
    ArgocdTerminateOperation => Pane(Pane::Argocd), mutates, "stop the selected app's running Argo CD operation";
    /// Focus the blue/green pane.
    #[serde(rename = "pane-bluegreen")]
    PaneBlueGreen => Pane(Pane::BlueGreen), reads, "focus blue/green";
    /// Focus the revisions pane (Deployment history and undo).
    PaneRevisions => Pane(Pane::Revisions), reads, "focus revisions (Deployment history, undo)";
    /// Flip the selected blue/green Service to its other colour.
    SwitchBlueGreen => Pane(Pane::BlueGreen), mutates, "switch the blue/green Service to its other colour";
    /// Focus the checklist pane (the pre-deployment checklist of a release).
    PaneChecklist => Pane(Pane::Checklist), reads, "focus checklist (pre-deployment checklist of a release)";
    /// Tick or untick the selected manual item, with an optional note.
    ChecklistTick => Pane(Pane::Checklist), mutates, "tick / untick the selected checklist item (with a note)";
    /// Walk the next release of the environment.
    ChecklistNextRelease => Pane(Pane::Checklist), reads, "checklist of the environment's next release";
    /// Focus the runbook pane (the production runbook of a release).
    PaneRunbook => Pane(Pane::Runbook), reads, "focus runbook (x marks the current step done)";
    /// Skip the current runbook step, with a reason.
    RunbookSkip => Pane(Pane::Runbook), mutates, "skip the current runbook step (a reason is asked)";
    /// Go on past the incomplete production checklist, with a reason (audited).
    RunbookOverrideGate => Pane(Pane::Runbook), mutates, "pass over the incomplete checklist for the T-0 steps (a reason is asked)";
    /// Focus the logs pane.
    PaneLogs => Pane(Pane::Logs), reads, "focus logs";
    /// Logs of the selected pod, or of every pod of the service on screen, followed.
    Logs => Pane(Pane::Logs), reads, "logs of the selected pod (2) or service (3, 5), followed";
    /// The previous container's logs: why a crash-looping pod died.
    LogsPrevious => Pane(Pane::Logs), reads, "logs of the previous container (a crash-looping pod's last run)";
    /// Focus the Kafka pane (consumer groups, lag, offset resets).
    PaneKafka => Pane(Pane::Kafka), reads, "focus Kafka (consumer groups and their lag)";
    /// Switch the Kafka pane between consumer groups and topics against the backup.
    KafkaTopics => Pane(Pane::Kafka), reads, "Kafka: consumer groups / topics against the backup";
    /// `kafka-consumer-groups.sh --reset-offsets` of the selected group (asks where to).
    KafkaResetOffsets => Pane(Pane::Kafka), mutates, "reset the selected consumer group's offsets (asks where to)";
    /// Patch the selected `KafkaTopic` back to the backup's configuration.
    KafkaRestoreTopic => Pane(Pane::Kafka), mutates, "restore the selected topic's configuration from the backup";
}

impl crate::config::Bindable for Action {
    const ALL: &'static [Action] = Action::ALL;
}

impl Action {
    /// One line for the help screen.
    pub fn description(self) -> &'static str {
        self.spec().2
    }

    /// Whether the action changes the cluster; hidden in read-only mode.
    pub fn is_mutating(self) -> bool {
        self.spec().1 == Reach::Mutates
    }

    /// Where the action is handled.
    pub fn home(self) -> Home {
        self.spec().0
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
        assert_eq!(map.action(&press(KeyCode::Char('w'), none)), None);
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
