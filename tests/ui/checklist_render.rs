//! Render snapshots of the checklist pane at 80×24 and 160×48: prod's checklist for
//! customer-adapter v1.2.0 half walked, one check failing with its evidence (the critical
//! vulnerability), and the note asked for with a tick.

use rollcall::app::State;
use rollcall_testkit::checklist::with_checklist_data;
use rollcall_testkit::release::with_apps;
use rollcall_testkit::state::*;

fn scenario(w: u16, h: u16) -> State {
    let mut s = populated(w, h);
    with_apps(&mut s);
    with_checklist_data(&mut s);
    s
}

#[test]
fn checklist_pane_at_two_sizes() {
    for (w, h) in SIZES {
        let mut s = scenario(w, h);
        press(&mut s, "]]8");
        let text = screen_text(&s);
        assert!(text.contains("customer-adapter v1.2.0 → prod"), "{text}");
        insta::assert_snapshot!(format!("checklist_{w}x{h}"), draw(&s).backend());
    }
}

#[test]
fn what_each_item_says() {
    let mut s = scenario(160, 48);
    press(&mut s, "]]8zj");
    let text = screen_text(&s);
    for want in [
        "✖ Security scan passed (Trivy)",
        "customer-adapter:v1.2.0: 1 at CRITICAL or worse: CVE-2024-45337 in golang.org/x/crypto v0.30.0 (fixed in 0.31.0)",
        "✔ Backup verified within last 24h",
        "metadata-catalog-db-20261126110000 completed 3h0m ago (limit 24h)",
        "✔ Staging deployment successful",
        "✔ Tests passing in CI",
        "maria.santos · 5h0m ago · \"main pipeline #412 green\"",
        "☐ Load testing completed",
        "✔ Monitoring dashboards ready",
        "GET https://grafana.dictamesh.com/api/health → 200 (42 ms)",
        "✔ Change window scheduled",
        "☐ On-call engineer available",
        "reach DictaMesh platform on-call",
    ] {
        assert!(text.contains(want), "no {want:?} in\n{text}");
    }
}

#[test]
fn a_tick_asks_for_a_note() {
    let mut s = scenario(160, 48);
    press(&mut s, "]]8jjjjjjjjjx");
    insta::assert_snapshot!("checklist_note_160x48", draw(&s).backend());
}
