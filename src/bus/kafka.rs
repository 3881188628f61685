//! The Kafka commands' stages. An offset reset runs the broker's own
//! `kafka-consumer-groups.sh` in the broker pod (pods/exec): the group's state first
//! (Kafka resets only an inactive group), then `--dry-run` (the plan the dialog shows),
//! then `--execute`. A topic rollback is a merge patch of a `KafkaTopic`'s spec, the
//! Kubernetes family's: prepared here from a fresh read, dry-run and sent by the pipeline.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::ObjectReference;
use serde::Serialize;
use serde_json::Value;

use super::Command;
use super::command::Preview;
use super::kube::{EventSpec, Plan, Prepared, Unsendable};
use crate::clients::kafka::{KafkaError, KafkaTools};
use crate::clients::kube::{Access, KubeActions, PatchBody, Write, WriteOp, resource};
use crate::domain::kafka::table::ToolError;
use crate::domain::kafka::topics::{self, TopicDiff, TopicSpec};
use crate::domain::kafka::{GroupState, ResetPlan, ResetSpec, datetime, reset_args};

/// The broker pod a command's tools run in, fixed at preview time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Broker {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub bootstrap: String,
}

impl Broker {
    pub fn of(kafka: &crate::config::Kafka) -> Self {
        Broker {
            namespace: kafka.namespace.clone(),
            pod: kafka.pod.clone(),
            container: kafka.container.clone(),
            bootstrap: kafka.bootstrap.clone(),
        }
    }

    fn config(&self) -> crate::config::Kafka {
        crate::config::Kafka {
            namespace: self.namespace.clone(),
            pod: self.pod.clone(),
            container: self.container.clone(),
            bootstrap: self.bootstrap.clone(),
            topics_backup: None,
        }
    }
}

/// Why an offset reset was not done, in the words the user reads.
#[derive(Debug, thiserror::Error)]
pub enum ResetRefused {
    #[error(
        "refused: group {group} is {state} with {members} active member(s); Kafka resets \
         offsets only of an inactive group (the tool: \"Assignments can only be reset if \
         the group '{group}' is inactive, but the current state is {state}.\"); stop its \
         consumers first; nothing was changed"
    )]
    Active {
        group: String,
        state: GroupState,
        members: u32,
    },
    /// The tool cannot find the topic; its own words do not name it.
    #[error(
        "refused: topic {topic} is not in the cluster (kafka-consumer-groups.sh: {tool}); \
         nothing was changed"
    )]
    UnknownTopic { topic: String, tool: ToolError },
    #[error("refused by kafka-consumer-groups.sh: {0}; nothing was changed")]
    Tool(ToolError),
    /// Checked before anything runs in the pod.
    #[error("refused: {0}; nothing was sent")]
    Input(String),
    #[error("{0}")]
    Kafka(KafkaError),
}

impl From<KafkaError> for ResetRefused {
    fn from(e: KafkaError) -> Self {
        match e {
            KafkaError::Tool(t) => ResetRefused::Tool(t),
            other => ResetRefused::Kafka(other),
        }
    }
}

/// The sentence the pane and the bus refuse an active group with, before any dialog.
pub fn active_refusal(group: &str, state: &GroupState, members: u32) -> String {
    ResetRefused::Active {
        group: group.to_owned(),
        state: state.clone(),
        members,
    }
    .to_string()
}

/// `create pods/exec` on the broker pod: what `kubectl exec` needs.
pub fn exec_access(broker: &Broker) -> Access {
    Access {
        verb: "create",
        group: "",
        resource: "pods",
        subresource: Some("exec"),
        namespace: broker.namespace.clone(),
        name: broker.pod.clone(),
    }
}

pub fn reset_preview(broker: &Broker, group: &str, topic: &str, spec: &ResetSpec) -> Preview {
    let args = reset_args(&broker.bootstrap, group, topic, spec, true);
    Preview {
        title: format!("Reset offsets of {group} on {topic} {}", spec.describe()),
        method: "EXEC",
        path: format!(
            "/api/v1/namespaces/{}/pods/{}/exec?container={}",
            broker.namespace, broker.pod, broker.container
        ),
        content_type: "the broker's kafka-consumer-groups.sh (kubectl exec)",
        body: args.join(" "),
        effect: format!(
            "{}The group's committed offsets move as the plan below says: its consumers \
             read again from there when they start. The group's state is checked first \
             (Kafka resets only an inactive group), then the tool's --dry-run, then \
             --execute.",
            match spec {
                ResetSpec::ToDatetime(t) => datetime::parse_at(t)
                    .map(|t| format!("Datetime: {}. ", t.describe()))
                    .unwrap_or_default(),
                _ => String::new(),
            }
        ),
    }
}

