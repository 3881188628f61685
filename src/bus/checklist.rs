//! Ticks on a release's shared checklist: the ConfigMap read fresh, the change applied
//! to what is there now (a newer mark by a teammate is kept, every change is logged),
//! and written back with its resourceVersion, or created when it is the first tick.

use kube::api::{ApiResource, DynamicObject};
use serde_json::Value;

use super::Preview;
use super::kube::{EventSpec, Plan, Prepared, Unsendable};
use crate::clients::kube::{KubeActions, Write, WriteOp, resource};
use crate::domain::checklist::shared::{Change, SharedChecklist, configmap_name};
use crate::domain::checklist::{Mark, Release};

fn configmaps() -> ApiResource {
    resource("", "v1", "ConfigMap", "configmaps")
}

/// What the confirm dialog and the audit show: the change, and where it goes.
pub fn preview(namespace: &str, release: &str, item: &str, title: &str, mark: &Mark) -> Preview {
    let name = Release::parse(release)
        .map(|r| configmap_name(&r))
        .unwrap_or_default();
    let change = Change {
        item: item.to_owned(),
        mark: mark.clone(),
    };
    Preview {
        title: format!(
            "{} \"{title}\" for {release}",
            if mark.done { "Tick" } else { "Untick" }
        ),
        method: "PUT",
        path: format!("/api/v1/namespaces/{namespace}/configmaps/{name}"),
        content_type: "application/json",
        body: serde_json::to_string_pretty(&change).unwrap_or_default(),
        effect: format!(
            "Sets data[item.{item}] and appends to data[log] of the ConfigMap as it is when \
             sent (created if this is the release's first tick); a conflict re-reads it, so \
             teammates' ticks are kept."
        ),
    }
}

/// Reads the ConfigMap (or starts a new one), applies the change, plans the write.
pub(super) async fn prepare(
    kube: &KubeActions,
    env: &str,
    namespace: &str,
    release: &str,
    item: &str,
    title: &str,
    mark: &Mark,
) -> Result<Plan, Unsendable> {
    let release = Release::parse(release).map_err(|e| Unsendable::Invalid(e.to_string()))?;
    let r = configmaps();
    let name = configmap_name(&release);
    let existing = match kube.get(&r, namespace, &name).await {
        Ok(object) => Some(object),
        Err(e) if e.code() == Some(404) => None,
        Err(e) => return Err(e.into()),
    };
    let mut shared = match &existing {
        Some(object) => read(object, namespace)
            .ok_or_else(|| Unsendable::Invalid(format!("configmap/{name} is not a checklist")))?,
        None => SharedChecklist::new(namespace, env, release.clone()),
    };
    shared.apply(&Change {
        item: item.to_owned(),
        mark: mark.clone(),
    });
    let mut body = shared.to_configmap();
    if let Some(object) = &existing {
        body = merged(object, body).map_err(|source| Unsendable::Shape {
            what: format!("configmap/{name}"),
            source,
        })?;
    }
    let object: DynamicObject =
        serde_json::from_value(body).map_err(|source| Unsendable::Shape {
            what: format!("configmap/{name}"),
            source,
        })?;
    let target = k8s_openapi::api::core::v1::ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("ConfigMap".into()),
        name: Some(name.clone()),
        namespace: Some(namespace.to_owned()),
        uid: existing.as_ref().and_then(|o| o.metadata.uid.clone()),
        ..Default::default()
    };
    let verb = match (mark.done, mark.skipped) {
        (true, true) => "skipped",
        (true, false) => "ticked",
        (false, _) => "unticked",
    };
    let note = if mark.note.is_empty() {
        String::new()
    } else {
        format!(": {}", mark.note)
    };
    let op = if existing.is_some() {
        WriteOp::Replace(Box::new(object))
    } else {
        WriteOp::Create(Box::new(object))
    };
    Ok(Plan::Send(Box::new(Prepared {
        writes: vec![Write {
            resource: r,
            namespace: namespace.to_owned(),
            name: name.clone(),
            op,
        }],
        done: format!("{verb} \"{title}\" for {release}"),
        event: EventSpec {
            target,
            reason: if mark.done {
                "ChecklistItemTicked"
            } else {
                "ChecklistItemUnticked"
            },
            action: "Checklist".into(),
            message: format!(
                "{} {verb} \"{title}\" for {release} in {env} with rollcall{note}",
                mark.by
            ),
        },
        // Created meanwhile (409 AlreadyExists) or written meanwhile (409 Conflict).
        retry_on_conflict: true,
    })))
}

/// The existing object with rollcall's labels, annotations and data keys laid over it:
/// whatever else is on it stays, and its resourceVersion makes the PUT conditional.
fn merged(existing: &DynamicObject, ours: Value) -> Result<Value, serde_json::Error> {
    let mut out = serde_json::to_value(existing)?;
    for field in ["labels", "annotations"] {
        if let Some(map) = ours["metadata"][field].as_object() {
            for (k, v) in map {
                out["metadata"][field][k] = v.clone();
            }
        }
    }
    if let Some(map) = ours["data"].as_object() {
        for (k, v) in map {
            out["data"][k] = v.clone();
        }
    }
    Ok(out)
}

fn read(object: &DynamicObject, namespace: &str) -> Option<SharedChecklist> {
    let strings = |v: Option<&Value>| -> std::collections::BTreeMap<String, String> {
        v.and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    };
    let annotations = object.metadata.annotations.clone().unwrap_or_default();
    SharedChecklist::from_parts(
        namespace,
        &annotations.into_iter().collect(),
        &strings(object.data.get("data")),
        object.metadata.resource_version.clone(),
    )
}
