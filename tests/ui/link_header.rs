//! The header's word for each state of an environment's link (issue 14): live,
//! connecting, degraded with the last error and since when, down since when; the marks
//! stay when the terminal is narrow, the error shows in what room is left.

use jiff::SignedDuration;
use rollcall::app::{Event, State, update};
use rollcall::domain::feed::LinkProbe;
use rollcall_testkit::state::*;

const UNAVAILABLE: &str =
    "the server is currently unable to handle the request (ServiceUnavailable)";

fn header(s: &State) -> String {
    screen_rows(s).remove(0)
}

/// Prod's probe failed at NOW, and the clock is `secs` later.
fn failing_for(w: u16, h: u16, secs: i64) -> State {
    let mut s = populated(w, h);
    update(
        &mut s,
        Event::Link {
            env: 2,
            probe: LinkProbe::Failed(UNAVAILABLE.into()),
        },
    );
    update(&mut s, Event::Tick(now() + SignedDuration::from_secs(secs)));
    s
}

#[test]
fn live_and_connecting() {
    let live = header(&populated(160, 48));
    assert!(live.contains("● dev ● staging ● prod "), "{live}");
    let mut s = state(160, 48);
    update(
        &mut s,
        Event::Link {
            env: 0,
            probe: LinkProbe::Answered,
        },
    );
    let starting = header(&s);
    assert!(
        starting.contains("● dev ◌ staging connecting ◌ prod connecting"),
        "{starting}"
    );
}

#[test]
fn degraded_says_since_when_and_the_last_error() {
    let h = header(&failing_for(160, 48, 12));
    assert!(h.contains("● dev ● staging ⚠ prod degraded 12s"), "{h}");
    assert!(
        h.contains("  prod: the server is currently unable to handle"),
        "{h}"
    );
    assert!(
        h.contains("… 14:02:23 UTC"),
        "cut, and the clock stays: {h}"
    );
}

#[test]
fn down_after_thirty_seconds_of_nothing() {
    let h = header(&failing_for(160, 48, 29));
    assert!(h.contains("⚠ prod degraded 29s"), "{h}");
    let h = header(&failing_for(160, 48, 150));
    assert!(h.contains("● dev ● staging ✖ prod down 2m30s"), "{h}");
    assert!(
        h.contains("  prod: the server is currently unable to handle"),
        "{h}"
    );
}

#[test]
fn narrow_keeps_every_mark_and_cuts_the_error() {
    let h = header(&failing_for(80, 24, 12));
    assert!(h.contains("⚠ prod degraded 12s"), "{h}");
    assert!(h.contains("● dev") && h.contains("● staging"), "{h}");
    assert!(
        !h.contains("unable to handle the request"),
        "cut to fit: {h}"
    );
    let h = header(&failing_for(60, 24, 12));
    assert!(h.contains("⚠ prod degraded 12s"), "{h}");
}
