//! Loading config the way `rollcall --config DIR --theme NAME` does: built-in defaults,
//! user files laid over them, and errors that point at the file, line and column.

use std::fs;
use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::civil::{Time, Weekday};
use jiff::{SignedDuration, Timestamp};
use ratatui::style::{Color, Modifier};
use rollcall::app::Action;
use rollcall::config::{
    self, ChangeWindow, Config, ConfigError, DeployMode, LoadOptions, WorkloadKind,
};
use tempfile::TempDir;

fn dir_with(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(path, text).expect("write");
    }
    dir
}

fn load_dir(dir: &Path, theme: Option<&str>) -> Result<Config<Action>, ConfigError> {
    config::load::<Action>(&LoadOptions {
        dir: Some(dir),
        theme,
    })
}

fn load_err(files: &[(&str, &str)]) -> String {
    let dir = dir_with(files);
    match load_dir(dir.path(), None) {
        Ok(_) => panic!("expected an error for {files:?}"),
        Err(err) => err.to_string(),
    }
}

fn ts(text: &str) -> Timestamp {
    text.parse().expect("timestamp")
}

fn press(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

const ENV_HEAD: &str = "environments:\n  - name: dev\n    namespace: dictamesh-dev\n";

#[test]
fn embedded_defaults_load() {
    let config = config::load::<Action>(&LoadOptions::default()).expect("defaults load");
    assert!(config.sources.is_empty());

    let [dev, staging, prod] = config.environments.as_slice() else {
        panic!("three environments expected");
    };
    assert_eq!(dev.namespace, "dictamesh-dev");
    assert_eq!(dev.context, None);
    assert!(!dev.production);
    assert_eq!(dev.policy.deploy_mode, DeployMode::Auto);
    assert_eq!(dev.policy.min_replicas, 1);
    assert_eq!(dev.policy.backup_max_age, None);

    assert_eq!(staging.namespace, "dictamesh-staging");
    assert_eq!(staging.policy.deploy_mode, DeployMode::Manual);
    assert_eq!(staging.policy.min_replicas, 2);
    assert_eq!(
        staging.policy.backup_max_age,
        Some(SignedDuration::from_hours(24))
    );

    assert_eq!(prod.namespace, "dictamesh-prod");
    assert!(prod.production);
    assert_eq!(prod.policy.deploy_mode, DeployMode::ManualWindow);
    assert_eq!(prod.policy.min_replicas, 3);
    assert_eq!(
        prod.policy.change_windows,
        vec![ChangeWindow {
            days: vec![Weekday::Tuesday, Weekday::Wednesday, Weekday::Thursday],
            start: Time::constant(10, 0, 0, 0),
            end: Time::constant(16, 0, 0, 0),
            timezone: "UTC".into(),
        }]
    );

    for env in &config.environments {
        // Prod ships customer-adapter as an Argo Rollouts canary (the seed's pattern).
        let customer_adapter = if env.name == "prod" {
            WorkloadKind::Rollout
        } else {
            WorkloadKind::Deployment
        };
        // Prod's graphql-gateway is the seed's blue/green pair behind its Service.
        let graphql_gateway = if env.name == "prod" {
            WorkloadKind::BlueGreen
        } else {
            WorkloadKind::Deployment
        };
        let services: Vec<(&str, WorkloadKind, &str)> = env
            .services
            .iter()
            .map(|s| (s.name.as_str(), s.kind, s.workload.as_str()))
            .collect();
        assert_eq!(
            services,
            [
                ("customer-adapter", customer_adapter, "customer-adapter"),
                ("graphql-gateway", graphql_gateway, "graphql-gateway"),
                (
                    "metadata-catalog",
                    WorkloadKind::Deployment,
                    "metadata-catalog"
                ),
            ]
        );
    }

    assert_eq!(config.keys.action(&press('q')), Some(Action::Quit));
    assert_eq!(config.keys.keys_for(Action::PrevPane), vec!["shift-tab"]);
    assert_eq!(config.theme.name, "default");
    assert_eq!(
        config::available_themes(None),
        ["default", "high-contrast", "light"]
    );
}

#[test]
fn every_builtin_theme_loads() {
    for name in config::available_themes(None) {
        let config = config::load::<Action>(&LoadOptions {
            dir: None,
            theme: Some(&name),
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(config.theme.name, name);
    }
}

#[test]
fn partial_keys_patch_changes_only_named_actions() {
    let dir = dir_with(&[(
        "keys.yaml",
        "# mine\nbindings:\n  zoom: [f, Z]\n  filter: []\n  quit: ctrl-q\n",
    )]);
    let config = load_dir(dir.path(), None).expect("loads");
    let keys = &config.keys;
    assert_eq!(keys.action(&press('f')), Some(Action::Zoom));
    assert_eq!(
        keys.action(&KeyEvent::new(KeyCode::Char('Z'), KeyModifiers::SHIFT)),
        Some(Action::Zoom)
    );
    assert_eq!(keys.action(&press('z')), None);
    assert_eq!(keys.action(&press('/')), None);
    assert_eq!(keys.action(&press('q')), None);
    assert_eq!(
        keys.action(&KeyEvent::new(KeyCode::Char('q'), KeyModifiers::CONTROL)),
        Some(Action::Quit)
    );
    assert_eq!(keys.action(&press('j')), Some(Action::Down));
    assert_eq!(keys.keys_for(Action::Zoom), vec!["f", "Z"]);

    let help = keys.help();
    assert!(help.iter().all(|(_, a)| *a != Action::Filter));
    assert_eq!(help[0], ("ctrl-q".to_owned(), Action::Quit));
    let order: Vec<Action> = help.iter().map(|(_, a)| *a).collect();
    let expected: Vec<Action> = Action::ALL
        .iter()
        .copied()
        .filter(|a| *a != Action::Filter)
        .collect();
    assert_eq!(order, expected);

    assert_eq!(config.sources, vec![dir.path().join("keys.yaml")]);
    // Built-in environments stay when only keys.yaml is given.
    assert_eq!(config.environments.len(), 3);
}

#[test]
fn empty_user_files_change_nothing() {
    let dir = dir_with(&[
        ("keys.yaml", "# nothing yet\n"),
        ("themes/default.yaml", ""),
    ]);
    let config = load_dir(dir.path(), None).expect("loads");
    assert_eq!(config.keys, config::KeyMap::default());
    assert_eq!(config.theme, config::Theme::default());
}

#[test]
fn unknown_field_points_at_its_line() {
    let text = format!("{ENV_HEAD}    replicas: 3\n");
    let err = load_err(&[("environments.yaml", &text)]);
    assert!(
        err.contains("environments.yaml:4:5: unknown field `replicas`, expected one of"),
        "{err}"
    );
    assert!(err.contains("namespace"), "{err}");
}

#[test]
fn bad_type_points_at_the_value() {
    let text = format!("{ENV_HEAD}    policy:\n      min_replicas: three\n");
    let err = load_err(&[("environments.yaml", &text)]);
    assert!(err.contains("environments.yaml:5:21: "), "{err}");
    assert!(err.contains("expected a whole number"), "{err}");
}

#[test]
fn syntax_error_has_a_position() {
    let err = load_err(&[("environments.yaml", "environments:\n  - name: [dev\n")]);
    assert!(err.contains("environments.yaml:"), "{err}");
    let dir = dir_with(&[("environments.yaml", "environments:\n  - name: [dev\n")]);
    let e = load_dir(dir.path(), None).unwrap_err();
    assert!(e.line_column().is_some(), "{e}");
    assert_eq!(
        e.file(),
        Some(dir.path().join("environments.yaml").as_path())
    );
}

#[test]
fn validation_errors_point_at_the_value() {
    let dup = format!("{ENV_HEAD}  - name: dev\n    namespace: other\n");
    let err = load_err(&[("environments.yaml", &dup)]);
    assert!(
        err.contains("environments.yaml:4:11: duplicate environment name `dev`"),
        "{err}"
    );

    let empty_ns = "environments:\n  - name: dev\n    namespace: \"\"\n";
    let err = load_err(&[("environments.yaml", empty_ns)]);
    assert!(
        err.contains("environments.yaml:3:16: invalid namespace ``"),
        "{err}"
    );

    let bad_ns = "environments:\n  - name: dev\n    namespace: Dicta_Mesh\n";
    let err = load_err(&[("environments.yaml", bad_ns)]);
    assert!(
        err.contains("environments.yaml:3:16: invalid namespace"),
        "{err}"
    );

    let prod_zero = "environments:\n  - name: prod\n    namespace: p\n    production: true\n    \
                     policy:\n      min_replicas: 0\n";
    let err = load_err(&[("environments.yaml", prod_zero)]);
    assert!(
        err.contains("environments.yaml:6:21: min_replicas must be at least 1"),
        "{err}"
    );

    let no_window = format!("{ENV_HEAD}    policy:\n      deploy_mode: manual+window\n");
    let err = load_err(&[("environments.yaml", &no_window)]);
    assert!(
        err.contains("environments.yaml:5:20: deploy_mode manual+window needs"),
        "{err}"
    );

    let bad_tz = format!(
        "{ENV_HEAD}    policy:\n      change_windows:\n        - days: [mon]\n          \
         start: \"09:00\"\n          end: \"17:00\"\n          timezone: Mars/Olympus\n"
    );
    let err = load_err(&[("environments.yaml", &bad_tz)]);
    assert!(
        err.contains("environments.yaml:9:21: unknown time zone `Mars/Olympus`"),
        "{err}"
    );

    let bad_age = format!("{ENV_HEAD}    policy:\n      backup_max_age: soon\n");
    let err = load_err(&[("environments.yaml", &bad_age)]);
    assert!(
        err.contains("environments.yaml:5:23: invalid duration `soon`"),
        "{err}"
    );

    let dup_service = format!(
        "{ENV_HEAD}    services:\n      - name: api\n      - name: api\n        kind: rollout\n"
    );
    let err = load_err(&[("environments.yaml", &dup_service)]);
    assert!(
        err.contains("environments.yaml:6:15: duplicate service `api`"),
        "{err}"
    );

    let err = load_err(&[("environments.yaml", "environments: []\n")]);
    assert!(err.contains("at least one environment"), "{err}");
}

#[test]
fn deploy_mode_parsing() {
    assert_eq!("auto".parse::<DeployMode>(), Ok(DeployMode::Auto));
    assert_eq!("manual".parse::<DeployMode>(), Ok(DeployMode::Manual));
    assert_eq!(
        "manual+window".parse::<DeployMode>(),
        Ok(DeployMode::ManualWindow)
    );
    assert!("window".parse::<DeployMode>().is_err());
    assert_eq!(DeployMode::ManualWindow.to_string(), "manual+window");
    assert_eq!(DeployMode::Auto.short_label(), "auto");
    assert_eq!(DeployMode::Manual.short_label(), "approval");
    assert_eq!(DeployMode::ManualWindow.short_label(), "window");

    let text = format!("{ENV_HEAD}    policy:\n      deploy_mode: yolo\n");
    let err = load_err(&[("environments.yaml", &text)]);
    assert!(
        err.contains("environments.yaml:5:20: unknown variant `yolo`"),
        "{err}"
    );
    assert!(err.contains("manual+window"), "{err}");

    // Windows without a mode imply manual+window.
    let text = format!(
        "{ENV_HEAD}    policy:\n      change_windows:\n        - days: mon-fri\n          \
         start: 9:00\n          end: 17:00\n"
    );
    let dir = dir_with(&[("environments.yaml", &text)]);
    let config = load_dir(dir.path(), None).expect("loads");
    let policy = &config.environments[0].policy;
    assert_eq!(policy.deploy_mode, DeployMode::ManualWindow);
    assert_eq!(policy.change_windows[0].days.len(), 5);
    assert_eq!(policy.change_windows[0].timezone, "UTC");
}

#[test]
fn bad_key_spec() {
    let err = load_err(&[("keys.yaml", "bindings:\n  quit: [q, ctrl-]\n")]);
    assert!(
        err.contains("keys.yaml:2:13: `ctrl-` needs a key after `ctrl-`"),
        "{err}"
    );
    let err = load_err(&[("keys.yaml", "bindings:\n  quit: [escap]\n")]);
    assert!(err.contains("keys.yaml:2:10: unknown key `escap`"), "{err}");
}

#[test]
fn unknown_action_lists_valid_names() {
    let err = load_err(&[("keys.yaml", "bindings:\n  zoom: [z]\n  qiut: [q]\n")]);
    assert!(
        err.contains("keys.yaml:3:3: unknown variant `qiut`"),
        "{err}"
    );
    for action in Action::ALL {
        let name = config::action_name(*action);
        assert!(err.contains(&name), "{name} missing from: {err}");
    }
}

#[test]
fn duplicate_binding_blames_the_user_line() {
    let err = load_err(&[("keys.yaml", "bindings:\n  filter: [\"/\", q]\n")]);
    assert!(
        err.contains("keys.yaml:2:17: key `q` is bound to both `filter` and `quit`"),
        "{err}"
    );
    assert!(
        err.contains("config/keys.yaml:"),
        "names the default's file: {err}"
    );

    let err = load_err(&[("keys.yaml", "bindings:\n  zoom: [x]\n  back: [X, x]\n")]);
    assert!(err.contains("key `x` is bound to both"), "{err}");

    // Moving a key is fine once its old action lets go of it.
    let dir = dir_with(&[("keys.yaml", "bindings:\n  filter: [q]\n  quit: [ctrl-c]\n")]);
    let config = load_dir(dir.path(), None).expect("loads");
    assert_eq!(config.keys.action(&press('q')), Some(Action::Filter));
}

#[test]
fn unknown_theme_lists_available_names() {
    let dir = dir_with(&[("themes/solarized.yaml", "ok: { fg: \"#859900\" }\n")]);
    let err = load_dir(dir.path(), Some("nope")).unwrap_err();
    assert!(matches!(err, ConfigError::UnknownTheme { .. }));
    assert_eq!(
        err.to_string(),
        "unknown theme `nope`; available themes: default, high-contrast, light, solarized"
    );
    let err = config::load::<Action>(&LoadOptions {
        dir: None,
        theme: Some("../../etc/passwd"),
    })
    .unwrap_err();
    assert!(err.to_string().starts_with("unknown theme"), "{err}");
}

#[test]
fn partial_theme_override() {
    let dir = dir_with(&[
        (
            "themes/solarized.yaml",
            "ok: { fg: \"#859900\", bold: true }\n",
        ),
        ("themes/high-contrast.yaml", "canary: { fg: 201 }\n"),
    ]);
    let default = config::Theme::default();

    let config = load_dir(dir.path(), Some("solarized")).expect("loads");
    let theme = &config.theme;
    assert_eq!(theme.name, "solarized");
    assert_eq!(theme.ok.fg, Some(Color::Rgb(0x85, 0x99, 0x00)));
    assert!(theme.ok.add_modifier.contains(Modifier::BOLD));
    assert_eq!(theme.warn, default.warn);
    assert_eq!(theme.selection, default.selection);
    assert_eq!(
        config.sources,
        vec![dir.path().join("themes/solarized.yaml")]
    );

    let config = load_dir(dir.path(), Some("high-contrast")).expect("loads");
    let builtin = config::Theme::builtin("high-contrast").expect("built-in");
    assert_eq!(config.theme.canary.fg, Some(Color::Indexed(201)));
    assert_eq!(config.theme.selection, builtin.selection);
    assert_eq!(config.theme.ok, builtin.ok);

    let err = load_err(&[("themes/default.yaml", "ok:\n  fg: not-a-colour\n")]);
    assert!(
        err.contains("default.yaml:2:7: unknown colour `not-a-colour`"),
        "{err}"
    );
}

#[test]
fn change_windows_across_time_zones_and_days() {
    let berlin = ChangeWindow {
        days: vec![Weekday::Tuesday],
        start: Time::constant(10, 0, 0, 0),
        end: Time::constant(16, 0, 0, 0),
        timezone: "Europe/Berlin".into(),
    };
    // 2026-03-03 is a Tuesday; Berlin is UTC+1 in winter and UTC+2 in summer.
    assert!(!berlin.contains(ts("2026-03-03T08:59:00Z")));
    assert!(berlin.contains(ts("2026-03-03T09:00:00Z")));
    assert!(berlin.contains(ts("2026-03-03T14:59:00Z")));
    assert!(!berlin.contains(ts("2026-03-03T15:00:00Z")));
    assert!(berlin.contains(ts("2026-07-07T08:00:00Z")));
    assert!(!berlin.contains(ts("2026-07-07T14:00:00Z")));

    // Tuesday evening in New York is already Wednesday in UTC.
    let new_york = ChangeWindow {
        days: vec![Weekday::Tuesday],
        start: Time::constant(20, 0, 0, 0),
        end: Time::constant(23, 0, 0, 0),
        timezone: "America/New_York".into(),
    };
    assert!(new_york.contains(ts("2026-03-04T02:00:00Z")));
    assert!(!new_york.contains(ts("2026-03-03T21:00:00Z")));

    // A Friday-night window runs into Saturday, local time.
    let overnight = ChangeWindow {
        days: vec![Weekday::Friday],
        start: Time::constant(22, 0, 0, 0),
        end: Time::constant(2, 0, 0, 0),
        timezone: "America/Los_Angeles".into(),
    };
    assert!(overnight.contains(ts("2026-03-07T07:00:00Z"))); // Fri 23:00 PST
    assert!(overnight.contains(ts("2026-03-07T09:30:00Z"))); // Sat 01:30 PST
    assert!(!overnight.contains(ts("2026-03-07T10:00:00Z"))); // Sat 02:00 PST
    assert!(!overnight.contains(ts("2026-03-08T07:00:00Z"))); // Sat 23:00 PST

    let config = config::load::<Action>(&LoadOptions::default()).expect("defaults");
    let [dev, _, prod] = config.environments.as_slice() else {
        panic!("three environments expected");
    };
    assert_eq!(dev.policy.window_open(ts("2026-03-03T12:00:00Z")), None);
    assert_eq!(
        prod.policy.window_open(ts("2026-03-03T12:00:00Z")),
        Some(true)
    );
    assert_eq!(
        prod.policy.window_open(ts("2026-03-06T12:00:00Z")),
        Some(false)
    );
}

#[test]
fn io_errors_name_the_path() {
    let missing = Path::new("/nonexistent/rollcall-config");
    let err = load_dir(missing, None).unwrap_err();
    assert!(matches!(err, ConfigError::Io { .. }));
    assert!(
        err.to_string()
            .starts_with("/nonexistent/rollcall-config: "),
        "{err}"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    fs::create_dir(dir.path().join("keys.yaml")).expect("mkdir");
    let err = load_dir(dir.path(), None).unwrap_err();
    assert_eq!(err.file(), Some(dir.path().join("keys.yaml").as_path()));
}

#[test]
fn no_panic_on_garbage() {
    let garbage = [
        "",
        "\0",
        "[",
        "{{{{",
        "- - - -",
        "environments: 5",
        "environments: [1, 2]",
        "environments:\n\t- name: x",
        "bindings: [q]",
        "bindings:\n  quit: [[q]]",
        "bindings:\n  quit: {a: b}",
        "ok: 5",
        "ok: { fg: [1] }",
        "ok: { fg: 999 }",
        "a: &a [*a]",
        "a: &a x\nb: *a\nc: *b",
        "a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\nd: [*c, *c, *c]",
        "\u{feff}environments:\n  - name: \u{1b}[31mred\n",
        "environments:\n  - name: x\n    namespace: \"\u{7}\"\n",
        "--- a\n--- b\n",
    ];
    for text in garbage {
        let dir = dir_with(&[
            ("environments.yaml", text),
            ("keys.yaml", text),
            ("themes/default.yaml", text),
        ]);
        if let Err(err) = load_dir(dir.path(), None) {
            let shown = err.to_string();
            assert!(
                !shown.contains('\u{1b}'),
                "control characters leak: {shown:?}"
            );
        }
        for name in ["keys.yaml", "themes/default.yaml"] {
            let dir = dir_with(&[(name, text)]);
            let _ = load_dir(dir.path(), None);
        }
    }
}

#[test]
fn a_bad_number_says_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("environments.yaml"),
        "environments:\n  - name: prod\n    namespace: p\n    policy:\n      min_replicas: lots\n",
    )
    .unwrap();
    let err = rollcall::config::load::<Action>(&rollcall::config::LoadOptions {
        dir: Some(dir.path()),
        theme: None,
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("environments.yaml:5:21"), "{err}");
    assert!(err.contains("expected a whole number"), "{err}");
}

#[test]
fn checklists_replace_the_builtin_ones_and_bad_ones_point_at_the_line() {
    let dir = dir_with(&[(
        "checklists.yaml",
        "checklists:\n  - name: ours\n    items:\n      - id: smoke\n        title: Smoke tested\n      - id: scan\n        title: Scan\n        check:\n          kind: vulnerabilities\n          fail_at: high\n",
    )]);
    let config = load_dir(dir.path(), None).expect("loads");
    let lists = &config.checklists.lists;
    assert_eq!(lists.len(), 1);
    assert_eq!(lists[0].title, "ours");
    assert_eq!(lists[0].items[0].check, config::Check::Manual);
    assert_eq!(
        lists[0].items[1].check,
        config::Check::Vulnerabilities {
            fail_at: "HIGH".into()
        }
    );

    let defaults = config::load::<Action>(&LoadOptions::default()).expect("defaults");
    let prod = defaults
        .environments
        .iter()
        .find(|e| e.name == "prod")
        .unwrap();
    assert_eq!(
        prod.backup
            .as_ref()
            .map(|b| (b.namespace.as_str(), b.cluster.as_str())),
        Some(("dictamesh-infra", "metadata-catalog-db"))
    );
    assert!(defaults.checklists.items(true).any(|i| i.id == "backup"));

    let item = |check: &str| {
        format!(
            "checklists:\n  - name: ours\n    items:\n      - id: x\n        title: X\n        check:\n{check}"
        )
    };
    let cases = [
        (
            item("          kind: coffee\n"),
            "checklists.yaml:7:17: unknown check kind `coffee`, expected one of manual, on-call,",
        ),
        (
            item("          kind: argocd-healthy\n          environment: qa\n"),
            "checklists.yaml:8:24: unknown environment `qa`, expected one of dev, staging, prod, or this",
        ),
        (
            item("          kind: migrations\n          url: http://x\n"),
            "checklists.yaml:8:16: `url` is not used by a `migrations` check",
        ),
        (
            item("          kind: backup\n          max_age: soon\n"),
            "checklists.yaml:8:20: invalid duration `soon`",
        ),
        (
            item("          kind: http\n          url: ftp://x\n"),
            "checklists.yaml:8:16: invalid URL `ftp://x`",
        ),
        (
            "checklists:\n  - name: a\n    items:\n      - id: x\n        title: X\n  - name: b\n    items:\n      - id: x\n        title: Y\n".to_owned(),
            "checklists.yaml:8:13: duplicate item id `x`",
        ),
        (
            "checklists:\n  - name: a\n    applies_to: staging\n    items: []\n".to_owned(),
            "checklists.yaml:3:17: unknown applies_to `staging`, expected all or production",
        ),
        (
            "on_call:\n  name: x\n".to_owned(),
            "checklists.yaml: expected `checklists:`",
        ),
    ];
    for (text, want) in cases {
        let err = load_err(&[("checklists.yaml", &text)]);
        assert!(err.contains(want), "{text}\n→ {err}\nwanted {want}");
    }
}

#[test]
fn a_runbook_replaces_the_builtin_one_and_bad_ones_point_at_the_line() {
    let dir = dir_with(&[(
        "runbooks/production.yaml",
        "title: Ours\nphases:\n  - name: T-0\n    at: 0\n    steps:\n      - id: go\n        title: Go\n        do: argocd app sync {app}\n        done_when: {kind: argocd-healthy, environment: this}\n",
    )]);
    let config = load_dir(dir.path(), None).expect("loads");
    assert_eq!(config.runbook.title, "Ours");
    assert_eq!(
        config.runbook.phases[0].steps[0].run.as_deref(),
        Some("argocd app sync {app}")
    );
    for (text, want) in [
        (
            "phases:\n  - name: T-24h\n    at: yesterday\n    steps: []\n",
            "production.yaml:3:9: invalid offset `yesterday`",
        ),
        (
            "phases:\n  - name: a\n    at: +5m\n    steps: []\n  - name: b\n    at: -1h\n    steps: []\n",
            "production.yaml:6:9: phases go in time order",
        ),
        (
            "phases:\n  - name: a\n    at: 0\n    steps:\n      - id: x\n        title: X\n      - id: x\n        title: Y\n",
            "production.yaml:7:13: duplicate step id `x`",
        ),
    ] {
        let err = load_err(&[("runbooks/production.yaml", text)]);
        assert!(err.contains(want), "{text}\n→ {err}\nwanted {want}");
    }
}

#[test]
fn a_file_past_the_parsers_limits_says_so_in_words() {
    // 300,000 days in a change window, 1.2 MB: well under the 4 MiB file limit, but the
    // parser's node budget stops it.
    let many = format!(
        "{ENV_HEAD}    policy:\n      deploy_mode: manual+window\n      change_windows:\n        - days: [{}mon]\n          start: '10:00'\n          end: '16:00'\n",
        "mon,".repeat(300_000)
    );
    let err = load_err(&[("environments.yaml", &many)]);
    assert!(
        err.contains("too many values for a config file; the YAML parser stopped reading here"),
        "{err}"
    );
    assert!(!err.contains("budget") && !err.contains('{'), "{err}");
}

#[test]
fn consumer_groups_belong_to_a_service_and_bad_ones_point_at_their_line() {
    let config = config::load::<Action>(&LoadOptions::default()).expect("defaults load");
    let groups = |env: &str, svc: &str| {
        config
            .environments
            .iter()
            .find(|e| e.name == env)
            .and_then(|e| e.services.iter().find(|s| s.name == svc))
            .map(|s| s.consumer_groups.clone())
            .unwrap()
    };
    assert_eq!(
        groups("prod", "metadata-catalog"),
        [config::ConsumerGroup {
            group: "metadata-catalog-consumer".into(),
            topic: "customers.entity_changed".into(),
        }]
    );
    assert!(groups("prod", "customer-adapter").is_empty());
    assert!(groups("dev", "metadata-catalog").is_empty());

    let with_kafka = "environments:\n  - name: prod\n    namespace: p\n    kafka: {}\n    \
                      services:\n      - name: c\n        consumer_groups:\n";
    let bad_topic = format!("{with_kafka}          - group: g\n            topic: \"a b\"\n");
    let err = load_err(&[("environments.yaml", &bad_topic)]);
    assert!(
        err.contains("environments.yaml:9:20: invalid topic `a b`"),
        "{err}"
    );
    let bad_group = format!("{with_kafka}          - group: \"\"\n            topic: t\n");
    let err = load_err(&[("environments.yaml", &bad_group)]);
    assert!(
        err.contains("environments.yaml:8:20: invalid group ``: it must not be empty"),
        "{err}"
    );
    let twice = format!(
        "{with_kafka}          - group: g\n            topic: t\n          - group: g\n            \
         topic: t\n"
    );
    let err = load_err(&[("environments.yaml", &twice)]);
    assert!(
        err.contains("environments.yaml:10:20: group `g` on topic `t` is listed twice"),
        "{err}"
    );
    let unknown = format!("{with_kafka}          - group: g\n            topc: t\n");
    let err = load_err(&[("environments.yaml", &unknown)]);
    assert!(err.contains("environments.yaml:9:"), "{err}");
    // Without the environment's kafka: there is nowhere to reach the group.
    let no_kafka = "environments:\n  - name: prod\n    namespace: p\n    services:\n      - name: \
                    c\n        consumer_groups:\n          - group: g\n            topic: t\n";
    let err = load_err(&[("environments.yaml", no_kafka)]);
    assert!(
        err.contains("environments.yaml:7:")
            && err.contains("consumer_groups needs the environment's `kafka:`"),
        "{err}"
    );
}

#[test]
fn a_replay_drill_names_its_group_where_it_starts_and_bad_ones_point_at_their_line() {
    use rollcall::config::drills::parse_drill;
    let drill = |start: &str, goal: &str| {
        format!("title: t\nbrief: b\nenvironment: prod\n{start}goal:\n{goal}par: 3m\n")
    };
    let start = "start:\n  group_at_latest: {group: g, topic: t}\n";
    let ok = drill(
        start,
        "  group_replayed: {group: g, topic: t, since: 90m}\n",
    );
    let parsed = parse_drill("x", Path::new("drills/x.yaml"), &ok, &["prod"]).unwrap();
    assert_eq!(
        parsed.start.group_at_latest.map(|g| (g.group, g.topic)),
        Some(("g".to_owned(), "t".to_owned()))
    );
    let other = drill(
        start,
        "  group_replayed: {group: h, topic: t, since: 90m}\n",
    );
    let err = parse_drill("x", Path::new("drills/x.yaml"), &other, &["prod"])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("drills/x.yaml:7:")
            && err.contains("group_replayed needs start.group_at_latest"),
        "{err}"
    );
    let never = drill(start, "  group_replayed: {group: g, topic: t, since: 0s}\n");
    let err = parse_drill("x", Path::new("drills/x.yaml"), &never, &["prod"])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("drills/x.yaml:7:47: invalid duration `0s`"),
        "{err}"
    );
    let spaced = drill(
        "start:\n  group_at_latest: {group: \"a b\", topic: t}\n",
        "  migrations_clean: true\n",
    );
    let err = parse_drill("x", Path::new("drills/x.yaml"), &spaced, &["prod"])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("drills/x.yaml:5:") && err.contains("invalid group `a b`"),
        "{err}"
    );
}
