//! The controller manager: one task that watches the store's change fan-out, keeps dirty
//! sets of Deployments and ReplicaSets, runs the kubelet's timed pod transitions, garbage
//! collects owned objects whose owner is gone, and expires events. It ticks on the simulated
//! clock, and can be stepped synchronously (scenarios use that to build their past).

pub mod completion;
pub mod deployment;
pub mod deployment_util;
pub mod events;
pub mod gc;
pub mod job;
pub mod kubelet;
pub mod replicaset;
pub mod rollout;
pub mod unhealthy;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::{broadcast, watch};

use crate::Shared;
use crate::resources::{
    ANALYSISRUNS, DEPLOYMENTS, EXPERIMENTS, JOBS, NAMESPACES, PODS, REPLICASETS, ROLLOUTS,
    VULNERABILITYREPORTS, def,
};
use crate::store::{Change, ChangeType};
use events::Recorder;
use kubelet::Kubelet;

type Key = (String, String);

/// All controllers' state.
pub struct Controllers {
    shared: Arc<Shared>,
    rx: broadcast::Receiver<Arc<Change>>,
    dirty_deploys: BTreeSet<Key>,
    dirty_rs: BTreeSet<Key>,
    incomplete: BTreeSet<Key>,
    dirty_jobs: BTreeSet<Key>,
    /// Jobs not finished yet (re-checked now and then for their back-off).
    running_jobs: BTreeSet<Key>,
    /// Garbage collection of owners deleted with Orphan or Foreground propagation.
    gc: gc::Collector,
    kubelet: Kubelet,
    recorder: Recorder,
    ticks: u64,
    /// Argo Rollouts (issue 4).
    argo: crate::rollouts::ArgoController,
    /// Argo CD's application controller (issue 5).
    argocd: crate::argocd::controller::AppController,
    /// CloudNativePG's backups.
    cnpg: crate::cnpg::BackupController,
    /// The Trivy operator's scans.
    trivy: crate::trivy::Scanner,
    /// Strimzi's topic operator.
    topics: crate::kafka::operator::TopicOperator,
}

impl Controllers {
    /// Subscribes to the store and marks everything for a first sync.
    pub fn new(shared: Arc<Shared>) -> Self {
        let rx = shared.store.subscribe();
        let mut c = Controllers {
            shared,
            rx,
            dirty_deploys: BTreeSet::new(),
            dirty_rs: BTreeSet::new(),
            incomplete: BTreeSet::new(),
            dirty_jobs: BTreeSet::new(),
            running_jobs: BTreeSet::new(),
            gc: gc::Collector::default(),
            kubelet: Kubelet::default(),
            recorder: Recorder::default(),
            ticks: 0,
            argo: Default::default(),
            argocd: Default::default(),
            cnpg: Default::default(),
            trivy: Default::default(),
            topics: Default::default(),
        };
        c.resync_all();
        c
    }

    /// The Prometheus history AnalysisRuns measure from.
    pub fn set_metrics(&mut self, history: Arc<crate::metrics::History>) {
        self.argo.analysis.set_history(history);
    }

    fn resync_all(&mut self) {
        let s = self.shared.clone();
        for e in s.store.list(def(DEPLOYMENTS), None, |_| true).1 {
            self.dirty_deploys
                .insert((e.meta.namespace.to_string(), e.meta.name.to_string()));
        }
        for e in s.store.list(def(REPLICASETS), None, |_| true).1 {
            self.dirty_rs
                .insert((e.meta.namespace.to_string(), e.meta.name.to_string()));
        }
        for e in s.store.list(def(NAMESPACES), None, |_| true).1 {
            gc::default_service_account(&s, &e.meta.name);
        }
        for e in s.store.list(def(JOBS), None, |_| true).1 {
            self.dirty_jobs
                .insert((e.meta.namespace.to_string(), e.meta.name.to_string()));
        }
        for e in s.store.list(def(PODS), None, |_| true).1 {
            self.kubelet.observe(&s, &e.meta, false);
        }
        self.argocd.resync(&s);
        self.cnpg.resync(&s);
        self.trivy.resync(&s);
        self.topics.resync(&s);
        for def_id in gc::OWNERS {
            for e in s.store.list(def(*def_id), None, |m| m.deleting).1 {
                self.gc.observe(&e.meta);
            }
        }
    }

    fn observe(&mut self, c: &Change) {
        let m = &c.entry.meta;
        let key = || (m.namespace.to_string(), m.name.to_string());
        let deleted = c.ty == ChangeType::Deleted;
        self.argo.observe(&self.shared, c);
        self.argocd.observe(c);
        self.cnpg.observe(&self.shared, c);
        self.trivy.observe(&self.shared, c);
        self.topics.observe(&self.shared, c);
        if m.deleting && !deleted {
            self.gc.observe(m);
        }
        match m.def {
            PODS => {
                self.kubelet.observe(&self.shared, m, deleted);
                if let Some(o) = &m.owner {
                    self.dirty_rs
                        .insert((m.namespace.to_string(), o.to_string()));
                    self.dirty_jobs
                        .insert((m.namespace.to_string(), o.to_string()));
                }
            }
            JOBS => {
                if deleted {
                    self.collect_garbage(def(PODS), m);
                    self.running_jobs.remove(&key());
                } else {
                    self.dirty_jobs.insert(key());
                }
            }
            NAMESPACES if c.ty == ChangeType::Added => {
                gc::default_service_account(&self.shared, &m.name);
            }
            REPLICASETS => {
                if deleted {
                    self.collect_garbage(def(PODS), m);
                    self.collect_garbage(def(VULNERABILITYREPORTS), m);
                } else {
                    self.dirty_rs.insert(key());
                }
                if let Some(o) = &m.owner {
                    self.dirty_deploys
                        .insert((m.namespace.to_string(), o.to_string()));
                }
            }
            DEPLOYMENTS => {
                if deleted {
                    self.collect_garbage(def(REPLICASETS), m);
                    self.incomplete.remove(&key());
                } else {
                    self.dirty_deploys.insert(key());
                }
            }
            ROLLOUTS if deleted => {
                self.collect_garbage(def(REPLICASETS), m);
                self.collect_garbage(def(ANALYSISRUNS), m);
                self.collect_garbage(def(EXPERIMENTS), m);
            }
            EXPERIMENTS if deleted => self.collect_garbage(def(REPLICASETS), m),
            _ => {}
        }
    }

