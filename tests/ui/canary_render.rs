//! Snapshots of the canary pane in each phase (progressing, paused with countdown,
//! aborted, degraded, healthy) at 80×24 (the pane alone under the tab bar) and 160×48
//! (right column), plus the production confirm dialog of an abort.

use rollcall::app::{Event, State, update};
use rollcall_testkit::canary::{Phase, with_rollout};
use rollcall_testkit::state::*;

/// prod selected, canary pane focused, a few chart samples over the last minute.
fn scene(w: u16, h: u16, phase: Phase) -> State {
    let mut s = populated(w, h);
    press(&mut s, "]]3");
    for back in [60, 45, 30, 15] {
        let t = now() - jiff::SignedDuration::from_secs(back);
        update(&mut s, Event::Tick(t));
        with_rollout(&mut s, phase, 88 - back);
    }
    update(&mut s, Event::Tick(now()));
    with_rollout(&mut s, phase, 88);
    s
}

#[test]
fn canary_pane_in_each_phase_at_two_sizes() {
    for (w, h) in [(80, 24), (160, 48)] {
        for (phase, name) in [
            (Phase::Progressing, "progressing"),
            (Phase::Paused, "paused"),
            (Phase::Aborted, "aborted"),
            (Phase::Degraded, "degraded"),
            (Phase::Healthy, "healthy"),
        ] {
            let s = scene(w, h, phase);
            insta::assert_snapshot!(format!("canary_{name}_{w}x{h}"), draw(&s).backend());
        }
    }
}

#[test]
fn abort_confirm_in_production_shows_the_status_patch() {
    let mut s = scene(160, 48, Phase::Paused);
    press(&mut s, "a");
    let rollcall::app::state::Mode::Confirm(d) = &s.mode else {
        panic!("no confirm dialog");
    };
    let p = &d.preview;
    assert_eq!(
        (p.method, p.path.as_str(), p.content_type, p.body.as_str()),
        (
            "PATCH",
            "/apis/argoproj.io/v1alpha1/namespaces/dictamesh-prod/rollouts/customer-adapter/status",
            "application/merge-patch+json",
            r#"{"status":{"abort":true}}"#
        )
    );
    let screen = format!("{}", draw(&s).backend());
    // Abort stops harm: Enter alone confirms it, even in production.
    assert!(
        !screen.contains("type customer-adapter to confirm") && screen.contains("Enter confirm"),
        "{screen}"
    );
    insta::assert_snapshot!("canary_abort_confirm_160x48", draw(&s).backend());
}

/// The Rollout aborted by its failed analysis: the pane says so in words, names the
/// failing metric with Argo's reason, and shows the run's measurements against the limit.
#[test]
fn canary_pane_with_a_failing_analysis_at_two_sizes() {
    for (w, h) in [(160, 48), (80, 24)] {
        let mut s = populated(w, h);
        press(&mut s, "]]3");
        update(&mut s, Event::Tick(now()));
        rollcall_testkit::canary::with_failed_analysis(&mut s);
        let text = screen_text(&s);
        assert!(
            text.contains("✖ Aborted by analysis: metric \"success-rate\" Failed"),
            "{text}"
        );
        assert!(text.contains("failed (3) > failureLimit (2)"), "{text}");
        assert!(text.contains("✖ 3 (limit 2)"), "{text}");
        insta::assert_snapshot!(
            format!("canary_failing_analysis_{w}x{h}"),
            draw(&s).backend()
        );
    }
}
