//! `kafka-consumer-groups.sh --reset-offsets` (Kafka 3.9's `resetOffsets`): the group
//! must be inactive (Empty or Dead) or it is skipped with an error and nothing changes;
//! the scope (`--topic T`, `--topic T:0,2`, `--all-topics`), the specification
//! (`--to-datetime`, `--by-duration`, `--to-earliest`, `--to-latest`, `--to-offset`,
//! `--shift-by`, `--to-current`, `--from-file`), a dry run unless `--execute`, and the
//! `GROUP TOPIC PARTITION NEW-OFFSET` table in the order of the tool's `HashMap`.

use super::Output;
use super::consumer_groups::{SCENARIOS, Usage, failed, join_set, print_error};
use super::javahash::{iteration_order, string_hash, topic_partition_hash};
use super::opts::Parsed;
use super::time::{get_date_time, parse_duration};
use crate::kafka::World;
use crate::kafka::groups::{Group, GroupState, Members};

/// Why a reset stopped: a usage error, or an exception `run` reports.
enum Stop {
    Usage(String),
    Failed { exception: String, message: String },
}

const UNKNOWN_TOPIC: &str = "org.apache.kafka.common.errors.UnknownTopicOrPartitionException: This server does not host this topic-partition.";

fn unknown_topic() -> Stop {
    let message = format!("java.util.concurrent.ExecutionException: {UNKNOWN_TOPIC}");
    Stop::Failed {
        exception: format!("java.lang.RuntimeException: {message}"),
        message,
    }
}

type Tp = (String, u32);

pub fn run(world: &mut World, p: &Parsed, now_ms: i64, out: &mut Output) -> Result<(), Usage> {
    let ids: Vec<String> = if p.has("all-groups") {
        world
            .groups
            .values()
            .filter(|g| g.state(now_ms) != GroupState::Dead)
            .map(|g| g.name.clone())
            .collect()
    } else {
        let mut v: Vec<String> = p.values("group").into_iter().map(String::from).collect();
        v.dedup();
        v
    };
    let by_hash: Vec<i32> = ids.iter().map(|g| string_hash(g)).collect();
    let mut result: Vec<(String, Vec<(Tp, u64)>)> = Vec::new();
    for i in iteration_order(&by_hash) {
        let id = &ids[i];
        let state = world
            .groups
            .get(id)
            .map_or(GroupState::Dead, |g| g.state(now_ms));
        if !state.inactive() {
            print_error(
                out,
                &format!(
                    "Assignments can only be reset if the group '{id}' is inactive, but the current state is {}.",
                    state.as_str()
                ),
                None,
            );
            result.push((id.clone(), Vec::new()));
            continue;
        }
        let planned =
            partitions(world, p, id).and_then(|tps| prepare(world, p, id, &tps, now_ms, out));
        match planned {
            Ok(offsets) => {
                if p.has("execute") {
                    // The admin commit (generation −1, no member id) an inactive group takes;
                    // a group that does not exist yet is created empty to hold it.
                    let g = world
                        .groups
                        .entry(id.clone())
                        .or_insert_with(|| Group::new(id, &[], Members::Fixed));
                    for (tp, o) in &offsets {
                        g.offsets.insert(tp.clone(), *o);
                    }
                }
                result.push((id.clone(), offsets));
            }
            Err(Stop::Usage(m)) => return Err(Usage(m)),
            Err(Stop::Failed { exception, message }) => {
                failed(out, &exception, &message);
                return Ok(());
            }
        }
    }
    if p.has("export") {
        let single = p.values("group").len() == 1;
        let mut csv = String::new();
        for (g, offsets) in &result {
            for ((t, part), o) in offsets {
                if single {
                    csv.push_str(&format!("{t},{part},{o}\n"));
                } else {
                    csv.push_str(&format!("{g},{t},{part},{o}\n"));
                }
            }
        }
        out.out(&format!("{csv}\n"));
        return Ok(());
    }
    let row = |c: [&str; 4]| format!("\n{:<30} {:<30} {:<10} {:<15}", c[0], c[1], c[2], c[3]);
    if !result.is_empty() {
        out.out(&row(["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"]));
    }
    for (g, offsets) in &result {
        for ((t, part), o) in offsets {
            out.out(&row([g, t, &part.to_string(), &o.to_string()]));
        }
    }
    out.out("\n");
    Ok(())
}

