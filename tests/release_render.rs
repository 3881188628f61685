//! Render snapshots of the release pane (promotion matrix) and an app's history at
//! 80×24 and 160×48, and the auto-sync-off dialog before a rollback.

mod release_support;
mod support;

use release_support::*;
use rollcall::app::State;
use rollcall::app::releases::ArgoUpdate;
use rollcall::domain::WatchUpdate;
use serde_json::json;
use support::*;

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
