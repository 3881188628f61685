//! `kafka-topics.sh` as Kafka 3.9 ships it (`TopicCommand`): `--list` and `--describe`
//! (topics chosen by `--topic`, a regular expression matched whole, commas meaning "or"),
//! `--create`, `--alter --partitions` and `--delete`. Failures print `Error while executing
//! topic command : …` on stderr and exit 1; usage errors print the help and exit 1.

use super::javahash::{iteration_order, string_hash};
use super::opts::{self, Arg, Parsed, Spec};
use super::{Output, VERSION, reachable, stack_trace};
use crate::Shared;
use crate::kafka::{BROKERS, Topic, World};

const fn flag(name: &'static str, doc: &'static str) -> Spec {
    Spec {
        name,
        arg: Arg::None,
        doc,
        available_if: &[],
    }
}

const fn with(name: &'static str, ty: &'static str, what: &'static str, doc: &'static str) -> Spec {
    Spec {
        name,
        arg: Arg::Required(ty, what),
        doc,
        available_if: &[],
    }
}

const SPECS: &[Spec] = &[
    with(
        "bootstrap-server",
        "String",
        "server to connect to",
        "REQUIRED: The Kafka server to connect to.",
    ),
    with(
        "command-config",
        "String",
        "command config property file",
        "Property file containing configs to be passed to Admin Client. This is used only with --bootstrap-server option for describing and altering broker configs.",
    ),
    flag("list", "List all available topics."),
    flag("create", "Create a new topic."),
    flag("delete", "Delete a topic"),
    flag(
        "alter",
        "Alter the number of partitions and replica assignment. Update the configuration of an existing topic via --alter is no longer supported here (the kafka-configs CLI supports altering topic configs with a --bootstrap-server option).",
    ),
    flag("describe", "List details for the given topics."),
    with(
        "topic",
        "String",
        "topic",
        "The topic to create, alter, describe or delete. It also accepts a regular expression, except for --create option. Put topic name in double quotes and use the '\\' prefix to escape regular expression symbols; e.g. \"test\\.topic\".",
    ),
    with(
        "topic-id",
        "String",
        "topic-id",
        "The topic-id to describe. This is used only with --bootstrap-server option for describing topics.",
    ),
    with(
        "config",
        "String",
        "name=value",
        "A topic configuration override for the topic being created.",
    ),
    with(
        "partitions",
        "Integer",
        "# of partitions",
        "The number of partitions for the topic being created or altered (WARNING: If partitions are increased for a topic that has a key, the partition logic or ordering of the messages will be affected). If not supplied for create, defaults to the cluster default.",
    ),
    with(
        "replication-factor",
        "Integer",
        "replication factor",
        "The replication factor for each partition in the topic being created. If not supplied, defaults to the cluster default.",
    ),
    flag(
        "if-exists",
        "if set when altering or deleting or describing topics, the action will only execute if the topic exists.",
    ),
    flag(
        "if-not-exists",
        "if set when creating topics, the action will only execute if the topic does not already exist.",
    ),
    flag(
        "exclude-internal",
        "exclude internal topics when running list or describe command. The internal topics will be listed by default",
    ),
    flag("help", "Print usage information."),
    flag("version", "Display Kafka version."),
];

fn usage(message: &str) -> Output {
    Output {
        stdout: String::new(),
        stderr: format!("{message}\n{}", opts::help(SPECS)),
        code: 1,
    }
}

/// `printException`: the message on stdout, the stack trace logged at ERROR on stderr.
fn error(out: &mut Output, exception: &str, message: &str, now_ms: i64) {
    out.out(&format!(
        "Error while executing topic command : {message}\n"
    ));
    let at = jiff::Timestamp::from_millisecond(now_ms)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S,%3f").to_string())
        .unwrap_or_default();
    let trace = stack_trace(
        &format!("{exception}: {message}"),
        &[
            "org.apache.kafka.tools.TopicCommand.execute(TopicCommand.java:95)",
            "org.apache.kafka.tools.TopicCommand.mainNoExit(TopicCommand.java:81)",
        ],
    );
    out.err(&format!(
        "[{at}] ERROR {} (org.apache.kafka.tools.TopicCommand)\n",
        trace.trim_end()
    ));
    out.code = 1;
}