/// `getPartitionsToReset`: the partitions in scope, named ones first.
fn partitions(world: &World, p: &Parsed, group: &str) -> Result<Vec<Tp>, Stop> {
    if p.has("all-topics") {
        return Ok(world
            .groups
            .get(group)
            .map(|g| g.offsets.keys().cloned().collect())
            .unwrap_or_default());
    }
    if !p.has("topic") {
        if p.has("from-file") {
            return Ok(Vec::new());
        }
        return Err(Stop::Usage(
            "One of the reset scopes should be defined: --all-topics, --topic.".into(),
        ));
    }
    let mut named = Vec::new();
    let mut whole = Vec::new();
    for arg in p.values("topic") {
        if !arg.contains(':') {
            whole.push(arg);
            continue;
        }
        // Java's split drops trailing empty strings.
        let mut parts: Vec<&str> = arg.split(':').collect();
        while parts.last().is_some_and(|s| s.is_empty()) {
            parts.pop();
        }
        let [topic, list] = parts.as_slice() else {
            return Err(Stop::Usage(format!(
                "Invalid topic arg '{arg}', expected topic name and partitions"
            )));
        };
        let mut items: Vec<&str> = list.split(',').collect();
        while items.last().is_some_and(|s| s.is_empty()) {
            items.pop();
        }
        for item in items {
            let part = item.parse::<i32>().map_err(|_| {
                Stop::Usage(format!(
                    "Invalid partition '{item}' specified in topic arg '{arg}''"
                ))
            })?;
            let Ok(part) = u32::try_from(part) else {
                return Err(unknown_topic());
            };
            named.push((topic.to_string(), part));
        }
    }
    let mut unnamed = Vec::new();
    let hashes: Vec<i32> = whole.iter().map(|t| string_hash(t)).collect();
    for i in iteration_order(&hashes) {
        let t = world.topics.get(whole[i]).ok_or_else(unknown_topic)?;
        unnamed.extend((0..t.partitions.len() as u32).map(|q| (t.name.clone(), q)));
    }
    named.extend(unnamed);
    Ok(named)
}

/// A log line of the tools' log4j configuration (stderr, WARN and above).
fn warn(out: &mut Output, now_ms: i64, message: &str) {
    let at = jiff::Timestamp::from_millisecond(now_ms)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S,%3f").to_string())
        .unwrap_or_default();
    out.err(&format!(
        "[{at}] WARN {message} (org.apache.kafka.tools.consumer.group.ConsumerGroupCommand)\n"
    ));
}

/// `checkOffsetsRange`: requested offsets clamped into the log, with a warning each.
fn clamp(world: &World, tp: &Tp, wanted: i64, now_ms: i64, out: &mut Output) -> u64 {
    let (start, end) = bounds(world, tp);
    if wanted > end as i64 {
        warn(
            out,
            now_ms,
            &format!(
                "New offset ({wanted}) is higher than latest offset for topic partition {}-{}. Value will be set to {end}",
                tp.0, tp.1
            ),
        );
        end
    } else if wanted < start as i64 {
        warn(
            out,
            now_ms,
            &format!(
                "New offset ({wanted}) is lower than earliest offset for topic partition {}-{}. Value will be set to {start}",
                tp.0, tp.1
            ),
        );
        start
    } else {
        wanted as u64
    }
}

fn bounds(world: &World, tp: &Tp) -> (u64, u64) {
    world
        .topics
        .get(&tp.0)
        .and_then(|t| t.partitions.get(tp.1 as usize))
        .map_or((0, 0), |l| (l.log_start(), l.log_end()))
}

fn option_failure(message: String) -> Stop {
    Stop::Failed {
        exception: format!("joptsimple.OptionException: {message}"),
        message,
    }
}

