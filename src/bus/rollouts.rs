//! Argo Rollouts actions as data: for each, the exact requests the kubectl-argo-rollouts
//! plugin sends (shared/reference/02 §6) — same fields, same subresource, same patch type —
//! planned from the Rollout as last seen, so the confirm dialog shows what goes out.

use serde::Serialize;
use serde_json::json;

use crate::domain::RolloutRow;
use crate::domain::rollout::Strategy;

pub const MERGE: &str = "application/merge-patch+json";
pub const JSON_PATCH: &str = "application/json-patch+json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum RolloutAction {
    /// `promote` (or `promote --full`): leave the pause / skip to the end.
    Promote { full: bool },
    /// `abort`: traffic back to stable, canary scaled down.
    Abort,
    /// `retry rollout`: clear the abort, start the steps again.
    Retry,
    /// `pause`: stop progressing (spec.paused).
    Pause,
    /// Unpause a manual pause: the first request of `promote` (the plugin has no resume).
    Resume,
    /// `undo --to-revision N`: the template of that revision's ReplicaSet.
    Undo { revision: u64, replica_set: String },
    /// `set image NAME CONTAINER=IMAGE`: GET, edit, PUT.
    SetImage { container: String, image: String },
}

/// One request as it goes over the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WireRequest {
    pub method: &'static str,
    /// `status` for the status subresource.
    pub subresource: Option<&'static str>,
    pub content_type: &'static str,
    /// The body as sent (for undo and set image, a description of the object sent).
    pub body: String,
}

fn merge(status: bool, body: serde_json::Value) -> WireRequest {
    WireRequest {
        method: "PATCH",
        subresource: status.then_some("status"),
        content_type: MERGE,
        body: body.to_string(),
    }
}

impl RolloutAction {
    pub fn verb(&self) -> String {
        match self {
            RolloutAction::Promote { full: false } => "promote".into(),
            RolloutAction::Promote { full: true } => "promote --full".into(),
            RolloutAction::Abort => "abort".into(),
            RolloutAction::Retry => "retry rollout".into(),
            RolloutAction::Pause => "pause".into(),
            RolloutAction::Resume => "resume".into(),
            RolloutAction::Undo { revision, .. } => format!("undo --to-revision {revision}"),
            RolloutAction::SetImage { container, image } => {
                format!("set image {container}={image}")
            }
        }
    }

    /// Why the action does not apply to the Rollout now, if it does not.
    pub fn refusal(&self, ro: &RolloutRow) -> Option<String> {
        let name = &ro.name;
        match self {
            RolloutAction::Promote { full: false } if !ro.can_promote() => {
                Some(format!("{name} is not paused: nothing to promote"))
            }
            RolloutAction::Promote { full: true } if ro.fully_promoted() && !ro.paused => {
                Some(format!("{name} is already fully promoted"))
            }
            RolloutAction::Abort if !ro.can_abort() => Some(if ro.abort {
                format!("{name} is already aborted (retry with y)")
            } else if ro.invalid_spec() {
                format!("{name} has an invalid spec: fix the spec; an abort changes nothing")
            } else {
                format!("{name} is fully promoted: nothing to abort")
            }),
            RolloutAction::Retry if !ro.can_retry() => {
                Some(format!("{name} is not aborted: nothing to retry"))
            }
            RolloutAction::Pause if ro.paused => Some(format!("{name} is already paused")),
            RolloutAction::Resume if !ro.paused => Some(format!(
                "{name} is not manually paused (promote leaves a step pause)"
            )),
            _ => None,
        }
    }

