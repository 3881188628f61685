//! The demo's Argo CD side, built from the cluster the scenario left: one Application per
//! service per environment (`<service>-<env>`, project `dictamesh`, destination
//! `dictamesh-<env>`), a GitOps repo whose commits are the workloads' own ReplicaSet
//! history (so app history ids, revisions and images agree with `kubectl rollout history`),
//! tracking annotations on the managed objects, and each app's status as the controller
//! would have left it after its last sync.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::Shared;
use crate::api::admission::{finish_update, prepare_create};
use crate::argocd::repo::{Change, GitError, Images, NewCommit, REPO_URL, WorkloadKey};
use crate::argocd::state::{self, NAMESPACE, TRACKING, live_images, tracking_id};
use crate::clock::{fmt_time, parse_time};
use crate::resources::{
    APPLICATIONS, DEPLOYMENTS, NAMESPACES, REPLICASETS, ROLLOUTS, ResourceDef, SERVICES,
    VIRTUALSERVICES, def,
};
use crate::scenario::SERVICE_NAMES;
use crate::store::WriteMode;

const ENVS: &[&str] = &["dev", "staging", "prod"];

/// How an app syncs: dev automatically with self-heal; prod's customer-adapter too (the
/// canary is driven from git, so a manual change is reverted); the rest by hand.
fn automated(service: &str, env: &str) -> Option<Value> {
    match (service, env) {
        (_, "dev") => Some(json!({"prune": true, "selfHeal": true})),
        ("customer-adapter", "prod") => Some(json!({"prune": false, "selfHeal": true})),
        _ => None,
    }
}