fn tools(kube: &KubeActions, broker: &Broker) -> KafkaTools {
    KafkaTools::new(kube.client().clone(), broker.config())
}

/// The tool's refusal of a reset, naming the topic when the tool could not find it.
fn refusal(e: KafkaError, topic: &str) -> ResetRefused {
    match e {
        KafkaError::Tool(tool @ ToolError::UnknownTopic { .. }) => ResetRefused::UnknownTopic {
            topic: topic.to_owned(),
            tool,
        },
        other => other.into(),
    }
}

/// The datetime against `now`, the state check, the committed offsets and the tool's
/// dry run: the plan.
async fn plan(
    tools: &KafkaTools,
    group: &str,
    topic: &str,
    spec: &ResetSpec,
    now: Timestamp,
) -> Result<ResetPlan, ResetRefused> {
    // A time to come has no message after it: the tool would move every partition to
    // its end, a reset to latest in disguise. The prompt refuses it; so does the bus.
    if let ResetSpec::ToDatetime(t) = spec {
        datetime::parse(t, now).map_err(ResetRefused::Input)?;
    }
    let state = tools.describe_state(group).await?;
    if !state.state.resettable() {
        return Err(ResetRefused::Active {
            group: group.to_owned(),
            state: state.state,
            members: state.members,
        });
    }
    let current = tools.describe_offsets(group).await?;
    let dry = tools
        .reset(group, topic, spec, false)
        .await
        .map_err(|e| refusal(e, topic))?;
    Ok(ResetPlan::new(
        group,
        &current.rows,
        &dry.rows,
        dry.warnings,
    ))
}

/// The dialog's dry run: the plan, a line per partition. `now` is the app's clock (the
/// demo's runs fast, as the simulated cluster's does).
pub(super) async fn dry_run(
    kube: &KubeActions,
    command: &Command,
    now: Timestamp,
) -> Result<String, String> {
    let Command::KafkaResetOffsets {
        broker,
        group,
        topic,
        spec,
        ..
    } = command
    else {
        return Err(format!("{} is not an offset reset", command.summary()));
    };
    let plan = plan(&tools(kube, broker), group, topic, spec, now)
        .await
        .map_err(|e| e.to_string())?;
    Ok(plan.lines().join("\n"))
}

/// Checks, dry run, execute: what was done, and the Event for the broker pod.
pub(super) async fn execute(
    kube: &KubeActions,
    command: &Command,
    user: &str,
    now: Timestamp,
) -> Result<(String, EventSpec), String> {
    let Command::KafkaResetOffsets {
        broker,
        group,
        topic,
        spec,
        ..
    } = command
    else {
        return Err(format!("{} is not an offset reset", command.summary()));
    };
    let tools = tools(kube, broker);
    let planned = plan(&tools, group, topic, spec, now)
        .await
        .map_err(|e| e.to_string())?;
    let current: Vec<_> = planned
        .partitions
        .iter()
        .map(|p| crate::domain::kafka::OffsetRow {
            group: group.clone(),
            topic: p.topic.clone(),
            partition: p.partition,
            current: p.current,
            end: None,
            lag: None,
            consumer_id: None,
            host: None,
            client_id: None,
        })
        .collect();
    let done = tools
        .reset(group, topic, spec, true)
        .await
        .map_err(|e| refusal(e, topic).to_string())?;
    let applied = ResetPlan::new(group, &current, &done.rows, done.warnings);
    let moved: Vec<String> = applied
        .partitions
        .iter()
        .map(|p| {
            format!(
                "[{}] {} → {}",
                p.partition,
                p.current.map_or("-".into(), |c| c.to_string()),
                p.new
            )
        })
        .collect();
    // What was replayed comes early: the status line cuts a long message at its width.
    let text = format!(
        "{group} reset {}: {} ({topic} {})",
        spec.describe(),
        applied.totals(),
        moved.join(", ")
    );
    let event = EventSpec {
        target: ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Pod".into()),
            name: Some(broker.pod.clone()),
            namespace: Some(broker.namespace.clone()),
            ..Default::default()
        },
        reason: "ConsumerOffsetsReset",
        action: "ResetOffsets".into(),
        message: format!("{user} reset {text} with rollcall"),
    };
    Ok((text, event))
}