/// `prepareOffsetsToReset`: the new offset of each partition, in the tool's map order.
fn prepare(
    world: &World,
    p: &Parsed,
    group: &str,
    tps: &[Tp],
    now_ms: i64,
    out: &mut Output,
) -> Result<Vec<(Tp, u64)>, Stop> {
    let missing = tps.iter().any(|(t, q)| {
        world
            .topics
            .get(t)
            .is_none_or(|t| *q as usize >= t.partitions.len())
    });
    if missing {
        return Err(unknown_topic());
    }
    let committed = |tp: &Tp| {
        world
            .groups
            .get(group)
            .and_then(|g| g.offsets.get(tp).copied())
    };
    let mut offsets: Vec<(Tp, u64)> = Vec::new();
    if p.has("to-offset") {
        let n = p.long("to-offset").map_err(option_failure)?.unwrap_or(0);
        for tp in tps {
            offsets.push((tp.clone(), clamp(world, tp, n, now_ms, out)));
        }
    } else if p.has("to-earliest") {
        offsets = tps
            .iter()
            .map(|tp| (tp.clone(), bounds(world, tp).0))
            .collect();
    } else if p.has("to-latest") {
        offsets = tps
            .iter()
            .map(|tp| (tp.clone(), bounds(world, tp).1))
            .collect();
    } else if p.has("shift-by") {
        let by = p.long("shift-by").map_err(option_failure)?.unwrap_or(0);
        for tp in tps {
            let Some(current) = committed(tp) else {
                return Err(Stop::Usage(format!(
                    "Cannot shift offset for partition {}-{} since there is no current committed offset",
                    tp.0, tp.1
                )));
            };
            let wanted = (current as i64).saturating_add(by);
            offsets.push((tp.clone(), clamp(world, tp, wanted, now_ms, out)));
        }
    } else if p.has("to-datetime") || p.has("by-duration") {
        let ts = if p.has("to-datetime") {
            let v = p
                .value("to-datetime")
                .map_err(option_failure)?
                .unwrap_or("");
            get_date_time(v).map_err(|message| Stop::Failed {
                exception: format!("java.lang.RuntimeException: {message}"),
                message,
            })?
        } else {
            let v = p
                .value("by-duration")
                .map_err(option_failure)?
                .unwrap_or("");
            let d = parse_duration(v).map_err(|message| Stop::Failed {
                exception: format!("java.time.format.DateTimeParseException: {message}"),
                message,
            })?;
            now_ms.saturating_sub(d)
        };
        let mut empty = Vec::new();
        for tp in tps {
            let log = world
                .topics
                .get(&tp.0)
                .and_then(|t| t.partitions.get(tp.1 as usize));
            match log.and_then(|l| l.offset_for_time(ts)) {
                Some(o) => offsets.push((tp.clone(), o)),
                None => empty.push(tp.clone()),
            }
        }
        let hashes: Vec<i32> = empty
            .iter()
            .map(|(t, q)| topic_partition_hash(t, *q))
            .collect();
        for i in iteration_order(&hashes) {
            let (t, q) = &empty[i];
            out.out(&format!("\nWarn: Partition {q} from topic {t} is empty. Falling back to latest known offset.\n"));
        }
        for tp in empty {
            let end = bounds(world, &tp).1;
            offsets.push((tp, end));
        }
    } else if p.has("from-file") {
        let path = p.values("from-file").first().copied().unwrap_or("");
        let message = format!("java.nio.file.NoSuchFileException: {path}");
        return Err(Stop::Failed {
            exception: format!("java.lang.RuntimeException: {message}"),
            message,
        });
    } else if p.has("to-current") {
        offsets = tps
            .iter()
            .map(|tp| (tp.clone(), committed(tp).unwrap_or(bounds(world, tp).1)))
            .collect();
    } else {
        return Err(Stop::Usage(format!(
            "Option '[reset-offsets]' requires one of the following scenarios: [{}]",
            join_set(SCENARIOS)
        )));
    }
    // The tool collects into a HashMap keyed by TopicPartition and prints in its order;
    // the order offsets were found in is the insertion order.
    let hashes: Vec<i32> = offsets
        .iter()
        .map(|((t, q), _)| topic_partition_hash(t, *q))
        .collect();
    let order = iteration_order(&hashes);
    let mut dedup: Vec<(Tp, u64)> = Vec::new();
    for i in order {
        if !dedup.iter().any(|(tp, _)| *tp == offsets[i].0) {
            dedup.push(offsets[i].clone());
        }
    }
    Ok(dedup)
}