/// A failure: the exception's class and message.
type Failure = (&'static str, String);

fn illegal(m: String) -> Failure {
    ("java.lang.IllegalArgumentException", m)
}

pub fn run(shared: &Shared, args: &[String]) -> Output {
    if args.is_empty() {
        return usage("Create, delete, describe, or change a topic.");
    }
    let p = match opts::parse(SPECS, args) {
        Ok(p) => p,
        Err(e) => return usage(&e.message),
    };
    if p.has("help") {
        return usage("Create, delete, describe, or change a topic.");
    }
    if p.has("version") {
        return Output {
            stdout: format!("{VERSION}\n"),
            ..Output::default()
        };
    }
    let actions = ["list", "describe", "create", "alter", "delete"];
    if actions.iter().filter(|a| p.has(a)).count() != 1 {
        return usage(
            "Command must include exactly one action: --list, --describe, --create, --alter or --delete",
        );
    }
    if !p.has("bootstrap-server") {
        return usage("Missing required argument \"[bootstrap-server]\"");
    }
    if (p.has("create") || p.has("alter") || p.has("delete")) && !p.has("topic") {
        return usage("Missing required argument \"[topic]\"");
    }
    let mut out = Output::default();
    let now_ms = shared.clock.now().as_millisecond();
    let bootstrap = p.values("bootstrap-server").first().copied().unwrap_or("");
    if !reachable(bootstrap) {
        error(
            &mut out,
            "org.apache.kafka.common.errors.TimeoutException",
            "Timed out waiting for a node assignment. Call: listTopics",
            now_ms,
        );
        return out;
    }
    let mut world = shared.kafka.now(shared);
    let result = if p.has("list") {
        for t in matching(&world, p.values("topic").first().copied()) {
            out.out(&format!("{t}\n"));
        }
        Ok(())
    } else if p.has("describe") {
        describe(&world, &p, &mut out)
    } else if p.has("create") {
        create(&mut world, &p, now_ms, &mut out)
    } else if p.has("alter") {
        alter(&mut world, &p, now_ms)
    } else {
        delete(&mut world, &p)
    };
    if let Err((exception, message)) = result {
        error(&mut out, exception, &message, now_ms);
    }
    out
}

/// Topic names matching `--topic` (all of them without it), sorted.
fn matching(world: &World, pattern: Option<&str>) -> Vec<String> {
    world
        .topics
        .keys()
        .filter(|t| pattern.is_none_or(|p| include_list(p, t)))
        .cloned()
        .collect()
}

/// `TopicFilter.IncludeList`: commas are alternatives, spaces and quotes at the ends
/// dropped, the regular expression matched against the whole name.
pub fn include_list(raw: &str, name: &str) -> bool {
    let cleaned: String = raw.trim().chars().filter(|c| *c != ' ').collect();
    let cleaned = cleaned.trim_matches(['"', '\'']);
    let pattern: Vec<char> = cleaned.chars().collect();
    let text: Vec<char> = name.chars().collect();
    split_alternatives(&pattern)
        .iter()
        .any(|alt| matches_here(alt, &text))
}

fn split_alternatives(p: &[char]) -> Vec<Vec<char>> {
    let mut out = vec![Vec::new()];
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' if i + 1 < p.len() => {
                if let Some(last) = out.last_mut() {
                    last.extend([p[i], p[i + 1]]);
                }
                i += 1;
            }
            '|' | ',' => out.push(Vec::new()),
            c => {
                if let Some(last) = out.last_mut() {
                    last.push(c);
                }
            }
        }
        i += 1;
    }
    out
}

/// A small backtracking matcher: literals, `\x`, `.`, and the quantifiers `*`, `+`, `?`.
fn matches_here(p: &[char], t: &[char]) -> bool {
    let Some(&first) = p.first() else {
        return t.is_empty();
    };
    let (atom_len, atom): (usize, Option<char>) = match first {
        '\\' if p.len() > 1 => (2, Some(p[1])),
        '.' => (1, None),
        c => (1, Some(c)),
    };
    let one = |c: char| atom.is_none_or(|a| a == c);
    let rest = &p[atom_len..];
    match rest.first() {
        Some('*') | Some('+') | Some('?') => {
            let q = rest[0];
            let after = &rest[1..];
            let max = if q == '?' { 1 } else { usize::MAX };
            let min = usize::from(q == '+');
            let mut n = 0;
            while n < t.len() && n < max && one(t[n]) {
                n += 1;
            }
            (min..=n).rev().any(|k| matches_here(after, &t[k..]))
        }
        _ => !t.is_empty() && one(t[0]) && matches_here(rest, &t[1..]),
    }
}

fn describe(world: &World, p: &Parsed, out: &mut Output) -> Result<(), Failure> {
    let requested = p.values("topic").first().copied();
    let names = matching(world, requested);
    if let Some(t) = requested
        && names.is_empty()
        && !p.has("if-exists")
    {
        // TopicCommand formats the Optional itself into the message.
        return Err(illegal(format!(
            "Topic 'Optional[{t}]' does not exist as expected"
        )));
    }
    let hashes: Vec<i32> = names.iter().map(|n| string_hash(n)).collect();
    for i in iteration_order(&hashes) {
        let Some(t) = world.topics.get(&names[i]) else {
            continue;
        };
        let configs: Vec<String> = t.config.iter().map(|(k, v)| format!("{k}={v}")).collect();
        out.out(&format!(
            "Topic: {}\tTopicId: {}\tPartitionCount: {}\tReplicationFactor: {}\tConfigs: {}\n",
            t.name,
            t.id,
            t.partitions.len(),
            t.replicas,
            configs.join(",")
        ));
        for q in 0..t.partitions.len() as u32 {
            let (leader, replicas) = t.placement(q);
            let ids = replicas
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",");
            out.out(&format!(
                "\tTopic: {}\tPartition: {q}\tLeader: {leader}\tReplicas: {ids}\tIsr: {ids}\tElr: \tLastKnownElr: \n",
                t.name
            ));
        }
    }
    Ok(())
}

