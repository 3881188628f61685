//! The Kafka commands through rollcall's own bus against the simulator's broker pod and
//! topic operator: an offset reset's dry run is the tool's plan, partition by partition;
//! executed, the committed offsets are the planned ones and the lag is up by exactly the
//! replayed count; an active group, an unknown group or topic, a datetime in the future
//! and a viewer are refused with nothing sent; the audit holds the intent before the
//! outcome; a `KafkaTopic` gets its backup's configuration (after a server-side dry
//! run), and partitions a backup has fewer of are said, never sent.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Event as KubeEvent;
use rollcall::app::panes::kafka::{ResetChoice, spec_of};
use rollcall::bus::Command;
use rollcall::bus::kafka::Broker;
use rollcall::domain::kafka::ResetSpec;
use rollcall_sim::{FaultPlan, SimHandle};
use rollcall_testkit::bus::{BusHarness, BusSetup};
use rollcall_testkit::cluster::start;
use rollcall_testkit::kafka::{NAMESPACE, consumer_groups, datetime, new_offsets, offsets};
use serde_json::Value;

const GROUP: &str = "metadata-catalog-consumer";
const TOPIC: &str = "customers.entity_changed";
const CACHE: &str = "graphql-gateway-cache";
const CACHE_TOPIC: &str = "catalog.metadata_updated";

/// Per partition: (committed offset, log-end offset).
type Offsets = BTreeMap<u32, (Option<u64>, u64)>;

fn broker() -> Broker {
    Broker::of(&rollcall::config::Kafka::default())
}

fn reset(group: &str, topic: &str, spec: ResetSpec) -> Command {
    Command::KafkaResetOffsets {
        env: "prod".into(),
        broker: broker(),
        group: group.into(),
        topic: topic.into(),
        spec,
    }
}

/// The group's offsets on `topic`, as the broker's tool describes them now.
async fn described(h: &BusHarness, group: &str, topic: &str) -> Offsets {
    let d = consumer_groups(&h.kube, &format!("--describe --group {group}")).await;
    offsets(&d.stdout, topic)
}

fn committed(o: &Offsets) -> BTreeMap<u32, Option<u64>> {
    o.iter().map(|(p, (c, _))| (*p, *c)).collect()
}

/// Σ(end − committed).
fn lag(o: &Offsets) -> i64 {
    o.values()
        .map(|(c, e)| *e as i64 - c.unwrap_or(*e) as i64)
        .sum()
}

/// A reset to `hours` before the simulator's now, made as the prompt makes it.
fn hours_back(sim: &SimHandle, hours: i64) -> (String, ResetSpec) {
    let at = datetime(sim.now() - jiff::SignedDuration::from_hours(hours));
    let spec = spec_of(ResetChoice::Datetime, &at, sim.now()).expect("a past datetime");
    (at, spec)
}

/// rollcall's Events with `reason` in the Kafka namespace: (involved kind, name, message).
async fn events(h: &BusHarness, reason: &str) -> Vec<(String, String, String)> {
    let api: kube::Api<KubeEvent> = kube::Api::namespaced(h.kube.clone(), NAMESPACE);
    api.list(&Default::default())
        .await
        .expect("events list")
        .items
        .into_iter()
        .filter(|e| {
            e.reason.as_deref() == Some(reason)
                && e.reporting_component.as_deref() == Some("rollcall")
        })
        .map(|e| {
            (
                e.involved_object.kind.unwrap_or_default(),
                e.involved_object.name.unwrap_or_default(),
                e.message.unwrap_or_default(),
            )
        })
        .collect()
}

