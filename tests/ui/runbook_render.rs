//! Render snapshots of the runbook pane at 80×24 and 160×48: prod's runbook for
//! customer-adapter v1.2.0 with the staging check done, the backup step failing on its
//! check, and the gate the incomplete checklist puts on T-0.

use rollcall_testkit::checklist::with_checklist_data;
use rollcall_testkit::release::with_apps;
use rollcall_testkit::state::*;

#[test]
fn runbook_pane_at_two_sizes() {
    for (w, h) in SIZES {
        let mut s = populated(w, h);
        with_apps(&mut s);
        with_checklist_data(&mut s);
        press(&mut s, "]]0");
        insta::assert_snapshot!(format!("runbook_{w}x{h}"), draw(&s).backend());
    }
}
