//! Blue/green cutover and Deployment revisions: the domain views from watched rows,
//! `update()` for the switch (refused, overridden with a reason, confirmed) and for undo,
//! and snapshots of both panes at 80×24 and 160×48.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rollcall::app::{Effect, EnvUpdate, Event, Mode, Pane, State, update};
use rollcall::bus::Command;
use rollcall::config::Colour;
use rollcall::domain::WatchUpdate;
use rollcall::domain::bluegreen::deployment_revisions;
use rollcall_testkit::state::*;
use serde_json::json;

const PROD: usize = 2;
const NS: &str = "dictamesh-prod";

/// prod with metadata-catalog's history: revision 1 (v1.1.3, scaled down) and 2 (current).
fn scene(w: u16, h: u16) -> State {
    let mut s = populated(w, h);
    feed_rs(
        &mut s,
        PROD,
        deployment_rs("metadata-catalog", "5d8f7c9b4", 1, "v1.1.3", 0, 5 * 86400),
    );
    feed_rs(
        &mut s,
        PROD,
        deployment_rs("metadata-catalog", "7d9f5c6b8", 2, "v1.1.4", 3, 3 * 86400),
    );
    press(&mut s, "]]");
    s
}

fn green_ready(s: &mut State, ready: u32) {
    feed(
        s,
        PROD,
        EnvUpdate::Deployments(WatchUpdate::Apply(deployment(
            NS,
            "graphql-gateway-green",
            3,
            ready,
            "v1.2.0",
        ))),
    );
}

fn confirm_command(s: &State) -> &Command {
    match &s.mode {
        Mode::Confirm(d) => &d.command,
        other => panic!("no confirm dialog: {other:?}"),
    }
}

#[test]
fn view_shows_the_selected_colour_and_both_sides() {
    let mut s = scene(160, 48);
    let views = rollcall::app::panes::bluegreen::views(&s, PROD);
    assert_eq!(views.len(), 1);
    let v = &views[0];
    assert_eq!(
        (v.name.as_str(), v.service.as_str()),
        ("graphql-gateway", "graphql-gateway")
    );
    assert_eq!(v.live, Some(Colour::Blue));
    assert_eq!(v.target(), Colour::Green);
    assert!(v.target_ready());
    assert_eq!((v.green.ready, v.green.desired), (3, 3));
    assert_eq!(v.green.version(), Some("v1.2.0"));
    assert_eq!(v.blue.version(), Some("v1.1.4"));
    // Other environments have no pair.
    assert!(rollcall::app::panes::bluegreen::views(&s, 0).is_empty());

    green_ready(&mut s, 1);
    let v = &rollcall::app::panes::bluegreen::views(&s, PROD)[0];
    assert!(!v.target_ready());
    assert_eq!(
        v.green.not_ready_reason().as_deref(),
        Some("deployment/graphql-gateway-green has 1/3 ready")
    );

    // The Service flipped elsewhere (kubectl): the view follows the watch.
    feed(
        &mut s,
        PROD,
        EnvUpdate::Services(WatchUpdate::Apply(service(
            NS,
            "graphql-gateway",
            Some("green"),
        ))),
    );
    let v = &rollcall::app::panes::bluegreen::views(&s, PROD)[0];
    assert_eq!(v.live, Some(Colour::Green));
    assert_eq!(v.target(), Colour::Blue);
    // A selector value naming neither colour, and a missing Service.
    feed(
        &mut s,
        PROD,
        EnvUpdate::Services(WatchUpdate::Apply(service(
            NS,
            "graphql-gateway",
            Some("canary"),
        ))),
    );
    let v = &rollcall::app::panes::bluegreen::views(&s, PROD)[0];
    assert_eq!(
        (v.live, v.selector_value.as_deref()),
        (None, Some("canary"))
    );
    feed(
        &mut s,
        PROD,
        EnvUpdate::Services(WatchUpdate::Delete(service(NS, "graphql-gateway", None))),
    );
    assert!(!rollcall::app::panes::bluegreen::views(&s, PROD)[0].service_found);
}

