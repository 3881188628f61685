//! Index fields extracted from an object when it is written (labels, owner, field-selector
//! values, readiness), so lists, watches and controllers filter without parsing JSON.

use serde_json::Value;

use crate::resources::{RESOURCES, ResourceDef};

/// Index fields extracted from an object when it is written; watchers and controllers filter on
/// these without parsing the JSON.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub namespace: Box<str>,
    pub name: Box<str>,
    pub uid: Box<str>,
    pub rv: u64,
    pub created: Box<str>,
    /// Sorted by key.
    pub labels: Box<[(Box<str>, Box<str>)]>,
    /// Name of the controlling owner (ownerReferences[controller=true]).
    pub owner: Option<Box<str>>,
    /// Kind-specific field-selector values, in `ResourceDef::fields` order.
    pub fields: Box<[Box<str>]>,
    pub def: usize,
    /// Pods: condition Ready is True.
    pub ready: bool,
    /// metadata.deletionTimestamp is set.
    pub deleting: bool,
}

impl Meta {
    pub fn label(&self, k: &str) -> Option<&str> {
        self.labels
            .binary_search_by(|(lk, _)| (**lk).cmp(k))
            .ok()
            .map(|i| &*self.labels[i].1)
    }

    pub fn field(&self, name: &str) -> &str {
        RESOURCES[self.def]
            .fields
            .iter()
            .position(|(n, _)| *n == name)
            .and_then(|i| self.fields.get(i))
            .map(|s| &**s)
            .unwrap_or("")
    }
}

fn str_at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

fn scalar_string(v: Option<&Value>) -> Box<str> {
    match v {
        Some(Value::String(s)) => s.as_str().into(),
        Some(Value::Bool(b)) => b.to_string().into(),
        Some(Value::Number(n)) => n.to_string().into(),
        _ => "".into(),
    }
}

/// Extracts the index fields of an object.
pub fn extract_meta(def: &ResourceDef, obj: &Value, rv: u64) -> Meta {
    let md = &obj["metadata"];
    let s = |k: &str| md.get(k).and_then(Value::as_str).unwrap_or("").into();
    let mut labels: Vec<(Box<str>, Box<str>)> = md
        .get("labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str().into(), v.as_str().unwrap_or("").into()))
                .collect()
        })
        .unwrap_or_default();
    labels.sort();
    let owner = md
        .get("ownerReferences")
        .and_then(Value::as_array)
        .and_then(|refs| {
            refs.iter()
                .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
                .and_then(|r| r.get("name").and_then(Value::as_str))
                .map(Into::into)
        });
    let fields = def
        .fields
        .iter()
        .map(|(_, path)| scalar_string(str_at(obj, path)))
        .collect();
    let ready = obj["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    });
    Meta {
        namespace: s("namespace"),
        name: s("name"),
        uid: s("uid"),
        rv,
        created: s("creationTimestamp"),
        labels: labels.into(),
        owner,
        fields,
        def: def.id,
        ready,
        deleting: md.get("deletionTimestamp").is_some_and(|v| !v.is_null()),
    }
}
