//! Kafka through the Kubernetes API: the broker's own `kafka-consumer-groups.sh` run in
//! a broker pod with the `pods/exec` subresource (a WebSocket, as `kubectl exec` opens
//! it), its stdout, stderr and exit status collected, under a timeout. An on-call laptop
//! reaches the API server, not the brokers; every Strimzi image ships the tools; RBAC
//! `create pods/exec` in the Kafka namespace is all it takes. Also the watcher that
//! reads an environment's groups and `KafkaTopic` objects every ten seconds.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{AttachParams, DynamicObject, ListParams};
use kube::{Api, Client};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use crate::config::Kafka;
use crate::domain::kafka::exec::{Exit, exit_of};
use crate::domain::kafka::table::{self, OffsetRow, Parsed, ResetRow, StateRow, ToolError};
use crate::domain::kafka::topics::{self, TopicSpec};
use crate::domain::kafka::{GroupView, KafkaUpdate, LagHistory, ResetSpec};

/// How long one tool run may take (the JVM starts in a few seconds).
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// How often the watcher reads the groups.
pub const READ_EVERY: Duration = Duration::from_secs(10);
/// The most output kept from one run: the tables are small; a runaway is cut.
const MAX_OUTPUT: u64 = 4 << 20;

/// What a run printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    pub stdout: String,
    pub stderr: String,
    pub exit: Exit,
}

/// Why a command could not be run in the pod, in words.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("forbidden: RBAC does not let you create pods/exec in {namespace}{detail}")]
    Forbidden { namespace: String, detail: String },
    #[error("pod {namespace}/{pod} not found: is `kafka.pod` right for this environment?")]
    NoPod { namespace: String, pod: String },
    #[error("exec in {pod}: {message}")]
    Api { pod: String, message: String },
    #[error("no answer from {pod} within {}s: nothing more is known of the run", .timeout.as_secs())]
    Timeout { pod: String, timeout: Duration },
    #[error("the exec stream from {pod} broke: {message}")]
    Stream { pod: String, message: String },
}

/// Why a tool run did not give what was asked.
#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// The tool's own `Error:` line.
    #[error("{0}")]
    Tool(ToolError),
    #[error("{0}")]
    Failed(String),
}

impl KafkaError {
    pub fn tool(&self) -> Option<&ToolError> {
        match self {
            KafkaError::Tool(t) => Some(t),
            _ => None,
        }
    }
}

/// Runs `command` in the configured broker pod and container.
pub async fn exec(
    client: &Client,
    kafka: &Kafka,
    command: &[String],
    timeout: Duration,
) -> Result<ExecOutput, ExecError> {
    let api: Api<Pod> = Api::namespaced(client.clone(), &kafka.namespace);
    let params = AttachParams::default()
        .container(kafka.container.clone())
        .stdin(false)
        .stdout(true)
        .stderr(true)
        .max_stdout_buf_size(64 << 10)
        .max_stderr_buf_size(64 << 10);
    let pod = kafka.pod.clone();
    let run = async {
        let mut process = api
            .exec(&kafka.pod, command.to_vec(), &params)
            .await
            .map_err(|e| exec_error(e, kafka))?;
        let stdout = process.stdout();
        let stderr = process.stderr();
        let status = process.take_status();
        let (stdout, stderr, status) = tokio::join!(read_all(stdout), read_all(stderr), async {
            match status {
                Some(s) => s.await,
                None => None,
            }
        });
        let joined = process.join().await;
        let exit = match (status, joined) {
            (Some(status), _) => exit_of(&status),
            (None, Err(e)) => {
                return Err(ExecError::Stream {
                    pod: pod.clone(),
                    message: crate::clients::innermost(&e),
                });
            }
            (None, Ok(())) => {
                return Err(ExecError::Stream {
                    pod: pod.clone(),
                    message: "it closed without an exit status".into(),
                });
            }
        };
        Ok(ExecOutput {
            stdout,
            stderr,
            exit,
        })
    };
    match tokio::time::timeout(timeout, run).await {
        Ok(result) => result,
        Err(_) => Err(ExecError::Timeout {
            pod: kafka.pod.clone(),
            timeout,
        }),
    }
}

