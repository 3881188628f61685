//! Running an Application's operation (sync or rollback) as the application controller
//! does: `operation` is copied into `status.operationState` (phase Running); a second later
//! the revision's images are applied to the workloads (dry run leaves them alone) and the
//! per-resource `syncResult` recorded; a second after that the phase is Succeeded, the sync
//! is appended to `status.history` (id = last + 1, kept to `revisionHistoryLimit`) and
//! `operation` is removed. `Terminating` (set by the API) ends it as Failed.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::Shared;
use crate::api::admission::finish_update;
use crate::argocd::repo::{GitRepo, Images, WorkloadKey};
use crate::argocd::state::{Managed, TRACKING, tracking_id, workload_def};
use crate::clock::{fmt_time, parse_time};
use crate::controllers::events::{NewEvent, Recorder, Source};
use crate::status::ApiError;
use crate::store::WriteMode;

pub const SOURCE: Source<'static> = Source {
    component: "argocd-application-controller",
    host: None,
};

/// How long each step of an operation takes on the simulated clock.
const STEP: SignedDuration = SignedDuration::from_secs(1);

/// `deployment.apps/customer-adapter` as kubectl names an object in its messages.
fn kubectl_name(d: &crate::resources::ResourceDef, name: &str) -> String {
    if d.group.is_empty() {
        format!("{}/{name}", d.singular)
    } else {
        format!("{}.{}/{name}", d.singular, d.group)
    }
}

/// One `syncResult.resources[]` entry.
pub fn sync_result_resource(m: &Managed, configured: bool, dry_run: bool) -> Value {
    let verb = if configured {
        "configured"
    } else {
        "unchanged"
    };
    let dry = if dry_run { " (dry run)" } else { "" };
    let mut r = json!({
        "group": m.def.group, "version": m.def.version, "kind": m.def.kind,
        "namespace": m.namespace, "name": m.name, "status": "Synced",
        "message": format!("{} {verb}{dry}", kubectl_name(m.def, &m.name)),
        "hookPhase": "Running", "syncPhase": "Sync",
    });
    if let Some(t) = &m.target {
        r["images"] = json!(t.iter().map(|(_, i)| i).collect::<Vec<_>>());
    }
    r
}

fn remove(v: &mut Value, k: &str) {
    if let Some(m) = v.as_object_mut() {
        m.remove(k);
    }
}

/// Why a workload's images were not applied: the resource's message in `syncResult`.
#[derive(Debug, thiserror::Error)]
enum ApplyError {
    #[error("unknown kind {0}")]
    UnknownKind(String),
    #[error("{qualified} \"{name}\" not found")]
    NotFound { qualified: String, name: String },
    #[error("{}", crate::api::faults::DRY_RUN_REFUSED)]
    DryRunRefused,
    /// Admission or the store refused the write.
    #[error("{}", .0.message)]
    Refused(ApiError),
    #[error("Operation cannot be fulfilled on {0}: the object has been modified")]
    Conflict(String),
}

/// Sets a workload's container images (and the app's tracking annotation). Ok(true) when
/// the live object differed.
fn apply_images(
    shared: &Shared,
    app: &str,
    key: &WorkloadKey,
    images: &Images,
    dry_run: bool,
) -> Result<bool, ApplyError> {
    let Some(d) = workload_def(&key.kind) else {
        return Err(ApplyError::UnknownKind(key.kind.clone()));
    };
    for _ in 0..3 {
        let Some(e) = shared.store.get(d, &key.namespace, &key.name) else {
            return Err(ApplyError::NotFound {
                qualified: d.qualified(),
                name: key.name.clone(),
            });
        };
        let old = e.value();
        let mut new = old.clone();
        if let Some(cs) = new
            .pointer_mut("/spec/template/spec/containers")
            .and_then(Value::as_array_mut)
        {
            for c in cs.iter_mut() {
                if let Some((_, img)) = images.iter().find(|(n, _)| c["name"] == n.as_str()) {
                    c["image"] = json!(img);
                }
            }
        }
        new["metadata"]["annotations"][TRACKING] =
            json!(tracking_id(app, d, &key.namespace, &key.name));
        let changed = new["spec"] != old["spec"];
        if dry_run && shared.faults.refuse_dry_runs() {
            return Err(ApplyError::DryRunRefused);
        }
        if dry_run || new == old {
            return Ok(changed);
        }
        let mut new = finish_update(d, None, &old, new).map_err(ApplyError::Refused)?;
        match shared
            .store
            .write(d, &mut new, WriteMode::Update(Some(e.meta.rv)))
        {
            Ok(_) => return Ok(changed),
            Err(e) if e.code == 409 => continue,
            Err(e) => return Err(ApplyError::Refused(e)),
        }
    }
    Err(ApplyError::Conflict(d.qualified()))
}

fn event(
    shared: &Shared,
    rec: &mut Recorder,
    app: &Value,
    reason: &str,
    message: String,
    warning: bool,
) {
    rec.record(
        shared,
        NewEvent {
            obj: app,
            field_path: None,
            reason,
            message,
            warning,
            source: SOURCE,
        },
    );
}

