//! The Kafka layer of a way back: a bad version may have consumed events and mangled
//! what it wrote from them, so once the application is back on a good version its
//! consumer groups replay from when the bad version started running.
//!
//! The replay is appended to every plan rather than being a plan of its own: it is the
//! second half of the same rollback (the code back, then its input processed again by
//! the good code), not an alternative to it. A separate plan would rank on its own and
//! be forgotten once the app looks Healthy; appended, the engineer reads "roll back,
//! then replay from 11:29" as one sequence, and the run reaches it only after the
//! rollback succeeded.

use jiff::Timestamp;

use super::{PlanStep, Risk, Severity, Situation, StepAction};
use crate::domain::format::duration;
use crate::domain::kafka::GroupView;
use crate::domain::rollout::view::RevisionRole;

/// One consumer group of the service (named in config) and what the Kafka pane last
/// read of it.
#[derive(Debug)]
pub struct GroupFacts<'a> {
    pub group: &'a str,
    pub topic: &'a str,
    /// The group in the last read; `None` when it was not in it, or nothing was read.
    pub read: Option<&'a GroupView>,
    /// When Kafka was last read; `None` before the first answer.
    pub read_at: Option<Timestamp>,
}

/// The reset runs the tool three times in the broker pod (state, dry run, execute).
const RESET_SECS: u64 = 20;

/// When the version running now began running, and where that was read. Argo CD's
/// history first (the release as it went out, even when its pods were re-created
/// since): the start of the sync that first deployed the running revision, since the
/// new pods consume from their first seconds, before the sync is done. Else the
/// workload's own record: the canary's (or the promoted) ReplicaSet, or the
/// Deployment's current revision, created when its first pod of that version was.
pub fn bad_version_since(s: &Situation<'_>) -> Option<(Timestamp, String)> {
    if let Some(app) = s.app
        && let Some(rev) = app.deployed_revision()
        && let Some(newest) = app.history.iter().rposition(|h| h.revision == rev)
    {
        // The run of entries deploying this revision (a re-sync adds one): its first.
        let first = app.history[..=newest]
            .iter()
            .rposition(|h| h.revision != rev)
            .map_or(0, |i| i + 1);
        let entry = &app.history[first];
        if let Some(at) = entry.deploy_started_at.or(entry.deployed_at) {
            return Some((
                at,
                format!("Argo CD history id {} of {}", entry.id, app.name),
            ));
        }
    }
    if let Some((ro, view)) = &s.rollout {
        let role = if view.fully_promoted {
            RevisionRole::Stable
        } else {
            RevisionRole::Canary
        };
        if let Some(rev) = view.revisions.iter().find(|r| r.role == role)
            && let Some(at) = rev.created
        {
            return Some((
                at,
                format!(
                    "rollout/{} revision {}",
                    ro.name,
                    rev.revision.map_or("?".into(), |r| r.to_string())
                ),
            ));
        }
    }
    let revs = s.revisions.as_ref()?;
    let current = revs.revisions.iter().find(|r| r.current)?;
    Some((
        current.created?,
        format!(
            "deployment/{} revision {}",
            revs.deployment, current.revision
        ),
    ))
}

/// The time as `--to-datetime` takes it (and the Kafka pane's prompt).
pub fn tool_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn utc(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// The steps appended to every plan, and the risks they bring.
pub fn replay(s: &Situation<'_>) -> (Vec<PlanStep>, Vec<Risk>) {
    let mut steps = Vec::new();
    let mut risks = Vec::new();
    if s.consumer_groups.is_empty() {
        return (steps, risks);
    }
    let Some((since, source)) = bad_version_since(s) else {
        let names: Vec<&str> = s.consumer_groups.iter().map(|g| g.group).collect();
        risks.push(Risk {
            severity: Severity::Warning,
            text: format!(
                "cannot tell when the running version started (no Argo CD history or \
                 revision time was read): replay {} by hand from the Kafka pane (K, t) to \
                 when the bad release went out",
                names.join(", ")
            ),
        });
        return (steps, risks);
    };
    for g in &s.consumer_groups {
        let mut step = PlanStep {
            action: StepAction::ResetConsumerGroup {
                group: g.group.to_owned(),
                topic: g.topic.to_owned(),
                to: since,
            },
            why: format!(
                "what the bad version consumed may be mangled downstream: the good one \
                 reads it again, from when the bad one started ({source})"
            ),
            expected_secs: RESET_SECS,
            blocker: None,
        };
        if let Some(view) = g.read
            && let Some(st) = &view.state
            && !st.state.resettable()
        {
            // Kafka refuses the reset; rollcall has no command that stops a consumer.
            step.blocker = Some(format!(
                "{} is {} with {} active member(s): Kafka resets only an inactive group, \
                 and rollcall cannot stop a consumer. Scale the group's consumers to 0 \
                 (kubectl scale deployment/NAME --replicas=0) before this step, and back \
                 up after it. Until the group reads Empty the run stops here; then reset it \
                 from the Kafka pane (K, t) to {}",
                g.group,
                st.state,
                st.members,
                tool_time(since)
            ));
        }
        steps.push(step);
        risks.push(lag_risk(s, g, since));
        risks.push(Risk {
            severity: Severity::Note,
            text: format!(
                "replaying {} is safe only if its consumer is idempotent: every message \
                 since {} is processed again, those the good version already handled too; \
                 if it is not (it sends mail, adds to counters), repair the data instead",
                g.group,
                utc(since)
            ),
        });
    }
    (steps, risks)
}

/// What the Kafka pane's last read says of the group's lag, which the reset adds to.
fn lag_risk(s: &Situation<'_>, g: &GroupFacts<'_>, since: Timestamp) -> Risk {
    let age = match (g.read_at, s.now) {
        (Some(at), Some(now)) => format!(
            " (read {} ago)",
            duration(now.duration_since(at).as_secs().max(0))
        ),
        _ => String::new(),
    };
    let text = match (g.read, g.read_at) {
        (Some(view), _) => {
            let on_topic: Vec<_> = view
                .partitions
                .iter()
                .filter(|p| p.topic == g.topic)
                .cloned()
                .collect();
            format!(
                "{} is {} message(s) behind on {}{age}; the reset adds every message since \
                 {} to that (the dialog's dry run counts them)",
                g.group,
                crate::domain::kafka::total_lag(&on_topic),
                g.topic,
                utc(since)
            )
        }
        (None, Some(_)) => format!(
            "{} was not in the last read of Kafka{age}: its state and lag are unknown",
            g.group
        ),
        (None, None) => format!(
            "Kafka has not been read yet: {}'s state and lag are unknown",
            g.group
        ),
    };
    Risk {
        severity: Severity::Note,
        text,
    }
}
