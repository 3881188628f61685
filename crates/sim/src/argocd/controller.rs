//! The application controller on the simulated clock: reconciles an Application when it or
//! a workload in its destination namespace changes (and every few ticks for timers): runs its
//! operation one step further, compares it with the cluster (sync, health, resources,
//! images), records status-change events, and auto-syncs as Argo CD does: a new target
//! revision at once, manual drift only with `selfHeal` and after a short delay. The status is
//! written through the object (the CRD has no status subresource), only when it changed.

use std::collections::{BTreeMap, BTreeSet};

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::Shared;
use crate::api::admission::finish_update;
use crate::argocd::ops;
use crate::argocd::state::{self, NAMESPACE};
use crate::clock::{fmt_time, parse_time};
use crate::controllers::events::{NewEvent, Recorder};
use crate::resources::{APPLICATIONS, DEPLOYMENTS, REPLICASETS, ROLLOUTS, SERVICES, def};
use crate::store::{Change, ChangeType, WriteMode};

/// Self-heal waits this long after drift is seen (and after the last operation ended).
pub const SELF_HEAL_DELAY: SignedDuration = SignedDuration::from_secs(5);
/// The annotation `?refresh=` sets; the controller removes it when it has reconciled.
pub const REFRESH: &str = "argocd.argoproj.io/refresh";

/// The controller's queue and memory.
#[derive(Default)]
pub struct AppController {
    dirty: BTreeSet<String>,
    ticks: u64,
    /// Destination namespace → apps deploying there.
    by_ns: BTreeMap<String, BTreeSet<String>>,
    /// When each app was first seen OutOfSync against an already-synced revision.
    drift_since: BTreeMap<String, Timestamp>,
}

/// Whether the app's automated sync is on (`automated` present, `enabled` not false).
pub fn auto_sync_enabled(app: &Value) -> bool {
    let a = &app["spec"]["syncPolicy"]["automated"];
    a.is_object() && a["enabled"] != json!(false)
}

impl AppController {
    /// Marks what a change concerns.
    pub fn observe(&mut self, c: &Change) {
        let m = &c.entry.meta;
        match m.def {
            APPLICATIONS if &*m.namespace == NAMESPACE => {
                let name = m.name.to_string();
                for apps in self.by_ns.values_mut() {
                    apps.remove(&name);
                }
                if c.ty == ChangeType::Deleted {
                    self.drift_since.remove(&name);
                    return;
                }
                let v = c.entry.value();
                if let Some(ns) = v["spec"]["destination"]["namespace"].as_str() {
                    self.by_ns
                        .entry(ns.to_string())
                        .or_default()
                        .insert(name.clone());
                }
                self.dirty.insert(name);
            }
            DEPLOYMENTS | ROLLOUTS | REPLICASETS | SERVICES => {
                if let Some(apps) = self.by_ns.get(&*m.namespace) {
                    self.dirty.extend(apps.iter().cloned());
                }
            }
            _ => {}
        }
    }

    /// Rebuilds the namespace map from the store (after the change stream lagged).
    pub fn resync(&mut self, shared: &Shared) {
        self.by_ns.clear();
        for e in shared
            .store
            .list(def(APPLICATIONS), Some(NAMESPACE), |_| true)
            .1
        {
            let v = e.value();
            if let Some(ns) = v["spec"]["destination"]["namespace"].as_str() {
                self.by_ns
                    .entry(ns.to_string())
                    .or_default()
                    .insert(e.meta.name.to_string());
            }
            self.dirty.insert(e.meta.name.to_string());
        }
    }

    /// One round: every app now and then (operation steps and self-heal are timed), then the
    /// dirty ones.
    pub fn tick(&mut self, shared: &Shared, rec: &mut Recorder) {
        self.ticks += 1;
        if self.ticks.is_multiple_of(8) {
            for apps in self.by_ns.values() {
                self.dirty.extend(apps.iter().cloned());
            }
        }
        for name in std::mem::take(&mut self.dirty) {
            self.reconcile(shared, rec, &name);
        }
    }

    pub fn idle(&self) -> bool {
        self.dirty.is_empty()
    }

