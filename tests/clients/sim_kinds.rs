//! kube-rs and raw HTTP against the simulator for issue 3's remaining gaps: Jobs run to
//! completion or to their backoff limit, Secrets (stringData folded into base64 data, never
//! traced), the default ServiceAccounts, Nodes, events.k8s.io/v1, delete propagation
//! (Orphan, Foreground, Background, the Job default) and consistent paging with a 410 for an
//! expired continue token.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Pod, Secret, ServiceAccount};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::{Client, ResourceExt};
use rollcall_testkit::cluster::{client, start};
use serde_json::{Value, json};

/// Polls `check` every 100 ms for up to 20 s.
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..200 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn raw(
    c: &Client,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Vec<String>, Value) {
    let b = body.map(|v| v.to_string().into_bytes()).unwrap_or_default();
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(b)
        .unwrap();
    let resp = c
        .send(req.map(kube::client::Body::from))
        .await
        .expect("request");
    let code = resp.status().as_u16();
    let warnings = resp
        .headers()
        .get_all("warning")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let bytes = resp.into_body().collect_bytes().await.unwrap();
    (
        code,
        warnings,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn job(name: &str, image: &str, backoff: i64) -> Job {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"backoffLimit": backoff, "template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "main", "image": image, "command": ["sh", "-c", "sleep 3"]}]}}}
    }))
    .unwrap()
}