    /// Background propagation: dependents of a deleted owner are deleted too.
    fn collect_garbage(
        &mut self,
        dependents: &crate::resources::ResourceDef,
        owner: &crate::store::Meta,
    ) {
        let s = &self.shared;
        let (_, items) = s.store.list(dependents, Some(&owner.namespace), |m| {
            m.owner.as_deref() == Some(&*owner.name)
        });
        for e in items {
            let owned = e.value()["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|refs| refs.iter().any(|r| r["uid"].as_str() == Some(&*owner.uid)));
            if !owned {
                continue;
            }
            if dependents.id == PODS {
                replicaset::delete_pod_gracefully(s, &e);
            } else {
                let _ = s.store.delete(
                    dependents,
                    &e.meta.namespace,
                    &e.meta.name,
                    Some(&e.meta.uid),
                );
            }
        }
    }

    /// The unhealthy images changed: every running pod is looked at again, so pods of a
    /// version just marked start crashing (and ones unmarked recover).
    fn recheck_health(&mut self) {
        let s = self.shared.clone();
        for entry in s.store.list(def(PODS), None, |_| true).1 {
            let c = Change {
                rv: entry.meta.rv,
                ty: ChangeType::Modified,
                entry,
                prev: None,
            };
            self.argo.crashloop.observe(&s, &c);
        }
    }

    /// Takes in every change published so far.
    pub fn drain(&mut self) {
        loop {
            match self.rx.try_recv() {
                Ok(c) => self.observe(&c),
                Err(TryRecvError::Lagged(_)) => self.resync_all(),
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
    }

    /// One round: due pod transitions, dirty ReplicaSets, dirty and still-rolling Deployments.
    pub fn tick(&mut self) {
        self.ticks += 1;
        let s = self.shared.clone();
        self.kubelet.run_due(&s, &mut self.recorder);
        self.drain();
        for (ns, name) in std::mem::take(&mut self.dirty_rs) {
            replicaset::sync(&s, &mut self.recorder, &ns, &name);
        }
        self.drain();
        // Rolling deployments are re-checked every few ticks for their progress deadline.
        if self.ticks.is_multiple_of(20) {
            self.dirty_deploys.extend(self.incomplete.iter().cloned());
        }
        for key in std::mem::take(&mut self.dirty_deploys) {
            if deployment::sync(&s, &mut self.recorder, &key.0, &key.1) {
                self.incomplete.remove(&key);
            } else {
                self.incomplete.insert(key);
            }
        }
        if self.ticks.is_multiple_of(20) {
            self.dirty_jobs.extend(self.running_jobs.iter().cloned());
        }
        for key in std::mem::take(&mut self.dirty_jobs) {
            if job::sync(&s, &mut self.recorder, &key.0, &key.1) {
                self.running_jobs.remove(&key);
            } else {
                self.running_jobs.insert(key);
            }
        }
        self.gc.run(&s);
        self.drain();
        self.argo.tick(&s, &mut self.recorder);
        self.argocd.tick(&s, &mut self.recorder);
        self.cnpg.tick(&s, &mut self.recorder);
        self.trivy.tick(&s);
        self.topics.tick(&s);
        if self.ticks.is_multiple_of(40) {
            self.recorder.expire(&s);
        }
    }

    /// True when nothing is dirty (used when settling a scenario).
    pub fn idle(&self) -> bool {
        self.dirty_deploys.is_empty()
            && self.dirty_rs.is_empty()
            && self.incomplete.is_empty()
            && self.dirty_jobs.is_empty()
            && self.running_jobs.is_empty()
            && self.gc.idle()
            && !self.kubelet.busy()
            && self.argo.idle()
            && self.argocd.idle()
            && self.cnpg.idle()
            && self.trivy.idle()
            && self.topics.idle()
    }

    /// Runs until shutdown, ticking every `every` of real time and reacting to changes.
    pub async fn run(mut self, every: Duration, mut shutdown: watch::Receiver<bool>) {
        let mut unhealthy = self.shared.unhealthy_changed.subscribe();
        // A change made between the simulator's start and this subscription would be
        // seen as already current: look once at the start.
        unhealthy.mark_changed();
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                r = self.rx.recv() => match r {
                    Ok(c) => self.observe(&c),
                    Err(RecvError::Lagged(_)) => self.resync_all(),
                    Err(RecvError::Closed) => break,
                },
                _ = ticker.tick() => self.tick(),
                _ = unhealthy.changed() => self.recheck_health(),
            }
        }
    }
}
