//! Server-side defaulting and validation of the kinds added for issue 3: Secrets (stringData
//! folded into base64 data), Jobs (the generated selector and labels, batch defaults, the
//! pod template's restart policy), ServiceAccounts and Nodes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::objects::default_pod_spec;
use crate::resources::{self, ResourceDef};

fn set_default(m: &mut Map<String, Value>, k: &str, v: Value) {
    if m.get(k).is_none_or(Value::is_null) {
        m.insert(k.to_string(), v);
    }
}

/// Defaulting for the kinds of this module (a no-op for the others).
pub fn apply_defaults(def: &ResourceDef, obj: &mut Value) {
    match def.id {
        resources::SECRETS => secret_defaults(obj),
        resources::JOBS => job_defaults(obj),
        _ => {}
    }
}

fn secret_defaults(obj: &mut Value) {
    let Some(m) = obj.as_object_mut() else {
        return;
    };
    set_default(m, "type", json!("Opaque"));
    // The API server folds stringData into data (base64) and never stores stringData.
    if let Some(Value::Object(sd)) = m.remove("stringData") {
        let data = m.entry("data").or_insert_with(|| json!({}));
        if !data.is_object() {
            *data = json!({});
        }
        if let Some(d) = data.as_object_mut() {
            for (k, v) in sd {
                let text = v.as_str().unwrap_or("");
                d.insert(k, json!(STANDARD.encode(text)));
            }
        }
    }
}

fn job_defaults(obj: &mut Value) {
    let name = obj["metadata"]["name"].clone();
    let uid = obj["metadata"]["uid"].clone();
    let generated = [
        ("batch.kubernetes.io/controller-uid", &uid),
        ("batch.kubernetes.io/job-name", &name),
        ("controller-uid", &uid),
        ("job-name", &name),
    ];
    let manual = obj.pointer("/spec/manualSelector") == Some(&json!(true));
    if let Some(md) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        let labels = md.entry("labels").or_insert_with(|| json!({}));
        if labels.as_object().is_some_and(Map::is_empty) {
            for (k, v) in generated {
                labels[k] = v.clone();
            }
        }
    }
    let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let both_unset = spec.get("completions").is_none_or(Value::is_null)
        && spec.get("parallelism").is_none_or(Value::is_null);
    set_default(spec, "parallelism", json!(1));
    if both_unset {
        set_default(spec, "completions", json!(1));
    }
    set_default(spec, "backoffLimit", json!(6));
    set_default(spec, "completionMode", json!("NonIndexed"));
    set_default(spec, "suspend", json!(false));
    set_default(spec, "manualSelector", json!(false));
    set_default(spec, "podReplacementPolicy", json!("TerminatingOrFailed"));
    if !manual {
        set_default(
            spec,
            "selector",
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}),
        );
    }
    let tmpl = spec.entry("template").or_insert_with(|| json!({}));
    if !tmpl.get("metadata").is_some_and(Value::is_object) {
        tmpl["metadata"] = json!({});
    }
    if !manual {
        let labels = &mut tmpl["metadata"]["labels"];
        if !labels.is_object() {
            *labels = json!({});
        }
        for (k, v) in generated {
            labels[k] = v.clone();
        }
    }
    if let Some(ps) = tmpl.get_mut("spec") {
        // A Job's pods have no default restart policy: it must be given (Never or OnFailure).
        let unset = ps.get("restartPolicy").is_none_or(Value::is_null);
        default_pod_spec(ps, false);
        if unset && let Some(m) = ps.as_object_mut() {
            m.remove("restartPolicy");
        }
    }
}

/// Field errors of the kinds of this module.
pub fn validate(def: &ResourceDef, obj: &Value, causes: &mut Vec<(&'static str, String)>) {
    match def.id {
        resources::JOBS => {
            match obj
                .pointer("/spec/template/spec/restartPolicy")
                .and_then(Value::as_str)
            {
                Some("Never" | "OnFailure") => {}
                Some(other) => causes.push((
                    "spec.template.spec.restartPolicy",
                    format!(
                        "Unsupported value: {other:?}: supported values: \"OnFailure\", \"Never\""
                    ),
                )),
                None => causes.push((
                    "spec.template.spec.restartPolicy",
                    "Required value: valid values: \"OnFailure\", \"Never\"".into(),
                )),
            }
            if obj
                .pointer("/spec/backoffLimit")
                .and_then(Value::as_i64)
                .is_some_and(|b| b < 0)
            {
                causes.push((
                    "spec.backoffLimit",
                    "Invalid value: must be greater than or equal to 0".into(),
                ));
            }
        }
        resources::SECRETS => {
            if let Some(data) = obj.get("data").and_then(Value::as_object) {
                for v in data.values() {
                    if v.as_str().is_none_or(|s| STANDARD.decode(s).is_err()) {
                        causes.push(("data", "Invalid value: values must be base64".into()));
                        break;
                    }
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{JOBS, SECRETS, def};

    #[test]
    fn secret_and_job_defaults() {
        let mut s = json!({"metadata": {"name": "db"}, "stringData": {"password": "hunter2"}});
        apply_defaults(def(SECRETS), &mut s);
        assert_eq!(s["type"], "Opaque");
        assert_eq!(s["data"]["password"], "aHVudGVyMg==");
        assert!(s.get("stringData").is_none());
        let mut j = json!({"metadata": {"name": "smoke-test", "uid": "u-1"},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "i:1"}]}}}});
        apply_defaults(def(JOBS), &mut j);
        assert_eq!(j["spec"]["completions"], 1);
        assert_eq!(j["spec"]["backoffLimit"], 6);
        assert_eq!(
            j["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"],
            "u-1"
        );
        assert_eq!(
            j["spec"]["template"]["metadata"]["labels"]["job-name"],
            "smoke-test"
        );
        assert_eq!(j["metadata"]["labels"]["controller-uid"], "u-1");
        let mut causes = Vec::new();
        validate(def(JOBS), &j, &mut causes);
        assert!(causes.is_empty());
        j["spec"]["template"]["spec"]["restartPolicy"] = json!("Always");
        validate(def(JOBS), &j, &mut causes);
        assert_eq!(causes[0].0, "spec.template.spec.restartPolicy");
    }
}
