//! Render snapshots of both panes at 80×24 (one pane at a time, tab bar) and
//! 160×48 (split), plus the confirm dialog, help, and a disconnected environment.

use rollcall::app::{EnvUpdate, Event, Stream, update};
use rollcall_testkit::state::*;

#[test]
fn environments_pane() {
    for (w, h) in SIZES {
        let mut s = populated(w, h);
        press(&mut s, "]]");
        insta::assert_snapshot!(format!("environments_{w}x{h}"), draw(&s).backend());
    }
}

#[test]
fn pods_pane() {
    for (w, h) in SIZES {
        let mut s = populated(w, h);
        press(&mut s, "]]2jjjjjj");
        insta::assert_snapshot!(format!("pods_{w}x{h}"), draw(&s).backend());
    }
}

#[test]
fn pods_pane_mid_restart_with_a_warning() {
    let mut s = populated(160, 48);
    press(&mut s, "]]2");
    let new = pod(PodSpec {
        ns: "dictamesh-prod",
        deploy: "metadata-catalog",
        hash: "5c4b9f7d8",
        suffix: "q8r2z",
        ready: false,
        restarts: 1,
        age_secs: 4,
        node: "k3s-node-2",
    });
    feed(
        &mut s,
        2,
        EnvUpdate::Pods(rollcall::domain::WatchUpdate::Apply(new)),
    );
    let warning = serde_json::from_value::<rollcall::domain::WatchedEvent>(serde_json::json!({
        "metadata": {"name": "metadata-catalog-5c4b9f7d8-q8r2z.1", "resourceVersion": "9"},
        "involvedObject": {"kind": "Pod", "name": "metadata-catalog-5c4b9f7d8-q8r2z"},
        "reason": "BackOff", "type": "Warning", "count": 1,
        "message": "Back-off restarting failed container metadata-catalog",
        "lastTimestamp": ago(2)
    }))
    .unwrap()
    .row;
    feed(
        &mut s,
        2,
        EnvUpdate::Events(rollcall::domain::WatchUpdate::Apply(warning)),
    );
    insta::assert_snapshot!("pods_mid_restart_160x48", draw(&s).backend());
}

#[test]
fn filter_with_no_match() {
    let mut s = populated(80, 24);
    press(&mut s, "]]/nothing-like-this");
    insta::assert_snapshot!("pods_filter_no_match_80x24", draw(&s).backend());
}

#[test]
fn confirm_dialog_in_production() {
    for (w, h) in SIZES {
        let mut s = populated(w, h);
        press(&mut s, "]]2jjjjjjrmeta");
        insta::assert_snapshot!(format!("confirm_prod_{w}x{h}"), draw(&s).backend());
    }
}

#[test]
fn help_from_the_live_key_map() {
    let mut s = populated(160, 48);
    press(&mut s, "?");
    insta::assert_snapshot!("help_160x48", draw(&s).backend());
}

#[test]
fn disconnected_environment_shows_staleness() {
    let mut s = populated(160, 48);
    press(&mut s, "]]");
    for stream in Stream::ALL {
        feed(
            &mut s,
            2,
            EnvUpdate::WatchError {
                stream,
                message: "Connection refused (os error 111)".into(),
                refused: false,
            },
        );
    }
    update(&mut s, Event::Tick("2026-11-26T14:02:54Z".parse().unwrap()));
    insta::assert_snapshot!("environments_prod_down_160x48", draw(&s).backend());
}
