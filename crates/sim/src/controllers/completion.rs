//! Pods that run to completion (restartPolicy Never or OnFailure, as a Job's pods): their
//! containers exit after a run time read from a `sleep N` in the command (else 5 s), with
//! exit code 0, or 1 for an unhealthy version. Never: the pod ends Succeeded or Failed.
//! OnFailure: a failed container restarts in place (restartCount climbs).

use jiff::SignedDuration;
use serde_json::{Value, json};

/// How long a run-to-completion pod's containers run: the longest `sleep N` in their
/// command or args, else 5 simulated seconds.
pub fn run_time(pod: &Value) -> SignedDuration {
    let words: Vec<String> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|c| {
            ["command", "args"].into_iter().flat_map(move |k| {
                c[k].as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .flat_map(|s| s.split_whitespace().map(String::from).collect::<Vec<_>>())
            })
        })
        .collect();
    let secs = words
        .windows(2)
        .filter(|w| w[0] == "sleep")
        .filter_map(|w| w[1].trim_end_matches(';').parse::<u32>().ok())
        .max()
        .unwrap_or(5);
    SignedDuration::from_secs(i64::from(secs.min(86_400)))
}

fn not_ready(pod: &mut Value, ts: &str, reason: &str) {
    if let Some(conds) = pod
        .pointer_mut("/status/conditions")
        .and_then(Value::as_array_mut)
    {
        for c in conds
            .iter_mut()
            .filter(|c| c["type"] == "Ready" || c["type"] == "ContainersReady")
        {
            *c = json!({"type": c["type"], "status": "False", "lastProbeTime": null,
                "lastTransitionTime": ts, "reason": reason});
        }
    }
}

/// Ends the pod's run at `ts`: every container exits (0, or 1 when `failed`). Returns the
/// kubelet event to record, if any.
pub fn finish(pod: &mut Value, ts: &str, failed: bool) -> Option<(String, String)> {
    let on_failure = pod.pointer("/spec/restartPolicy") == Some(&json!("OnFailure"));
    let (code, reason) = if failed {
        (1, "Error")
    } else {
        (0, "Completed")
    };
    let statuses = pod
        .pointer_mut("/status/containerStatuses")
        .and_then(Value::as_array_mut)?;
    let mut restarted = None;
    for s in statuses.iter_mut() {
        let started = s.pointer("/state/running/startedAt").cloned()?;
        let terminated = json!({"exitCode": code, "reason": reason, "startedAt": started,
            "finishedAt": ts, "containerID": s["containerID"]});
        if failed && on_failure {
            s["restartCount"] = json!(s["restartCount"].as_i64().unwrap_or(0) + 1);
            s["lastState"] = json!({"terminated": terminated});
            s["state"] = json!({"running": {"startedAt": ts}});
            restarted = s["name"].as_str().map(String::from);
        } else {
            s["state"] = json!({"terminated": terminated});
            s["ready"] = json!(false);
            s["started"] = json!(false);
        }
    }
    if let Some(name) = restarted {
        return Some((name.clone(), format!("Started container {name}")));
    }
    let phase = if failed { "Failed" } else { "Succeeded" };
    pod["status"]["phase"] = json!(phase);
    not_ready(pod, ts, if failed { "PodFailed" } else { "PodCompleted" });
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_for_its_sleep_then_succeeds_or_fails() {
        let mut pod = json!({"spec": {"restartPolicy": "Never", "containers": [{"name": "smoke",
            "command": ["sh", "-c", "curl -fsS http://graphql-gateway:8080/health/ready && sleep 8"]}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "smoke", "ready": true, "restartCount": 0,
                    "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}]}});
        assert_eq!(run_time(&pod), SignedDuration::from_secs(8));
        let mut failed = pod.clone();
        assert!(finish(&mut pod, "2026-01-01T00:00:08Z", false).is_none());
        assert_eq!(pod["status"]["phase"], "Succeeded");
        assert_eq!(
            pod["status"]["containerStatuses"][0]["state"]["terminated"]["reason"],
            "Completed"
        );
        assert_eq!(pod["status"]["conditions"][0]["reason"], "PodCompleted");
        finish(&mut failed, "2026-01-01T00:00:08Z", true);
        assert_eq!(failed["status"]["phase"], "Failed");
        assert_eq!(
            failed["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"],
            1
        );
        let mut retry = json!({"spec": {"restartPolicy": "OnFailure"}, "status": {"phase": "Running",
            "containerStatuses": [{"name": "c", "restartCount": 0, "state": {"running": {"startedAt": "t0"}}}]}});
        assert!(finish(&mut retry, "t1", true).is_some());
        assert_eq!(retry["status"]["phase"], "Running");
        assert_eq!(retry["status"]["containerStatuses"][0]["restartCount"], 1);
        assert_eq!(run_time(&retry), SignedDuration::from_secs(5));
    }
}
