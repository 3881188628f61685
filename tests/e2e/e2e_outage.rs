//! A total outage in a pseudo-terminal against `rollcall sim`: every version the demo
//! runs is switched unhealthy (`POST /_sim/unhealthy`), every pod crash-loops, and
//! within 10 s the environments pane shows staging and prod failing (✖), the reason in
//! words (CrashLoopBackOff), and the drift below the policy's minimum; never "rolling".

use std::path::Path;
use std::time::{Duration, Instant};

use rollcall_testkit::kubectl::{kubectl_or_skip, sim_admin_post};
use rollcall_testkit::process::start_sim;
use rollcall_testkit::pty::Tui;

const BIN: &str = env!("CARGO_BIN_EXE_rollcall");
const WAIT: Duration = Duration::from_secs(40);
/// How soon the screen must say so, from the switch.
const WITHIN: Duration = Duration::from_secs(10);
/// Every image tag of the DictaMesh scenario.
const VERSIONS: &str = r#"{"images": ["v1.1.3", "v1.1.4", "v1.2.0"]}"#;

fn post_unhealthy(kubectl: &Path, kc: &Path, dir: &Path) {
    sim_admin_post(kubectl, kc, dir, "/_sim/unhealthy", VERSIONS);
}

/// The environments table's row of `namespace`.
fn env_row<'a>(screen: &'a str, namespace: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(namespace) && l.contains("live"))
        .unwrap_or("")
}

#[test]
fn every_version_crash_looping_shows_failure_with_the_reason() {
    let Some(kubectl) = kubectl_or_skip("the outage on screen") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_sim, kc) = start_sim(BIN, dir.path(), WAIT);
    let mut tui = Tui::run_against(BIN, dir.path(), &kc);
    // Prod selected, its pods listed and every environment live before the switch.
    tui.wait_for("Environments", WAIT);
    tui.send("]]");
    tui.wait_until("prod live and listed", WAIT, |s| {
        let ok = ["dictamesh-dev", "dictamesh-staging", "dictamesh-prod"]
            .iter()
            .all(|ns| !env_row(s, ns).is_empty())
            && s.contains("Pods · prod");
        Ok(ok.then_some(()))
    });
    let before = tui.settled_screen();
    assert!(
        !env_row(&before, "dictamesh-prod").contains('✖'),
        "{before}"
    );

    post_unhealthy(&kubectl, &kc, dir.path());
    let switched = Instant::now();
    let screen = tui.wait_until("prod and staging failing with the reason", WAIT, |s| {
        let failing = env_row(s, "dictamesh-prod").contains('✖')
            && env_row(s, "dictamesh-staging").contains('✖')
            && s.lines()
                .any(|l| l.contains("✖ ") && l.contains("CrashLoopBackOff"));
        Ok(failing.then(|| s.to_owned()))
    });
    let took = switched.elapsed();
    eprintln!("the outage showed {took:?} after the switch");
    assert!(took <= WITHIN, "took {took:?}:\n{screen}");
    assert!(!screen.contains("rolling:"), "{screen}");

    // Once the workloads' counts follow (nothing ready), it stays failing: never back to
    // "rolling" between two crashes, drift from the policy's minimum said (zoomed, so
    // every line of it shows).
    tui.send("1z");
    tui.wait_until("the environments pane zoomed", WAIT, |s| {
        Ok((!s.contains("Pods · prod")).then_some(()))
    });
    tui.wait_until("nothing ready in staging and prod", WAIT, |s| {
        let zero = env_row(s, "dictamesh-staging").contains(" 0/6 ")
            && env_row(s, "dictamesh-prod").contains(" 0/");
        Ok(zero.then_some(()))
    });
    let calm_until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < calm_until {
        let s = tui.settled_screen();
        let failing = env_row(&s, "dictamesh-prod").contains('✖')
            && env_row(&s, "dictamesh-staging").contains('✖');
        assert!(failing && !s.contains("rolling:"), "{s}");
        assert!(s.contains("only 0 ready, policy minimum 3"), "{s}");
        std::thread::sleep(Duration::from_millis(250));
    }

    // Staging says it too, drift from its policy included.
    tui.send("[");
    let screen = tui.wait_for("staging: no change window", WAIT);
    assert!(
        env_row(&screen, "dictamesh-staging").contains('✖'),
        "{screen}"
    );
    tui.wait_until("staging's reason and drift", WAIT, |s| {
        let shown = s
            .lines()
            .any(|l| l.contains("✖ ") && l.contains("CrashLoopBackOff"))
            && s.contains("only 0 ready, policy minimum 2");
        Ok(shown.then_some(()))
    });

    assert!(tui.quit(Duration::from_secs(5)).success());
}
