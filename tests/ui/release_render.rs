//! Render snapshots of the release pane (promotion matrix) and an app's history at
//! 80×24 and 160×48, and the auto-sync-off dialog before a rollback.

use rollcall::app::State;
use rollcall::app::panes::argocd::ArgoUpdate;
use rollcall::domain::WatchUpdate;
use rollcall_testkit::release::*;
use rollcall_testkit::state::*;
use serde_json::json;

/// Apps everywhere; prod's metadata-catalog mid-sync; staging's Argo CD down.
fn scenario(w: u16, h: u16) -> State {
    let mut s = populated(w, h);
    with_apps(&mut s);
    let mut syncing = app_json("metadata-catalog-prod", false, REV_NEW, "v1.2.0");
    syncing["status"]["operationState"] = json!({"phase": "Running",
        "message": "waiting for healthy state of apps/Deployment/metadata-catalog",
        "operation": {"sync": {"revision": REV_NEW}}, "startedAt": ago(20)});
    syncing["status"]["health"]["status"] = json!("Progressing");
    argo(
        &mut s,
        2,
        ArgoUpdate::Apps(WatchUpdate::Apply(app(syncing))),
    );
    argo(
        &mut s,
        1,
        ArgoUpdate::Down("Argo CD unreachable: Connection refused (os error 111)".into()),
    );
    s
}

#[test]
fn release_matrix() {
    for (w, h) in SIZES {
        let mut s = scenario(w, h);
        press(&mut s, "5]]");
        insta::assert_snapshot!(format!("releases_{w}x{h}"), draw(&s).backend());
    }
}

#[test]
fn app_history() {
    for (w, h) in SIZES {
        let mut s = scenario(w, h);
        press(&mut s, "5]]\nj");
        insta::assert_snapshot!(format!("release_history_{w}x{h}"), draw(&s).backend());
    }
}

#[test]
fn auto_sync_off_offered_before_rollback() {
    let mut s = scenario(160, 48);
    press(&mut s, "5]]\njR");
    insta::assert_snapshot!("release_disable_auto_sync_160x48", draw(&s).backend());
}

/// The history row of id 3 (REV_OLD) or 4 (REV_NEW), found by its short revision.
fn history_row(s: &State, id: &str) -> String {
    let rev = if id == "3" {
        &REV_OLD[..7]
    } else {
        &REV_NEW[..7]
    };
    screen_rows(s)
        .into_iter()
        .find(|r| r.contains(rev))
        .unwrap_or_else(|| panic!("no history row {id}:\n{}", screen_rows(s).join("\n")))
}

#[test]
fn history_fetches_images_of_revisions_never_seen_running() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use rollcall::app::panes::argocd::images::ManifestFetch;
    use rollcall::app::{Effect, Event, update};

    let mut s = scenario(160, 48);
    press(&mut s, "5]]");
    // Opening prod's customer-adapter history asks for the manifests of id 3's revision
    // only: id 4's images are what the app runs now.
    let (effects, _) = update(
        &mut s,
        Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    let fetch = ManifestFetch {
        env: 2,
        env_name: "prod".into(),
        app: "customer-adapter-prod".into(),
        revision: REV_OLD.into(),
    };
    assert_eq!(effects, [Effect::FetchManifests(fetch.clone())]);
    assert!(
        history_row(&s, "3").contains("fetching…"),
        "{}",
        history_row(&s, "3")
    );
    assert!(history_row(&s, "4").contains("v1.2.0"));
    // Opened again while in flight: no second request.
    update(
        &mut s,
        Event::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
    );
    let (effects, _) = update(
        &mut s,
        Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    assert!(effects.is_empty(), "{effects:?}");

    // A failure shows Argo CD's words; opening the history again retries.
    update(
        &mut s,
        Event::Manifests {
            fetch: fetch.clone(),
            result: Err("Argo CD did not answer within 15s".into()),
        },
    );
    assert!(
        history_row(&s, "3").contains("✖ Argo CD did not answer"),
        "{}",
        history_row(&s, "3")
    );
    // With id 3 selected, its whole error is on the status line.
    press(&mut s, "j");
    assert!(
        screen_rows(&s)
            .iter()
            .any(|r| r.contains("images of 3f9a1c7: Argo CD did not answer within 15s")),
        "{}",
        screen_rows(&s).join("\n")
    );
    update(
        &mut s,
        Event::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
    );
    let (effects, _) = update(
        &mut s,
        Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    assert_eq!(effects, [Effect::FetchManifests(fetch.clone())]);
    update(
        &mut s,
        Event::Manifests {
            fetch,
            result: Ok(vec![
                "ghcr.io/controle-digital/customer-adapter:v1.1.4".into(),
            ]),
        },
    );
    let row = history_row(&s, "3");
    assert!(row.contains("v1.1.4") && !row.contains("fetching"), "{row}");
    // Cached: the next opening asks for nothing.
    update(
        &mut s,
        Event::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
    );
    let (effects, _) = update(
        &mut s,
        Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    assert!(effects.is_empty(), "{effects:?}");
}

/// The rollback advisor over prod's metadata-catalog: the Argo CD rollback (auto-sync
/// off first) above the Deployment undo, with the steps and risks of the chosen plan.
#[test]
fn advisor_overlay() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut s = populated(w, h);
        for (hash, rev, tag, n, age) in [
            ("5d8f7c9b4", 1, "v1.1.3", 0, 5 * 86400),
            ("7d9f5c6b8", 2, "v1.1.4", 3, 3 * 86400),
        ] {
            feed_rs(
                &mut s,
                2,
                deployment_rs("metadata-catalog", hash, rev, tag, n, age),
            );
        }
        only_app(
            &mut s,
            2,
            app_json("metadata-catalog-prod", true, REV_NEW, "v1.1.4"),
        );
        press(&mut s, "]]5jj!");
        insta::assert_snapshot!(format!("advisor_{w}x{h}"), draw(&s).backend());
    }
}
