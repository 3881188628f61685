//! `kafka-consumer-groups.sh` as Kafka 3.9 ships it (`ConsumerGroupCommand`): the option
//! checks and their usage errors (stderr, the help table, exit 1), then `--list`,
//! `--describe` (offsets, `--members`, `--state`), `--delete` and `--reset-offsets`
//! (`reset.rs`). Runtime failures print `Error: …` on stdout and exit 0, as the real tool
//! does; only usage errors and exceptions escaping the parser exit 1.

use std::collections::BTreeMap;

use super::javahash::{iteration_order, option_hash, string_hash, topic_partition_hash};
use super::opts::{self, Arg, Parsed, Spec};
use super::{Output, VERSION, reachable, stack_trace};
use crate::Shared;
use crate::kafka::groups::{Group, GroupState};
use crate::kafka::{BROKERS, World, broker_host};

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

pub const SPECS: &[Spec] = &[
    with(
        "bootstrap-server",
        "String",
        "server to connect to",
        "REQUIRED: The server(s) to connect to.",
    ),
    with(
        "group",
        "String",
        "consumer group",
        "The consumer group we wish to act on.",
    ),
    with(
        "topic",
        "String",
        "topic",
        "The topic whose consumer group information should be deleted or topic whose should be included in the reset offset process. In `reset-offsets` case, partitions can be specified using this format: `topic1:0,1,2`, where 0,1,2 are the partition to be included in the process. Reset-offsets also supports multiple topic inputs.",
    ),
    flag(
        "all-topics",
        "Consider all topics assigned to a group in the `reset-offsets` process.",
    ),
    flag("list", "List all consumer groups."),
    flag(
        "describe",
        "Describe consumer group and list offset lag (number of messages not yet processed) related to given group.",
    ),
    flag("all-groups", "Apply to all consumer groups."),
    flag(
        "delete",
        "Pass in groups to delete topic partition offsets and ownership information over the entire consumer group. For instance --group g1 --group g2",
    ),
    with(
        "timeout",
        "Long",
        "timeout (ms)",
        "The timeout that can be set for some use cases. For example, it can be used when describing the group to specify the maximum amount of time in milliseconds to wait before the group stabilizes (when the group is just created, or is going through some changes). (default: 5000)",
    ),
    with(
        "command-config",
        "String",
        "command config property file",
        "Property file containing configs to be passed to Admin Client and Consumer.",
    ),
    flag(
        "reset-offsets",
        "Reset offsets of consumer group. Supports one consumer group at the time, and instances should be inactive\nHas 2 execution options: --dry-run (the default) to plan which offsets to reset, and --execute to update the offsets. Additionally, the --export option is used to export the results to a CSV format.\nYou must choose one of the following reset specifications: --to-datetime, --by-duration, --to-earliest, --to-latest, --shift-by, --from-file, --to-current, --to-offset.\nTo define the scope use --all-topics or --topic. One scope must be specified unless you use '--from-file'.",
    ),
    flag(
        "delete-offsets",
        "Delete offsets of consumer group. Supports one consumer group at the time, and multiple topics.",
    ),
    flag(
        "dry-run",
        "Only show results without executing changes on Consumer Groups. Supported operations: reset-offsets.",
    ),
    flag(
        "execute",
        "Execute operation. Supported operations: reset-offsets.",
    ),
    flag(
        "export",
        "Export operation execution to a CSV file. Supported operations: reset-offsets.",
    ),
    with(
        "to-offset",
        "Long",
        "offset",
        "Reset offsets to a specific offset.",
    ),
    with(
        "from-file",
        "String",
        "path to CSV file",
        "Reset offsets to values defined in CSV file.",
    ),
    with(
        "to-datetime",
        "String",
        "datetime",
        "Reset offsets to offset from datetime. Format: 'YYYY-MM-DDTHH:mm:SS.sss'",
    ),
    with(
        "by-duration",
        "String",
        "duration",
        "Reset offsets to offset by duration from current timestamp. Format: 'PnDTnHnMnS'",
    ),
    flag("to-earliest", "Reset offsets to earliest offset."),
    flag("to-latest", "Reset offsets to latest offset."),
    flag("to-current", "Reset offsets to current offset."),
    with(
        "shift-by",
        "Long",
        "number-of-offsets",
        "Reset offsets shifting current offset by 'n', where 'n' can be positive or negative.",
    ),
    Spec {
        name: "members",
        arg: Arg::None,
        doc: "Describe members of the group. This option may be used with '--describe' and '--bootstrap-server' options only.\nExample: --bootstrap-server localhost:9092 --describe --group group1 --members",
        available_if: &["describe"],
    },
    Spec {
        name: "verbose",
        arg: Arg::None,
        doc: "Provide additional information, if any, when describing the group. This option may be used with '--offsets'/'--members'/'--state' and '--bootstrap-server' options only.\nExample: --bootstrap-server localhost:9092 --describe --group group1 --members --verbose",
        available_if: &["describe"],
    },
    Spec {
        name: "offsets",
        arg: Arg::None,
        doc: "Describe the group and list all topic partitions in the group along with their offset lag. This is the default sub-action of and may be used with '--describe' and '--bootstrap-server' options only.\nExample: --bootstrap-server localhost:9092 --describe --group group1 --offsets",
        available_if: &["describe"],
    },
    Spec {
        name: "state",
        arg: Arg::Optional("String"),
        doc: "When specified with '--describe', includes the state of the group.\nExample: --bootstrap-server localhost:9092 --describe --group group1 --state\nWhen specified with '--list', it displays the state of all groups. It can also be used to list groups with specific states.\nExample: --bootstrap-server localhost:9092 --list --state stable,empty\nThis option may be used with '--describe', '--list' and '--bootstrap-server' options only.",
        available_if: &["describe", "list"],
    },
    Spec {
        name: "type",
        arg: Arg::Optional("String"),
        doc: "When specified with '--list', it displays the types of all the groups. It can also be used to list groups with specific types.\nExample: --bootstrap-server localhost:9092 --list --type classic,consumer\nThis option may be used with the '--list' option only.",
        available_if: &["list"],
    },
    flag("help", "Print usage information."),
    flag("version", "Display Kafka version."),
];