/// The record kinds of the audit log, in order.
fn kinds(h: &BusHarness) -> Vec<String> {
    h.audit_records()
        .iter()
        .filter_map(|r| r["record"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_to_a_datetime_is_the_tools_plan_and_executes_as_planned() {
    let sim = start(1.0).await;
    let mut h = BusSetup::admin(&sim).build().await;
    // The consumer stopped two hours ago: three hours back replays an hour of messages.
    let (at, spec) = hours_back(&sim, 3);
    let command = reset(GROUP, TOPIC, spec);

    // The dialog's dry run: the tool's own --dry-run, joined with the committed offsets.
    let before = described(&h, GROUP, TOPIC).await;
    assert_eq!(before.len(), 3, "{before:?}");
    let tool = consumer_groups(
        &h.kube,
        &format!("--reset-offsets --group {GROUP} --topic {TOPIC} --to-datetime {at} --dry-run"),
    )
    .await;
    let planned = new_offsets(&tool.stdout, TOPIC);
    assert_eq!(planned.len(), 3, "{tool:?}");
    let plan = h
        .dry_run(&command)
        .await
        .expect("the dry run answers a plan");
    let replayed: u64 = planned
        .iter()
        .map(|(p, new)| before[p].0.expect("committed") - new)
        .sum();
    assert!(replayed > 0, "{before:?} → {planned:?}");
    let mut expected = vec![format!("{GROUP}: replays {replayed} messages")];
    expected.extend(planned.iter().map(|(p, new)| {
        let current = before[p].0.expect("committed");
        format!(
            "  {TOPIC}[{p}]  {current} → {new}  replays {}",
            current - new
        )
    }));
    assert_eq!(plan.lines().collect::<Vec<_>>(), expected, "{plan}");
    // A dry run moves nothing, leaves no Event and no audit record.
    let mid = described(&h, GROUP, TOPIC).await;
    assert_eq!(committed(&mid), committed(&before));
    assert!(events(&h, "ConsumerOffsetsReset").await.is_empty());
    assert_eq!(kinds(&h), ["session"]);

    // Executed: the committed offsets are the planned ones, and the lag grew by the
    // replayed count plus whatever arrived meanwhile, exactly.
    let done = h.run(1, &command).await.expect("the reset is done");
    let after = described(&h, GROUP, TOPIC).await;
    assert_eq!(
        committed(&after),
        planned.iter().map(|(p, n)| (*p, Some(*n))).collect(),
        "{done}"
    );
    let arrived: i64 = mid
        .iter()
        .map(|(p, (_, e))| after[p].1 as i64 - *e as i64)
        .sum();
    assert_eq!(
        lag(&after),
        lag(&mid) + replayed as i64 + arrived,
        "{mid:?} → {after:?}"
    );
    let moved: Vec<String> = planned
        .iter()
        .map(|(p, new)| format!("[{p}] {} → {new}", mid[p].0.expect("committed")))
        .collect();
    assert_eq!(
        done,
        format!(
            "{GROUP} reset to {at}: replays {replayed} messages ({TOPIC} {})",
            moved.join(", ")
        )
    );

    // The record: the intent, synced before anything was sent, then the outcome.
    let records = h.audit_records();
    assert_eq!(kinds(&h), ["session", "intent", "outcome"], "{records:?}");
    let (intent, outcome) = (&records[1], &records[2]);
    for r in [intent, outcome] {
        assert_eq!(r["command"], "kafka-reset-offsets");
        assert_eq!(r["group"], GROUP);
        assert_eq!(r["topic"], TOPIC);
        assert_eq!(r["spec"]["to-datetime"], at.as_str());
        assert_eq!(r["target"], GROUP);
        assert_eq!(r["user"], "tester");
        assert_eq!(r["broker"]["pod"], "dictamesh-kafka-kafka-0");
    }
    assert_eq!(intent["op_uid"], outcome["op_uid"]);
    assert!(intent.get("result").is_none(), "{intent}");
    assert_eq!(outcome["result"], "ok");
    assert_eq!(outcome["message"], done.as_str());
    let time = |v: &Value| {
        v.as_str()
            .and_then(|s| s.parse::<jiff::Timestamp>().ok())
            .expect("a time")
    };
    assert!(time(&intent["time"]) <= time(&outcome["time"]));
    let text = std::fs::read(&h.audit).expect("audit log");
    assert!(rollcall::bus::audit_verify::verify(&text).intact());

    // One Event on the broker pod, naming the user.
    assert_eq!(
        events(&h, "ConsumerOffsetsReset").await,
        [(
            "Pod".to_owned(),
            "dictamesh-kafka-kafka-0".to_owned(),
            format!("tester reset {done} with rollcall")
        )]
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_active_group_is_refused_with_kafkas_reason_and_nothing_changes() {
    let sim = start(1.0).await;
    let mut h = BusSetup::admin(&sim).build().await;
    let command = reset(CACHE, CACHE_TOPIC, ResetSpec::ToEarliest);
    let refusal = format!(
        "refused: group {CACHE} is Stable with 1 active member(s); Kafka resets offsets only \
         of an inactive group (the tool: \"Assignments can only be reset if the group \
         '{CACHE}' is inactive, but the current state is Stable.\"); stop its consumers \
         first; nothing was changed"
    );
    assert_eq!(h.dry_run(&command).await, Err(refusal.clone()));
    assert_eq!(h.run(1, &command).await, Err(refusal.clone()));

    // Still where its live member keeps it: at most a couple behind the end, not at 0.
    let live = described(&h, CACHE, CACHE_TOPIC).await;
    assert_eq!(live.len(), 6, "{live:?}");
    assert!(
        live.values()
            .all(|(c, e)| c.is_some_and(|c| c > 0 && e - c <= 2)),
        "{live:?}"
    );
    assert!(events(&h, "ConsumerOffsetsReset").await.is_empty());
    let records = h.audit_records();
    assert_eq!(kinds(&h), ["session", "intent", "outcome"], "{records:?}");
    assert_eq!(records[2]["result"], "error");
    assert_eq!(records[2]["message"], refusal.as_str());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_before_anything_is_sent() {
    let sim = start(1.0).await;
    let mut h = BusSetup::admin(&sim).build().await;
    let before = described(&h, GROUP, TOPIC).await;
    let (_, three_hours_back) = hours_back(&sim, 3);

    // A group the cluster does not know: Kafka would create it to hold the offsets.
    let unknown = reset("metadata-catalog-consumr", TOPIC, three_hours_back.clone());
    for outcome in [h.dry_run(&unknown).await, h.run(1, &unknown).await] {
        assert_eq!(
            outcome,
            Err("refused by kafka-consumer-groups.sh: Consumer group \
                 'metadata-catalog-consumr' does not exist.; nothing was changed"
                .into())
        );
    }
    let list = consumer_groups(&h.kube, "--list").await.stdout;
    assert!(!list.contains("metadata-catalog-consumr"), "{list}");

    // The KafkaTopic's name instead of the topic's: no such topic.
    let wrong_topic = reset(GROUP, "customers.entity-changed", three_hours_back);
    for outcome in [h.dry_run(&wrong_topic).await, h.run(2, &wrong_topic).await] {
        let why = outcome.expect_err("an unknown topic is refused");
        assert!(
            why.starts_with("refused: topic customers.entity-changed is not in the cluster")
                && why.contains("This server does not host this topic-partition")
                && why.ends_with("nothing was changed"),
            "{why}"
        );
    }

    // A time after the newest message: every partition would go to its end, a reset to
    // latest in disguise.
    let at = datetime(sim.now() + jiff::SignedDuration::from_hours(1));
    let future = reset(GROUP, TOPIC, ResetSpec::ToDatetime(at.clone()));
    for outcome in [h.dry_run(&future).await, h.run(3, &future).await] {
        let why = outcome.expect_err("a future datetime is refused");
        assert!(
            why.contains(&at) && why.contains("in the future") && why.contains("nothing"),
            "{why}"
        );
    }

    assert_eq!(
        committed(&described(&h, GROUP, TOPIC).await),
        committed(&before)
    );
    assert!(events(&h, "ConsumerOffsetsReset").await.is_empty());
    let outcomes = h.audit_lines();
    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    assert!(
        outcomes.iter().all(|o| o["result"] == "error"),
        "{outcomes:?}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_may_not_exec_in_the_broker_and_nothing_is_sent() {
    let sim = start(1.0).await;
    let mut viewer = BusSetup {
        kube_viewer: true,
        ..BusSetup::admin(&sim)
    }
    .build()
    .await;
    let admin = BusSetup::admin(&sim).build().await;
    let before = described(&admin, GROUP, TOPIC).await;
    let (_, spec) = hours_back(&sim, 3);
    let command = reset(GROUP, TOPIC, spec);
    let forbidden = "forbidden: RBAC does not let you create pods/exec dictamesh-kafka-kafka-0 \
                     -n dictamesh-infra";
    for outcome in [
        viewer.dry_run(&command).await,
        viewer.run(1, &command).await,
    ] {
        let why = outcome.expect_err("the viewer is refused");
        assert!(
            why.starts_with(forbidden) && why.ends_with("; nothing was sent"),
            "{why}"
        );
    }
    assert_eq!(
        committed(&described(&admin, GROUP, TOPIC).await),
        committed(&before)
    );
    assert!(events(&admin, "ConsumerOffsetsReset").await.is_empty());
    let records = viewer.audit_records();
    assert_eq!(
        kinds(&viewer),
        ["session", "intent", "outcome"],
        "{records:?}"
    );
    assert_eq!(records[2]["result"], "error");

    // Were the access review not asked, the API server's 403 on the exec says the same.
    let tools = rollcall::clients::kafka::KafkaTools::new(
        viewer.kube.clone(),
        rollcall::config::Kafka::default(),
    );
    let why = tools
        .list_groups()
        .await
        .expect_err("the viewer's exec is refused")
        .to_string();
    assert!(
        why.starts_with(
            "forbidden: RBAC does not let you create pods/exec in dictamesh-infra (pods \
             \"dictamesh-kafka-kafka-0\" is forbidden: User \"viewer\" cannot create resource \
             \"pods/exec\""
        ),
        "{why}"
    );
    sim.shutdown().await;
}

mod topics {
    //! The topic restore, planned by the Kafka pane from what rollcall reads (the live
    //! `KafkaTopic`s and the simulator's backup file) and sent through the bus.

    use super::*;
    use rollcall::app::panes::kafka::{KafkaView, diffs};
    use rollcall::app::{Effect, Event, Mode, State, update};
    use rollcall::clients::kafka::KafkaTools;
    use rollcall::domain::kafka::KafkaUpdate;
    use rollcall::domain::kafka::topics::parse_backup;
    use rollcall_testkit::state::{press, state};

    const KT: &str = "customers.entity-changed";
    const PROD: usize = 2;

    /// The pane in prod, fed what rollcall reads now, with `KT` selected in the topics view.
    async fn pane(sim: &SimHandle, h: &BusHarness) -> State {
        let backup_path = sim.kafka_topics_backup().expect("the demo's backup");
        let mut s = state(160, 48);
        press(&mut s, "]]");
        assert_eq!(s.selected_env, PROD);
        let kafka = s.envs[PROD].config.kafka.as_mut().expect("prod has Kafka");
        kafka.topics_backup = Some(backup_path.to_owned());
        let tools = KafkaTools::new(h.kube.clone(), kafka.clone());
        let text = std::fs::read_to_string(backup_path).expect("backup");
        update(
            &mut s,
            Event::Kafka {
                env: PROD,
                update: KafkaUpdate::Topics {
                    live: tools.read_topics().await,
                    backup: Some(parse_backup(&text)),
                },
            },
        );
        press(&mut s, "KD");
        assert_eq!(s.kafka.view, KafkaView::Topics);
        let at = diffs(&s)
            .iter()
            .position(|d| d.name == KT)
            .expect("the topic is listed");
        press(&mut s, &"j".repeat(at));
        s
    }

    /// `B`: the command the dialog opened with (and asked the dry run of).
    fn restore_command(s: &mut State) -> Command {
        let effects = press(s, "B");
        let Mode::Confirm(d) = &s.mode else {
            panic!("no dialog: {:?} {:?}", s.mode, s.flash)
        };
        assert_eq!(effects, vec![Effect::DryRun(d.command.clone())]);
        d.command.clone()
    }

    async fn kafka_topic(h: &BusHarness) -> Value {
        let r = rollcall::clients::kube::resource(
            "kafka.strimzi.io",
            "v1beta2",
            "KafkaTopic",
            "kafkatopics",
        );
        let api: kube::Api<kube::api::DynamicObject> =
            kube::Api::namespaced_with(h.kube.clone(), NAMESPACE, &r);
        serde_json::to_value(api.get(KT).await.expect("the KafkaTopic")).expect("JSON")
    }

    /// The KafkaTopic once the operator has seen its latest generation.
    async fn settled(h: &BusHarness) -> Value {
        let mut kt = kafka_topic(h).await;
        for _ in 0..50 {
            if kt["metadata"]["generation"] == kt["status"]["observedGeneration"] {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            kt = kafka_topic(h).await;
        }
        kt
    }

    fn ready(kt: &Value) -> &Value {
        &kt["status"]["conditions"][0]["status"]
    }

    /// The topic as the broker's kafka-topics.sh describes it.
    async fn broker_says(h: &BusHarness) -> String {
        rollcall_testkit::kafka::exec_in(
            &h.kube,
            rollcall_testkit::kafka::BROKER,
            &[
                "/opt/kafka/bin/kafka-topics.sh",
                "--bootstrap-server",
                "localhost:9092",
                "--describe",
                "--topic",
                TOPIC,
            ],
        )
        .await
        .expect("exec")
        .stdout
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_topic_gets_its_backups_configuration_after_a_server_dry_run() {
        let sim = start(1.0).await;
        let mut h = BusSetup::admin(&sim).build().await;
        let mut s = pane(&sim, &h).await;
        let command = restore_command(&mut s);
        let Command::KafkaTopicRestore {
            patch, left_out, ..
        } = &command
        else {
            panic!("{command:?}")
        };
        assert_eq!(
            *patch,
            serde_json::json!({"spec": {"config": {"retention.ms": 259_200_000}}})
        );
        assert!(left_out.is_empty(), "{left_out:?}");
        let kt = kafka_topic(&h).await;
        assert_eq!(kt["spec"]["config"]["retention.ms"], 604_800_000);

        // The dialog's dry run: accepted, nothing changed.
        assert_eq!(
            h.dry_run(&command).await,
            Ok("the server accepts it".into())
        );
        assert_eq!(
            kafka_topic(&h).await["metadata"]["generation"],
            kt["metadata"]["generation"]
        );

        // A server that cannot take the dry run: the send stops there.
        sim.set_faults(FaultPlan {
            refuse_dry_runs: true,
            ..FaultPlan::default()
        });
        let refused = h
            .run(1, &command)
            .await
            .expect_err("the dry run is refused");
        assert!(
            refused.starts_with("server-side dry run refused: "),
            "{refused}"
        );
        assert_eq!(kafka_topic(&h).await["spec"], kt["spec"]);
        sim.set_faults(FaultPlan::default());

        assert_eq!(
            h.run(2, &command).await,
            Ok(format!("kafkatopic/{KT} restored from the backup"))
        );
        let kt = settled(&h).await;
        assert_eq!(kt["spec"]["config"]["retention.ms"], 259_200_000);
        assert_eq!(kt["spec"]["partitions"], 3);
        assert_eq!(*ready(&kt), "True", "{kt}");
        let mut described = String::new();
        for _ in 0..50 {
            described = broker_says(&h).await;
            if described.contains("retention.ms=259200000") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(described.contains("retention.ms=259200000"), "{described}");
        assert_eq!(
            events(&h, "TopicConfigRestored").await,
            [(
                "KafkaTopic".to_owned(),
                KT.to_owned(),
                format!("tester restored kafkatopic/{KT} from the backup with rollcall")
            )]
        );
        let outcomes = h.audit_lines();
        assert_eq!(outcomes.len(), 2, "{outcomes:?}");
        assert_eq!(outcomes[0]["result"], "error");
        assert_eq!(outcomes[1]["command"], "kafka-topic-restore");
        assert_eq!(outcomes[1]["result"], "ok");

        // Read again, the topic is as in the backup: nothing more to send.
        let mut s = pane(&sim, &h).await;
        press(&mut s, "B");
        assert!(matches!(s.mode, Mode::Normal), "{:?}", s.mode);
        let (_, said, _) = s.flash.clone().expect("said");
        assert_eq!(
            said,
            format!("kafkatopic/{KT} is as in the backup: nothing to restore")
        );
        sim.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn partitions_a_backup_has_fewer_of_are_said_and_never_sent() {
        let sim = start(1.0).await;
        let mut h = BusSetup::admin(&sim).build().await;
        // The topic grew since the backup: 4 partitions live, 3 in the backup.
        let r = rollcall::clients::kube::resource(
            "kafka.strimzi.io",
            "v1beta2",
            "KafkaTopic",
            "kafkatopics",
        );
        let api: kube::Api<kube::api::DynamicObject> =
            kube::Api::namespaced_with(h.kube.clone(), NAMESPACE, &r);
        api.patch(
            KT,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(serde_json::json!({"spec": {"partitions": 4}})),
        )
        .await
        .expect("grown");
        assert_eq!(*ready(&settled(&h).await), "True");

        // The retention goes back; the partitions are left out and the dialog says why.
        let mut s = pane(&sim, &h).await;
        let command = restore_command(&mut s);
        let Command::KafkaTopicRestore {
            patch, left_out, ..
        } = &command
        else {
            panic!("{command:?}")
        };
        let why = "partitions: partitions can only grow: Kafka cannot go from 4 back to 3";
        assert_eq!(left_out, &[why.to_owned()]);
        assert_eq!(
            *patch,
            serde_json::json!({"spec": {"config": {"retention.ms": 259_200_000}}})
        );
        assert!(
            command
                .preview()
                .effect
                .contains(&format!("Not sent: {why}.")),
            "{:?}",
            command.preview()
        );
        assert_eq!(
            h.run(1, &command).await,
            Ok(format!("kafkatopic/{KT} restored from the backup"))
        );
        let kt = settled(&h).await;
        assert_eq!(kt["spec"]["partitions"], 4);
        assert_eq!(kt["spec"]["config"]["retention.ms"], 259_200_000);
        assert_eq!(*ready(&kt), "True", "the operator saw no decrease: {kt}");
        assert!(broker_says(&h).await.contains("PartitionCount: 4"));

        // Only the partitions differ now: said, no dialog, nothing sent.
        let generation = kt["metadata"]["generation"].clone();
        let mut s = pane(&sim, &h).await;
        let effects = press(&mut s, "B");
        assert!(effects.is_empty(), "{effects:?}");
        assert!(matches!(s.mode, Mode::Normal), "{:?}", s.mode);
        let (_, said, _) = s.flash.clone().expect("said");
        assert_eq!(
            said,
            format!("kafkatopic/{KT}: nothing Kafka accepts to restore ({why})")
        );

        // The same restore again (a teammate's, confirmed from the same view): what
        // differs is what its dialog said is not sent; nothing to send.
        assert_eq!(
            h.run(2, &command).await,
            Ok(format!(
                "kafkatopic/{KT} already has what Kafka accepts of the backup's \
                 configuration (not sent: {why})"
            ))
        );

        // A restore confirmed while the topic had fewer partitions than the backup (its
        // patch grows it to 3), sent after it grew to 4: planned again from a fresh read,
        // refused, not sent.
        let Command::KafkaTopicRestore {
            env,
            namespace,
            name,
            backup,
            ..
        } = command
        else {
            unreachable!()
        };
        let stale = Command::KafkaTopicRestore {
            env,
            namespace,
            name,
            backup,
            patch: serde_json::json!({"spec": {"partitions": 3}}),
            left_out: Vec::new(),
        };
        assert_eq!(
            h.run(3, &stale).await,
            Err(format!(
                "kafkatopic/{KT} changed since the preview: what differs from the backup now \
                 is only what Kafka refuses ({why}); nothing was sent"
            ))
        );
        let kt = settled(&h).await;
        assert_eq!(kt["metadata"]["generation"], generation);
        assert_eq!(kt["spec"]["partitions"], 4);
        sim.shutdown().await;
    }
}