async fn read_all(reader: Option<impl AsyncRead + Unpin>) -> String {
    let Some(reader) = reader else {
        return String::new();
    };
    let mut bytes = Vec::new();
    // A read error ends the stream; the status says how the run ended.
    let _ = reader.take(MAX_OUTPUT).read_to_end(&mut bytes).await;
    String::from_utf8_lossy(&bytes).into_owned()
}

fn exec_error(e: kube::Error, kafka: &Kafka) -> ExecError {
    if let kube::Error::Api(status) = &e {
        match status.code {
            403 => {
                return ExecError::Forbidden {
                    namespace: kafka.namespace.clone(),
                    detail: if status.message.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", status.message)
                    },
                };
            }
            404 => {
                return ExecError::NoPod {
                    namespace: kafka.namespace.clone(),
                    pod: kafka.pod.clone(),
                };
            }
            _ => {}
        }
    }
    ExecError::Api {
        pod: kafka.pod.clone(),
        message: crate::clients::kube::describe(e),
    }
}

/// The broker's tools in one environment.
#[derive(Clone)]
pub struct KafkaTools {
    client: Client,
    kafka: Kafka,
    timeout: Duration,
}

impl KafkaTools {
    pub fn new(client: Client, kafka: Kafka) -> Self {
        KafkaTools {
            client,
            kafka,
            timeout: TIMEOUT,
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn config(&self) -> &Kafka {
        &self.kafka
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Runs the tool; its `Error:` line, or a failed exit, is the error.
    async fn run(&self, args: Vec<String>) -> Result<ExecOutput, KafkaError> {
        let out = exec(&self.client, &self.kafka, &args, self.timeout).await?;
        if let Some(e) = table::tool_error(&out.stderr, &out.stdout) {
            return Err(KafkaError::Tool(e));
        }
        match &out.exit {
            Exit::Success => Ok(out),
            Exit::Code(code) => Err(KafkaError::Failed(format!(
                "{} exited with {code}: {}",
                short(&args),
                last_words(&out.stderr, &out.stdout)
            ))),
            Exit::Failed { message, .. }
                if message.contains("not found in $PATH") || message.contains("no such file") =>
            {
                Err(KafkaError::Failed(format!(
                    "{} is not in {}/{} (container {}): is it a Strimzi Kafka broker? ({message})",
                    crate::domain::kafka::CONSUMER_GROUPS,
                    self.kafka.namespace,
                    self.kafka.pod,
                    self.kafka.container
                )))
            }
            Exit::Failed { message, .. } => Err(KafkaError::Failed(message.clone())),
        }
    }

    pub async fn list_groups(&self) -> Result<Vec<String>, KafkaError> {
        let out = self
            .run(crate::domain::kafka::list_args(&self.kafka.bootstrap))
            .await?;
        Ok(table::parse_list(&out.stdout))
    }

    pub async fn describe_state(&self, group: &str) -> Result<StateRow, KafkaError> {
        let args =
            crate::domain::kafka::describe_args(&self.kafka.bootstrap, group, Some("--state"));
        let out = self.run(args).await?;
        let parsed = table::parse_state(&out.stdout);
        parsed
            .rows
            .into_iter()
            .find(|r| r.group == group)
            .ok_or_else(|| unreadable("--describe --state", &out.stdout))
    }

    /// The group's offsets, by topic and partition (the tool prints them in its hash
    /// map's order).
    pub async fn describe_offsets(&self, group: &str) -> Result<Parsed<OffsetRow>, KafkaError> {
        let args = crate::domain::kafka::describe_args(&self.kafka.bootstrap, group, None);
        let out = self.run(args).await?;
        let mut parsed = table::parse_offsets(&out.stdout);
        parsed
            .rows
            .sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
        Ok(parsed)
    }

    /// `--reset-offsets` of one group on one topic, as a dry run or for real.
    pub async fn reset(
        &self,
        group: &str,
        topic: &str,
        spec: &ResetSpec,
        execute: bool,
    ) -> Result<Parsed<ResetRow>, KafkaError> {
        let args =
            crate::domain::kafka::reset_args(&self.kafka.bootstrap, group, topic, spec, execute);
        let out = self.run(args).await?;
        let mut parsed = table::parse_reset(&out.stdout);
        parsed
            .rows
            .sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
        // Some versions print the fallback warning on stderr.
        parsed.warnings.extend(
            out.stderr
                .lines()
                .filter_map(|l| l.trim().strip_prefix("Warn: "))
                .map(str::to_owned),
        );
        if parsed.rows.is_empty() {
            return Err(unreadable("--reset-offsets", &out.stdout));
        }
        Ok(parsed)
    }

    /// Every group, described: state and offsets; a group that cannot be read says why.
    pub async fn read_groups(&self) -> Result<Vec<GroupView>, KafkaError> {
        let names = self.list_groups().await?;
        let mut groups = Vec::with_capacity(names.len());
        for name in names {
            groups.push(self.describe_group(name).await);
        }
        Ok(groups)
    }

    /// One group, described: state and offsets, or why part of it could not be read.
    pub async fn describe_group(&self, name: String) -> GroupView {
        let state = self.describe_state(&name).await;
        let offsets = self.describe_offsets(&name).await;
        let error = [state.as_ref().err(), offsets.as_ref().err()]
            .into_iter()
            .flatten()
            .map(ToString::to_string)
            .next();
        GroupView {
            state: state.ok(),
            partitions: offsets.map(|p| p.rows).unwrap_or_default(),
            error,
            history: Vec::new(),
            name,
        }
    }

    /// The live `KafkaTopic` objects of the Kafka namespace.
    pub async fn read_topics(&self) -> Result<Vec<TopicSpec>, String> {
        let r = crate::clients::kube::resource(
            topics::GROUP,
            topics::VERSION,
            topics::KIND,
            topics::PLURAL,
        );
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), &self.kafka.namespace, &r);
        let list = api
            .list(&ListParams::default())
            .await
            .map_err(crate::clients::kube::describe)?;
        list.items
            .iter()
            .map(|o| {
                serde_json::to_value(o)
                    .map_err(|e| e.to_string())
                    .and_then(|v| TopicSpec::from_object(&v))
            })
            .collect()
    }
}

fn short(args: &[String]) -> String {
    let tool = args
        .first()
        .and_then(|a| a.rsplit('/').next())
        .unwrap_or("the tool");
    tool.to_owned()
}

/// The last non-empty line the tool printed, which is usually why it stopped.
fn last_words(stderr: &str, stdout: &str) -> String {
    stderr
        .lines()
        .chain(stdout.lines())
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("no output")
        .to_owned()
}

fn unreadable(what: &str, stdout: &str) -> KafkaError {
    let first = stdout
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("(no output)");
    KafkaError::Failed(format!(
        "the tool's {what} output does not read as its table: {first}"
    ))
}

/// What the watcher read of one environment's Kafka.
#[derive(Debug)]
pub struct KafkaItem {
    pub env: usize,
    pub update: KafkaUpdate,
}

/// Reads environment `env`'s groups and topics now, every `READ_EVERY`, and at once
/// when `wake` is notified (after a reset, so the pane shows the new offsets).
pub fn spawn_watcher<E: From<KafkaItem> + Send + 'static>(
    env: usize,
    tools: KafkaTools,
    clock: crate::domain::Clock,
    wake: Arc<Notify>,
    tx: mpsc::Sender<E>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut history = LagHistory::default();
        loop {
            let read_at = clock();
            let groups = match tools.read_groups().await {
                Ok(mut groups) => {
                    history.record(groups.iter().map(|g| (g.name.as_str(), g.total_lag())));
                    for g in &mut groups {
                        g.history = history.samples(&g.name);
                    }
                    Ok(groups)
                }
                Err(e) => Err(e.to_string()),
            };
            let item = KafkaItem {
                env,
                update: KafkaUpdate::Groups { read_at, groups },
            };
            if tx.send(item.into()).await.is_err() {
                return;
            }
            let backup = match &tools.kafka.topics_backup {
                None => None,
                Some(path) => Some(match tokio::fs::read_to_string(path).await {
                    Ok(text) => {
                        topics::parse_backup(&text).map_err(|e| format!("{}: {e}", path.display()))
                    }
                    Err(e) => Err(format!("{}: {e}", path.display())),
                }),
            };
            let item = KafkaItem {
                env,
                update: KafkaUpdate::Topics {
                    live: tools.read_topics().await,
                    backup,
                },
            };
            if tx.send(item.into()).await.is_err() {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(READ_EVERY) => {}
                _ = wake.notified() => {}
            }
        }
    })
}
