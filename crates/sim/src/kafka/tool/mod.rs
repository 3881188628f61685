//! What the broker pods can run: Kafka 3.9's `kafka-consumer-groups.sh` and
//! `kafka-topics.sh` (at `/opt/kafka/bin/`, or `bin/…` from the image's working directory
//! `/opt/kafka`), answering from the simulated cluster with the real tools' output, streams
//! and exit codes. Any other command, and every command in other pods, fails as the
//! container runtime fails a missing executable.

pub mod consumer_groups;
pub mod javahash;
pub mod opts;
pub mod reset;
#[cfg(test)]
mod tests;
pub mod time;
pub mod topics;

use crate::Shared;

/// The Kafka version the tools behave as.
pub const VERSION: &str = "3.9.0";
/// Where the Strimzi image keeps the tools.
pub const BIN: &str = "/opt/kafka/bin/";

/// A finished command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Output {
    pub fn out(&mut self, s: &str) {
        self.stdout.push_str(s);
    }

    pub fn err(&mut self, s: &str) {
        self.stderr.push_str(s);
    }
}

/// How a command ended without running: the container runtime could not start it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotFound {
    /// argv[0] as given.
    pub command: String,
}

/// Which tool `argv0` names, if the broker image has it there.
fn tool_of(argv0: &str) -> Option<&'static str> {
    let name = argv0
        .strip_prefix(BIN)
        .or_else(|| argv0.strip_prefix("bin/"))
        .or_else(|| argv0.strip_prefix("./bin/"))?;
    ["kafka-consumer-groups.sh", "kafka-topics.sh"]
        .into_iter()
        .find(|t| *t == name)
}

/// Runs `argv` in a broker pod (`broker` true) or another pod.
pub fn run(shared: &Shared, broker: bool, argv: &[String]) -> Result<Output, NotFound> {
    let argv0 = argv.first().map(String::as_str).unwrap_or("");
    let tool = if broker { tool_of(argv0) } else { None };
    let args = argv.get(1..).unwrap_or(&[]);
    match tool {
        Some("kafka-consumer-groups.sh") => Ok(consumer_groups::run(shared, args)),
        Some("kafka-topics.sh") => Ok(topics::run(shared, args)),
        _ => Err(NotFound {
            command: argv0.to_string(),
        }),
    }
}

/// Whether the admin client can reach the cluster at this bootstrap list: the broker's
/// own listener, a broker's advertised name, or the cluster's bootstrap Service.
pub fn reachable(bootstrap: &str) -> bool {
    use super::{BROKERS, CLUSTER, NAMESPACE, broker_host, broker_pod};
    let svc = format!("{CLUSTER}-kafka-bootstrap");
    let mut hosts = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        svc.clone(),
        format!("{svc}.{NAMESPACE}"),
        format!("{svc}.{NAMESPACE}.svc"),
        format!("{svc}.{NAMESPACE}.svc.cluster.local"),
    ];
    for id in 0..BROKERS {
        hosts.push(broker_pod(id));
        hosts.push(broker_host(id));
    }
    bootstrap.split(',').any(|b| {
        b.trim()
            .rsplit_once(':')
            .is_some_and(|(h, p)| p == "9092" && hosts.iter().any(|x| x == h))
    })
}

/// A Java stack trace as `printStackTrace` writes it: the exception, then its frames.
pub fn stack_trace(exception: &str, frames: &[&str]) -> String {
    let mut s = format!("{exception}\n");
    for f in frames {
        s.push_str(&format!("\tat {f}\n"));
    }
    s
}