fn conditions(j: &Job) -> Vec<(String, String, String)> {
    j.status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|c| (c.type_, c.status, c.reason.unwrap_or_default()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_cluster_has_nodes_accounts_secrets_and_a_completed_smoke_test() {
    let sim = start(1.0).await;
    let c = client(&sim).await;
    let nodes = Api::<Node>::all(c.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    let names: Vec<String> = nodes.items.iter().map(|n| n.name_any()).collect();
    assert_eq!(names, ["k3s-node-1", "k3s-node-2", "k3s-node-3"]);
    for n in &nodes.items {
        let st = n.status.as_ref().unwrap();
        let ready = st
            .conditions
            .as_ref()
            .unwrap()
            .iter()
            .find(|c| c.type_ == "Ready")
            .unwrap();
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_deref()),
            ("True", Some("KubeletReady"))
        );
        assert_eq!(
            st.node_info.as_ref().unwrap().kubelet_version,
            "v1.32.4+k3s1"
        );
    }
    let pods = Api::<Pod>::all(c.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    for p in &pods.items {
        let node = p
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default();
        assert!(names.contains(&node), "{} on {node:?}", p.name_any());
    }
    for ns in Api::<Namespace>::all(c.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
    {
        let sa = Api::<ServiceAccount>::namespaced(c.clone(), &ns.name_any());
        let d = sa
            .get("default")
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", ns.name_any()));
        assert_eq!(d.creation_timestamp(), ns.creation_timestamp());
    }
    let secrets = Api::<Secret>::namespaced(c.clone(), "dictamesh-staging");
    let db = secrets.get("metadata-catalog-db").await.unwrap();
    assert_eq!(db.type_.as_deref(), Some("Opaque"));
    let data = db.data.unwrap();
    assert_eq!(data["database"].0, b"metadata_catalog_staging");
    let smoke = Api::<Job>::namespaced(c.clone(), "dictamesh-staging")
        .get("smoke-test")
        .await
        .unwrap();
    let st = smoke.status.clone().unwrap();
    assert_eq!(st.succeeded, Some(1));
    assert!(st.completion_time.is_some() && st.start_time.is_some());
    assert_eq!(
        conditions(&smoke),
        [
            (
                "SuccessCriteriaMet".into(),
                "True".into(),
                "CompletionsReached".into()
            ),
            (
                "Complete".into(),
                "True".into(),
                "CompletionsReached".into()
            )
        ]
    );
    let sel = smoke.spec.unwrap().selector.unwrap().match_labels.unwrap();
    assert_eq!(
        sel["batch.kubernetes.io/controller-uid"],
        smoke.metadata.uid.clone().unwrap()
    );
    let pods = Api::<Pod>::namespaced(c.clone(), "dictamesh-staging")
        .list(&ListParams::default().labels("job-name=smoke-test"))
        .await
        .unwrap();
    assert_eq!(pods.items.len(), 1);
    let pod = &pods.items[0];
    assert_eq!(
        pod.status.as_ref().unwrap().phase.as_deref(),
        Some("Succeeded")
    );
    let term = pod
        .status
        .as_ref()
        .unwrap()
        .container_statuses
        .as_ref()
        .unwrap()[0]
        .state
        .as_ref()
        .unwrap()
        .terminated
        .clone()
        .unwrap();
    assert_eq!(
        (term.exit_code, term.reason.as_deref()),
        (0, Some("Completed"))
    );
    // events.k8s.io/v1 serves the same events in its own shape.
    let (code, _, list) = raw(
        &c,
        "GET",
        "/apis/events.k8s.io/v1/namespaces/dictamesh-staging/events",
        None,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(list["kind"], "EventList");
    assert_eq!(list["apiVersion"], "events.k8s.io/v1");
    let (_, _, core) = raw(
        &c,
        "GET",
        "/api/v1/namespaces/dictamesh-staging/events",
        None,
    )
    .await;
    assert_eq!(
        list["items"].as_array().map(Vec::len),
        core["items"].as_array().map(Vec::len)
    );
    sim.shutdown().await;
}

/// `spec.suspend: true`: no pod runs, the Job says Suspended; resumed, it runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_job_runs_no_pod_until_resumed() {
    let sim = start(20.0).await;
    let c = client(&sim).await;
    let jobs = Api::<Job>::namespaced(c.clone(), "dictamesh-dev");
    let mut held = job("held", "busybox:1.36", 2);
    held.spec.as_mut().unwrap().suspend = Some(true);
    jobs.create(&PostParams::default(), &held).await.unwrap();
    let suspended = eventually("the Suspended condition", || async {
        let j = jobs.get("held").await.ok()?;
        conditions(&j)
            .iter()
            .any(|c| c.0 == "Suspended" && c.1 == "True" && c.2 == "JobSuspended")
            .then_some(j)
    })
    .await;
    assert!(suspended.status.as_ref().unwrap().start_time.is_none());
    // Long enough for the controller to have started one, were it to.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let pods = Api::<Pod>::namespaced(c.clone(), "dictamesh-dev");
    let lp = ListParams::default().labels("job-name=held");
    let mine = |list: Vec<Pod>| -> usize {
        list.iter()
            .filter(|p| {
                p.metadata
                    .name
                    .as_deref()
                    .is_some_and(|n| n.starts_with("held-"))
            })
            .count()
    };
    assert_eq!(mine(pods.list(&lp).await.unwrap().items), 0);
    assert_eq!(
        mine(pods.list(&ListParams::default()).await.unwrap().items),
        0
    );
    jobs.patch(
        "held",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(json!({"spec": {"suspend": false}})),
    )
    .await
    .unwrap();
    let done = eventually("the resumed Job to complete", || async {
        let j = jobs.get("held").await.ok()?;
        j.status.as_ref()?.completion_time.as_ref()?;
        Some(j)
    })
    .await;
    assert!(
        conditions(&done)
            .iter()
            .any(|c| c.0 == "Suspended" && c.1 == "False" && c.2 == "JobResumed"),
        "{:?}",
        conditions(&done)
    );
    sim.shutdown().await;
}

/// Status written through the status subresource of an object no simulated controller
/// manages stays as written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_no_controller_owns_stays_as_written() {
    let sim = start(20.0).await;
    let c = client(&sim).await;
    let svc = json!({"metadata": {"name": "edge"}, "spec": {"type": "LoadBalancer",
        "selector": {"app": "edge"}, "ports": [{"port": 80}]}});
    let (code, _, created) = raw(
        &c,
        "POST",
        "/api/v1/namespaces/dictamesh-dev/services",
        Some(svc),
    )
    .await;
    assert_eq!(code, 201, "{created}");
    let mut with_status = created.clone();
    with_status["status"] = json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}});
    let (code, _, put) = raw(
        &c,
        "PUT",
        "/api/v1/namespaces/dictamesh-dev/services/edge/status",
        Some(with_status),
    )
    .await;
    assert_eq!(code, 200, "{put}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, _, got) = raw(
        &c,
        "GET",
        "/api/v1/namespaces/dictamesh-dev/services/edge",
        None,
    )
    .await;
    assert_eq!(
        got["status"]["loadBalancer"]["ingress"][0]["ip"], "203.0.113.7",
        "{got}"
    );
    // A custom resource whose operator the simulator does not run (a CNPG Cluster's
    // status is the operator's): what a writer puts there stays.
    let path = "/apis/postgresql.cnpg.io/v1/namespaces/dictamesh-dev/clusters";
    let cluster = json!({"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
        "metadata": {"name": "scratch"}, "spec": {"instances": 1, "storage": {"size": "1Gi"}}});
    let (code, _, created) = raw(&c, "POST", path, Some(cluster)).await;
    assert_eq!(code, 201, "{created}");
    let mut with_status = created.clone();
    with_status["status"] = json!({"phase": "Failing over", "instances": 1,
        "currentPrimary": "scratch-1", "targetPrimary": "scratch-2"});
    let (code, _, put) = raw(
        &c,
        "PUT",
        &format!("{path}/scratch/status"),
        Some(with_status),
    )
    .await;
    assert_eq!(code, 200, "{put}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, _, got) = raw(&c, "GET", &format!("{path}/scratch"), None).await;
    assert_eq!(got["status"]["phase"], "Failing over", "{got}");
    assert_eq!(got["status"]["targetPrimary"], "scratch-2", "{got}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_complete_or_fail_at_their_backoff_limit() {
    let sim = start(20.0).await;
    let c = client(&sim).await;
    let jobs = Api::<Job>::namespaced(c.clone(), "dictamesh-dev");
    jobs.create(&PostParams::default(), &job("ok", "busybox:1.36", 2))
        .await
        .unwrap();
    jobs.create(
        &PostParams::default(),
        &job("bad", "ghcr.io/x/migrate:v3-broken", 2),
    )
    .await
    .unwrap();
    let ok = eventually("job ok to complete", || async {
        let j = jobs.get("ok").await.ok()?;
        j.status.as_ref()?.completion_time.as_ref()?;
        Some(j)
    })
    .await;
    assert_eq!(ok.status.as_ref().unwrap().succeeded, Some(1));
    assert_eq!(ok.status.as_ref().unwrap().failed, None);
    let bad = eventually("job bad to fail", || async {
        let j = jobs.get("bad").await.ok()?;
        conditions(&j).iter().any(|c| c.0 == "Failed").then_some(j)
    })
    .await;
    // backoffLimit 2: the third failure fails the Job.
    assert_eq!(bad.status.as_ref().unwrap().failed, Some(3));
    assert_eq!(bad.status.as_ref().unwrap().active, None);
    assert!(bad.status.as_ref().unwrap().completion_time.is_none());
    assert_eq!(
        conditions(&bad),
        [
            (
                "FailureTarget".into(),
                "True".into(),
                "BackoffLimitExceeded".into()
            ),
            (
                "Failed".into(),
                "True".into(),
                "BackoffLimitExceeded".into()
            )
        ]
    );
    let pods = Api::<Pod>::namespaced(c.clone(), "dictamesh-dev")
        .list(&ListParams::default().labels("job-name=bad"))
        .await
        .unwrap();
    assert_eq!(pods.items.len(), 3);
    assert!(
        pods.items
            .iter()
            .all(|p| p.status.as_ref().unwrap().phase.as_deref() == Some("Failed"))
    );
    // A Job template must say Never or OnFailure.
    let mut always = job("always", "busybox:1.36", 1);
    always
        .spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .restart_policy = Some("Always".into());
    let err = jobs
        .create(&PostParams::default(), &always)
        .await
        .unwrap_err();
    let kube::Error::Api(s) = err else {
        panic!("{err}")
    };
    assert_eq!(s.code, 422);
    assert!(
        s.message
            .contains("spec.template.spec.restartPolicy: Unsupported value: \"Always\""),
        "{}",
        s.message
    );
    sim.shutdown().await;
}

/// A `Write` into a shared buffer, for capturing tracing output.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Set in the child process that runs the capture alone.
const TRACE_CHILD: &str = "ROLLCALL_TEST_TRACE_CHILD";

/// tracing's callsite interest is process-wide: other tests of this binary registering
/// the simulator's callsites on other threads can leave them cached as never enabled for
/// this test's scoped subscriber. The capture therefore runs alone, in a child process of
/// this same test binary filtered to this one test.
#[test]
fn secrets_are_stored_base64_and_never_traced() {
    if std::env::var_os(TRACE_CHILD).is_some() {
        return tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(secrets_traced_alone());
    }
    let name = "sim_kinds::secrets_are_stored_base64_and_never_traced";
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(TRACE_CHILD, "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("1 passed"),
        "child run failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn secrets_traced_alone() {
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let sim = start(1.0).await;
    let c = client(&sim).await;
    let secrets = Api::<Secret>::namespaced(c.clone(), "dictamesh-dev");
    let s: Secret = serde_json::from_value(json!({"metadata": {"name": "api-token"},
        "stringData": {"token": "hunter2-plaintext"}}))
    .unwrap();
    secrets.create(&PostParams::default(), &s).await.unwrap();
    let got = secrets.get("api-token").await.unwrap();
    assert_eq!(got.type_.as_deref(), Some("Opaque"));
    assert_eq!(got.data.unwrap()["token"].0, b"hunter2-plaintext");
    assert!(got.string_data.is_none());
    let (code, _, t) = raw(
        &c,
        "GET",
        "/api/v1/namespaces/dictamesh-dev/secrets/api-token",
        None,
    )
    .await;
    assert_eq!(
        (code, &t["data"]["token"]),
        (200, &json!("aHVudGVyMi1wbGFpbnRleHQ="))
    );
    sim.shutdown().await;
    let text = String::from_utf8_lossy(&out.0.lock().unwrap()).into_owned();
    assert!(
        text.contains("simulator listening"),
        "tracing was not captured: {text}"
    );
    assert!(
        !text.contains("hunter2") && !text.contains("aHVudGVyMi1wbGFpbnRleHQ"),
        "{text}"
    );
}

fn deployment(name: &str) -> Deployment {
    serde_json::from_value(json!({"metadata": {"name": name}, "spec": {"replicas": 2,
        "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": "c", "image": "ghcr.io/x/app:v1"}]}}}}))
    .unwrap()
}

