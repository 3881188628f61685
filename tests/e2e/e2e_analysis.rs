//! End to end: `rollcall demo --speed 4 --unhealthy-image v1.2.0`, the drill of issue 16.
//! The canary's version goes bad in its first pause; when the pause ends its analysis
//! step measures the canary's success rate, fails three times (failureLimit 2), and the
//! Rollout aborts: the canary pane says so, names the failing metric with Argo's reason
//! and shows the traffic back on stable.

use std::time::Duration;

use rollcall_testkit::pty::Tui;

const BIN: &str = env!("CARGO_BIN_EXE_rollcall");
const WAIT: Duration = Duration::from_secs(40);
/// The rest of the 5-minute pause (200 s at ×4) and the analysis, with room to spare.
const ABORT_WAIT: Duration = Duration::from_secs(150);

#[test]
fn a_bad_canary_fails_its_analysis_and_the_pane_names_the_metric() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut tui = Tui::demo(
        BIN,
        dir.path(),
        &["--speed", "4", "--unhealthy-image", "v1.2.0"],
    );
    tui.wait_for("Environments", WAIT);
    tui.send("]]3");
    tui.wait_for("Canary · customer-adapter · prod", WAIT);
    // In the first pause the canary crash-loops; the analysis step is still to come.
    tui.wait_for("step 2/7", WAIT);
    let screen = tui.wait_for(
        "✖ Aborted by analysis: metric \"success-rate\" Failed",
        ABORT_WAIT,
    );
    assert!(screen.contains("failed (3) > failureLimit (2)"), "{screen}");
    assert!(screen.contains("(aborted)"), "{screen}");
    // The run's own update may come a moment after the Rollout's.
    tui.wait_until("the run failed with 3 of 2", WAIT, |s| {
        Ok((s.contains("analysis step 3 ✖ Failed") && s.contains("✖ 3 (limit 2)")).then_some(()))
    });
    tui.wait_for("actual 0%", WAIT);
    tui.quit(Duration::from_secs(10));
}
