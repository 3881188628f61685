//! `rollcall advise` output: the ranked plans as text to paste into an incident
//! channel, or JSON.

use jiff::Timestamp;
use serde_json::json;

use crate::bus::Preview;
use crate::domain::advisor::{Plan, Severity, StepAction};
use crate::domain::format::duration;

/// `previews[plan][step]`: what each step sends (None for a wait).
pub fn report(
    env: &str,
    service: &str,
    now: Timestamp,
    plans: &[Plan],
    previews: &[Vec<Option<Preview>>],
    as_json: bool,
) -> String {
    if as_json {
        let plans: Vec<_> = plans
            .iter()
            .zip(previews)
            .map(|(p, pv)| {
                let steps: Vec<_> = p
                    .steps
                    .iter()
                    .zip(pv)
                    .map(|(s, preview)| {
                        json!({"action": s.action, "describe": s.action.describe(),
                            "why": s.why, "expected_secs": s.expected_secs,
                            "blocker": s.blocker,
                            "sends": preview.as_ref().map(|v| json!({"method": v.method,
                                "path": v.path, "body": v.body}))})
                    })
                    .collect();
                json!({"title": p.title, "blocked": p.blocked(), "expected_secs": p.expected_secs,
                    "rank_reason": p.rank_reason, "risks": p.risks, "steps": steps})
            })
            .collect();
        let doc = json!({"environment": env, "service": service, "at": now.to_string(),
            "plans": plans});
        return serde_json::to_string_pretty(&doc).unwrap_or_default();
    }
    if plans.is_empty() {
        return format!("{service} in {env}: nothing deployed to roll back to");
    }
    let mut out = format!(
        "Ways back for {service} in {env} ({} UTC), best first:\n",
        now.strftime("%Y-%m-%d %H:%M")
    );
    for (i, (plan, pv)) in plans.iter().zip(previews).enumerate() {
        let rank = if plan.blocked() {
            "BLOCKED".to_owned()
        } else if i == 0 {
            "BEST".to_owned()
        } else {
            format!("#{}", i + 1)
        };
        out.push_str(&format!(
            "\n{}. [{rank}] {} (~{})\n   {}\n",
            i + 1,
            plan.title,
            duration(plan.expected_secs as i64),
            plan.rank_reason
        ));
        for (n, (step, preview)) in plan.steps.iter().zip(pv).enumerate() {
            out.push_str(&format!(
                "   {}. {} (~{})\n      why: {}\n",
                n + 1,
                step.action.describe(),
                duration(step.expected_secs as i64),
                step.why
            ));
            if let Some(blocker) = &step.blocker {
                out.push_str(&format!("      BLOCKED: {blocker}\n"));
            }
            match (preview, &step.action) {
                (Some(p), _) => out.push_str(&format!("      sends: {} {}\n", p.method, p.path)),
                (None, StepAction::WaitHealthy { .. }) => out.push_str(
                    "      sends nothing: watches the app until Healthy (10 min at most)\n",
                ),
                (None, _) => out.push_str("      sends: cannot be built from what was read\n"),
            }
        }
        for risk in &plan.risks {
            let tag = match risk.severity {
                Severity::Blocker => "BLOCKS",
                Severity::Warning => "risk",
                Severity::Note => "note",
            };
            out.push_str(&format!("   {tag}: {}\n", risk.text));
        }
    }
    out
}