#[test]
fn environment_counts_the_colour_the_service_selects() {
    let mut s = scene(160, 48);
    let summary = |s: &State| {
        rollcall::domain::environment::summarize(
            &s.envs[PROD].config,
            &rollcall::app::panes::bluegreen::workloads(s, PROD),
            &s.envs[PROD].pods,
            s.now,
        )
    };
    let gw = |s: &State| {
        summary(s)
            .services
            .into_iter()
            .find(|x| x.name == "graphql-gateway")
            .unwrap()
    };
    assert_eq!(gw(&s).version.as_deref(), Some("v1.1.4"));
    assert_eq!((gw(&s).ready, gw(&s).desired), (3, 3));
    assert_eq!((summary(&s).ready, summary(&s).desired), (9, 9));
    assert!(summary(&s).drift.is_empty(), "{:?}", summary(&s).drift);
    feed(
        &mut s,
        PROD,
        EnvUpdate::Services(WatchUpdate::Apply(service(
            NS,
            "graphql-gateway",
            Some("green"),
        ))),
    );
    assert_eq!(gw(&s).version.as_deref(), Some("v1.2.0"));
}

#[test]
fn switch_to_a_ready_colour_previews_the_seed_patch_and_needs_the_typed_name() {
    let mut s = scene(160, 48);
    assert!(press(&mut s, "6").is_empty());
    assert_eq!(s.focus, Pane::BlueGreen);
    press(&mut s, "b");
    let Mode::Confirm(dialog) = &s.mode else {
        panic!("no confirm dialog: {:?}", s.mode)
    };
    let p = &dialog.preview;
    assert_eq!(p.method, "PATCH");
    assert_eq!(
        p.path,
        "/api/v1/namespaces/dictamesh-prod/services/graphql-gateway"
    );
    assert_eq!(p.content_type, "application/strategic-merge-patch+json");
    assert_eq!(p.body, r#"{"spec":{"selector":{"version":"green"}}}"#);
    assert_eq!(
        dialog.typed.as_ref().map(|(n, _)| n.as_str()),
        Some("graphql-gateway")
    );
    // Enter before typing the name sends nothing.
    assert!(key(&mut s, KeyCode::Enter).is_empty());
    assert!(matches!(s.mode, Mode::Confirm(_)));
    press(&mut s, "graphql-gateway");
    let effects = key(&mut s, KeyCode::Enter);
    let [Effect::Send { command, .. }] = effects.as_slice() else {
        panic!("expected one command, got {effects:?}")
    };
    assert_eq!(
        *command,
        Command::SwitchBlueGreen {
            env: "prod".into(),
            namespace: NS.into(),
            service: "graphql-gateway".into(),
            to_colour: Colour::Green,
            selector_key: "version".into(),
            target_deployment: "graphql-gateway-green".into(),
            override_reason: None,
        }
    );
}

#[test]
fn switch_to_an_unready_colour_is_refused_unless_a_reason_is_typed() {
    let mut s = scene(160, 48);
    green_ready(&mut s, 1);
    press(&mut s, "6b");
    let Mode::Reason(prompt) = &s.mode else {
        panic!("no reason prompt: {:?}", s.mode)
    };
    assert!(
        prompt
            .refusal
            .contains("graphql-gateway-green has 1/3 ready")
    );
    // Esc: nothing switched.
    assert!(key(&mut s, KeyCode::Esc).is_empty());
    assert!(matches!(s.mode, Mode::Normal));
    // An empty reason is a refusal too.
    press(&mut s, "b");
    assert!(key(&mut s, KeyCode::Enter).is_empty());
    assert!(matches!(s.mode, Mode::Normal));
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|(_, m, ok)| !ok && m.contains("no reason"))
    );
    // With a reason: the override goes to the confirm dialog and into the command.
    press(&mut s, "b");
    press(&mut s, "blue pods crash, green is warming up");
    let effects = key(&mut s, KeyCode::Enter);
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Send { .. })),
        "{effects:?}"
    );
    let Mode::Confirm(dialog) = &s.mode else {
        panic!("no confirm dialog: {:?}", s.mode)
    };
    assert!(dialog.preview.effect.contains("OVERRIDE"));
    assert!(
        dialog
            .preview
            .effect
            .contains("blue pods crash, green is warming up")
    );
    let Command::SwitchBlueGreen {
        override_reason, ..
    } = confirm_command(&s)
    else {
        panic!()
    };
    assert_eq!(
        override_reason.as_deref(),
        Some("blue pods crash, green is warming up")
    );
    press(&mut s, "graphql-gateway");
    let effects = key(&mut s, KeyCode::Enter);
    assert!(matches!(
        effects.as_slice(),
        [Effect::Send {
            command: Command::SwitchBlueGreen {
                override_reason: Some(_),
                ..
            },
            ..
        }]
    ));
}

