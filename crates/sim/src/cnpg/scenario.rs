//! The demo's databases: metadata-catalog-db for prod in `dictamesh-infra` (the seed's
//! `kubectl cnpg backup metadata-catalog-db -n dictamesh-infra`) and one for staging,
//! with the backups of the last days taken by the real controller on a past clock: prod's
//! newest is 3 hours old, one two days ago failed; staging's is 20 hours old.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::{FAIL_BACKUPS, backup, cluster};
use crate::Shared;
use crate::api::admission::prepare_create;
use crate::controllers::Controllers;
use crate::resources::{CNPG_BACKUPS, CNPG_CLUSTERS, def};
use crate::store::WriteMode;

pub const CLUSTER: &str = "metadata-catalog-db";
pub const PROD_NAMESPACE: &str = "dictamesh-infra";
pub const STAGING_NAMESPACE: &str = "dictamesh-staging";

/// Hours ago each prod backup was taken, and whether the object store failed it.
const PROD_BACKUPS: &[(i64, bool)] = &[(75, false), (51, true), (27, false), (3, false)];
const STAGING_BACKUPS: &[(i64, bool)] = &[(44, false), (20, false)];

pub fn build(shared: &Shared, ctl: &mut Controllers, now: Timestamp) {
    for (ns, instances, backups) in [
        (PROD_NAMESPACE, 3, PROD_BACKUPS),
        (STAGING_NAMESPACE, 2, STAGING_BACKUPS),
    ] {
        let first = now - SignedDuration::from_hours(24 * 14);
        shared.clock.set(first);
        create(
            shared,
            ns,
            CNPG_CLUSTERS,
            cluster(CLUSTER, instances, first),
        );
        for &(hours_ago, failing) in backups {
            let at = now - SignedDuration::from_hours(hours_ago);
            shared.clock.set(at);
            set_failing(shared, ns, failing);
            create(shared, ns, CNPG_BACKUPS, backup(CLUSTER, at));
            super::super::scenario::settle(shared, ctl);
            set_failing(shared, ns, false);
        }
    }
}

fn create(shared: &Shared, ns: &str, id: usize, mut obj: Value) {
    if prepare_create(shared, def(id), Some(ns), &mut obj).is_ok() {
        let _ = shared.store.write(def(id), &mut obj, WriteMode::Create);
    }
}

fn set_failing(shared: &Shared, ns: &str, failing: bool) {
    let Some(entry) = shared.store.get(def(CNPG_CLUSTERS), ns, CLUSTER) else {
        return;
    };
    let mut cluster = entry.value();
    let annotations = &mut cluster["metadata"]["annotations"];
    if failing {
        annotations[FAIL_BACKUPS] = json!("true");
    } else if let Some(map) = annotations.as_object_mut() {
        map.remove(FAIL_BACKUPS);
        if map.is_empty() {
            cluster["metadata"]
                .as_object_mut()
                .map(|m| m.remove("annotations"));
        }
    } else {
        return;
    }
    let _ = shared.store.write(
        def(CNPG_CLUSTERS),
        &mut cluster,
        WriteMode::Update(Some(entry.meta.rv)),
    );
}
