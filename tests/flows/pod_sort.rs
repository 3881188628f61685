//! `o` cycles the pods pane's order: name, most restarts, newest, trouble first. The
//! order is kept incrementally as pods change, and matches a full sort every time.

use rollcall::app::panes::pods::sort::PodSort;
use rollcall::app::{EnvUpdate, Event, State, update};
use rollcall::domain::{PodRow, WatchUpdate};
use rollcall_testkit::state::{apply_pod, draw, numbered_pod, press, prod_pods};

fn with_pods(n: usize) -> State {
    // Older pods have fewer restarts, so every order differs from by-name.
    prod_pods((0..n).map(|i| numbered_pod(i, (i % 7) as u32, 10_000 - i as i64)))
}

fn shown(s: &State) -> Vec<String> {
    s.visible_pods().map(|p| p.name.clone()).collect()
}

/// The same rows sorted from scratch.
fn full_sort(s: &State) -> Vec<String> {
    let needle = s.filter_text().to_lowercase();
    let mut rows: Vec<&PodRow> = s.envs[2]
        .pods
        .iter()
        .filter(|p| needle.is_empty() || p.name.to_lowercase().contains(&needle))
        .collect();
    rows.sort_by(|a, b| s.pod_sort.key(a).cmp(&s.pod_sort.key(b)));
    rows.into_iter().map(|p| p.name.clone()).collect()
}

#[test]
fn o_cycles_the_orders_and_the_title_says_which() {
    let mut s = with_pods(30);
    assert_eq!(s.pod_sort, PodSort::Name);
    press(&mut s, "o");
    assert_eq!(s.pod_sort, PodSort::Restarts);
    let first = &s.visible_pods().next().unwrap().clone();
    assert_eq!(first.restarts, 6, "most restarts first");
    let screen = format!("{:?}", draw(&s).backend().buffer());
    assert!(screen.contains("most restarts first"));
    press(&mut s, "o");
    assert_eq!(s.pod_sort, PodSort::Newest);
    assert_eq!(
        s.visible_pods().next().unwrap().name,
        numbered_pod(29, 0, 0).name
    );
    press(&mut s, "o");
    assert_eq!(s.pod_sort, PodSort::Trouble);
    press(&mut s, "o");
    assert_eq!(s.pod_sort, PodSort::Name);
    assert_eq!(shown(&s), full_sort(&s));
}

#[test]
fn the_order_follows_changes_as_a_full_sort_would() {
    let mut s = with_pods(500);
    press(&mut s, "o");
    assert_eq!(shown(&s), full_sort(&s));
    // A pod far down starts crashing: it jumps to the top, and that is on screen.
    let mut crashing = numbered_pod(400, 50, 9_600);
    crashing.reason = Some("CrashLoopBackOff".into());
    crashing.ready = 0;
    assert!(
        apply_pod(&mut s, 2, crashing.clone()),
        "it moves into the window"
    );
    assert_eq!(s.visible_pods().next().unwrap().name, crashing.name);
    // Deletes, new pods and a relist keep it equal to a full sort.
    update(
        &mut s,
        Event::Watch {
            env: 2,
            update: EnvUpdate::Pods(WatchUpdate::Delete(numbered_pod(3, 0, 0))),
        },
    );
    apply_pod(&mut s, 2, numbered_pod(900, 3, 5));
    assert_eq!(shown(&s), full_sort(&s));
    press(&mut s, "oo");
    assert_eq!(s.pod_sort, PodSort::Trouble);
    assert_eq!(s.visible_pods().next().unwrap().name, crashing.name);
    let mut relist = vec![EnvUpdate::Pods(WatchUpdate::Init)];
    for i in (0..500).step_by(2) {
        relist.push(EnvUpdate::Pods(WatchUpdate::InitApply(numbered_pod(
            i, 1, 100,
        ))));
    }
    relist.push(EnvUpdate::Pods(WatchUpdate::InitDone));
    update(
        &mut s,
        Event::WatchBatch {
            env: 2,
            updates: relist,
        },
    );
    assert_eq!(s.envs[2].pods.len(), 250);
    assert_eq!(shown(&s), full_sort(&s));
}

#[test]
fn a_change_that_stays_below_the_window_needs_no_frame() {
    let mut s = with_pods(2000);
    press(&mut s, "o");
    // Pod 1 has 1 restart: near the bottom in most-restarts order. One more restart
    // keeps it far below the window.
    assert!(
        !apply_pod(&mut s, 2, numbered_pod(1, 1, 9_999)),
        "unchanged place, off screen"
    );
    assert!(
        !apply_pod(&mut s, 2, numbered_pod(8, 2, 9_992)),
        "moves, but stays off screen"
    );
    assert_eq!(shown(&s), full_sort(&s));
}

#[test]
fn sort_and_filter_together() {
    let mut s = with_pods(300);
    press(&mut s, "o/0001\n");
    let rows = shown(&s);
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|n| n.contains("0001")));
    assert_eq!(rows, full_sort(&s));
}
