//! The demo's prod checklist for customer-adapter v1.2.0, half walked by the team: the
//! ConfigMap rollcall keeps a release's ticks in (`rollcall-checklist-<service>-<version>`,
//! one `item.<id>` key per ticked item with the mark as JSON, and a `log` of every
//! change as JSON lines), written as two teammates left it this morning.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::Shared;
use crate::clock::fmt_time;
use crate::resources::{CONFIGMAPS, def};

pub const NAME: &str = "rollcall-checklist-customer-adapter-v1-2-0";
const NAMESPACE: &str = "dictamesh-prod";

/// (item, who, minutes ago, note).
const TICKS: &[(&str, &str, i64, &str)] = &[
    (
        "ci-tests",
        "maria.santos@dictamesh.io",
        310,
        "main pipeline #412 green",
    ),
    (
        "code-review",
        "maria.santos@dictamesh.io",
        305,
        "PR #238, two approvals",
    ),
    ("docs", "joao.pereira@dictamesh.io", 240, ""),
    (
        "rollback-plan",
        "joao.pereira@dictamesh.io",
        235,
        "abort the canary; else Argo CD rollback to the previous history id",
    ),
    (
        "stakeholders",
        "maria.santos@dictamesh.io",
        180,
        "#releases announcement",
    ),
];

pub fn build(shared: &Shared, now: Timestamp) {
    let mut data = serde_json::Map::new();
    let mut log = Vec::new();
    for (item, by, minutes, note) in TICKS {
        let at = fmt_time(now - SignedDuration::from_mins(*minutes));
        let mut mark = json!({"done": true, "by": by, "at": at});
        if !note.is_empty() {
            mark["note"] = json!(note);
        }
        data.insert(format!("item.{item}"), json!(mark.to_string()));
        let mut change = json!({"item": item});
        if let (Some(c), Some(m)) = (change.as_object_mut(), mark.as_object()) {
            c.extend(m.clone());
        }
        log.push(change.to_string());
    }
    data.insert("log".into(), json!(log.join("\n")));
    let object: Value = json!({
        "metadata": {
            "name": NAME,
            "labels": {"rollcall.dev/checklist": "true", "app.kubernetes.io/managed-by": "rollcall"},
            "annotations": {
                "rollcall.dev/release": "customer-adapter@v1.2.0",
                "rollcall.dev/environment": "prod",
            },
        },
        "data": data,
    });
    super::create_at(shared, def(CONFIGMAPS), NAMESPACE, object);
}
