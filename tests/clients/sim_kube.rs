//! kube-rs against the simulator over real HTTP: lists, watches, the runtime watcher (also
//! across a forced 410), a rollout restart that never drops below the ready count, CRUD
//! round trips and Status errors.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{ConfigMap, Event as KEvent, Pod};
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::runtime::watcher;
use kube::{Client, Config, ResourceExt};
use rollcall_sim::{Scenario, Tuning};
use rollcall_testkit::cluster::{client, pod_ready, start, start_tuned};
use serde_json::json;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn scenario_pods_are_running_and_ready_at_start() {
    let sim = start(1.0).await;
    let c = client(&sim).await;
    for (ns, n) in [
        // prod's customer-adapter is an Argo Rollout with a canary in flight (issue 4);
        // graphql-gateway is a blue/green pair there (3 + 3), metadata-catalog has 3.
        ("dictamesh-prod", 9),
        ("dictamesh-staging", 6),
        ("dictamesh-dev", 3),
    ] {
        let pods = Api::<Pod>::namespaced(c.clone(), ns)
            .list(&ListParams::default())
            .await
            .unwrap();
        let mut pods = pods;
        pods.items
            .retain(|p| !(ns == "dictamesh-prod" && p.name_any().starts_with("customer-adapter")));
        // staging's completed smoke-test Job pod is not a service pod.
        pods.items.retain(|p| !p.labels().contains_key("job-name"));
        assert_eq!(pods.items.len(), n, "{ns}");
        assert!(
            pods.metadata
                .resource_version
                .as_deref()
                .is_some_and(|rv| !rv.is_empty())
        );
        for p in &pods.items {
            assert!(pod_ready(p), "{} not ready", p.name_any());
            let st = p.status.as_ref().unwrap();
            assert_eq!(st.phase.as_deref(), Some("Running"));
            let cs = &st.container_statuses.as_ref().unwrap()[0];
            assert!(cs.ready && cs.started == Some(true) && cs.restart_count == 0);
            assert!(cs.state.as_ref().unwrap().running.is_some());
            assert!(
                p.spec
                    .as_ref()
                    .unwrap()
                    .node_name
                    .as_deref()
                    .unwrap()
                    .starts_with("k3s-node-")
            );
            assert_eq!(p.owner_references().len(), 1);
        }
    }
    let mut deploys = Api::<Deployment>::namespaced(c.clone(), "dictamesh-prod")
        .list(&ListParams::default())
        .await
        .unwrap();
    // The Kafka consumer stopped for a replay (issue 17) is scaled to 0.
    let stopped: Vec<_> = deploys
        .items
        .iter()
        .filter(|d| d.name_any() == "metadata-catalog-consumer")
        .map(|d| d.spec.replicas)
        .collect();
    assert_eq!(stopped, [Some(0)]);
    deploys
        .items
        .retain(|d| d.name_any() != "metadata-catalog-consumer");
    assert_eq!(
        deploys.items.len(),
        3,
        "customer-adapter is a Rollout in prod; graphql-gateway is blue + green"
    );
    for d in &deploys.items {
        // (revision, image tag): metadata-catalog's demo history has an image update.
        let (revision, tag) = match d.name_any().as_str() {
            "metadata-catalog" => ("2", ":v1.1.4"),
            "graphql-gateway-green" => ("1", ":v1.2.0"),
            _ => ("1", ":v1.1.4"),
        };
        let st = d.status.as_ref().unwrap();
        assert_eq!(
            (
                st.ready_replicas,
                st.available_replicas,
                st.updated_replicas
            ),
            (Some(3), Some(3), Some(3))
        );
        assert_eq!(
            d.annotations()
                .get("deployment.kubernetes.io/revision")
                .map(String::as_str),
            Some(revision)
        );
        let conds = st.conditions.as_ref().unwrap();
        assert!(
            conds
                .iter()
                .any(|c| c.type_.as_deref() == Some("Progressing")
                    && c.reason.as_deref() == Some("NewReplicaSetAvailable"))
        );
        assert!(conds.iter().any(
            |c| c.type_.as_deref() == Some("Available") && c.status.as_deref() == Some("True")
        ));
        let image = &d.spec.template.spec.as_ref().unwrap().containers[0].image;
        assert!(image.as_deref().unwrap().ends_with(tag), "{image:?}");
    }
    let rs = Api::<ReplicaSet>::namespaced(c.clone(), "dictamesh-prod")
        .list(&ListParams::default().labels("app=metadata-catalog"))
        .await
        .unwrap();
    // Revision 1 (scaled to 0) and revision 2, each named after its template hash.
    assert_eq!(rs.items.len(), 2);
    for r in &rs.items {
        let hash = r.labels().get("pod-template-hash").cloned().unwrap();
        assert_eq!(r.name_any(), format!("metadata-catalog-{hash}"));
    }
    // Field selectors: supported ones filter, others are a 400.
    let pods = Api::<Pod>::all(c.clone());
    let running = pods
        .list(
            &ListParams::default().fields("status.phase=Running,metadata.namespace=dictamesh-prod"),
        )
        .await
        .unwrap();
    let all = pods
        .list(&ListParams::default().fields("metadata.namespace=dictamesh-prod"))
        .await
        .unwrap();
    let phase = |p: &Pod| p.status.as_ref().and_then(|s| s.phase.clone());
    let want = all
        .items
        .iter()
        .filter(|p| phase(p).as_deref() == Some("Running"))
        .count();
    assert_eq!(running.items.len(), want);
    assert!(want >= 9);
    match pods
        .list(&ListParams::default().fields("spec.bogus=x"))
        .await
    {
        Err(kube::Error::Api(s)) => {
            assert_eq!(s.code, 400);
            assert_eq!(s.message, "field label not supported: spec.bogus");
        }
        other => panic!("expected a 400, got {other:?}"),
    }
    let cm = Api::<ConfigMap>::namespaced(c.clone(), "dictamesh-prod")
        .get("feature-flags")
        .await
        .unwrap();
    assert_eq!(
        cm.data.unwrap().get("maintenance_mode").map(String::as_str),
        Some("false")
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn raw_watch_sees_added_modified_deleted() {
    let sim = start(1.0).await;
    let c = client(&sim).await;
    let api = Api::<ConfigMap>::namespaced(c.clone(), "dictamesh-dev");
    let list = api.list(&ListParams::default()).await.unwrap();
    let rv = list.metadata.resource_version.unwrap();
    let mut stream = api
        .watch(&WatchParams::default().timeout(20), &rv)
        .await
        .unwrap()
        .boxed();
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "w"}, "data": {"a": "1"}})).unwrap();
    api.create(&PostParams::default(), &cm).await.unwrap();
    api.patch(
        "w",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"a": "2"}})),
    )
    .await
    .unwrap();
    api.delete("w", &DeleteParams::default()).await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let ev = timeout(WAIT, stream.try_next())
            .await
            .expect("watch event in time")
            .unwrap()
            .unwrap();
        match ev {
            WatchEvent::Added(o) => seen.push(("ADDED", o.data.unwrap()["a"].clone())),
            WatchEvent::Modified(o) => seen.push(("MODIFIED", o.data.unwrap()["a"].clone())),
            WatchEvent::Deleted(o) => seen.push(("DELETED", o.data.unwrap()["a"].clone())),
            WatchEvent::Bookmark(_) => {}
            WatchEvent::Error(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!(
        seen,
        vec![
            ("ADDED", "1".to_string()),
            ("MODIFIED", "2".to_string()),
            ("DELETED", "2".to_string())
        ]
    );
    // Resuming from the old version replays the same three changes.
    let mut again = api
        .watch(&WatchParams::default().timeout(5), &rv)
        .await
        .unwrap()
        .boxed();
    let first = timeout(WAIT, again.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(matches!(first, WatchEvent::Added(_)));
    // Bookmarks arrive when asked for, carrying kind and apiVersion.
    let latest = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut bm = api
        .watch(&WatchParams::default().timeout(10), &latest)
        .await
        .unwrap()
        .boxed();
    let ev = timeout(WAIT, bm.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        matches!(ev, WatchEvent::Bookmark(ref b) if b.types.kind == "ConfigMap" && b.metadata.resource_version == latest),
        "{ev:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn compacted_history_gives_in_stream_410_and_the_watcher_recovers() {
    let tuning = Tuning {
        history: 20,
        ..Tuning::default()
    };
    let sim = start_tuned(1.0, tuning).await;
    let c = client(&sim).await;
    let api = Api::<ConfigMap>::namespaced(c.clone(), "dictamesh-dev");
    let old = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    for i in 0..30 {
        let cm: ConfigMap =
            serde_json::from_value(json!({"metadata": {"name": format!("c{i}")}})).unwrap();
        api.create(&PostParams::default(), &cm).await.unwrap();
    }
    let mut s = api
        .watch(&WatchParams::default().timeout(5), &old)
        .await
        .unwrap()
        .boxed();
    match timeout(WAIT, s.try_next()).await.unwrap().unwrap().unwrap() {
        WatchEvent::Error(e) => {
            assert_eq!(e.code, 410);
            assert_eq!(e.reason, "Expired");
        }
        other => panic!("expected an ERROR event, got {other:?}"),
    }

    // The runtime watcher relists after a forced 410 and carries on.
    let mut w = watcher(api.clone(), watcher::Config::default()).boxed();
    let mut inits = 0;
    let mut names = std::collections::BTreeSet::new();
    let mut expired = false;
    let deadline = tokio::time::Instant::now() + WAIT;
    let make = |name: &str| {
        serde_json::from_value::<ConfigMap>(json!({"metadata": {"name": name}})).unwrap()
    };
    loop {
        let ev = timeout(deadline - tokio::time::Instant::now(), w.try_next())
            .await
            .expect("watcher progresses");
        match ev {
            Ok(Some(watcher::Event::Init)) => inits += 1,
            Ok(Some(watcher::Event::InitApply(o) | watcher::Event::Apply(o))) => {
                let name = o.name_any();
                if name == "before-410" && !expired {
                    // The watch is live now: expire it, then change something.
                    expired = true;
                    sim.expire_watches();
                    api.create(&PostParams::default(), &make("after-410"))
                        .await
                        .unwrap();
                }
                names.insert(name);
            }
            Ok(Some(watcher::Event::InitDone)) if inits == 1 => {
                api.create(&PostParams::default(), &make("before-410"))
                    .await
                    .unwrap();
            }
            Ok(Some(_)) => {}
            Ok(None) => panic!("watcher ended"),
            // The 410 surfaces once as an error; the watcher then relists by itself.
            Err(e) => assert!(expired, "unexpected watcher error {e:?}"),
        }
        if inits >= 2 && names.contains("after-410") {
            break;
        }
    }
    assert_eq!(names.len(), 32);
    sim.shutdown().await;
}

#[tokio::test]
async fn rollout_restart_rolls_one_at_a_time_keeping_three_ready() {
    let sim = start(40.0).await;
    let c = client(&sim).await;
    let ns = "dictamesh-prod";
    let deploys = Api::<Deployment>::namespaced(c.clone(), ns);
    let pods = Api::<Pod>::namespaced(c.clone(), ns);
    let before: Vec<String> = pods
        .list(&ListParams::default().labels("app=metadata-catalog"))
        .await
        .unwrap()
        .items
        .iter()
        .map(|p| p.name_any())
        .collect();
    assert_eq!(before.len(), 3);

    let cfg = watcher::Config::default().labels("app=metadata-catalog");
    let mut w = watcher(pods.clone(), cfg).boxed();
    let mut state: BTreeMap<String, Pod> = BTreeMap::new();
    // Initial list.
    loop {
        match timeout(WAIT, w.try_next()).await.unwrap().unwrap().unwrap() {
            watcher::Event::InitApply(p) => {
                state.insert(p.name_any(), p);
            }
            watcher::Event::InitDone => break,
            _ => {}
        }
    }
    let restarted_at = sim.now().to_string();
    let patch = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": restarted_at}}}}});
    let d = deploys
        .patch(
            "metadata-catalog",
            &PatchParams::default(),
            &Patch::Strategic(patch),
        )
        .await
        .unwrap();
    // Generation 2 was the demo's own image update (revision 2); the restart is 3.
    assert_eq!(d.metadata.generation, Some(3));

    let mut min_ready = usize::MAX;
    let mut max_live = 0;
    let mut max_unready_new = 0;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let ev = timeout(deadline - tokio::time::Instant::now(), w.try_next())
            .await
            .expect("rollout finishes in time")
            .unwrap()
            .unwrap();
        match ev {
            watcher::Event::Apply(p) => {
                state.insert(p.name_any(), p);
            }
            watcher::Event::Delete(p) => {
                state.remove(&p.name_any());
            }
            _ => continue,
        }
        let ready = state.values().filter(|p| pod_ready(p)).count();
        let live = state
            .values()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .count();
        let unready_new = state
            .values()
            .filter(|p| !before.contains(&p.name_any()) && !pod_ready(p))
            .count();
        min_ready = min_ready.min(ready);
        max_live = max_live.max(live);
        max_unready_new = max_unready_new.max(unready_new);
        let all_new = state.len() == 3 && state.keys().all(|n| !before.contains(n));
        if all_new && ready == 3 {
            break;
        }
    }
    assert!(min_ready >= 3, "ready dropped to {min_ready}");
    assert!(max_live <= 4, "surge exceeded: {max_live}");
    assert_eq!(max_unready_new, 1, "new pods must come one at a time");

    // The Deployment converges: revision 3 (the demo's own image update made 2),
    // complete, the older ReplicaSets scaled to 0.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let d = deploys.get("metadata-catalog").await.unwrap();
        let st = d.status.clone().unwrap();
        let done = st.observed_generation == Some(3)
            && st.updated_replicas == Some(3)
            && st.available_replicas == Some(3)
            && st.replicas == Some(3)
            && st
                .conditions
                .as_ref()
                .unwrap()
                .iter()
                .any(|c| c.reason.as_deref() == Some("NewReplicaSetAvailable"));
        if done {
            assert_eq!(
                d.annotations()
                    .get("deployment.kubernetes.io/revision")
                    .map(String::as_str),
                Some("3")
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "deployment never completed: {st:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rss = Api::<ReplicaSet>::namespaced(c.clone(), ns)
        .list(&ListParams::default().labels("app=metadata-catalog"))
        .await
        .unwrap();
    let mut revs: Vec<(String, i32)> = rss
        .items
        .iter()
        .map(|r| {
            (
                r.annotations()["deployment.kubernetes.io/revision"].clone(),
                r.spec.replicas.unwrap(),
            )
        })
        .collect();
    revs.sort();
    assert_eq!(
        revs,
        vec![
            ("1".to_string(), 0),
            ("2".to_string(), 0),
            ("3".to_string(), 3)
        ]
    );
    // Events as the controllers write them.
    let events = Api::<KEvent>::namespaced(c.clone(), ns)
        .list(
            &ListParams::default()
                .fields("involvedObject.name=metadata-catalog,involvedObject.kind=Deployment"),
        )
        .await
        .unwrap();
    let msgs: Vec<String> = events
        .items
        .iter()
        .filter_map(|e| e.message.clone())
        .collect();
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("Scaled up replica set metadata-catalog-")
                && m.ends_with("from 0 to 1")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter().any(
            |m| m.starts_with("Scaled down replica set metadata-catalog-")
                && m.ends_with("from 3 to 2")
        ),
        "{msgs:?}"
    );
    let all = Api::<KEvent>::namespaced(c.clone(), ns)
        .list(&ListParams::default())
        .await
        .unwrap();
    let reasons: std::collections::BTreeSet<String> =
        all.items.iter().filter_map(|e| e.reason.clone()).collect();
    for r in [
        "Scheduled",
        "Pulled",
        "Created",
        "Started",
        "Killing",
        "SuccessfulCreate",
        "SuccessfulDelete",
        "ScalingReplicaSet",
    ] {
        assert!(reasons.contains(r), "missing {r} in {reasons:?}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn crud_round_trips_and_status_errors() {
    let sim = start(20.0).await;
    let c = client(&sim).await;
    let cms = Api::<ConfigMap>::namespaced(c.clone(), "dictamesh-staging");
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"generateName": "flags-"}, "data": {"x": "1"}}))
            .unwrap();
    let created = cms.create(&PostParams::default(), &cm).await.unwrap();
    let name = created.name_any();
    assert!(name.starts_with("flags-") && name.len() == 11);
    assert!(created.metadata.uid.is_some() && created.metadata.creation_timestamp.is_some());
    let got = cms.get(&name).await.unwrap();
    assert_eq!(
        got.metadata.resource_version,
        created.metadata.resource_version
    );
    // Stale update: 409 Conflict.
    let mut stale = got.clone();
    cms.patch(
        &name,
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"x": "2"}})),
    )
    .await
    .unwrap();
    stale.data = Some([("x".to_string(), "3".to_string())].into());
    match cms.replace(&name, &PostParams::default(), &stale).await {
        Err(kube::Error::Api(s)) => assert_eq!((s.code, s.reason.as_str()), (409, "Conflict")),
        other => panic!("expected a conflict, got {other:?}"),
    }
    // JSON patch and dry run.
    let p = Patch::<()>::Json(
        serde_json::from_value(json!([{"op": "add", "path": "/data/y", "value": "9"}])).unwrap(),
    );
    let dry = cms
        .patch(&name, &PatchParams::default().dry_run(), &p)
        .await
        .unwrap();
    assert_eq!(dry.data.unwrap()["y"], "9");
    assert!(
        !cms.get(&name)
            .await
            .unwrap()
            .data
            .unwrap()
            .contains_key("y")
    );
    cms.delete(&name, &DeleteParams::default()).await.unwrap();
    match cms.get(&name).await {
        Err(kube::Error::Api(s)) => {
            assert_eq!((s.code, s.reason.as_str()), (404, "NotFound"));
            assert_eq!(s.message, format!("configmaps \"{name}\" not found"));
        }
        other => panic!("expected 404, got {other:?}"),
    }
    // Already exists, bad namespace, invalid Deployment.
    let ff: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "feature-flags"}})).unwrap();
    let prod = Api::<ConfigMap>::namespaced(c.clone(), "dictamesh-prod");
    assert!(
        matches!(prod.create(&PostParams::default(), &ff).await, Err(kube::Error::Api(s)) if s.code == 409 && s.reason == "AlreadyExists")
    );
    let nowhere = Api::<ConfigMap>::namespaced(c.clone(), "no-such-ns");
    assert!(
        matches!(nowhere.create(&PostParams::default(), &ff).await, Err(kube::Error::Api(s)) if s.code == 404)
    );
    let bad: Deployment = serde_json::from_value(json!({"metadata": {"name": "bad"}, "spec": {
        "selector": {"matchLabels": {"app": "a"}},
        "template": {"metadata": {"labels": {"app": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}})).unwrap();
    let deploys = Api::<Deployment>::namespaced(c.clone(), "dictamesh-staging");
    match deploys.create(&PostParams::default(), &bad).await {
        Err(kube::Error::Api(s)) => {
            assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
            assert!(
                s.message.starts_with("Deployment.apps \"bad\" is invalid"),
                "{}",
                s.message
            );
        }
        other => panic!("expected 422, got {other:?}"),
    }
    // Scale subresource, and the controllers follow.
    deploys
        .patch_scale(
            "graphql-gateway",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 4}})),
        )
        .await
        .unwrap();
    let pods = Api::<Pod>::namespaced(c.clone(), "dictamesh-staging");
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let l = pods
            .list(&ListParams::default().labels("app=graphql-gateway"))
            .await
            .unwrap();
        if l.items.len() == 4 && l.items.iter().all(pod_ready) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "scale-up never finished"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Deleting a pod: graceful (deletionTimestamp), then gone, and the RS replaces it.
    let victim = pods
        .list(&ListParams::default().labels("app=graphql-gateway"))
        .await
        .unwrap()
        .items[0]
        .name_any();
    let res = pods
        .delete(&victim, &DeleteParams::default())
        .await
        .unwrap();
    let terminating = res.left().expect("pod comes back from delete");
    assert!(terminating.metadata.deletion_timestamp.is_some());
    let deadline = tokio::time::Instant::now() + WAIT;
    while pods.get_opt(&victim).await.unwrap().is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "pod never went away"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A wrong token is a 401 Status.
    let kc = kube::config::Kubeconfig::from_yaml(&sim.kubeconfig_yaml()).unwrap();
    let mut cfg = Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    cfg.auth_info.token = Some("nope".to_string().into());
    let anon = Client::try_from(cfg).unwrap();
    match Api::<Pod>::all(anon).list(&ListParams::default()).await {
        Err(kube::Error::Api(s)) => assert_eq!((s.code, s.reason.as_str()), (401, "Unauthorized")),
        other => panic!("expected 401, got {other:?}"),
    }
    // Discovery finds the served groups.
    let disc = kube::Discovery::new(c.clone()).run().await.unwrap();
    let apps = disc
        .groups()
        .find(|g| g.name() == "apps")
        .expect("apps group");
    assert!(
        apps.recommended_resources()
            .iter()
            .any(|(r, _)| r.plural == "deployments")
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_watch_streams() {
    let sim = start(1.0).await;
    let c = client(&sim).await;
    let api = Api::<Pod>::all(c);
    let mut s = api
        .watch(&WatchParams::default().timeout(200), "0")
        .await
        .unwrap()
        .boxed();
    for _ in 0..18 {
        let _ = timeout(WAIT, s.try_next()).await.unwrap().unwrap().unwrap();
    }
    timeout(Duration::from_secs(10), sim.shutdown())
        .await
        .expect("shutdown in time");
    let end = timeout(Duration::from_secs(10), async {
        while let Ok(Some(_)) = s.try_next().await {}
    })
    .await;
    assert!(end.is_ok(), "watch stream stayed open after shutdown");
}

fn _scenario_is_public(_: Scenario) {}
