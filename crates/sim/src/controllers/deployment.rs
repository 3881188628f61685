//! The Deployment controller, following the real one: ReplicaSets `<deploy>-<hash>` with
//! revisions (re-use of a matching old RS gets max+1 and a revision-history), RollingUpdate
//! via `rollout::rolling_step`, Recreate, pause, status and the Progressing/Available
//! conditions with their real reasons, history cleanup, and ScalingReplicaSet events.

use jiff::SignedDuration;
use serde_json::{Value, json};

use crate::Shared;
use crate::api::admission::prepare_create;
use crate::clock::parse_time;
use crate::controllers::deployment_util::{
    REVISION, REVISION_HISTORY, RsView, SOURCE, cleanup_history, new_replica_set, reason_of, scale,
    set_condition,
};
use crate::controllers::events::{NewEvent, Recorder};
use crate::controllers::replicaset::put_count;
use crate::controllers::rollout::{Rs, Step, fenceposts, rolling_step};
use crate::objects::{template_hash, templates_equal};
use crate::resources::{DEPLOYMENTS, REPLICASETS, def};
use crate::store::WriteMode;

/// One sync of one Deployment. Returns true when the rollout is complete.
pub fn sync(shared: &Shared, rec: &mut Recorder, ns: &str, name: &str) -> bool {
    let Some(e) = shared.store.get(def(DEPLOYMENTS), ns, name) else {
        return true;
    };
    if e.meta.deleting {
        return true;
    }
    let mut d = e.value();
    let now = shared.clock.now();
    let uid = d["metadata"]["uid"].clone();
    let mut rss: Vec<RsView> = shared
        .store
        .list(def(REPLICASETS), Some(ns), |m| {
            m.owner.as_deref() == Some(name)
        })
        .1
        .into_iter()
        .map(|e| RsView {
            v: e.value(),
            entry: Some(e),
        })
        .filter(|r| {
            r.v["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|o| o.iter().any(|o| o["uid"] == uid))
        })
        .filter(|r| !r.entry.as_ref().is_some_and(|e| e.meta.deleting))
        .collect();
    rss.sort_by_key(|r| {
        (
            r.revision(),
            r.v["metadata"]["creationTimestamp"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        )
    });
    let template = d["spec"]["template"].clone();
    let desired = d
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let recreate = d.pointer("/spec/strategy/type").and_then(Value::as_str) == Some("Recreate");
    let (surge, unavailable) = if recreate {
        (0, 0)
    } else {
        fenceposts(d.pointer("/spec/strategy/rollingUpdate"), desired)
    };
    let paused = d
        .pointer("/spec/paused")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let old_status = d.get("status").cloned().unwrap_or(json!({}));
    let mut conds: Vec<Value> = old_status["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut collisions = old_status["collisionCount"].as_u64().unwrap_or(0);

    if paused {
        set_condition(
            &mut conds,
            "Progressing",
            "Unknown",
            "DeploymentPaused",
            "Deployment is paused".into(),
            now,
            false,
        );
    } else if reason_of(&conds, "Progressing") == Some("DeploymentPaused") {
        set_condition(
            &mut conds,
            "Progressing",
            "Unknown",
            "DeploymentResumed",
            "Deployment is resumed".into(),
            now,
            false,
        );
    }

    let mut new_idx = rss
        .iter()
        .position(|r| templates_equal(&r.v["spec"]["template"], &template));
    let max_old = rss
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != new_idx)
        .map(|(_, r)| r.revision())
        .max()
        .unwrap_or(0);
    if !paused {
        match new_idx {
            None => {
                let mut hash = template_hash(&template, collisions);
                while shared
                    .store
                    .get(def(REPLICASETS), ns, &format!("{name}-{hash}"))
                    .is_some()
                {
                    collisions += 1;
                    hash = template_hash(&template, collisions);
                }
                let olds: Vec<Rs> = rss.iter().map(RsView::rs).collect();
                let replicas = if recreate {
                    let busy = rss
                        .iter()
                        .any(|r| r.spec() > 0 || r.int("/status/replicas") > 0);
                    if busy { 0 } else { desired }
                } else {
                    match rolling_step(
                        desired,
                        surge,
                        unavailable,
                        Rs {
                            spec: 0,
                            available: 0,
                        },
                        &olds,
                    ) {
                        Step::ScaleNew(n) => n,
                        _ => 0,
                    }
                };
                let mut rs = new_replica_set(&d, &hash, max_old + 1, replicas, surge);
                if prepare_create(shared, def(REPLICASETS), Some(ns), &mut rs).is_ok()
                    && let Ok(entry) =
                        shared
                            .store
                            .write(def(REPLICASETS), &mut rs, WriteMode::Create)
                {
                    let rs_name = format!("{name}-{hash}");
                    if replicas > 0 {
                        let msg = format!("Scaled up replica set {rs_name} from 0 to {replicas}");
                        rec.record(
                            shared,
                            NewEvent {
                                obj: &d,
                                field_path: None,
                                reason: "ScalingReplicaSet",
                                message: msg,
                                warning: false,
                                source: SOURCE,
                            },
                        );
                    }
                    set_condition(
                        &mut conds,
                        "Progressing",
                        "True",
                        "NewReplicaSetCreated",
                        format!("Created new replica set \"{rs_name}\""),
                        now,
                        false,
                    );
                    rss.push(RsView {
                        v: rs,
                        entry: Some(entry),
                    });
                    new_idx = Some(rss.len() - 1);
                }
            }
            Some(i) => {
                let rs = &mut rss[i];
                let old_rev = rs.revision();
                if old_rev < max_old + 1 {
                    let ann = &mut rs.v["metadata"]["annotations"];
                    if old_rev > 0 {
                        let hist = ann[REVISION_HISTORY].as_str().filter(|h| !h.is_empty());
                        let hist = hist.map_or(old_rev.to_string(), |h| format!("{h},{old_rev}"));
                        ann[REVISION_HISTORY] = json!(hist);
                    }
                    ann[REVISION] = json!((max_old + 1).to_string());
                    let rv = rs.entry.as_ref().map(|e| e.meta.rv);
                    if let Ok(e) =
                        shared
                            .store
                            .write(def(REPLICASETS), &mut rs.v, WriteMode::Update(rv))
                    {
                        rs.entry = Some(e);
                    }
                }
                if reason_of(&conds, "Progressing").is_none() {
                    let msg = format!("Found new replica set \"{}\"", rs.name());
                    set_condition(
                        &mut conds,
                        "Progressing",
                        "True",
                        "FoundNewReplicaSet",
                        msg,
                        now,
                        false,
                    );
                }
            }
        }
    }

    if let Some(ni) = new_idx {
        let olds: Vec<usize> = (0..rss.len()).filter(|i| *i != ni).collect();
        if paused
            || olds
                .iter()
                .all(|i| rss[*i].spec() == 0 && rss[*i].int("/status/replicas") == 0)
        {
            let to = desired;
            scale(shared, rec, &d, &mut rss[ni], to, surge);
        } else if recreate {
            if olds.iter().any(|i| rss[*i].spec() > 0) {
                for i in &olds {
                    scale(shared, rec, &d, &mut rss[*i], 0, surge);
                }
            }
        } else {
            let old_rs: Vec<Rs> = olds.iter().map(|i| rss[*i].rs()).collect();
            match rolling_step(desired, surge, unavailable, rss[ni].rs(), &old_rs) {
                Step::ScaleNew(n) => scale(shared, rec, &d, &mut rss[ni], n, surge),
                Step::ScaleOld(changes) => {
                    for (j, n) in changes {
                        scale(shared, rec, &d, &mut rss[olds[j]], n, surge);
                    }
                }
                Step::None => {}
            }
        }
    }

    // Status (calculateStatus + syncRolloutStatus).
    let sum = |p: &str| rss.iter().map(|r| r.int(p)).sum::<i64>();
    let replicas = sum("/status/replicas");
    let available = sum("/status/availableReplicas");
    let ready = sum("/status/readyReplicas");
    let total_spec: i64 = rss.iter().map(RsView::spec).sum();
    let updated = new_idx.map_or(0, |i| rss[i].int("/status/replicas"));
    let generation = d["metadata"]["generation"].as_i64().unwrap_or(1);
    if available >= desired - unavailable {
        set_condition(
            &mut conds,
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.".into(),
            now,
            false,
        );
    } else {
        set_condition(
            &mut conds,
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.".into(),
            now,
            false,
        );
    }
    let complete = updated == desired && replicas == desired && available == desired;
    if let (false, Some(ni)) = (paused, new_idx) {
        let rs_name = rss[ni].name();
        let already = replicas == updated
            && reason_of(&conds, "Progressing") == Some("NewReplicaSetAvailable");
        let old_int = |k: &str| old_status[k].as_i64().unwrap_or(0);
        let progressing = updated > old_int("updatedReplicas")
            || (replicas - updated) < (old_int("replicas") - old_int("updatedReplicas"))
            || ready > old_int("readyReplicas")
            || available > old_int("availableReplicas");
        let deadline = d
            .pointer("/spec/progressDeadlineSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(600);
        let timed_out = conds
            .iter()
            .find(|c| c["type"] == "Progressing")
            .is_some_and(|c| {
                c["reason"] == "ProgressDeadlineExceeded"
                    || c["lastUpdateTime"]
                        .as_str()
                        .and_then(parse_time)
                        .is_some_and(|t| {
                            now.duration_since(t) > SignedDuration::from_secs(deadline)
                        })
            });
        if !already {
            if complete {
                set_condition(
                    &mut conds,
                    "Progressing",
                    "True",
                    "NewReplicaSetAvailable",
                    format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
                    now,
                    false,
                );
            } else if progressing {
                set_condition(
                    &mut conds,
                    "Progressing",
                    "True",
                    "ReplicaSetUpdated",
                    format!("ReplicaSet \"{rs_name}\" is progressing."),
                    now,
                    true,
                );
            } else if timed_out {
                set_condition(
                    &mut conds,
                    "Progressing",
                    "False",
                    "ProgressDeadlineExceeded",
                    format!("ReplicaSet \"{rs_name}\" has timed out progressing."),
                    now,
                    false,
                );
            }
        }
    }
    let mut status = json!({"observedGeneration": generation});
    put_count(&mut status, "replicas", replicas);
    put_count(&mut status, "updatedReplicas", updated);
    put_count(&mut status, "readyReplicas", ready);
    put_count(&mut status, "availableReplicas", available);
    put_count(
        &mut status,
        "unavailableReplicas",
        (total_spec - available).max(0),
    );
    put_count(&mut status, "collisionCount", collisions as i64);
    status["conditions"] = json!(conds);
    let revision = new_idx.map(|i| rss[i].revision().to_string());
    let ann_changed = revision
        .as_ref()
        .is_some_and(|r| d["metadata"]["annotations"][REVISION].as_str() != Some(r));
    if d.get("status") != Some(&status) || ann_changed {
        d["status"] = status;
        if let Some(r) = revision {
            d["metadata"]["annotations"][REVISION] = json!(r);
        }
        let _ = shared
            .store
            .write(def(DEPLOYMENTS), &mut d, WriteMode::Update(Some(e.meta.rv)));
    }
    if complete {
        cleanup_history(shared, &d, &rss, new_idx);
    }
    complete
}
