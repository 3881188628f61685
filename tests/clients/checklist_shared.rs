//! The shared checklist against the simulator, through the pipeline: ticks from two
//! rollcalls sent at the same moment to the same ConfigMap all land (the loser of each
//! conflict re-reads and applies its change to what is there), a teammate's newer mark is
//! never replaced by an older one, the first tick of a release creates its ConfigMap,
//! and a user who may not write ConfigMaps is refused before anything is sent.

use jiff::{SignedDuration, Timestamp};
use rollcall::bus::Command;
use rollcall::domain::checklist::Mark;
use rollcall::domain::checklist::Release;
use rollcall::domain::checklist::shared::{SharedChecklist, configmap_name};
use rollcall_sim::{self as sim, SimOptions};
use rollcall_testkit::bus::BusSetup;

const NS: &str = "dictamesh-prod";

fn tick(release: &str, item: &str, by: &str, at: Timestamp) -> Command {
    Command::MarkChecklist {
        env: "prod".into(),
        namespace: NS.into(),
        release: release.into(),
        item: item.into(),
        title: item.into(),
        mark: Mark {
            done: true,
            by: by.into(),
            at,
            note: format!("{by} was here"),
            skipped: false,
        },
    }
}

async fn read(kube: &kube::Client, release: &Release) -> Option<SharedChecklist> {
    let api: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(kube.clone(), NS);
    let cm = api.get_opt(&configmap_name(release)).await.unwrap()?;
    SharedChecklist::from_parts(
        NS,
        &cm.metadata.annotations.unwrap_or_default(),
        &cm.data.unwrap_or_default(),
        cm.metadata.resource_version,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_ticks_on_one_configmap_lose_nothing() {
    let sim = sim::start(SimOptions::default())
        .await
        .expect("simulator starts");
    let mut alice = BusSetup::admin(&sim).build().await;
    let mut bob = BusSetup::admin(&sim).build().await;
    let now = Timestamp::now();

    // A release nobody walked yet: the first ticks create its ConfigMap, racing.
    let release = Release::new("graphql-gateway", "v1.2.0");
    let items = [
        "ci-tests",
        "code-review",
        "docs",
        "load-test",
        "runbook-reviewed",
    ];
    let a: Vec<Command> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            tick(
                "graphql-gateway@v1.2.0",
                item,
                "alice",
                now + SignedDuration::from_secs(i as i64),
            )
        })
        .collect();
    let b: Vec<Command> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            tick(
                "graphql-gateway@v1.2.0",
                &format!("{item}-b"),
                "bob",
                now + SignedDuration::from_secs(i as i64),
            )
        })
        .collect();
    let a_sends: Vec<(u64, &Command)> = a
        .iter()
        .enumerate()
        .map(|(i, c)| (i as u64 + 1, c))
        .collect();
    let b_sends: Vec<(u64, &Command)> = b
        .iter()
        .enumerate()
        .map(|(i, c)| (i as u64 + 1, c))
        .collect();
    let (ra, rb) = tokio::join!(alice.run_all(&a_sends), bob.run_all(&b_sends));
    for (op, outcome) in ra.iter().chain(rb.iter()) {
        assert!(outcome.is_ok(), "op {op}: {outcome:?}");
    }
    let shared = read(&alice.kube, &release).await.expect("created");
    assert_eq!(shared.marks.len(), 10, "{:?}", shared.marks.keys());
    assert_eq!(shared.log.len(), 10);
    assert_eq!(shared.environment, "prod");

    // Both on the same item: bob's newer mark stays, alice's older one is logged.
    let older = tick(
        "graphql-gateway@v1.2.0",
        "docs",
        "alice",
        now - SignedDuration::from_secs(60),
    );
    let newer = tick(
        "graphql-gateway@v1.2.0",
        "docs",
        "bob",
        now + SignedDuration::from_secs(60),
    );
    let (x, y) = tokio::join!(alice.run(20, &newer), bob.run(20, &older));
    assert!(x.is_ok() && y.is_ok(), "{x:?} {y:?}");
    let shared = read(&alice.kube, &release).await.unwrap();
    assert_eq!(
        shared.marks["docs"].by, "bob",
        "the newest mark wins whoever wrote last"
    );
    assert_eq!(shared.marks["docs"].at, now + SignedDuration::from_secs(60));
    assert_eq!(shared.log.len(), 12, "every change is in the log");

    // The demo's half-walked checklist keeps its teammates' ticks.
    let demo = Release::new("customer-adapter", "v1.2.0");
    let before = read(&alice.kube, &demo)
        .await
        .expect("the demo's checklist");
    let outcome = alice
        .run(
            30,
            tick("customer-adapter@v1.2.0", "load-test", "alice", now),
        )
        .await;
    assert!(outcome.is_ok(), "{outcome:?}");
    let after = read(&alice.kube, &demo).await.unwrap();
    assert_eq!(after.marks.len(), before.marks.len() + 1);
    for (item, mark) in &before.marks {
        assert_eq!(after.marks.get(item), Some(mark), "{item} kept");
    }

    // Audited, with an Event on the ConfigMap naming who ticked.
    let audit = alice.audit_lines();
    assert!(
        audit.iter().any(|l| l["command"] == "mark-checklist"
            && l["item"] == "load-test"
            && l["result"] == "ok"),
        "{audit:?}"
    );
    let events: kube::Api<k8s_openapi::api::core::v1::Event> =
        kube::Api::namespaced(alice.kube.clone(), NS);
    let ticked = events
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some("ChecklistItemTicked"))
        .count();
    assert!(ticked >= 13, "an Event per tick, {ticked}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_who_may_not_write_configmaps_is_refused() {
    let sim = sim::start(SimOptions::default())
        .await
        .expect("simulator starts");
    let mut viewer = BusSetup {
        kube_viewer: true,
        ..BusSetup::admin(&sim)
    }
    .build()
    .await;
    let outcome = viewer
        .run(
            1,
            tick(
                "customer-adapter@v1.2.0",
                "load-test",
                "viewer",
                Timestamp::now(),
            ),
        )
        .await;
    let why = outcome.expect_err("refused");
    assert!(why.contains("configmaps"), "{why}");
    let demo = Release::new("customer-adapter", "v1.2.0");
    let after = read(&viewer.kube, &demo).await.unwrap();
    assert!(
        !after.marks.contains_key("load-test"),
        "nothing was written"
    );
    sim.shutdown().await;
}
