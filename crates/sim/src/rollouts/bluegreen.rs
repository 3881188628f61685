//! The blueGreen strategy: the new ReplicaSet comes up behind the preview Service; once it
//! is available the active Service switches to it, unless `autoPromotionEnabled: false`,
//! which pauses first (`BlueGreenPause`) until a promote removes the pause condition.
//! Abort keeps the active Service on the stable ReplicaSet and scales the preview away.

use jiff::SignedDuration;
use serde_json::json;

use crate::clock::{fmt_time, parse_time};
use crate::rollouts::replicasets::scale;
use crate::rollouts::{Ctx, event, istio, remove, scale_down_others};

pub fn reconcile(c: &mut Ctx) {
    let bg = c.ro["spec"]["strategy"]["blueGreen"].clone();
    let new_hash = c.rss[c.new].hash().to_string();
    let stable_hash = c.st["stableRS"].as_str().unwrap_or("").to_string();
    let stable = c.rss.iter().position(|r| r.hash() == stable_hash);
    if stable.is_none() {
        c.st["stableRS"] = json!(new_hash);
    }
    let delay = bg["scaleDownDelaySeconds"].as_i64().unwrap_or(30);
    if c.st["stableRS"] == json!(new_hash) {
        remove(c.st, "pauseConditions");
        remove(c.st, "controllerPause");
        remove(c.st, "promoteFull");
        let n = c.replicas;
        scale(c.shared, c.rec, c.ro, &mut c.rss[c.new], n);
        scale_down_others(c, &[c.new], delay);
        return switch(c, &new_hash, &new_hash);
    }
    let stable = stable.unwrap_or(c.new);
    let n = c.replicas;
    scale(c.shared, c.rec, c.ro, &mut c.rss[stable], n);
    if c.st["abort"] == json!(true) {
        let at = match c.st["abortedAt"].as_str().and_then(parse_time) {
            Some(t) => t,
            None => {
                c.st["abortedAt"] = json!(fmt_time(c.now));
                let rev = c.rss[c.new].revision();
                event(
                    c,
                    "RolloutAborted",
                    format!("Rollout aborted update to revision {rev}"),
                    true,
                );
                c.now
            }
        };
        remove(c.st, "pauseConditions");
        remove(c.st, "controllerPause");
        let abort_delay = bg["abortScaleDownDelaySeconds"].as_i64().unwrap_or(30);
        if c.now >= at + SignedDuration::from_secs(abort_delay.max(0)) {
            scale(c.shared, c.rec, c.ro, &mut c.rss[c.new], 0);
        }
        return switch(c, &stable_hash, &stable_hash);
    }
    remove(c.st, "abortedAt");
    let preview = bg["previewReplicaCount"].as_i64().unwrap_or(n);
    scale(c.shared, c.rec, c.ro, &mut c.rss[c.new], preview);
    scale_down_others(c, &[c.new, stable], delay);
    let ready = c.rss[c.new].available() >= preview;
    let auto = bg["autoPromotionEnabled"] != json!(false);
    let full = c.st["promoteFull"] == json!(true);
    let mut cutover = ready && (auto || full);
    if ready && !cutover {
        let conds = c.st["pauseConditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mine = conds.iter().any(|p| p["reason"] == "BlueGreenPause");
        if !mine && c.st["controllerPause"] != json!(true) {
            c.st["pauseConditions"] =
                json!([{"reason": "BlueGreenPause", "startTime": fmt_time(c.now)}]);
            c.st["controllerPause"] = json!(true);
            event(
                c,
                "RolloutPaused",
                "Rollout is paused (BlueGreenPause)".into(),
                false,
            );
        } else if !mine {
            // The user promoted: the pause condition is gone.
            cutover = true;
        }
    }
    if cutover {
        remove(c.st, "pauseConditions");
        remove(c.st, "controllerPause");
        c.st["stableRS"] = json!(new_hash);
        event(
            c,
            "SwitchService",
            format!(
                "Switched selector for service '{}' from '{stable_hash}' to '{new_hash}'",
                bg["activeService"].as_str().unwrap_or("")
            ),
            false,
        );
        return switch(c, &new_hash, &new_hash);
    }
    switch(c, &stable_hash, &new_hash);
}

/// Points the active and preview Services (and the status selectors) at pod hashes.
fn switch(c: &mut Ctx, active: &str, preview: &str) {
    c.st["blueGreen"] = json!({"activeSelector": active, "previewSelector": preview});
    istio::select(c.shared, c.ro, "activeService", active);
    istio::select(c.shared, c.ro, "previewService", preview);
}