const TOOL_DOC: &str = "This tool helps to list all consumer groups, describe a consumer group, delete consumer group info, or reset consumer group offsets.";

/// The reset specifications (`allResetOffsetScenarioOpts`), in their declaration order.
pub const SCENARIOS: &[&str] = &[
    "to-offset",
    "shift-by",
    "to-datetime",
    "by-duration",
    "to-earliest",
    "to-latest",
    "to-current",
    "from-file",
];

/// Ends the command as `CommandLineUtils.printUsageAndExit` does.
pub struct Usage(pub String);

pub fn usage(message: &str) -> Output {
    Output {
        stdout: String::new(),
        stderr: format!("{message}\n{}", opts::help(SPECS)),
        code: 1,
    }
}

/// `[a], [b]` in the order a `HashSet` of these option specs iterates.
pub fn join_set(names: &[&str]) -> String {
    let hashes: Vec<i32> = names.iter().map(|n| option_hash(n)).collect();
    iteration_order(&hashes)
        .into_iter()
        .map(|i| format!("[{}]", names[i]))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `checkInvalidArgs`: the first of `invalid` (in set order) given with `used`.
fn check_invalid(p: &Parsed, used: &str, invalid: &[&str]) -> Result<(), Usage> {
    if !p.has(used) {
        return Ok(());
    }
    let hashes: Vec<i32> = invalid.iter().map(|n| option_hash(n)).collect();
    for i in iteration_order(&hashes) {
        if p.has(invalid[i]) {
            return Err(Usage(format!(
                "Option \"[{used}]\" can't be used with option \"[{}]\"",
                invalid[i]
            )));
        }
    }
    Ok(())
}

/// `ConsumerGroupCommandOptions.checkArgs`, with its stderr warning.
fn check_args(p: &Parsed, out: &mut Output) -> Result<(), Usage> {
    if !p.has("bootstrap-server") {
        return Err(Usage(
            "Missing required argument \"[bootstrap-server]\"".into(),
        ));
    }
    let scope = join_set(&["group", "all-groups"]);
    let no_group = !p.has("group") && !p.has("all-groups");
    if p.has("describe") {
        if no_group {
            return Err(Usage(format!(
                "Option [describe] takes one of these options: {scope}"
            )));
        }
        if ["members", "offsets", "state"]
            .iter()
            .filter(|o| p.has(o))
            .count()
            > 1
        {
            return Err(Usage(
                "Option [describe] takes at most one of these options: [members], [offsets], [state]".into(),
            ));
        }
        if !p.values("state").is_empty() {
            return Err(Usage(
                "Option [describe] does not take a value for [state]".into(),
            ));
        }
    }
    if p.has("delete") {
        if no_group {
            return Err(Usage(format!(
                "Option [delete] takes one of these options: {scope}"
            )));
        }
        if p.has("topic") {
            return Err(Usage(
                "The consumer does not support topic-specific offset deletion from a consumer group.".into(),
            ));
        }
    }
    if p.has("delete-offsets") && (!p.has("group") || !p.has("topic")) {
        return Err(Usage(format!(
            "Option [delete-offsets] takes the following options: {}",
            join_set(&["group", "topic"])
        )));
    }
    if p.has("reset-offsets") {
        if p.has("dry-run") && p.has("execute") {
            return Err(Usage(
                "Option [reset-offsets] only accepts one of [execute] and [dry-run]".into(),
            ));
        }
        if !p.has("dry-run") && !p.has("execute") {
            out.err("WARN: No action will be performed as the --execute option is missing.In a future major release, the default behavior of this command will be to prompt the user before executing the reset rather than doing a dry run. You should add the --dry-run option explicitly if you are scripting this command and want to keep the current default behavior without prompting.\n");
        }
        if no_group {
            return Err(Usage(format!(
                "Option [reset-offsets] takes one of these options: {scope}"
            )));
        }
        for used in [
            "to-offset",
            "to-datetime",
            "by-duration",
            "to-earliest",
            "to-latest",
            "to-current",
            "shift-by",
            "from-file",
        ] {
            let others: Vec<&str> = SCENARIOS.iter().copied().filter(|s| *s != used).collect();
            check_invalid(p, used, &others)?;
        }
    }
    check_invalid(p, "group", &["all-groups"])?;
    check_invalid(p, "group", &["list"])?;
    check_invalid(p, "topic", &["list", "describe"])?;
    Ok(())
}

/// An exception escaping `main` (jopt-simple's parse errors).
fn uncaught(class: &str, message: &str) -> Output {
    Output {
        stdout: String::new(),
        stderr: format!(
            "Exception in thread \"main\" {}",
            stack_trace(
                &format!("{class}: {message}"),
                &[
                    "joptsimple.OptionParser.parse(OptionParser.java:396)",
                    "org.apache.kafka.tools.consumer.group.ConsumerGroupCommandOptions.<init>(ConsumerGroupCommandOptions.java:197)",
                    "org.apache.kafka.tools.consumer.group.ConsumerGroupCommandOptions.fromArgs(ConsumerGroupCommandOptions.java:77)",
                    "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand.main(ConsumerGroupCommand.java:97)",
                ],
            )
        ),
        code: 1,
    }
}

/// `printError`: `\nError: …` on stdout, the exception's trace on stderr.
pub fn print_error(out: &mut Output, message: &str, trace: Option<&str>) {
    out.out(&format!("\nError: {message}\n"));
    if let Some(t) = trace {
        out.err(t);
    }
}

/// A failure caught by `run`'s `catch (Throwable e)`.
pub fn failed(out: &mut Output, exception: &str, message: &str) {
    print_error(
        out,
        &format!("Executing consumer group command failed due to {message}"),
        Some(&stack_trace(
            exception,
            &[
                "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand$ConsumerGroupService.resetOffsets(ConsumerGroupCommand.java:463)",
                "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand.run(ConsumerGroupCommand.java:114)",
                "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand.main(ConsumerGroupCommand.java:102)",
            ],
        )),
    );
}

pub fn run(shared: &Shared, args: &[String]) -> Output {
    let mut out = Output::default();
    if args.is_empty() {
        return usage(TOOL_DOC);
    }
    let p = match opts::parse(SPECS, args) {
        Ok(p) => p,
        Err(e) => return uncaught(e.class, &e.message),
    };
    if p.has("help") {
        return usage(TOOL_DOC);
    }
    if p.has("version") {
        out.out(&format!("{VERSION}\n"));
        return out;
    }
    if let Err(Usage(m)) = check_args(&p, &mut out) {
        let mut u = usage(&m);
        u.stderr = format!("{}{}", out.stderr, u.stderr);
        return u;
    }
    let actions = [
        "list",
        "describe",
        "delete",
        "reset-offsets",
        "delete-offsets",
    ];
    if actions.iter().filter(|a| p.has(a)).count() != 1 {
        return usage(
            "Command must include exactly one action: --list, --describe, --delete, --reset-offsets, --delete-offsets",
        );
    }
    if let Some(file) = p.values("command-config").first() {
        failed(
            &mut out,
            &format!("java.lang.RuntimeException: java.nio.file.NoSuchFileException: {file}"),
            &format!("java.nio.file.NoSuchFileException: {file}"),
        );
        return out;
    }
    let checked = p
        .value("bootstrap-server")
        .and_then(|b| p.long("timeout").map(|_| b));
    let bootstrap = match checked {
        Ok(b) => b.unwrap_or(""),
        Err(m) => {
            failed(&mut out, &format!("joptsimple.OptionException: {m}"), &m);
            return out;
        }
    };
    if !reachable(bootstrap) {
        let call = if p.has("list") {
            "listConsumerGroups"
        } else {
            "describeConsumerGroups"
        };
        failed(
            &mut out,
            &format!(
                "java.util.concurrent.ExecutionException: org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment. Call: {call}"
            ),
            &format!(
                "org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment. Call: {call}"
            ),
        );
        return out;
    }
    let now_ms = shared.clock.now().as_millisecond();
    let mut world = shared.kafka.now(shared);
    let result = if p.has("list") {
        list(&world, &p, now_ms, &mut out)
    } else if p.has("describe") {
        describe(&world, &p, now_ms, &mut out);
        Ok(())
    } else if p.has("delete") {
        delete(&mut world, &p, now_ms, &mut out);
        Ok(())
    } else if p.has("reset-offsets") {
        super::reset::run(&mut world, &p, now_ms, &mut out)
    } else {
        delete_offsets(&mut world, &p, now_ms, &mut out);
        Ok(())
    };
    match result {
        Ok(()) => out,
        Err(Usage(m)) => {
            let mut u = usage(&m);
            u.stdout = out.stdout;
            u.stderr = format!("{}{}", out.stderr, u.stderr);
            u
        }
    }
}

/// The groups the command names (`--all-groups`: every listed group).
fn group_ids(world: &World, p: &Parsed, now_ms: i64) -> Vec<String> {
    if p.has("all-groups") {
        listed(world, now_ms)
            .into_iter()
            .map(|g| g.name.clone())
            .collect()
    } else {
        p.values("group").into_iter().map(String::from).collect()
    }
}

/// Groups `ListGroups` returns: every group the coordinator knows that is not Dead.
fn listed(world: &World, now_ms: i64) -> Vec<&Group> {
    world
        .groups
        .values()
        .filter(|g| g.state(now_ms) != GroupState::Dead)
        .collect()
}

const STATE_NAMES: &[&str] = &[
    "PreparingRebalance",
    "CompletingRebalance",
    "Stable",
    "Dead",
    "Empty",
    "Assigning",
    "Reconciling",
];

fn list(world: &World, p: &Parsed, now_ms: i64, out: &mut Output) -> Result<(), Usage> {
    let groups = listed(world, now_ms);
    let with_state = p.has("state");
    let with_type = p.has("type");
    if !with_state && !with_type {
        for g in groups {
            out.out(&format!("{}\n", g.name));
        }
        return Ok(());
    }
    let mut states: Vec<&str> = Vec::new();
    if let Some(v) = p.values("state").first().filter(|v| !v.is_empty()) {
        for s in v.split(',') {
            let known = STATE_NAMES
                .iter()
                .find(|n| n.eq_ignore_ascii_case(s.trim()));
            match known {
                Some(n) => states.push(n),
                None => {
                    return Err(Usage(format!(
                        "Invalid state list '{v}'. Valid states are: {}",
                        STATE_NAMES.join(", ")
                    )));
                }
            }
        }
    }
    if let Some(v) = p.values("type").first().filter(|v| !v.is_empty()) {
        let all_known = v
            .to_ascii_lowercase()
            .split(',')
            .all(|t| matches!(t.trim(), "classic" | "consumer"));
        if !all_known {
            return Err(Usage(format!(
                "Invalid types list '{v}'. Valid types are: Consumer, Classic"
            )));
        }
        if !v
            .to_ascii_lowercase()
            .split(',')
            .any(|t| t.trim() == "classic")
        {
            states.push("(none)");
        }
    }
    let shown: Vec<&Group> = groups
        .into_iter()
        .filter(|g| states.is_empty() || states.contains(&g.state(now_ms).as_str()))
        .collect();
    let width = shown
        .iter()
        .map(|g| g.name.len().max(15))
        .max()
        .unwrap_or(15)
        + 10;
    let mut header = format!("{:<width$}", "GROUP");
    if with_type {
        header.push_str(&format!(" {:<20}", "TYPE"));
    }
    if with_state {
        header.push_str(&format!(" {:<20}", "STATE"));
    }
    out.out(&format!("{header}\n"));
    for g in shown {
        let mut row = format!("{:<width$}", g.name);
        if with_type {
            row.push_str(&format!(" {:<20}", "Classic"));
        }
        if with_state {
            row.push_str(&format!(" {:<20}", g.state(now_ms).as_str()));
        }
        out.out(&format!("{row}\n"));
    }
    Ok(())
}

/// `shouldPrintMemberState`: the notes about the group's state; whether to print rows.
fn should_print(out: &mut Output, group: &str, state: GroupState, rows: usize) -> bool {
    match state {
        GroupState::Dead => {
            print_error(
                out,
                &format!("Consumer group '{group}' does not exist."),
                None,
            );
        }
        GroupState::Empty => out.err(&format!(
            "\nConsumer group '{group}' has no active members.\n"
        )),
        GroupState::PreparingRebalance | GroupState::CompletingRebalance => {
            out.err(&format!(
                "\nWarning: Consumer group '{group}' is rebalancing.\n"
            ));
        }
        GroupState::Stable => {}
    }
    state != GroupState::Dead && rows > 0
}

/// The broker coordinating a group: the leader of its `__consumer_offsets` partition.
pub fn coordinator(group: &str) -> u32 {
    let p = (string_hash(group) & 0x7fff_ffff) as u32 % 50;
    p % BROKERS
}

struct Row {
    topic: String,
    partition: u32,
    offset: Option<u64>,
    end: Option<u64>,
    consumer: String,
    host: String,
    client: String,
}

/// Rows for some partitions, in the order of the `HashMap` the tool builds them from.
fn rows_for(
    world: &World,
    g: &Group,
    tps: &[(String, u32)],
    who: (&str, &str, &str),
    rows: &mut Vec<Row>,
) {
    let mut sorted = tps.to_vec();
    sorted.sort_by_key(|(_, p)| *p);
    let hashes: Vec<i32> = sorted
        .iter()
        .map(|(t, p)| topic_partition_hash(t, *p))
        .collect();
    for i in iteration_order(&hashes) {
        let (t, p) = &sorted[i];
        let end = world
            .topics
            .get(t)
            .and_then(|t| t.partitions.get(*p as usize))
            .map(|l| l.log_end());
        rows.push(Row {
            topic: t.clone(),
            partition: *p,
            offset: g.offsets.get(&(t.clone(), *p)).copied(),
            end,
            consumer: who.0.into(),
            host: who.1.into(),
            client: who.2.into(),
        });
    }
}

fn describe(world: &World, p: &Parsed, now_ms: i64, out: &mut Output) {
    let mut ids = group_ids(world, p, now_ms);
    ids.sort();
    ids.dedup();
    let empty = Group::new("", &[], crate::kafka::groups::Members::Fixed);
    for id in ids {
        let g = world.groups.get(&id).unwrap_or(&empty);
        let state = if g.name.is_empty() {
            GroupState::Dead
        } else {
            g.state(now_ms)
        };
        if p.has("members") {
            describe_members(g, &id, state, p.has("verbose"), out);
        } else if p.has("state") {
            describe_state(g, &id, state, out);
        } else {
            describe_offsets(world, g, &id, state, out);
        }
    }
}

fn describe_offsets(world: &World, g: &Group, id: &str, state: GroupState, out: &mut Output) {
    let mut rows = Vec::new();
    let mut members: Vec<_> = g
        .members
        .iter()
        .filter(|m| !m.assignment.is_empty())
        .collect();
    members.sort_by_key(|m| std::cmp::Reverse(m.assignment.len()));
    // Members have no assignment while the group rebalances.
    let rebalancing = matches!(
        state,
        GroupState::PreparingRebalance | GroupState::CompletingRebalance
    );
    let mut assigned = Vec::new();
    if !rebalancing {
        for m in members {
            rows_for(
                world,
                g,
                &m.assignment,
                (&m.consumer_id, &m.host, &m.client_id),
                &mut rows,
            );
            assigned.extend(m.assignment.iter().cloned());
        }
    }
    let rest: Vec<(String, u32)> = g
        .offsets
        .keys()
        .filter(|k| !assigned.contains(k))
        .cloned()
        .collect();
    if !rest.is_empty() {
        rows_for(world, g, &rest, ("-", "-", "-"), &mut rows);
    }
    if !should_print(out, id, state, rows.len()) {
        return;
    }
    let w = |f: &dyn Fn(&Row) -> usize| rows.iter().map(f).max().unwrap_or(0).max(15);
    let (gw, tw) = (id.len().max(15), w(&|r| r.topic.len()));
    let (cw, hw) = (w(&|r| r.consumer.len()), w(&|r| r.host.len()));
    let line = |c: [&str; 9]| {
        format!(
            "\n{:<gw$} {:<tw$} {:<10} {:<15} {:<15} {:<15} {:<cw$} {:<hw$} {}",
            c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]
        )
    };
    out.out(&line([
        "GROUP",
        "TOPIC",
        "PARTITION",
        "CURRENT-OFFSET",
        "LOG-END-OFFSET",
        "LAG",
        "CONSUMER-ID",
        "HOST",
        "CLIENT-ID",
    ]));
    let opt = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    for r in &rows {
        let lag = match (r.offset, r.end) {
            (Some(o), Some(e)) => Some(e.saturating_sub(o)),
            _ => None,
        };
        out.out(&line([
            id,
            &r.topic,
            &r.partition.to_string(),
            &opt(r.offset),
            &opt(r.end),
            &opt(lag),
            &r.consumer,
            &r.host,
            &r.client,
        ]));
    }
    out.out("\n");
}