fn int_arg(p: &Parsed, name: &str) -> Result<Option<i64>, Failure> {
    p.long(name)
        .map_err(|m| ("joptsimple.OptionArgumentConversionException", m))
}

fn create(world: &mut World, p: &Parsed, now_ms: i64, out: &mut Output) -> Result<(), Failure> {
    let name = p.values("topic").first().copied().unwrap_or("");
    if world.topics.contains_key(name) {
        if p.has("if-not-exists") {
            return Ok(());
        }
        return Err((
            "org.apache.kafka.common.errors.TopicExistsException",
            format!("Topic '{name}' already exists."),
        ));
    }
    let partitions = int_arg(p, "partitions")?.unwrap_or(1);
    let replicas = int_arg(p, "replication-factor")?.unwrap_or(i64::from(BROKERS));
    if !(1..=i64::from(i16::MAX)).contains(&replicas) {
        return Err(illegal(format!(
            "The replication factor must be between 1 and {} inclusive",
            i16::MAX
        )));
    }
    if partitions < 1 {
        return Err(illegal("The partitions must be greater than 0".into()));
    }
    if replicas > i64::from(BROKERS) {
        return Err((
            "org.apache.kafka.common.errors.InvalidReplicationFactorException",
            format!(
                "Unable to replicate the partition {replicas} time(s): The target replication factor of {replicas} cannot be reached because only {BROKERS} broker(s) are registered."
            ),
        ));
    }
    let mut t = Topic::new(name, partitions.min(10_000) as u32, replicas as u32, now_ms);
    for kv in p.values("config") {
        let Some((k, v)) = kv.split_once('=') else {
            return Err(illegal("requirement failed: Invalid topic config: all configs to be added must be in the format \"key=val\".".into()));
        };
        t.config.insert(k.trim().to_string(), v.trim().to_string());
    }
    if name.contains('.') || name.contains('_') {
        out.out("WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both.\n");
    }
    world.topics.insert(name.to_string(), t);
    out.out(&format!("Created topic {name}.\n"));
    Ok(())
}

fn alter(world: &mut World, p: &Parsed, now_ms: i64) -> Result<(), Failure> {
    let names = matching(world, p.values("topic").first().copied());
    if names.is_empty() && !p.has("if-exists") {
        let t = p.values("topic").first().copied().unwrap_or("");
        return Err(illegal(format!(
            "Topic 'Optional[{t}]' does not exist as expected"
        )));
    }
    let Some(n) = int_arg(p, "partitions")? else {
        return Ok(());
    };
    for name in names {
        let Some(t) = world.topics.get_mut(&name) else {
            continue;
        };
        let have = t.partitions.len() as i64;
        if n < have {
            return Err((
                "org.apache.kafka.common.errors.InvalidPartitionsException",
                format!(
                    "Topic currently has {have} partitions, which is higher than the requested {n}."
                ),
            ));
        }
        if n == have {
            return Err((
                "org.apache.kafka.common.errors.InvalidPartitionsException",
                format!("Topic already has {have} partitions."),
            ));
        }
        t.grow_to(n.min(10_000) as u32, now_ms);
    }
    Ok(())
}

fn delete(world: &mut World, p: &Parsed) -> Result<(), Failure> {
    let names = matching(world, p.values("topic").first().copied());
    if names.is_empty() && !p.has("if-exists") {
        let t = p.values("topic").first().copied().unwrap_or("");
        return Err(illegal(format!(
            "Topic 'Optional[{t}]' does not exist as expected"
        )));
    }
    for n in names {
        world.topics.remove(&n);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::include_list;

    #[test]
    fn topic_filters_are_whole_regular_expressions() {
        assert!(include_list(
            "customers.entity_changed",
            "customers.entity_changed"
        ));
        assert!(include_list("customers.*", "customers.entity_changed"));
        assert!(include_list(
            "\"a,customers\\.entity_changed\"",
            "customers.entity_changed"
        ));
        assert!(!include_list("customers\\.x", "customers.entity_changed"));
        assert!(!include_list("customers", "customers.entity_changed"));
        assert!(include_list("cat.log?", "catalog"));
    }
}
