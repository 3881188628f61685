//! Two rollcalls on one simulator, as two engineers walking one release: a tick in one
//! shows in the other (the shared ConfigMap, watched), and a tick the cluster refuses is
//! kept unsynced in the local file, then sent again once the cluster takes writes, and
//! reaches the teammate then. kubectl sees both ticks in the ConfigMap.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rollcall_testkit::kubectl::{kubectl_or_skip, sim_admin_post};
use rollcall_testkit::process::start_sim;
use rollcall_testkit::pty::Tui;

const BIN: &str = env!("CARGO_BIN_EXE_rollcall");
const WAIT: Duration = Duration::from_secs(40);
const MAP: &str = "rollcall-checklist-customer-adapter-v1-2-0";

fn rollcall(dir: &Path, kc: &Path) -> Tui {
    let mut tui = Tui::run_against(BIN, dir, kc);
    tui.wait_for("Environments", WAIT);
    // Prod's checklist, zoomed so rows show whole.
    tui.send("]]8z");
    tui.wait_for("Checklist · customer-adapter v1.2.0 → prod", WAIT);
    tui
}

fn kubectl(bin: &Path, kc: &Path, args: &[&str]) -> String {
    let out = Command::new(bin)
        .arg("--kubeconfig")
        .arg(kc)
        .args(args)
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn set_faults(bin: &Path, kc: &Path, dir: &Path, plan: &str) {
    sim_admin_post(bin, kc, dir, "/_sim/faults", plan);
}

#[test]
fn two_rollcalls_share_ticks_and_a_refused_tick_is_kept_then_synced() {
    let Some(kubectl_bin) = kubectl_or_skip("two rollcalls on one checklist") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_sim, kc) = start_sim(BIN, dir.path(), WAIT);
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&a_dir).unwrap();
    std::fs::create_dir_all(&b_dir).unwrap();
    let mut a = rollcall(&a_dir, &kc);
    let mut b = rollcall(&b_dir, &kc);
    b.wait_for("☐ Load testing completed", WAIT);

    // A ticks load testing (the tenth item); B sees it from the watch.
    a.send("jjjjjjjjjx");
    a.wait_for("tick \"Load testing completed\"", WAIT);
    a.send("k6 run 4411\r");
    let sent = Instant::now();
    b.wait_for("\"k6 run 4411\"", WAIT);
    eprintln!(
        "the tick showed in the other rollcall after {:?}",
        sent.elapsed()
    );
    let screen = b.screen();
    assert!(screen.contains("✔ Load testing completed"), "{screen}");

    // The cluster refuses writes (an admission webhook that cannot take a dry run):
    // A's next tick is kept, marked unsynced, and saved to A's local file.
    set_faults(&kubectl_bin, &kc, dir.path(), r#"{"refuseDryRuns": true}"#);
    a.send("jjjjjx");
    a.wait_for("tick \"Runbook reviewed\"", WAIT);
    a.send("read twice\r");
    a.wait_for("⇡ not in the cluster yet", WAIT);
    let kept = std::fs::read_to_string(a_dir.join("state/rollcall/checklist-ticks.json"))
        .expect("the unsynced tick is on disk");
    assert!(
        kept.contains("runbook-reviewed") && kept.contains("read twice"),
        "{kept}"
    );
    let screen = b.screen();
    assert!(screen.contains("☐ Runbook reviewed"), "{screen}");

    // Writes are taken again: A sends it by itself and B sees it.
    set_faults(&kubectl_bin, &kc, dir.path(), "{}");
    b.wait_for("\"read twice\"", WAIT);
    a.wait_until("the tick synced", WAIT, |s| {
        Ok((!s.contains("⇡ not in the cluster yet")).then_some(()))
    });
    let kept = std::fs::read_to_string(a_dir.join("state/rollcall/checklist-ticks.json"))
        .unwrap_or_default();
    assert!(!kept.contains("runbook-reviewed"), "{kept}");

    // Both ticks are in the ConfigMap, with who ticked them.
    let data = kubectl(
        &kubectl_bin,
        &kc,
        &[
            "get",
            "configmap",
            MAP,
            "-n",
            "dictamesh-prod",
            "-o",
            "jsonpath={.data}",
        ],
    );
    for want in [
        "item.load-test",
        "k6 run 4411",
        "item.runbook-reviewed",
        "read twice",
        "rollcall-sim-admin",
    ] {
        assert!(data.contains(want), "no {want} in {data}");
    }
    a.send("q");
    b.send("q");
    a.wait_exit(WAIT);
    b.wait_exit(WAIT);
}