/// The Application object of one service in one environment (spec only).
pub fn application(service: &str, env: &str) -> Value {
    let mut policy = json!({"syncOptions": ["CreateNamespace=true"],
        "retry": {"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}}});
    if let Some(a) = automated(service, env) {
        policy["automated"] = a;
    }
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": format!("{service}-{env}"),
            "namespace": NAMESPACE,
            "labels": {"app.kubernetes.io/part-of": "dictamesh", "environment": env, "service": service},
            "finalizers": ["resources-finalizer.argocd.argoproj.io"],
        },
        "spec": {
            "project": "dictamesh",
            "source": {"repoURL": REPO_URL, "path": format!("infrastructure/k8s/overlays/{env}/{service}"), "targetRevision": "HEAD"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": format!("dictamesh-{env}")},
            "syncPolicy": policy,
            "revisionHistoryLimit": 10,
        },
    })
}

fn belongs(service: &str, v: &Value) -> bool {
    let l = &v["metadata"]["labels"];
    l["app"] == service
        || l["app.kubernetes.io/name"] == service
        || v["metadata"]["name"] == service
}

/// A workload's releases from its ReplicaSets, oldest revision first: (time, images).
fn releases(shared: &Shared, d: &ResourceDef, w: &Value) -> Vec<(Timestamp, Images)> {
    let ns = w["metadata"]["namespace"].as_str().unwrap_or("");
    let uid = &w["metadata"]["uid"];
    let mut rss: Vec<(i64, Timestamp, Images)> = shared
        .store
        .list(def(REPLICASETS), Some(ns), |_| true)
        .1
        .into_iter()
        .map(|e| e.value())
        .filter(|rs| {
            rs["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|o| o.iter().any(|r| r["uid"] == *uid && r["kind"] == d.kind))
        })
        .map(|rs| {
            let a = &rs["metadata"]["annotations"];
            let rev = a["deployment.kubernetes.io/revision"]
                .as_str()
                .or(a["rollout.argoproj.io/revision"].as_str())
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let at = rs["metadata"]["creationTimestamp"]
                .as_str()
                .and_then(parse_time)
                .unwrap_or_else(Timestamp::now);
            (rev, at, live_images(&rs))
        })
        .collect();
    rss.sort_by_key(|r| r.0);
    let mut out: Vec<(Timestamp, Images)> = Vec::new();
    for (_, at, imgs) in rss {
        if out.last().is_none_or(|(_, last)| *last != imgs) {
            out.push((at, imgs));
        }
    }
    if out.is_empty() {
        out.push((shared.clock.now(), live_images(w)));
    }
    out
}

fn tag(image: &str) -> &str {
    image.rsplit_once(':').map_or("latest", |(_, t)| t)
}

fn message(env: &str, changes: &[(String, Images)]) -> String {
    let env = if env == "prod" { "production" } else { env };
    let tags: Vec<String> = changes
        .iter()
        .map(|(svc, imgs)| format!("{svc} {}", imgs.first().map_or("", |(_, i)| tag(i))))
        .collect();
    format!("deploy: {} to {env}", tags.join(", "))
}

struct AppPlan {
    service: &'static str,
    env: &'static str,
    path: String,
    /// (time, index of the commit) of each release of this app, oldest first.
    releases: Vec<(Timestamp, usize)>,
}

/// Builds the GitOps repository (under `dir`, or a temporary directory) and the Argo CD
/// objects; the clock is left where it was.
pub fn build(shared: &Shared, dir: Option<&std::path::Path>) -> Result<(), GitError> {
    let now = shared.clock.now();
    create(
        shared,
        def(NAMESPACES),
        None,
        json!({"metadata": {"name": NAMESPACE}}),
    );
    // (time, env, app index, service, key, images) of every release of every workload.
    let mut events = Vec::new();
    let mut plans = Vec::new();
    for env in ENVS {
        let ns = format!("dictamesh-{env}");
        for svc in SERVICE_NAMES {
            let idx = plans.len();
            let mut found = false;
            for d in [def(DEPLOYMENTS), def(ROLLOUTS)] {
                for e in shared.store.list(d, Some(&ns), |_| true).1 {
                    let w = e.value();
                    if !belongs(svc, &w) {
                        continue;
                    }
                    found = true;
                    let key = WorkloadKey {
                        kind: d.kind.into(),
                        namespace: ns.clone(),
                        name: e.meta.name.to_string(),
                    };
                    for (at, imgs) in releases(shared, d, &w) {
                        events.push((at, *env, idx, *svc, key.clone(), imgs));
                    }
                }
            }
            if found {
                plans.push(AppPlan {
                    service: svc,
                    env,
                    path: format!("infrastructure/k8s/overlays/{env}/{svc}"),
                    releases: Vec::new(),
                });
            } else {
                events.retain(|e| e.2 != idx);
            }
        }
    }
    events.sort_by_key(|e| (e.0, e.1, e.2));
    // Releases of one environment within the same second were one commit.
    let mut commits: Vec<NewCommit> = Vec::new();
    let mut i = 0;
    while i < events.len() {
        let (at, env) = (events[i].0, events[i].1);
        let j = events[i..]
            .iter()
            .position(|e| e.1 != env || e.0.as_second() != at.as_second())
            .map_or(events.len(), |p| i + p);
        let group = &events[i..j];
        let mut per_svc: Vec<(String, Images)> = Vec::new();
        for e in group {
            if !per_svc.iter().any(|(s, _)| s == e.3) {
                per_svc.push((e.3.to_string(), e.5.clone()));
            }
        }
        let changes = group
            .iter()
            .map(|e| Change {
                path: plans[e.2].path.clone(),
                key: e.4.clone(),
                images: e.5.clone(),
            })
            .collect();
        // The commit was pushed two minutes before the sync that applied it.
        commits.push(NewCommit {
            at: at - SignedDuration::from_mins(2),
            message: message(env, &per_svc),
            changes,
        });
        let index = commits.len() - 1;
        for e in group {
            let r = &mut plans[e.2].releases;
            if r.last().is_none_or(|(_, c)| *c != index) {
                r.push((at, index));
            }
        }
        i = j;
    }
    let shas = shared.gitops.create(dir, &commits)?;
    for plan in &plans {
        create_app(shared, plan, &shas, now);
    }
    shared.clock.set(now);
    Ok(())
}

fn create(shared: &Shared, d: &ResourceDef, ns: Option<&str>, mut obj: Value) {
    if prepare_create(shared, d, ns, &mut obj).is_ok() {
        let _ = shared.store.write(d, &mut obj, WriteMode::Create);
    }
}

/// Stamps Argo CD's tracking annotation on the app's objects in its namespace.
fn track(shared: &Shared, app: &str, service: &str, ns: &str) {
    for d in [DEPLOYMENTS, ROLLOUTS, SERVICES, VIRTUALSERVICES].map(def) {
        for e in shared.store.list(d, Some(ns), |_| true).1 {
            let old = e.value();
            if !belongs(service, &old) {
                continue;
            }
            let mut new = old.clone();
            new["metadata"]["annotations"][TRACKING] = json!(tracking_id(app, d, ns, &e.meta.name));
            if let Ok(mut new) = finish_update(d, None, &old, new) {
                let _ = shared
                    .store
                    .write(d, &mut new, WriteMode::Update(Some(e.meta.rv)));
            }
        }
    }
}

fn create_app(shared: &Shared, plan: &AppPlan, shas: &[String], now: Timestamp) {
    let mut app = application(plan.service, plan.env);
    let name = format!("{}-{}", plan.service, plan.env);
    let ns = format!("dictamesh-{}", plan.env);
    track(shared, &name, plan.service, &ns);
    let Some(first) = plan.releases.first() else {
        return;
    };
    // The app was created an hour before its first sync.
    shared.clock.set(first.0 - SignedDuration::from_hours(1));
    if prepare_create(shared, def(APPLICATIONS), Some(NAMESPACE), &mut app).is_err() {
        shared.clock.set(now);
        return;
    }
    shared.clock.set(now);
    let initiated = if automated(plan.service, plan.env).is_some() {
        json!({"automated": true})
    } else {
        json!({"username": "admin"})
    };
    let source = app["spec"]["source"].clone();
    let history: Vec<Value> = plan
        .releases
        .iter()
        .enumerate()
        .map(|(id, (at, commit))| {
            json!({"id": id, "revision": shas[*commit], "deployStartedAt": fmt_time(*at - SignedDuration::from_secs(1)),
                   "deployedAt": fmt_time(*at), "source": source, "initiatedBy": initiated})
        })
        .collect();
    let keep = history.len().saturating_sub(10);
    let cmp = state::compare(shared, &shared.gitops, &app);
    state::apply_status(&mut app, &cmp, now);
    let (last_at, last) = plan.releases[plan.releases.len() - 1];
    let last_sha = &shas[last];
    let resources: Vec<Value> = cmp
        .resources
        .iter()
        .map(|m| crate::argocd::ops::sync_result_resource(m, m.target.is_some(), false))
        .collect();
    app["status"]["history"] = json!(history[keep..]);
    app["status"]["operationState"] = json!({
        "operation": {"sync": {"revision": last_sha, "syncStrategy": {"hook": {}}}, "initiatedBy": initiated,
                      "retry": app["spec"]["syncPolicy"]["retry"]},
        "phase": "Succeeded",
        "message": "successfully synced (all tasks run)",
        "startedAt": fmt_time(last_at - SignedDuration::from_secs(1)),
        "finishedAt": fmt_time(last_at),
        "syncResult": {"resources": resources, "revision": last_sha, "source": source},
    });
    app["status"]["reconciledAt"] = json!(fmt_time(now));
    let _ = shared
        .store
        .write(def(APPLICATIONS), &mut app, WriteMode::Create);
}
