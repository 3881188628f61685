//! The logs pane through `update()`: `l` on a pod streams that pod's logs, on the canary
//! or releases pane every pod of the service; lines arrive and are kept (5,000 at
//! most), a closed view's late lines are dropped, `/` filters, scrolling back stays on
//! its lines, `L` asks for the previous container, Esc stops the streams.

use crossterm::event::KeyCode;
use rollcall::app::panes::logs::LogTarget;
use rollcall::app::{Effect, Event, Mode, Pane, State, update};
use rollcall::domain::logs::{Level, LogLine, LogUpdate};
use rollcall_testkit::release::with_apps;
use rollcall_testkit::state::*;

fn requested(effects: &[Effect]) -> Option<rollcall::clients::logs::LogRequest> {
    effects.iter().find_map(|e| match e {
        Effect::StreamLogs(r) => Some(r.clone()),
        _ => None,
    })
}

fn line(state: &mut State, session: u64, pod: &str, text: &str) {
    update(
        state,
        Event::Log {
            session,
            update: LogUpdate::Line(LogLine::new(pod, text)),
        },
    );
}

#[test]
fn a_pod_and_a_service() {
    let mut s = populated(160, 48);
    with_apps(&mut s);
    // Prod's pods, the first one selected.
    let effects = press(&mut s, "]]2l");
    let r = requested(&effects).expect("a stream is asked for");
    assert_eq!(r.namespace, "dictamesh-prod");
    assert_eq!(r.pods.len(), 1);
    assert_eq!((r.tail, r.previous), (100, false));
    assert_eq!(s.focus, Pane::Logs);
    let pod = r.pods[0].clone();
    line(&mut s, r.session, &pod, "INFO  listening on 0.0.0.0:8080");
    line(
        &mut s,
        r.session,
        &pod,
        "ERROR readiness check failed: connection refused",
    );
    let view = s.logs.view.as_ref().unwrap();
    assert_eq!(view.lines.len(), 2);
    assert_eq!(view.lines[1].level, Level::Error);

    // The releases pane's service: every pod of it, and the old streams stop.
    let effects = press(&mut s, "5j");
    assert!(requested(&effects).is_none());
    let effects = press(&mut s, "l");
    assert!(
        effects.contains(&Effect::StopLogs(r.session)),
        "{effects:?}"
    );
    let r2 = requested(&effects).expect("the service's streams");
    assert_eq!(r2.pods.len(), 3);
    assert!(
        r2.pods.iter().all(|p| p.starts_with("graphql-gateway-")),
        "{:?}",
        r2.pods
    );
    assert!(matches!(
        &s.logs.view.as_ref().unwrap().target,
        LogTarget::Service { name, .. } if name == "graphql-gateway"
    ));
    // A late line of the closed view is dropped.
    line(&mut s, r.session, &pod, "INFO  late");
    assert!(s.logs.view.as_ref().unwrap().lines.is_empty());

    // L: the previous container, not followed.
    let effects = press(&mut s, "L");
    let r3 = requested(&effects).unwrap();
    assert!(r3.previous);
    assert_eq!(r3.pods, r2.pods);

    // Esc closes the view and stops its streams.
    let effects = key(&mut s, KeyCode::Esc);
    assert_eq!(effects, vec![Effect::StopLogs(r3.session)]);
    assert!(s.logs.view.is_none());
}

#[test]
fn filter_scroll_and_the_kept_lines() {
    let mut s = populated(160, 48);
    let r = requested(&press(&mut s, "]]2l")).unwrap();
    let pod = r.pods[0].clone();
    for i in 0..5_010 {
        let text = if i % 100 == 0 {
            format!("ERROR request {i} failed")
        } else {
            format!("INFO  request {i}")
        };
        line(&mut s, r.session, &pod, &text);
    }
    let view = s.logs.view.as_ref().unwrap();
    assert_eq!(view.lines.len(), 5_000, "the oldest go");
    assert_eq!(view.lines[0].text, "INFO  request 10");

    press(&mut s, "/");
    assert!(matches!(s.mode, Mode::LogFilter));
    press(&mut s, "error\n");
    assert_eq!(s.logs.view.as_ref().unwrap().visible().len(), 50);

    // Scrolled back, new lines do not move what is on screen.
    press(&mut s, "kk");
    assert_eq!(s.logs.view.as_ref().unwrap().scroll, 2);
    line(&mut s, r.session, &pod, "ERROR one more");
    assert_eq!(s.logs.view.as_ref().unwrap().scroll, 3);
    press(&mut s, "G");
    assert!(s.logs.view.as_ref().unwrap().following());

    // Esc clears the filter first, then closes.
    key(&mut s, KeyCode::Esc);
    assert!(s.logs.view.as_ref().unwrap().filter_text().is_empty());
    assert!(s.logs.view.is_some());
}