    /// The requests the plugin sends for this action on `ro` (§6 of the reference).
    pub fn requests(&self, ro: &RolloutRow) -> Vec<WireRequest> {
        let mut out = Vec::new();
        match self {
            RolloutAction::Promote { full } => {
                if ro.paused {
                    out.push(merge(false, json!({"spec": {"paused": false}})));
                }
                if *full {
                    if !ro.fully_promoted() {
                        out.push(merge(true, json!({"status": {"promoteFull": true}})));
                    }
                } else if !ro.pause_conditions.is_empty() {
                    out.push(merge(true, json!({"status": {"pauseConditions": null}})));
                } else if ro.strategy == Strategy::Canary && !ro.steps.is_empty() {
                    let n = ro.steps.len() as u32;
                    let next = (ro.step_index.unwrap_or(0) + 1).min(n);
                    out.push(merge(
                        true,
                        json!({"status": {"pauseConditions": null, "currentStepIndex": next}}),
                    ));
                }
            }
            RolloutAction::Abort => out.push(merge(true, json!({"status": {"abort": true}}))),
            RolloutAction::Retry => out.push(merge(true, json!({"status": {"abort": false}}))),
            RolloutAction::Pause => out.push(merge(false, json!({"spec": {"paused": true}}))),
            RolloutAction::Resume => out.push(merge(false, json!({"spec": {"paused": false}}))),
            RolloutAction::Undo {
                revision,
                replica_set,
            } => out.push(WireRequest {
                method: "PATCH",
                subresource: None,
                content_type: JSON_PATCH,
                body: format!(
                    "[{{\"op\":\"replace\",\"path\":\"/spec/template\",\"value\":<spec.template of \
                     replicaset/{replica_set} (revision {revision}) without the \
                     rollouts-pod-template-hash label>}}]"
                ),
            }),
            RolloutAction::SetImage { container, image } => out.push(WireRequest {
                method: "PUT",
                subresource: None,
                content_type: "application/json",
                body: format!(
                    "<the Rollout as read (GET), with spec.template.spec.containers[name={container}].image \
                     = {image:?}; resourceVersion kept, so a conflict (409) is retried up to 5 times>"
                ),
            }),
        }
        out
    }

    /// What the user should expect, in words.
    pub fn effect(&self) -> &'static str {
        match self {
            RolloutAction::Promote { full: false } => {
                "The controller leaves the current pause and goes on with the next step."
            }
            RolloutAction::Promote { full: true } => {
                "Skips every remaining step, pause and analysis: the new version gets all traffic."
            }
            RolloutAction::Abort => {
                "Traffic goes back to stable at once; the canary ReplicaSet is scaled to zero after \
                 abortScaleDownDelaySeconds. The Rollout shows Degraded until retried or undone."
            }
            RolloutAction::Retry => "The abort is cleared and the steps start again from step 1.",
            RolloutAction::Pause => "The Rollout stops progressing until resumed or promoted.",
            RolloutAction::Resume => {
                "Clears spec.paused, the request kubectl argo rollouts promote sends first \
                 (the plugin has no resume command)."
            }
            RolloutAction::Undo { .. } => {
                "The plugin GETs the Rollout and LISTs its ReplicaSets first; the old template \
                 becomes a new revision (rollback to stable skips the steps)."
            }
            RolloutAction::SetImage { .. } => {
                "A new revision: the canary starts again at step 1 with this image."
            }
        }
    }
}

/// The confirm dialog's view of the requests: one block per request, in order.
pub fn preview(
    namespace: &str,
    name: &str,
    action: &RolloutAction,
    requests: &[WireRequest],
) -> super::Preview {
    let base = format!("/apis/argoproj.io/v1alpha1/namespaces/{namespace}/rollouts/{name}");
    let path_of = |r: &WireRequest| match r.subresource {
        Some(sub) => format!("{base}/{sub}"),
        None => base.clone(),
    };
    let first = requests.first();
    let mut body = String::new();
    for (i, r) in requests.iter().enumerate().skip(1) {
        body.push_str(&format!("{}. ", i + 1));
        body.push_str(&format!(
            "{} {}  ({})\n",
            r.method,
            path_of(r),
            r.content_type
        ));
        body.push_str(&r.body);
        body.push('\n');
    }
    let head = first
        .map(|r| r.body.clone())
        .unwrap_or_else(|| "(nothing to send)".into());
    let body = if body.is_empty() {
        head
    } else {
        format!("{head}\nthen\n{body}")
    };
    super::Preview {
        title: format!("kubectl argo rollouts {} {name}", action.verb()),
        method: first.map_or("PATCH", |r| r.method),
        path: first.map(path_of).unwrap_or(base.clone()),
        content_type: first.map_or(MERGE, |r| r.content_type),
        body,
        effect: action.effect().to_owned(),
    }
}