#[test]
fn switch_is_refused_read_only_and_without_a_pair() {
    let mut s = scene(160, 48);
    press(&mut s, "[");
    press(&mut s, "6b");
    assert!(matches!(s.mode, Mode::Normal));
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|(_, m, _)| m.contains("no blue-green service"))
    );
    let mut s = scene(160, 48);
    s.readonly = true;
    press(&mut s, "6b");
    assert!(matches!(s.mode, Mode::Normal));
}

#[test]
fn revisions_newest_first_with_the_current_one_marked() {
    let s = scene(160, 48);
    let d = s.envs[PROD]
        .deployments
        .get(NS, "metadata-catalog")
        .unwrap();
    let rss = &s.rollouts.envs[PROD].replicasets;
    let revs = deployment_revisions(d, rss.iter());
    assert_eq!(revs.current, Some(2));
    let got: Vec<(u64, bool, &str)> = revs
        .revisions
        .iter()
        .map(|r| (r.revision, r.current, r.images[0].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (2, true, "ghcr.io/controle-digital/metadata-catalog:v1.1.4"),
            (1, false, "ghcr.io/controle-digital/metadata-catalog:v1.1.3"),
        ]
    );
    // ReplicaSets of other owners are not revisions of this Deployment.
    let other = s.envs[PROD]
        .deployments
        .get(NS, "graphql-gateway-blue")
        .unwrap();
    assert!(deployment_revisions(other, rss.iter()).revisions.is_empty());
}

#[test]
fn undo_to_the_chosen_revision_is_kubectls_json_patch() {
    let mut s = scene(160, 48);
    press(&mut s, "7");
    assert_eq!(s.focus, Pane::Revisions);
    // u before opening a Deployment: refused with a hint.
    press(&mut s, "u");
    assert!(matches!(s.mode, Mode::Normal));
    // graphql-gateway-blue, graphql-gateway-green, metadata-catalog: the last one.
    press(&mut s, "G");
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.revisions.opened.as_deref(), Some("metadata-catalog"));
    // The previous revision is chosen; k moves to the current one, which is refused.
    press(&mut s, "k");
    press(&mut s, "u");
    assert!(matches!(s.mode, Mode::Normal));
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|(_, m, _)| m.contains("already runs revision 2"))
    );
    press(&mut s, "ju");
    let Mode::Confirm(dialog) = &s.mode else {
        panic!("no confirm dialog: {:?}", s.mode)
    };
    assert_eq!(dialog.preview.method, "PATCH");
    assert_eq!(
        dialog.preview.path,
        "/apis/apps/v1/namespaces/dictamesh-prod/deployments/metadata-catalog"
    );
    assert_eq!(dialog.preview.content_type, "application/json-patch+json");
    let body: serde_json::Value = serde_json::from_str(&dialog.preview.body).unwrap();
    assert_eq!(
        body,
        json!([
            {"op": "replace", "path": "/spec/template", "value": {
                "metadata": {"labels": {"app": "metadata-catalog"}},
                "spec": {"containers": [{"name": "metadata-catalog",
                    "image": "ghcr.io/controle-digital/metadata-catalog:v1.1.3"}]}}},
            {"op": "replace", "path": "/metadata/annotations", "value": {
                "deployment.kubernetes.io/revision": "2", "team": "catalog"}},
        ])
    );
    assert!(dialog.warning.is_none());
    let Command::UndoDeployment { to_revision, .. } = confirm_command(&s) else {
        panic!()
    };
    assert_eq!(*to_revision, 1);
    press(&mut s, "metadata-catalog");
    let effects = key(&mut s, KeyCode::Enter);
    assert!(matches!(
        effects.as_slice(),
        [Effect::Send {
            command: Command::UndoDeployment { to_revision: 1, .. },
            ..
        }]
    ));
    // Esc goes back from the revisions to the Deployments.
    key(&mut s, KeyCode::Esc);
    assert_eq!(s.revisions.opened, None);
}