fn describe_members(g: &Group, id: &str, state: GroupState, verbose: bool, out: &mut Output) {
    if !should_print(out, id, state, g.members.len()) {
        return;
    }
    let w = |f: &dyn Fn(&crate::kafka::groups::Member) -> usize| {
        g.members.iter().map(f).max().unwrap_or(0).max(15)
    };
    let (gw, cw) = (id.len().max(15), w(&|m| m.consumer_id.len()));
    let (hw, lw) = (w(&|m| m.host.len()), w(&|m| m.client_id.len()));
    let fmt = |c: [&str; 5]| {
        format!(
            "{:<gw$} {:<cw$} {:<hw$} {:<lw$} {:<15} ",
            c[0], c[1], c[2], c[3], c[4]
        )
    };
    out.out(&format!(
        "\n{}",
        fmt(["GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS"])
    ));
    if verbose {
        out.out("ASSIGNMENT");
    }
    out.out("\n");
    for m in &g.members {
        out.out(&fmt([
            id,
            &m.consumer_id,
            &m.host,
            &m.client_id,
            &m.assignment.len().to_string(),
        ]));
        if verbose {
            let mut by_topic: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for (t, p) in &m.assignment {
                by_topic.entry(t).or_default().push(p.to_string());
            }
            let mut groups: Vec<String> = by_topic
                .into_values()
                .map(|mut ps| {
                    ps.sort();
                    format!("({})", ps.join(","))
                })
                .collect();
            groups.sort();
            out.out(&if groups.is_empty() {
                "-".to_string()
            } else {
                groups.join(", ")
            });
        }
        out.out("\n");
    }
}

