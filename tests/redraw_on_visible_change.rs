//! A pod change asks for a frame only when it shows: rows in the pods pane's window,
//! the count, the filter's count, or a Rollout's pods in the canary pane. Changes to
//! rows far outside the window wait for the one-second clock instead.

mod support;

use rollcall::app::{EnvUpdate, Event, Pane, State, update};
use rollcall::domain::{PodRow, WatchUpdate};
use support::{PodSpec, pod, state};

const NS: &str = "dictamesh-prod";

fn many_pods(n: usize) -> State {
    let mut s = state(160, 48);
    s.selected_env = 2;
    s.focus = Pane::Pods;
    let mut updates = vec![EnvUpdate::Pods(WatchUpdate::Init)];
    for i in 0..n {
        updates.push(EnvUpdate::Pods(WatchUpdate::InitApply(nth(i, 0))));
    }
    updates.push(EnvUpdate::Pods(WatchUpdate::InitDone));
    // One batch event, as the watcher sends a list that streams in.
    let (_, changed) = update(&mut s, Event::WatchBatch { env: 2, updates });
    assert!(changed);
    assert_eq!(s.envs[2].pods.len(), n);
    s
}

fn nth(i: usize, restarts: u32) -> PodRow {
    pod(PodSpec {
        ns: NS,
        deploy: "svc",
        hash: "5d8f7c9b4",
        suffix: &format!("{i:05}"),
        ready: true,
        restarts,
        age_secs: 600,
        node: "k3s-node-1",
    })
}

fn apply(s: &mut State, env: usize, row: PodRow) -> bool {
    update(
        s,
        Event::Watch {
            env,
            update: EnvUpdate::Pods(WatchUpdate::Apply(row)),
        },
    )
    .1
}

#[test]
fn a_change_far_below_the_window_needs_no_frame() {
    let mut s = many_pods(2000);
    assert!(!apply(&mut s, 2, nth(1500, 3)), "row 1500 is not on screen");
    // The store has it all the same.
    assert_eq!(
        s.envs[2].pods.get(NS, &nth(1500, 0).name).unwrap().restarts,
        3
    );
}

#[test]
fn a_change_in_the_window_redraws() {
    let mut s = many_pods(2000);
    assert!(apply(&mut s, 2, nth(0, 1)));
    assert!(apply(&mut s, 2, nth(5, 1)));
}

#[test]
fn the_window_follows_the_scroll() {
    let mut s = many_pods(2000);
    support::press(&mut s, "G");
    assert!(
        apply(&mut s, 2, nth(1999, 2)),
        "the last row is on screen after G"
    );
    assert!(!apply(&mut s, 2, nth(0, 2)), "the first row is not");
}

#[test]
fn new_and_deleted_pods_change_the_count_and_redraw() {
    let mut s = many_pods(2000);
    assert!(apply(&mut s, 2, nth(2500, 0)), "a new pod");
    let gone = update(
        &mut s,
        Event::Watch {
            env: 2,
            update: EnvUpdate::Pods(WatchUpdate::Delete(nth(1700, 0))),
        },
    )
    .1;
    assert!(gone, "a deleted pod");
}

#[test]
fn a_change_that_moves_a_pod_in_or_out_of_the_filter_redraws() {
    let mut s = many_pods(2000);
    support::press(&mut s, "/CrashLoop\n");
    assert_eq!(s.visible_len(), 0);
    let mut crashing = nth(1500, 4);
    crashing.reason = Some("CrashLoopBackOff".into());
    assert!(apply(&mut s, 2, crashing.clone()), "it now matches");
    assert_eq!(s.visible_len(), 1);
    let mut restarts_again = crashing;
    restarts_again.restarts = 5;
    assert!(
        apply(&mut s, 2, restarts_again),
        "the one match is on screen"
    );
    assert!(!apply(&mut s, 2, nth(1600, 9)), "no match before or after");
}

#[test]
fn pods_of_other_environments_need_no_frame() {
    let mut s = many_pods(10);
    update(
        &mut s,
        Event::Watch {
            env: 0,
            update: EnvUpdate::Pods(WatchUpdate::Apply(nth(0, 0))),
        },
    );
    assert!(
        !apply(&mut s, 0, nth(0, 7)),
        "dev is not the selected environment"
    );
}