#[test]
fn undo_behind_a_self_healing_argo_cd_app_warns_and_points_at_the_rollback() {
    use rollcall_testkit::release::{REV_NEW, app_json, only_app};
    let mut s = scene(160, 48);
    // Prod's metadata-catalog app with automated sync and self-heal.
    only_app(
        &mut s,
        2,
        app_json("metadata-catalog-prod", true, REV_NEW, "v1.1.4"),
    );
    press(&mut s, "7G");
    key(&mut s, KeyCode::Enter);
    press(&mut s, "u");
    let Mode::Confirm(dialog) = &s.mode else {
        panic!("no confirm dialog: {:?}", s.mode)
    };
    let warning = dialog.warning.as_deref().unwrap_or_default();
    assert!(warning.contains("metadata-catalog-prod"), "{warning}");
    assert!(warning.contains("self-heal"), "{warning}");
    assert!(warning.contains("pane 5"), "{warning}");
}

/// Ctrl+O in the undo dialog sets the undo aside and asks to turn the app's auto-sync
/// off; once that succeeds the same undo is offered again, without the self-heal warning.
#[test]
fn ctrl_o_turns_auto_sync_off_first_then_offers_the_undo_again() {
    use rollcall_testkit::release::{REV_NEW, app_json, only_app};
    let mut s = scene(160, 48);
    only_app(
        &mut s,
        2,
        app_json("metadata-catalog-prod", true, REV_NEW, "v1.1.4"),
    );
    press(&mut s, "7G");
    key(&mut s, KeyCode::Enter);
    press(&mut s, "u");
    let undo = confirm_command(&s).clone();
    update(
        &mut s,
        Event::Key(KeyEvent::new(KeyCode::Char('o'), KeyModifiers::CONTROL)),
    );
    assert!(
        matches!(
            confirm_command(&s),
            Command::ArgocdDisableAutoSync { app, .. } if app == "metadata-catalog-prod"
        ),
        "{:?}",
        s.mode
    );
    press(&mut s, "metadata-catalog-prod");
    let effects = key(&mut s, KeyCode::Enter);
    let [Effect::Send { op, .. }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    let op = *op;
    assert!(matches!(s.mode, Mode::Normal));
    update(
        &mut s,
        Event::OpFinished {
            op,
            outcome: Ok("metadata-catalog-prod: auto-sync off".into()),
        },
    );
    assert_eq!(confirm_command(&s), &undo);
    let Mode::Confirm(dialog) = &s.mode else {
        unreachable!()
    };
    let warning = dialog.warning.as_deref().unwrap_or_default();
    assert!(warning.contains("auto-sync off now"), "{warning}");
}

#[test]
fn canary_undo_key_still_undoes_the_rollout_outside_the_revisions_pane() {
    let mut s = scene(160, 48);
    press(&mut s, "3u");
    // No Rollout in this fixture: the canary pane answers, not the revisions pane.
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|(_, m, _)| m.contains("Argo Rollout"))
    );
}