fn kafkatopics() -> kube::api::ApiResource {
    resource(topics::GROUP, topics::VERSION, topics::KIND, topics::PLURAL)
}

pub fn topic_access(namespace: &str, name: &str) -> Vec<Access> {
    vec![
        Access {
            verb: "get",
            group: topics::GROUP,
            resource: topics::PLURAL,
            subresource: None,
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        },
        Access {
            verb: "patch",
            group: topics::GROUP,
            resource: topics::PLURAL,
            subresource: None,
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        },
    ]
}

/// The merge patch as the dialog shows it, and what it leaves out.
pub fn topic_preview(namespace: &str, name: &str, patch: &Value, left_out: &[String]) -> Preview {
    let mut effect = "The Topic Operator applies the spec to the topic; config keys set to \
                      null go back to the broker's default."
        .to_owned();
    for l in left_out {
        effect.push_str(&format!(" Not sent: {l}."));
    }
    Preview {
        title: format!("Restore kafkatopic/{name} from the backup"),
        method: "PATCH",
        path: format!(
            "/apis/{}/{}/namespaces/{namespace}/{}/{name}",
            topics::GROUP,
            topics::VERSION,
            topics::PLURAL
        ),
        content_type: "application/merge-patch+json",
        body: serde_json::to_string_pretty(patch).unwrap_or_default(),
        effect,
    }
}

/// The live object read fresh, the diff against the backup made again: sent only when
/// it still gives the patch the user confirmed (and what it left out).
pub(super) async fn prepare_topic(
    kube: &KubeActions,
    namespace: &str,
    name: &str,
    backup: &Value,
    confirmed: &Value,
    confirmed_left_out: &[String],
    user: &str,
) -> Result<Plan, Unsendable> {
    let r = kafkatopics();
    let object = kube.get(&r, namespace, name).await?;
    let value = serde_json::to_value(&object).map_err(|source| Unsendable::Shape {
        what: format!("kafkatopic/{name}"),
        source,
    })?;
    let live = TopicSpec::from_object(&value).map_err(Unsendable::Invalid)?;
    let backup = TopicSpec::from_object(backup).map_err(Unsendable::Invalid)?;
    let diff = TopicDiff {
        name: name.to_owned(),
        rows: topics::diff(&live, &backup),
        live: Some(live),
        backup: Some(backup),
    };
    let refused = diff.refused();
    let Some(patch) = diff.restore_patch() else {
        if refused.is_empty() {
            return Ok(Plan::Nothing(format!(
                "kafkatopic/{name} already has the backup's configuration"
            )));
        }
        // What still differs is what Kafka refuses: done already when the dialog said
        // so; else the topic moved under it (a confirmed growth it has since outgrown).
        if refused == confirmed_left_out {
            return Ok(Plan::Nothing(format!(
                "kafkatopic/{name} already has what Kafka accepts of the backup's \
                 configuration (not sent: {})",
                refused.join("; ")
            )));
        }
        return Err(Unsendable::Invalid(format!(
            "kafkatopic/{name} changed since the preview: what differs from the backup now \
             is only what Kafka refuses ({}); nothing was sent",
            refused.join("; ")
        )));
    };
    if patch != *confirmed {
        return Err(Unsendable::Invalid(format!(
            "kafkatopic/{name} changed since the preview; nothing was sent — look again \
             and retry"
        )));
    }
    Ok(Plan::Send(Box::new(Prepared {
        writes: vec![Write {
            resource: r.clone(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            op: WriteOp::Patch {
                body: PatchBody::Merge(patch),
                status: false,
            },
        }],
        done: format!("kafkatopic/{name} restored from the backup"),
        event: EventSpec {
            target: ObjectReference {
                api_version: Some(r.api_version.clone()),
                kind: Some(r.kind.clone()),
                name: object.metadata.name.clone(),
                namespace: object.metadata.namespace.clone(),
                uid: object.metadata.uid.clone(),
                ..Default::default()
            },
            reason: "TopicConfigRestored",
            action: "Restore".into(),
            message: format!("{user} restored kafkatopic/{name} from the backup with rollcall"),
        },
        retry_on_conflict: false,
    })))
}