async fn owned_by(c: &Client, label: &str) -> (Vec<ReplicaSet>, Vec<Pod>) {
    let lp = ListParams::default().labels(label);
    let rs = Api::<ReplicaSet>::namespaced(c.clone(), "dictamesh-dev")
        .list(&lp)
        .await
        .unwrap();
    let pods = Api::<Pod>::namespaced(c.clone(), "dictamesh-dev")
        .list(&lp)
        .await
        .unwrap();
    (rs.items, pods.items)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_propagation_orphan_foreground_background() {
    let sim = start(20.0).await;
    let c = client(&sim).await;
    let deploys = Api::<Deployment>::namespaced(c.clone(), "dictamesh-dev");
    for name in ["orphan", "fg", "bg"] {
        deploys
            .create(&PostParams::default(), &deployment(name))
            .await
            .unwrap();
    }
    for name in ["orphan", "fg", "bg"] {
        let label = format!("app={name}");
        eventually("2 pods", || async {
            (owned_by(&c, &label).await.1.len() == 2).then_some(())
        })
        .await;
    }
    // Orphan: the Deployment goes, its ReplicaSet and pods stay, the RS without owner.
    deploys
        .delete("orphan", &DeleteParams::orphan())
        .await
        .unwrap();
    eventually("orphan gone", || async {
        deploys
            .get_opt("orphan")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    let (rs, pods) = owned_by(&c, "app=orphan").await;
    assert_eq!((rs.len(), pods.len()), (1, 2));
    assert!(rs[0].metadata.owner_references.is_none());
    assert!(
        pods.iter()
            .all(|p| p.owner_references()[0].name == rs[0].name_any())
    );
    // Foreground: the answer is the Deployment, marked; dependents go first, then it.
    let answer = deploys
        .delete("fg", &DeleteParams::foreground())
        .await
        .unwrap()
        .left()
        .expect("the marked object comes back");
    assert!(answer.metadata.deletion_timestamp.is_some());
    assert_eq!(answer.finalizers(), ["foregroundDeletion"]);
    eventually("fg gone", || async {
        deploys.get_opt("fg").await.unwrap().is_none().then_some(())
    })
    .await;
    let (rs, pods) = owned_by(&c, "app=fg").await;
    assert!(
        rs.is_empty() && pods.iter().all(|p| p.metadata.deletion_timestamp.is_some()),
        "{pods:?}"
    );
    // Background (the default for apps/v1): gone at once, dependents collected after.
    deploys
        .delete("bg", &DeleteParams::default())
        .await
        .unwrap()
        .right()
        .expect("a Status");
    eventually("bg collected", || async {
        let (rs, pods) = owned_by(&c, "app=bg").await;
        (rs.is_empty() && pods.iter().all(|p| p.metadata.deletion_timestamp.is_some()))
            .then_some(())
    })
    .await;
    // batch/v1 Jobs orphan their pods unless told otherwise, with the server's warning.
    let jobs = Api::<Job>::namespaced(c.clone(), "dictamesh-dev");
    jobs.create(&PostParams::default(), &job("keep", "busybox:1.36", 1))
        .await
        .unwrap();
    eventually("job pod", || async {
        (owned_by(&c, "job-name=keep").await.1.len() == 1).then_some(())
    })
    .await;
    let (code, warnings, _) = raw(
        &c,
        "DELETE",
        "/apis/batch/v1/namespaces/dictamesh-dev/jobs/keep",
        None,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        warnings,
        [
            "299 - \"child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning\""
        ]
    );
    eventually("job gone", || async {
        jobs.get_opt("keep").await.unwrap().is_none().then_some(())
    })
    .await;
    let pods = owned_by(&c, "job-name=keep").await.1;
    assert_eq!(pods.len(), 1);
    assert!(
        pods[0].metadata.owner_references.is_none()
            && pods[0].metadata.deletion_timestamp.is_none()
    );
    Api::<ConfigMap>::namespaced(c.clone(), "dictamesh-dev")
        .create(&PostParams::default(), &cm("odd"))
        .await
        .unwrap();
    let (code, _, st) = raw(
        &c,
        "DELETE",
        "/api/v1/namespaces/dictamesh-dev/configmaps/odd?propagationPolicy=Sideways",
        None,
    )
    .await;
    assert_eq!((code, st["reason"].as_str()), (422, Some("Invalid")));
    sim.shutdown().await;
}

fn cm(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"k": name}})).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_come_from_one_snapshot_and_expired_tokens_get_410() {
    let sim = start(1.0).await;
    let c = client(&sim).await;
    let ns = Api::<Namespace>::all(c.clone());
    ns.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "paging"}})).unwrap(),
    )
    .await
    .unwrap();
    let cms = Api::<ConfigMap>::namespaced(c.clone(), "paging");
    for n in ["a", "b", "c", "d", "e"] {
        cms.create(&PostParams::default(), &cm(n)).await.unwrap();
    }
    let first = cms.list(&ListParams::default().limit(2)).await.unwrap();
    let names = |l: &kube::core::ObjectList<ConfigMap>| -> Vec<String> {
        l.items.iter().map(|x| x.name_any()).collect()
    };
    assert_eq!(names(&first), ["a", "b"]);
    let token = first.metadata.continue_.clone().unwrap();
    let rv = first.metadata.resource_version.clone().unwrap();
    // Changes after the first page do not show in the later pages.
    cms.delete("c", &DeleteParams::default()).await.unwrap();
    cms.create(&PostParams::default(), &cm("bb")).await.unwrap();
    let second = cms
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(names(&second), ["c", "d"]);
    assert_eq!(
        second.metadata.resource_version.as_deref(),
        Some(rv.as_str())
    );
    let third = cms
        .list(
            &ListParams::default()
                .limit(2)
                .continue_token(second.metadata.continue_.as_deref().unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(names(&third), ["e"]);
    assert!(third.metadata.continue_.as_deref().unwrap_or("").is_empty());
    // After a compaction the token has expired: 410 Expired, with a token to go on
    // (inconsistently) from the current state.
    sim.expire_watches();
    let err = cms
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .unwrap_err();
    let kube::Error::Api(s) = err else {
        panic!("{err}")
    };
    assert_eq!((s.code, s.reason.as_str()), (410, "Expired"));
    assert!(
        s.message.starts_with(
            "The provided continue parameter is too old to display a consistent list result."
        ),
        "{}",
        s.message
    );
    let path = format!(
        "/api/v1/namespaces/paging/configmaps?limit=2&continue={}",
        urlencode(&token)
    );
    let (code, _, st) = raw(&c, "GET", &path, None).await;
    assert_eq!(code, 410);
    let go_on = st["metadata"]["continue"].as_str().unwrap().to_string();
    let rest = cms
        .list(&ListParams::default().limit(10).continue_token(&go_on))
        .await
        .unwrap();
    assert_eq!(names(&rest), ["bb", "d", "e"]);
    sim.shutdown().await;
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