#[test]
fn panes_at_two_sizes() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut s = scene(w, h);
        green_ready(&mut s, 2);
        press(&mut s, "6");
        insta::assert_snapshot!(format!("bluegreen_pane_{w}x{h}"), draw(&s).backend());
        press(&mut s, "b");
        insta::assert_snapshot!(format!("bluegreen_reason_{w}x{h}"), draw(&s).backend());
        key(&mut s, KeyCode::Esc);
        press(&mut s, "7");
        insta::assert_snapshot!(format!("revisions_list_{w}x{h}"), draw(&s).backend());
        press(&mut s, "G");
        key(&mut s, KeyCode::Enter);
        insta::assert_snapshot!(format!("revisions_open_{w}x{h}"), draw(&s).backend());
    }
}

#[test]
fn undo_dialog_renders_the_gitops_warning() {
    let mut s = scene(160, 48);
    press(&mut s, "7G");
    key(&mut s, KeyCode::Enter);
    press(&mut s, "u");
    if let Mode::Confirm(d) = &mut s.mode {
        d.warning = Some(
            "argocd app metadata-catalog-prod has selfHeal on: it will revert this undo".into(),
        );
    }
    insta::assert_snapshot!("revisions_undo_confirm_160x48", draw(&s).backend());
}

/// The undo went through (✔), then Argo CD's self-heal put the Git revision back: the
/// screen says so rather than leave the ✔ standing.
#[test]
fn an_undo_reverted_by_self_heal_is_noticed_and_said() {
    use rollcall_testkit::release::{REV_NEW, app_json, only_app};
    let mut s = scene(160, 48);
    only_app(
        &mut s,
        2,
        app_json("metadata-catalog-prod", true, REV_NEW, "v1.1.4"),
    );
    press(&mut s, "7G");
    key(&mut s, KeyCode::Enter);
    press(&mut s, "u");
    press(&mut s, "metadata-catalog");
    // The undo's template is long: read to the end before confirming.
    for _ in 0..10 {
        key(&mut s, KeyCode::PageDown);
    }
    let effects = key(&mut s, KeyCode::Enter);
    let [Effect::Send { op, .. }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    let op = *op;
    update(
        &mut s,
        Event::OpFinished {
            op,
            outcome: Ok("deployment/metadata-catalog rolled back to revision 1".into()),
        },
    );
    let deploy = |tag: &str| {
        EnvUpdate::Deployments(WatchUpdate::Apply(deployment(
            "dictamesh-prod",
            "metadata-catalog",
            3,
            3,
            tag,
        )))
    };
    feed(&mut s, 2, deploy("v1.1.3"));
    assert!(s.flash.as_ref().unwrap().1.contains("rolled back"));
    feed(&mut s, 2, deploy("v1.1.4"));
    let flash = &s.flash.as_ref().unwrap().1;
    assert!(
        flash.contains("deployment/metadata-catalog is back on")
            && flash.contains("Argo CD app metadata-catalog-prod reverted the change"),
        "{flash}"
    );
}

/// A restart adds revision 3 at the top while the user has revision 1 chosen: the
/// cursor stays on 1, so `u` undoes to the revision chosen, not the one that slid under.
#[test]
fn the_chosen_revision_stays_chosen_when_a_new_one_arrives() {
    let mut s = scene(160, 48);
    press(&mut s, "7G");
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.revisions.anchor, Some(1));
    feed_rs(
        &mut s,
        PROD,
        deployment_rs("metadata-catalog", "9c8b7a6d5", 3, "v1.1.4", 3, 60),
    );
    press(&mut s, "u");
    assert!(
        matches!(
            confirm_command(&s),
            Command::UndoDeployment { to_revision: 1, .. }
        ),
        "{:?}",
        confirm_command(&s)
    );
}
