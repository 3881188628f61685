//! A pod change asks for a frame only when it shows: rows in the pods pane's window,
//! the count, the filter's count, or a Rollout's pods in the canary pane. Changes to
//! rows far outside the window wait for the one-second clock instead.

use rollcall::app::{EnvUpdate, Event, State, update};
use rollcall::domain::WatchUpdate;
use rollcall_testkit::state::{apply_pod, numbered_pod, press, prod_pods};

const NS: &str = "dictamesh-prod";

fn many_pods(n: usize) -> State {
    prod_pods((0..n).map(|i| numbered_pod(i, 0, 600)))
}

#[test]
fn a_change_far_below_the_window_needs_no_frame() {
    let mut s = many_pods(2000);
    assert!(
        !apply_pod(&mut s, 2, numbered_pod(1500, 3, 600)),
        "row 1500 is not on screen"
    );
    // The store has it all the same.
    assert_eq!(
        s.envs[2]
            .pods
            .get(NS, &numbered_pod(1500, 0, 600).name)
            .unwrap()
            .restarts,
        3
    );
}

#[test]
fn a_change_in_the_window_redraws() {
    let mut s = many_pods(2000);
    assert!(apply_pod(&mut s, 2, numbered_pod(0, 1, 600)));
    assert!(apply_pod(&mut s, 2, numbered_pod(5, 1, 600)));
}

#[test]
fn the_window_follows_the_scroll() {
    let mut s = many_pods(2000);
    press(&mut s, "G");
    assert!(
        apply_pod(&mut s, 2, numbered_pod(1999, 2, 600)),
        "the last row is on screen after G"
    );
    assert!(
        !apply_pod(&mut s, 2, numbered_pod(0, 2, 600)),
        "the first row is not"
    );
}

#[test]
fn new_and_deleted_pods_change_the_count_and_redraw() {
    let mut s = many_pods(2000);
    assert!(
        apply_pod(&mut s, 2, numbered_pod(2500, 0, 600)),
        "a new pod"
    );
    let gone = update(
        &mut s,
        Event::Watch {
            env: 2,
            update: EnvUpdate::Pods(WatchUpdate::Delete(numbered_pod(1700, 0, 600))),
        },
    )
    .1;
    assert!(gone, "a deleted pod");
}

#[test]
fn a_change_that_moves_a_pod_in_or_out_of_the_filter_redraws() {
    let mut s = many_pods(2000);
    press(&mut s, "/CrashLoop\n");
    assert_eq!(s.visible_len(), 0);
    let mut crashing = numbered_pod(1500, 4, 600);
    crashing.reason = Some("CrashLoopBackOff".into());
    assert!(apply_pod(&mut s, 2, crashing.clone()), "it now matches");
    assert_eq!(s.visible_len(), 1);
    let mut restarts_again = crashing;
    restarts_again.restarts = 5;
    assert!(
        apply_pod(&mut s, 2, restarts_again),
        "the one match is on screen"
    );
    assert!(
        !apply_pod(&mut s, 2, numbered_pod(1600, 9, 600)),
        "no match before or after"
    );
}

#[test]
fn pods_of_other_environments_need_no_frame() {
    let mut s = many_pods(10);
    update(
        &mut s,
        Event::Watch {
            env: 0,
            update: EnvUpdate::Pods(WatchUpdate::Apply(numbered_pod(0, 0, 600))),
        },
    );
    assert!(
        !apply_pod(&mut s, 0, numbered_pod(0, 7, 600)),
        "dev is not the selected environment"
    );
}