fn describe_state(g: &Group, id: &str, state: GroupState, out: &mut Output) {
    if !should_print(out, id, state, 1) {
        return;
    }
    let node = coordinator(id);
    let coordinator = format!("{}:9092  ({node})", broker_host(node));
    let cw = coordinator.len().max(25);
    // Kafka 3.x sizes the GROUP column by the coordinator's width.
    let fmt = |c: [&str; 5]| {
        format!(
            "\n{:<cw$} {:<25} {:<20} {:<15} {}",
            c[0], c[1], c[2], c[3], c[4]
        )
    };
    out.out(&fmt([
        "GROUP",
        "COORDINATOR (ID)",
        "ASSIGNMENT-STRATEGY",
        "STATE",
        "#MEMBERS",
    ]));
    out.out(&fmt([
        id,
        &coordinator,
        g.strategy(),
        state.as_str(),
        &g.members.len().to_string(),
    ]));
    out.out("\n");
}

fn delete(world: &mut World, p: &Parsed, now_ms: i64, out: &mut Output) {
    let ids = group_ids(world, p, now_ms);
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for id in &ids {
        match world.groups.get(id).map(|g| g.state(now_ms)) {
            None | Some(GroupState::Dead) => failed.push((id.clone(), "org.apache.kafka.common.errors.GroupIdNotFoundException: The group id does not exist.")),
            Some(GroupState::Empty) => {
                if let Some(g) = world.groups.get_mut(id) {
                    g.offsets.clear();
                }
                ok.push(id.clone());
            }
            Some(_) => failed.push((id.clone(), "org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty.")),
        }
    }
    let quoted = |v: &[String]| {
        v.iter()
            .map(|g| format!("'{g}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if failed.is_empty() {
        out.out(&format!(
            "Deletion of requested consumer groups ({}) was successful.\n",
            quoted(&ok)
        ));
        return;
    }
    print_error(out, "Deletion of some consumer groups failed:", None);
    for (g, why) in &failed {
        out.out(&format!(
            "* Group '{g}' could not be deleted due to: {why}\n"
        ));
    }
    if !ok.is_empty() {
        out.out(&format!(
            "\nThese consumer groups were deleted successfully: {}\n",
            quoted(&ok)
        ));
    }
}

fn delete_offsets(world: &mut World, p: &Parsed, now_ms: i64, out: &mut Output) {
    let id = p.values("group").first().copied().unwrap_or("");
    let mut results: Vec<(String, Option<u32>, String)> = Vec::new();
    let state = world.groups.get(id).map(|g| g.state(now_ms));
    let top = match state {
        None | Some(GroupState::Dead) => Some("The group id does not exist."),
        Some(GroupState::Empty) => None,
        Some(_) => Some("The group is not empty."),
    };
    for arg in p.values("topic") {
        let (topic, parts): (&str, Option<Vec<u32>>) = match arg.split_once(':') {
            Some((t, ps)) => (
                t,
                Some(ps.split(',').filter_map(|x| x.parse().ok()).collect()),
            ),
            None => (arg, None),
        };
        let Some(t) = world.topics.get(topic) else {
            results.push((
                topic.into(),
                None,
                "Error: This server does not host this topic-partition.".into(),
            ));
            continue;
        };
        let parts = parts.unwrap_or_else(|| (0..t.partitions.len() as u32).collect());
        for part in parts {
            let status = match top {
                Some(e) => format!("Error: {e}"),
                None => {
                    if let Some(g) = world.groups.get_mut(id) {
                        g.offsets.remove(&(topic.to_string(), part));
                    }
                    "Successful".into()
                }
            };
            results.push((topic.into(), Some(part), status));
        }
    }
    match top {
        None => out.out(&format!(
            "Request succeeded for deleting offsets from group {id}.\n"
        )),
        Some(e) => print_error(out, e, None),
    }
    let tw = results.iter().map(|r| r.0.len()).max().unwrap_or(0).max(15);
    out.out(&format!(
        "\n{:<tw$} {:<10} {:<15}",
        "TOPIC", "PARTITION", "STATUS"
    ));
    results.sort_by(|a, b| {
        (a.0.clone() + &a.1.map_or("-".into(), |p| p.to_string()))
            .cmp(&(b.0.clone() + &b.1.map_or("-".into(), |p| p.to_string())))
    });
    for (t, part, status) in results {
        let part = part.map_or("-".to_string(), |p| p.to_string());
        out.out(&format!("\n{t:<tw$} {part:<10} {status:<15}"));
    }
    out.out("\n");
}
