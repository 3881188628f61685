//! Render snapshots of the logs pane at 80×24 and 160×48: a service's pods interleaved,
//! an error and a warning marked as well as coloured, and the empty pane's hint.

use rollcall::app::{Event, update};
use rollcall::domain::logs::{LogLine, LogUpdate};
use rollcall_testkit::release::with_apps;
use rollcall_testkit::state::*;

#[test]
fn logs_pane_at_two_sizes() {
    for (w, h) in SIZES {
        let mut s = populated(w, h);
        with_apps(&mut s);
        press(&mut s, "9");
        insta::assert_snapshot!(format!("logs_empty_{w}x{h}"), draw(&s).backend());
        press(&mut s, "]]5l");
        let session = s.logs.view.as_ref().unwrap().session;
        let pods = [
            "customer-adapter-7d9f5c6b8-x2kq9",
            "customer-adapter-7d9f5c6b8-9wztb",
        ];
        for (i, text) in [
            "INFO  starting customer-adapter version from image; pid=1",
            "INFO  listening on 0.0.0.0:8080",
            "WARN  slow query table=entities duration_ms=812",
            "ERROR readiness check failed: dependency metadata-db unreachable: connection refused",
            "INFO  http request method=GET path=/graphql status=200 duration_ms=12",
        ]
        .iter()
        .enumerate()
        {
            update(
                &mut s,
                Event::Log {
                    session,
                    update: LogUpdate::Line(LogLine::new(pods[i % 2], text)),
                },
            );
        }
        insta::assert_snapshot!(format!("logs_service_{w}x{h}"), draw(&s).backend());
    }
}
