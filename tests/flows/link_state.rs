//! The link of an environment as `update()` computes it from what its watchers and its
//! probe report and from the clock (issue 14): degraded with the last error while
//! requests fail, down when nothing came through for 30 s, live again at the first
//! answer — not at the next event or list, and not at a paged list's `Init`, which comes
//! before its request.

use jiff::{SignedDuration, Timestamp};
use rollcall::app::link::DOWN_AFTER_SECS;
use rollcall::app::{Connection, EnvUpdate, Event, Stream, update};
use rollcall::domain::WatchUpdate;
use rollcall::domain::feed::LinkProbe;
use rollcall_testkit::state::*;

fn after(secs: i64) -> Timestamp {
    now() + SignedDuration::from_secs(secs)
}

fn refused_connection(stream: Stream) -> EnvUpdate {
    EnvUpdate::WatchError {
        stream,
        message: "Connection refused (os error 111)".into(),
        refused: false,
    }
}

#[test]
fn failing_requests_degrade_then_go_down_and_the_first_answer_is_live() {
    let mut s = populated(160, 48);
    assert_eq!(s.envs[2].connection(), Connection::Live);
    feed(&mut s, 2, refused_connection(Stream::Pods));
    assert!(matches!(
        s.envs[2].connection(),
        Connection::Degraded { since, ref message } if since == now() && message.contains("refused")
    ));
    // Later errors keep the first failure's time and show the last message.
    update(&mut s, Event::Tick(after(10)));
    update(
        &mut s,
        Event::Link {
            env: 2,
            probe: LinkProbe::Failed("the server is currently unable to handle the request".into()),
        },
    );
    assert!(matches!(
        s.envs[2].connection(),
        Connection::Degraded { since, ref message } if since == now() && message.contains("unable")
    ));
    // Nothing through for 30 s: down, since the first failure.
    update(&mut s, Event::Tick(after(DOWN_AFTER_SECS)));
    assert!(matches!(s.envs[2].connection(), Connection::Down { since, .. } if since == now()));
    // The other environments are unaffected; the pods shown are kept.
    assert_eq!(s.envs[1].connection(), Connection::Live);
    assert_eq!(s.envs[2].pods.len(), 9);
    // A paged list's Init is said before its request: no answer yet.
    feed(&mut s, 2, EnvUpdate::Pods(WatchUpdate::Init));
    assert!(matches!(s.envs[2].connection(), Connection::Down { .. }));
    // Any answer is: the probe's, at once, with no event needed.
    let (_, changed) = update(
        &mut s,
        Event::Link {
            env: 2,
            probe: LinkProbe::Answered,
        },
    );
    assert!(changed, "the header is redrawn");
    assert_eq!(s.envs[2].connection(), Connection::Live);
}

#[test]
fn an_open_watch_still_delivering_keeps_a_failing_link_degraded_not_down_nor_live() {
    let mut s = populated(160, 48);
    let failed = Event::Link {
        env: 2,
        probe: LinkProbe::Failed("503".into()),
    };
    update(&mut s, failed.clone());
    let moved = || EnvUpdate::Pods(WatchUpdate::Apply(numbered_pod(1, 1, 60)));
    for t in [20, 40, 60] {
        update(&mut s, Event::Tick(after(t)));
        feed(&mut s, 2, moved());
        update(&mut s, failed.clone());
        assert!(
            matches!(s.envs[2].connection(), Connection::Degraded { since, .. } if since == now()),
            "at {t} s: {:?}",
            s.envs[2].connection()
        );
    }
    // Nor does a list's data: a streaming list's objects may have been on the wire
    // since before the failure. The watcher tells the probe when its request was
    // answered, and the probe says so.
    feed(&mut s, 2, EnvUpdate::Pods(WatchUpdate::InitDone));
    assert!(matches!(
        s.envs[2].connection(),
        Connection::Degraded { .. }
    ));
    update(
        &mut s,
        Event::Link {
            env: 2,
            probe: LinkProbe::Answered,
        },
    );
    assert_eq!(s.envs[2].connection(), Connection::Live);
}

#[test]
fn a_refused_watch_is_degraded_until_it_delivers_whatever_the_probe_says() {
    let mut s = populated(160, 48);
    feed(
        &mut s,
        2,
        EnvUpdate::WatchError {
            stream: Stream::Events,
            message: "events is forbidden: User \"viewer\" cannot watch resource \"events\"".into(),
            refused: true,
        },
    );
    update(
        &mut s,
        Event::Link {
            env: 2,
            probe: LinkProbe::Answered,
        },
    );
    update(&mut s, Event::Tick(after(300)));
    assert!(matches!(
        s.envs[2].connection(),
        Connection::Degraded { ref message, .. } if message.contains("forbidden")
    ));
    feed(&mut s, 2, EnvUpdate::Events(WatchUpdate::InitDone));
    assert_eq!(s.envs[2].connection(), Connection::Live);
}

#[test]
fn nothing_answered_yet_is_connecting() {
    let mut s = state(160, 48);
    assert_eq!(s.envs[0].connection(), Connection::Connecting);
    feed(&mut s, 0, EnvUpdate::Deployments(WatchUpdate::Init));
    assert_eq!(s.envs[0].connection(), Connection::Connecting);
    update(
        &mut s,
        Event::Link {
            env: 0,
            probe: LinkProbe::Answered,
        },
    );
    assert_eq!(s.envs[0].connection(), Connection::Live);
}
