//! The garbage collector's finalizers, for owners deleted with `propagationPolicy` Orphan or
//! Foreground (Background is `Controllers::collect_garbage`, run when the owner is gone):
//! - `orphan`: the owner's reference is removed from each dependent, then the owner goes;
//! - `foregroundDeletion`: dependents are deleted first (owners among them in the
//!   foreground too, pods gracefully) and the owner goes once none is left.
//!
//! Also the ServiceAccount controller's one job here: a `default` ServiceAccount in every
//! new namespace.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::Shared;
use crate::api::admission::prepare_create;
use crate::clock::fmt_time;
use crate::controllers::replicaset::delete_pod_gracefully;
use crate::resources::{
    ANALYSISRUNS, DEPLOYMENTS, EXPERIMENTS, JOBS, NAMESPACES, PODS, REPLICASETS, ROLLOUTS,
    SERVICEACCOUNTS, def,
};
use crate::store::{Entry, Meta, WriteMode};

pub const ORPHAN: &str = "orphan";
pub const FOREGROUND: &str = "foregroundDeletion";

/// Kinds that own other objects.
pub const OWNERS: &[usize] = &[DEPLOYMENTS, REPLICASETS, ROLLOUTS, JOBS, EXPERIMENTS];

/// What each owner kind owns.
pub fn dependents_of(owner: usize) -> &'static [usize] {
    match owner {
        DEPLOYMENTS | EXPERIMENTS => &[REPLICASETS],
        ROLLOUTS => &[REPLICASETS, ANALYSISRUNS, EXPERIMENTS],
        REPLICASETS | JOBS => &[PODS],
        _ => &[],
    }
}

/// Owners being deleted that still carry a garbage-collector finalizer.
#[derive(Default)]
pub struct Collector {
    pending: BTreeSet<(usize, String, String)>,
}

fn finalizers(v: &Value) -> Vec<String> {
    v.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// The dependents of kind `dep` whose ownerReferences name the owner's uid.
fn dependents(shared: &Shared, dep: usize, owner: &Meta) -> Vec<(Entry, Value)> {
    shared
        .store
        .list(def(dep), Some(&owner.namespace), |m| {
            m.owner.as_deref() == Some(&*owner.name)
        })
        .1
        .into_iter()
        .map(|e| {
            let v = e.value();
            (e, v)
        })
        .filter(|(_, v)| {
            v.pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_some_and(|refs| refs.iter().any(|r| r["uid"] == *owner.uid))
        })
        .collect()
}

/// Marks an object deleted with a finalizer (as the API server does for a DELETE with
/// Orphan or Foreground propagation): deletionTimestamp now, grace 0.
pub fn mark_deleting(shared: &Shared, obj: &mut Value, finalizer: &str) {
    let mut f = finalizers(obj);
    if !f.iter().any(|x| x == finalizer) {
        f.push(finalizer.to_string());
    }
    obj["metadata"]["finalizers"] = json!(f);
    if obj
        .pointer("/metadata/deletionTimestamp")
        .is_none_or(Value::is_null)
    {
        obj["metadata"]["deletionTimestamp"] = json!(fmt_time(shared.clock.now()));
        obj["metadata"]["deletionGracePeriodSeconds"] = json!(0);
    }
}

impl Collector {
    pub fn idle(&self) -> bool {
        self.pending.is_empty()
    }

    /// Looks at an object being deleted.
    pub fn observe(&mut self, m: &Meta) {
        if OWNERS.contains(&m.def) {
            self.pending
                .insert((m.def, m.namespace.to_string(), m.name.to_string()));
        }
    }

    /// Works on every pending owner; done ones are removed from the store.
    pub fn run(&mut self, shared: &Shared) {
        for key in std::mem::take(&mut self.pending) {
            if !self.step(shared, &key) {
                self.pending.insert(key);
            }
        }
    }

    /// One step for one owner; true when nothing is left to do for it.
    fn step(&mut self, shared: &Shared, (id, ns, name): &(usize, String, String)) -> bool {
        let Some(e) = shared.store.get(def(*id), ns, name) else {
            return true;
        };
        if !e.meta.deleting {
            return true;
        }
        let mut v = e.value();
        let mut f = finalizers(&v);
        if f.iter().any(|x| x == ORPHAN) {
            for dep in dependents_of(*id) {
                for (d, mut dv) in dependents(shared, *dep, &e.meta) {
                    if let Some(md) = dv["metadata"].as_object_mut() {
                        let left: Vec<Value> = md
                            .get("ownerReferences")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter(|r| r["uid"] != *e.meta.uid)
                            .cloned()
                            .collect();
                        if left.is_empty() {
                            md.remove("ownerReferences");
                        } else {
                            md.insert("ownerReferences".into(), Value::Array(left));
                        }
                    }
                    if shared
                        .store
                        .write(def(*dep), &mut dv, WriteMode::Update(Some(d.meta.rv)))
                        .is_err()
                    {
                        return false;
                    }
                }
            }
            f.retain(|x| x != ORPHAN);
        }
        if f.iter().any(|x| x == FOREGROUND) {
            let mut left = 0;
            for dep in dependents_of(*id) {
                for (d, mut dv) in dependents(shared, *dep, &e.meta) {
                    left += 1;
                    if d.meta.deleting {
                        continue;
                    }
                    if *dep == PODS {
                        delete_pod_gracefully(shared, &d);
                    } else {
                        mark_deleting(shared, &mut dv, FOREGROUND);
                        let _ = shared.store.write(
                            def(*dep),
                            &mut dv,
                            WriteMode::Update(Some(d.meta.rv)),
                        );
                    }
                }
            }
            if left > 0 {
                return false;
            }
            f.retain(|x| x != FOREGROUND);
        }
        if f.is_empty() {
            let _ = shared.store.delete(def(*id), ns, name, Some(&e.meta.uid));
            return true;
        }
        if f != finalizers(&v) {
            v["metadata"]["finalizers"] = json!(f);
            let _ = shared
                .store
                .write(def(*id), &mut v, WriteMode::Update(Some(e.meta.rv)));
        }
        // Other finalizers are someone else's to remove.
        true
    }
}

/// The ServiceAccount controller: every namespace gets a `default` ServiceAccount, made
/// the moment the namespace is (so it is as old as its namespace, also in scenarios built
/// on a clock in the past).
pub fn default_service_account(shared: &Shared, ns: &str) {
    let sa = def(SERVICEACCOUNTS);
    if shared.store.get(sa, ns, "default").is_some() {
        return;
    }
    let born = shared
        .store
        .get(def(NAMESPACES), "", ns)
        .map(|e| e.meta.created.to_string());
    let mut obj =
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}});
    if prepare_create(shared, sa, Some(ns), &mut obj).is_ok() {
        if let Some(t) = born.filter(|t| !t.is_empty()) {
            obj["metadata"]["creationTimestamp"] = json!(t);
        }
        let _ = shared.store.write(sa, &mut obj, WriteMode::Create);
    }
}
