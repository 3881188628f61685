//! Resource health as Argo CD computes it: gitops-engine's Deployment check, the
//! `argoproj.io/Rollout` Lua health script, Services always Healthy, and the app's health as
//! the worst of its resources (Healthy < Suspended < Progressing < Missing < Degraded < Unknown).

use serde_json::Value;

/// A health code and its message (empty when there is none).
pub type Health = (&'static str, String);

const ORDER: &[&str] = &[
    "Healthy",
    "Suspended",
    "Progressing",
    "Missing",
    "Degraded",
    "Unknown",
];

/// The worse of two health codes.
pub fn worst(a: &'static str, b: &'static str) -> &'static str {
    let rank = |s: &str| ORDER.iter().position(|x| *x == s).unwrap_or(ORDER.len());
    if rank(b) > rank(a) { b } else { a }
}

fn int(v: &Value, ptr: &str) -> i64 {
    v.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
}

/// gitops-engine `getAppsv1DeploymentHealth`.
pub fn deployment(d: &Value) -> Health {
    let name = d["metadata"]["name"].as_str().unwrap_or("");
    if d["spec"]["paused"] == Value::Bool(true) {
        return ("Suspended", "Deployment is paused".into());
    }
    if int(d, "/metadata/generation") > int(d, "/status/observedGeneration") {
        return (
            "Progressing",
            "Waiting for rollout to finish: observed deployment generation less than desired generation".into(),
        );
    }
    let deadline = d["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == "Progressing" && c["reason"] == "ProgressDeadlineExceeded")
    });
    if deadline {
        return (
            "Degraded",
            format!("Deployment \"{name}\" exceeded its progress deadline"),
        );
    }
    let spec = d["spec"]["replicas"].as_i64().unwrap_or(1);
    let (replicas, updated, available) = (
        int(d, "/status/replicas"),
        int(d, "/status/updatedReplicas"),
        int(d, "/status/availableReplicas"),
    );
    if updated < spec {
        return (
            "Progressing",
            format!(
                "Waiting for rollout to finish: {updated} out of {spec} new replicas have been updated..."
            ),
        );
    }
    if replicas > updated {
        return (
            "Progressing",
            format!(
                "Waiting for rollout to finish: {} old replicas are pending termination...",
                replicas - updated
            ),
        );
    }
    if available < updated {
        return (
            "Progressing",
            format!(
                "Waiting for rollout to finish: {available} of {updated} updated replicas are available..."
            ),
        );
    }
    ("Healthy", String::new())
}

/// Argo CD's `argoproj.io/Rollout` health.lua (the v1.0+ `status.phase` branch first).
pub fn rollout(r: &Value) -> Health {
    let st = &r["status"];
    if !st.is_object() {
        return (
            "Progressing",
            "Waiting for rollout spec update to be observed".into(),
        );
    }
    let observed = st["observedGeneration"]
        .as_str()
        .and_then(|s| s.parse::<i64>().ok())
        .or_else(|| st["observedGeneration"].as_i64());
    let generation = int(r, "/metadata/generation");
    if let Some(o) = observed
        && o < generation
    {
        return (
            "Progressing",
            "Waiting for rollout spec update to be observed".into(),
        );
    }
    let message = st["message"].as_str().unwrap_or("").to_string();
    match st["phase"].as_str() {
        Some("Paused") => ("Suspended", message),
        Some("Healthy") => ("Healthy", message),
        Some("Progressing") => ("Progressing", message),
        Some("Degraded") => ("Degraded", message),
        Some(_) => ("Unknown", message),
        None => (
            "Progressing",
            "Waiting for rollout to finish: status has not been reconciled.".into(),
        ),
    }
}

/// The health of a live object of a managed kind; None for kinds without a health check.
pub fn of(kind: &str, live: &Value) -> Option<Health> {
    match kind {
        "Deployment" => Some(deployment(live)),
        "Rollout" => Some(rollout(live)),
        "Service" => Some(("Healthy", String::new())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deployment_and_rollout_health_follow_argocd() {
        let d = json!({"metadata": {"name": "web", "generation": 2},
            "spec": {"replicas": 3},
            "status": {"observedGeneration": 2, "replicas": 4, "updatedReplicas": 3, "availableReplicas": 3}});
        assert_eq!(
            deployment(&d),
            (
                "Progressing",
                "Waiting for rollout to finish: 1 old replicas are pending termination...".into()
            )
        );
        let mut healthy = d.clone();
        healthy["status"]["replicas"] = json!(3);
        assert_eq!(deployment(&healthy).0, "Healthy");
        let mut stale = healthy.clone();
        stale["metadata"]["generation"] = json!(3);
        assert_eq!(deployment(&stale).0, "Progressing");
        let mut dead = healthy;
        dead["status"]["conditions"] =
            json!([{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}]);
        assert_eq!(
            deployment(&dead),
            (
                "Degraded",
                "Deployment \"web\" exceeded its progress deadline".into()
            )
        );
        let paused = json!({"metadata": {"generation": 1}, "status": {"observedGeneration": "1", "phase": "Paused", "message": "CanaryPauseStep"}});
        assert_eq!(rollout(&paused), ("Suspended", "CanaryPauseStep".into()));
        assert_eq!(worst("Healthy", "Suspended"), "Suspended");
        assert_eq!(worst("Degraded", "Progressing"), "Degraded");
        assert_eq!(of("VirtualService", &paused), None);
    }
}