/// Ends the operation: final phase and message, `finishedAt`, `operation` removed.
fn finish(
    shared: &Shared,
    rec: &mut Recorder,
    app: &mut Value,
    phase: &str,
    message: &str,
    now: Timestamp,
) {
    let st = &mut app["status"]["operationState"];
    st["phase"] = json!(phase);
    st["message"] = json!(message);
    st["finishedAt"] = json!(fmt_time(now));
    let rev = st["operation"]["sync"]["revision"]
        .as_str()
        .unwrap_or("")
        .to_string();
    remove(app, "operation");
    let (text, warn) = if phase == "Succeeded" {
        (format!("Sync operation to {rev} succeeded"), false)
    } else {
        (format!("Sync operation to {rev} failed: {message}"), true)
    };
    event(shared, rec, app, "OperationCompleted", text, warn);
}

/// Advances the app's operation by one step; true when `app` changed.
pub fn advance(
    shared: &Shared,
    repo: &GitRepo,
    rec: &mut Recorder,
    app: &mut Value,
    now: Timestamp,
) -> bool {
    let Some(op) = app.get("operation").filter(|o| o.is_object()).cloned() else {
        return false;
    };
    let st = app["status"]["operationState"].clone();
    let phase = st["phase"].as_str().unwrap_or("");
    if !st.is_object() || !matches!(phase, "Running" | "Terminating") {
        if !app["status"].is_object() {
            app["status"] = json!({});
        }
        app["status"]["operationState"] =
            json!({"operation": op, "phase": "Running", "startedAt": fmt_time(now)});
        return true;
    }
    if phase == "Terminating" {
        if let Some(rs) = app
            .pointer_mut("/status/operationState/syncResult/resources")
            .and_then(Value::as_array_mut)
        {
            for r in rs.iter_mut().filter(|r| r["hookPhase"] == "Running") {
                r["message"] = json!("Terminated");
            }
        }
        finish(shared, rec, app, "Failed", "Operation terminated", now);
        return true;
    }
    let started = st["startedAt"].as_str().and_then(parse_time).unwrap_or(now);
    let dry_run = op["sync"]["dryRun"] == json!(true);
    let name = app["metadata"]["name"].as_str().unwrap_or("").to_string();
    if st.get("syncResult").is_none() {
        if now < started + STEP {
            return false;
        }
        let wanted = op["sync"]["revision"].as_str().unwrap_or("");
        let path = op["sync"]["source"]["path"]
            .as_str()
            .or(app["spec"]["source"]["path"].as_str())
            .unwrap_or("")
            .to_string();
        let manifests = repo
            .resolve(wanted)
            .and_then(|rev| repo.manifests_at(&rev, &path).map(|m| (rev, m)));
        let Some((rev, manifests)) = manifests else {
            let msg = format!(
                "ComparisonError: Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = Unknown desc = unable to resolve '{wanted}' to a commit SHA"
            );
            finish(shared, rec, app, "Failed", &msg, now);
            return true;
        };
        let mut resources = Vec::new();
        let mut failed = None;
        let cmp = crate::argocd::state::managed(shared, app, &manifests);
        for m in &cmp {
            let key = WorkloadKey {
                kind: m.def.kind.into(),
                namespace: m.namespace.clone(),
                name: m.name.clone(),
            };
            let result = match &m.target {
                Some(images) => apply_images(shared, &name, &key, images, dry_run),
                None => Ok(false),
            };
            match result {
                Ok(configured) => resources.push(sync_result_resource(m, configured, dry_run)),
                Err(e) => {
                    let mut r = sync_result_resource(m, false, dry_run);
                    r["status"] = json!("SyncFailed");
                    r["hookPhase"] = json!("Failed");
                    r["message"] = json!(e.to_string());
                    failed.get_or_insert(e);
                    resources.push(r);
                }
            }
        }
        let source = op["sync"]
            .get("source")
            .cloned()
            .unwrap_or_else(|| app["spec"]["source"].clone());
        app["status"]["operationState"]["syncResult"] =
            json!({"resources": resources, "revision": rev, "source": source});
        if let Some(e) = failed {
            finish(
                shared,
                rec,
                app,
                "Failed",
                &format!("one or more objects failed to apply, reason: {e}"),
                now,
            );
        }
        return true;
    }
    if now < started + STEP + STEP {
        return false;
    }
    if !dry_run {
        append_history(app, &op, &st, now);
    }
    finish(
        shared,
        rec,
        app,
        "Succeeded",
        "successfully synced (all tasks run)",
        now,
    );
    true
}

/// Records a successful sync in `status.history`.
fn append_history(app: &mut Value, op: &Value, st: &Value, now: Timestamp) {
    let limit = app["spec"]["revisionHistoryLimit"]
        .as_i64()
        .unwrap_or(10)
        .max(1) as usize;
    let mut history = app["status"]["history"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let id = history
        .last()
        .and_then(|h| h["id"].as_i64())
        .map_or(0, |i| i + 1);
    let result = &st["syncResult"];
    history.push(json!({
        "id": id,
        "revision": result["revision"],
        "deployStartedAt": st["startedAt"],
        "deployedAt": fmt_time(now),
        "source": result["source"],
        "initiatedBy": op.get("initiatedBy").cloned().unwrap_or_else(|| json!({})),
    }));
    let skip = history.len().saturating_sub(limit);
    app["status"]["history"] = json!(history[skip..]);
}
