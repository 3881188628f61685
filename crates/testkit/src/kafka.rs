//! The Kafka tools in the simulator's broker pod, run the way rollcall runs them: kube-rs
//! `pods/exec` over a WebSocket. Also readers for the tools' tables, by column position of
//! the header (how a person reads them), for tests that compare offsets.

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::Client;
use kube::api::{Api, AttachParams};
use tokio::io::AsyncReadExt;

pub const NAMESPACE: &str = "dictamesh-infra";
pub const BROKER: &str = "dictamesh-kafka-kafka-0";
pub const GROUPS_SH: &str = "/opt/kafka/bin/kafka-consumer-groups.sh";
pub const BOOTSTRAP: &str = "localhost:9092";

/// What one exec gave back.
#[derive(Debug, Clone, Default)]
pub struct Exec {
    pub stdout: String,
    pub stderr: String,
    /// The Status on the error channel.
    pub status: Option<Status>,
}

/// Runs `argv` in `pod`'s `kafka` container of dictamesh-infra.
pub async fn exec_in(client: &Client, pod: &str, argv: &[&str]) -> Result<Exec, kube::Error> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let params = AttachParams::default()
        .container("kafka")
        .stdout(true)
        .stderr(true);
    let mut p = pods.exec(pod, argv.to_vec(), &params).await?;
    let mut out = Exec::default();
    let status = p.take_status();
    let (mut so, mut se) = (p.stdout(), p.stderr());
    let read_out = async {
        let mut b = Vec::new();
        if let Some(s) = so.as_mut() {
            let _ = s.read_to_end(&mut b).await;
        }
        b
    };
    let read_err = async {
        let mut b = Vec::new();
        if let Some(s) = se.as_mut() {
            let _ = s.read_to_end(&mut b).await;
        }
        b
    };
    let (o, e) = tokio::join!(read_out, read_err);
    out.stdout = String::from_utf8_lossy(&o).into_owned();
    out.stderr = String::from_utf8_lossy(&e).into_owned();
    if let Some(s) = status {
        out.status = s.await;
    }
    let _ = p.join().await;
    Ok(out)
}

/// `kafka-consumer-groups.sh --bootstrap-server localhost:9092 ARGS` in the broker.
pub async fn consumer_groups(client: &Client, args: &str) -> Exec {
    let mut argv = vec![GROUPS_SH, "--bootstrap-server", BOOTSTRAP];
    argv.extend(args.split_whitespace());
    exec_in(client, BROKER, &argv)
        .await
        .expect("exec in the broker")
}

/// A table's rows as column → cell, the columns cut where the header's titles start.
pub fn table(stdout: &str, first_title: &str) -> Vec<Vec<(String, String)>> {
    let mut lines = stdout.lines().skip_while(|l| !l.starts_with(first_title));
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let mut starts: Vec<(usize, String)> = Vec::new();
    let mut prev_space = true;
    for (i, c) in header.char_indices() {
        if c != ' ' && prev_space {
            let title: String = header[i..]
                .split("  ")
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            starts.push((i, title));
        }
        prev_space = c == ' ';
    }
    // "COORDINATOR (ID)" holds a space: merge titles that were split on one space.
    starts.dedup_by(|b, a| a.1.contains(' ') && a.1.ends_with(&b.1));
    lines
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            starts
                .iter()
                .zip(words.iter().chain(std::iter::repeat(&"")))
                .map(|((_, t), w)| (t.clone(), w.to_string()))
                .collect()
        })
        .collect()
}

/// A cell of a row by its column title.
pub fn cell<'a>(row: &'a [(String, String)], title: &str) -> &'a str {
    row.iter()
        .find(|(t, _)| t == title)
        .map_or("", |(_, v)| v.as_str())
}

/// Per partition of `topic`: (current offset, log-end offset) from `--describe`.
pub fn offsets(stdout: &str, topic: &str) -> std::collections::BTreeMap<u32, (Option<u64>, u64)> {
    table(stdout, "GROUP")
        .iter()
        .filter(|r| cell(r, "TOPIC") == topic)
        .filter_map(|r| {
            let p = cell(r, "PARTITION").parse().ok()?;
            let end = cell(r, "LOG-END-OFFSET").parse().ok()?;
            Some((p, (cell(r, "CURRENT-OFFSET").parse().ok(), end)))
        })
        .collect()
}

/// Per partition of `topic`: the new offset from `--reset-offsets`.
pub fn new_offsets(stdout: &str, topic: &str) -> std::collections::BTreeMap<u32, u64> {
    table(stdout, "GROUP")
        .iter()
        .filter(|r| cell(r, "TOPIC") == topic)
        .filter_map(|r| {
            Some((
                cell(r, "PARTITION").parse().ok()?,
                cell(r, "NEW-OFFSET").parse().ok()?,
            ))
        })
        .collect()
}

/// A time as `--to-datetime` takes it, in UTC with milliseconds.
pub fn datetime(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}