    fn reconcile(&mut self, shared: &Shared, rec: &mut Recorder, name: &str) {
        let d = def(APPLICATIONS);
        let Some(e) = shared.store.get(d, NAMESPACE, name) else {
            return;
        };
        if e.meta.deleting {
            return;
        }
        let stored = e.value();
        let mut app = stored.clone();
        let now = shared.clock.now();
        // A refresh asks git again rather than trusting the last read of HEAD.
        if !app["metadata"]["annotations"][REFRESH].is_null() {
            shared.gitops.forget_head();
        }
        ops::advance(shared, &shared.gitops, rec, &mut app, now);
        let cmp = state::compare(shared, &shared.gitops, &app);
        let (old_sync, old_health) = (
            app["status"]["sync"]["status"].clone(),
            app["status"]["health"]["status"].clone(),
        );
        state::apply_status(&mut app, &cmp, now);
        for (what, old, new) in [
            ("sync", old_sync, app["status"]["sync"]["status"].clone()),
            (
                "health",
                old_health,
                app["status"]["health"]["status"].clone(),
            ),
        ] {
            if old.is_string() && old != new {
                let msg = format!(
                    "Updated {what} status: {} -> {}",
                    old.as_str().unwrap_or(""),
                    new.as_str().unwrap_or("")
                );
                event(shared, rec, &app, "ResourceUpdated", msg);
            }
        }
        self.auto_sync(shared, rec, &mut app, now);
        if let Some(a) = app
            .pointer_mut("/metadata/annotations")
            .and_then(Value::as_object_mut)
        {
            a.remove(REFRESH);
        }
        if app == stored {
            return;
        }
        app["status"]["reconciledAt"] = json!(fmt_time(now));
        let Ok(mut app) = finish_update(d, None, &stored, app) else {
            return;
        };
        if shared
            .store
            .write(d, &mut app, WriteMode::Update(Some(e.meta.rv)))
            .is_err()
        {
            // Written meanwhile (by the API): the change event brings it back.
            self.dirty.insert(name.to_string());
        }
    }

    /// Argo CD's `autoSync`, for one app whose status was just compared.
    fn auto_sync(&mut self, shared: &Shared, rec: &mut Recorder, app: &mut Value, now: Timestamp) {
        let name = app["metadata"]["name"].as_str().unwrap_or("").to_string();
        let out_of_sync = app["status"]["sync"]["status"] == "OutOfSync";
        if !auto_sync_enabled(app)
            || app.get("operation").is_some_and(Value::is_object)
            || !out_of_sync
        {
            self.drift_since.remove(&name);
            return;
        }
        let Some(rev) = app["status"]["sync"]["revision"].as_str().map(String::from) else {
            return;
        };
        let last = &app["status"]["operationState"];
        let attempted = last["syncResult"]["revision"].as_str() == Some(&rev)
            || last["operation"]["sync"]["revision"].as_str() == Some(&rev);
        let automated = &app["spec"]["syncPolicy"]["automated"];
        if attempted {
            if matches!(last["phase"].as_str(), Some("Failed" | "Error")) {
                return;
            }
            if automated["selfHeal"] != json!(true) {
                return;
            }
            let since = *self.drift_since.entry(name.clone()).or_insert(now);
            let finished = last["finishedAt"].as_str().and_then(parse_time);
            if now < since + SELF_HEAL_DELAY || finished.is_some_and(|f| now < f + SELF_HEAL_DELAY)
            {
                return;
            }
        }
        self.drift_since.remove(&name);
        let policy = &app["spec"]["syncPolicy"];
        let mut op = json!({
            "sync": {"revision": rev, "prune": automated["prune"] == json!(true)},
            "initiatedBy": {"automated": true},
        });
        if let Some(o) = policy.get("syncOptions").filter(|o| o.is_array()) {
            op["sync"]["syncOptions"] = o.clone();
        }
        if let Some(r) = policy.get("retry").filter(|r| r.is_object()) {
            op["retry"] = r.clone();
        }
        app["operation"] = op;
        if let Some(st) = app["status"].as_object_mut() {
            st.remove("operationState");
        }
        event(
            shared,
            rec,
            app,
            "OperationStarted",
            format!("Initiated automated sync to '{rev}'"),
        );
    }
}

fn event(shared: &Shared, rec: &mut Recorder, app: &Value, reason: &str, message: String) {
    rec.record(
        shared,
        NewEvent {
            obj: app,
            field_path: None,
            reason,
            message,
            warning: false,
            source: ops::SOURCE,
        },
    );
}
