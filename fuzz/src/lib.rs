//! The bodies of the fuzz targets: each takes the fuzzer's bytes and hands them to the
//! code of rollcall that reads that kind of input from outside. The same functions run
//! under `cargo test` over the corpus (tests/flows/fuzz_replay.rs includes this file), so
//! CI exercises them on stable in bounded time; `cargo fuzz` explores beyond it.
//!
//! Each returns what was accepted, so the replay can check that the seeds mean
//! something (a Pod decodes as a Pod with its name), not only that nothing panicked.

use std::path::Path;

use jiff::Timestamp;
use rollcall::app::Action;
use rollcall::config::{
    ChangeWindow, KeyMap, Theme, parse_checklists, parse_duration, parse_environments,
    parse_runbook, parse_runbook_offset,
};
use rollcall::domain;

/// A fixed "now" (2027-01-15), so runs repeat.
fn fixed_now() -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Error messages are built too: a message that slices user text can panic as well.
fn said<T, E: std::fmt::Display>(result: Result<T, E>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(e) => {
            let _ = e.to_string();
            None
        }
    }
}

/// Every config loader on the same YAML: environments (policies, change windows,
/// durations), checklists, the runbook, a drill, key bindings, a theme, the Argo CD CLI's config
/// and a kustomization edited for a release.
pub fn config_yaml(data: &[u8]) -> Vec<&'static str> {
    let Ok(text) = std::str::from_utf8(data) else {
        return Vec::new();
    };
    let file = Path::new("fuzz-input.yaml");
    let now = fixed_now();
    let mut accepted = Vec::new();
    if let Some(envs) = said(parse_environments(file, text)) {
        for env in &envs {
            let _ = env.policy.window_open(now);
            for window in &env.policy.change_windows {
                let _ = (window.next_open(now), window.to_string());
            }
        }
        accepted.push("environments");
    }
    let names = ["dev", "staging", "prod"];
    if let Some(lists) = said(parse_checklists(file, text, &names)) {
        let _ = (lists.items(true).count(), lists.items(false).count());
        accepted.push("checklists");
    }
    if let Some(runbook) = said(parse_runbook(file, text, &names)) {
        let _ = runbook.steps().count();
        accepted.push("runbook");
    }
    if let Some(drill) = said(rollcall::config::drills::parse_drill(
        "fuzz", file, text, &names,
    )) {
        let _ = drill;
        accepted.push("drill");
    }
    if let Some(keys) = said(KeyMap::<Action>::with_patch(file, text)) {
        let _ = keys.help();
        accepted.push("keys");
    }
    if let Ok(mut theme) = Theme::builtin("default")
        && said(theme.apply(file, text)).is_some()
    {
        accepted.push("theme");
    }
    if said(rollcall::clients::argocd::cli_sessions(
        text,
        "https://argocd.example.com",
    ))
    .is_some()
    {
        accepted.push("argocd-cli-config");
    }
    if let Some(Some(entry)) = said(domain::gitops::image_entry(text, "app")) {
        let _ = entry;
        accepted.push("kustomization");
    }
    let _ = said(domain::gitops::set_image(
        text,
        "app",
        Some("registry/app"),
        "v2",
    ));
    accepted
}

/// A kubeconfig as rollcall reads it: parsed (every document, merged) and the context
/// and user picked for the header and the audit. Building a client is not fuzzed: it
/// reads the files the kubeconfig names and runs its exec plugins.
pub fn kubeconfig(data: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(data).ok()?;
    let config = said(kube::config::Kubeconfig::from_yaml(text))?;
    let _ = rollcall::clients::kube::context_and_user(&config, Some("prod"));
    let merged = said(config.clone().merge(config.clone()));
    let picked = rollcall::clients::kube::context_and_user(&config, None);
    if let Some(merged) = merged {
        let _ = rollcall::clients::kube::context_and_user(&merged, None);
    }
    Some(picked)
}

/// Durations (`24h`, `PT30M`, `1d`), runbook offsets (`-24h`, `+5m`), change-window
/// parts and API timestamps. Lines: the text for every parser alone; then days
/// (comma-separated), start, end, time zone and "now" in seconds for a window.
pub fn time(data: &[u8]) -> Vec<&'static str> {
    let Ok(text) = std::str::from_utf8(data) else {
        return Vec::new();
    };
    let mut accepted = Vec::new();
    let first = text.lines().next().unwrap_or("");
    if parse_duration(first).is_some() {
        accepted.push("duration");
    }
    if parse_runbook_offset(first).is_some() {
        accepted.push("offset");
    }
    // The API's timestamps, through the same lenient decoder the watchers use.
    let object = serde_json::json!({"metadata": {"name": "p", "creationTimestamp": first}});
    if let Ok(pod) = serde_json::from_value::<domain::WatchedPod>(object)
        && let Some(created) = pod.row.created
    {
        let _ = domain::format::age(fixed_now(), Some(created));
        accepted.push("timestamp");
    }
    let parts: Vec<&str> = text.lines().skip(1).collect();
    if let [days, start, end, zone, rest @ ..] = parts.as_slice() {
        let days: Vec<&str> = days.split(',').collect();
        if let Some(window) = ChangeWindow::from_parts(&days, start, end, zone) {
            let now = rest
                .first()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .and_then(|s| Timestamp::from_second(s).ok())
                .unwrap_or_else(fixed_now);
            let _ = (
                window.contains(now),
                window.next_open(now),
                window.to_string(),
            );
            accepted.push("window");
        }
    }
    if let Ok(secs) = first.trim().parse::<i64>() {
        let _ = domain::format::duration(secs);
    }
    accepted
}

/// The zero-downtime lint of migration SQL, and migration file names.
pub fn sqllint(data: &[u8]) -> usize {
    let Ok(text) = std::str::from_utf8(data) else {
        return 0;
    };
    let report = rollcall_sqllint::lint(text);
    for finding in &report.findings {
        let _ = format!("{finding:?}");
    }
    if let Some(name) = text.lines().next() {
        let _ = said(rollcall_migrate::source::parse_name(name).map_err(|e| format!("{e:?}")));
    }
    report.statements
}

/// Decodes `data` as `T` and says the object's name, the way a watcher receives it.
fn decoded<T: serde::de::DeserializeOwned>(data: &[u8]) -> Option<T> {
    said(serde_json::from_slice::<T>(data))
}

/// Every watched kind's wire decoder on the same JSON object, and what rollcall derives
/// from each row. Returns the kinds that decoded with a name.
pub fn wire_kube(data: &[u8]) -> Vec<(&'static str, String)> {
    use rollcall::domain::checklist::shared::WatchedChecklist;
    use rollcall::domain::cnpg::{WatchedBackup, WatchedCluster};
    use rollcall::domain::job::WatchedJob;
    use rollcall::domain::vulnerability::WatchedVulnerabilityReport;
    use rollcall::domain::{
        WatchedDeployment, WatchedEvent, WatchedPod, WatchedReplicaSet, WatchedRollout,
        WatchedService,
    };
    let now = fixed_now();
    let mut named = Vec::new();
    let mut keep = |kind: &'static str, name: Option<&String>| {
        if let Some(name) = name.filter(|n| !n.is_empty()) {
            named.push((kind, name.clone()));
        }
    };
    if let Some(w) = decoded::<WatchedPod>(data) {
        let _ = (w.row.status_text(), w.row.probe(now), w.row.deployment());
        keep("Pod", Some(&w.row.name));
    }
    if let Some(w) = decoded::<WatchedDeployment>(data) {
        let _ = (w.row.rollout_state(), w.row.version());
        keep("Deployment", Some(&w.row.name));
    }
    let rollout = decoded::<WatchedRollout>(data);
    let replicaset = decoded::<WatchedReplicaSet>(data);
    if let Some(w) = &replicaset {
        keep("ReplicaSet", w.meta.name.as_ref());
    }
    if let Some(w) = &rollout {
        let replicasets: Vec<&domain::ReplicaSetRow> = replicaset.iter().map(|r| &r.row).collect();
        let view = domain::rollout::view::canary_view(&w.row, &replicasets, &[], now);
        let _ = (
            view.alarm(),
            domain::rollout::view::phase(&w.row),
            w.row.image(),
        );
        let _ = w.row.as_workload(None).rollout_state();
        keep("Rollout", w.meta.name.as_ref());
    }
    if let Some(w) = decoded::<WatchedEvent>(data) {
        keep("Event", w.meta.name.as_ref());
    }
    if let Some(w) = decoded::<WatchedService>(data) {
        keep("Service", w.meta.name.as_ref());
    }
    if let Some(w) = decoded::<WatchedJob>(data) {
        keep("Job", w.meta.name.as_ref());
    }
    if let Some(w) = decoded::<WatchedBackup>(data) {
        let _ = (w.row.age(now), w.row.taken_at());
        keep("Backup", w.meta.name.as_ref());
    }
    if let Some(w) = decoded::<WatchedCluster>(data) {
        keep("Cluster", w.meta.name.as_ref());
    }
    if let Some(w) = decoded::<WatchedVulnerabilityReport>(data) {
        let _ = w.row.is_image("nginx:1.16");
        keep("VulnerabilityReport", w.meta.name.as_ref());
    }
    if let Some(w) = decoded::<WatchedChecklist>(data) {
        keep("ConfigMap", w.meta.name.as_ref());
    }
    if let Some(w) = decoded::<domain::analysis::WatchedAnalysisRun>(data) {
        keep("AnalysisRun", w.meta.name.as_ref());
    }
    if let Some(w) = decoded::<domain::analysis::WatchedExperiment>(data) {
        keep("Experiment", w.meta.name.as_ref());
    }
    named
}

/// Argo CD's REST and stream answers and Prometheus's query API: an Application, an
/// event-stream chunk and its payloads, an error body, a manifests answer, a query
/// result. Returns what decoded.
pub fn wire_http(data: &[u8]) -> Vec<&'static str> {
    let mut accepted = Vec::new();
    if let Some(app) = decoded::<domain::AppRow>(data) {
        let _ = (
            app.operation_in_flight(),
            app.operation_running(),
            app.current_history_id(),
            app.deployed_revision(),
            app.image_tag(),
        );
        accepted.push("Application");
    }
    let mut parser = rollcall::clients::argocd::SseParser::default();
    let mut payloads = parser.push(data);
    payloads.extend(parser.push(b"\n\n"));
    let text = String::from_utf8_lossy(data);
    payloads.push(text.clone().into_owned());
    for payload in payloads {
        if let Some(Some(_event)) = said(rollcall::clients::argocd::StreamEvent::decode(&payload)) {
            accepted.push("stream event");
        }
    }
    let status = data.first().map_or(500, |b| 400 + u16::from(*b));
    let _ = rollcall::clients::argocd::ArgoError::from_response(status, data).to_string();
    if let Some(manifests) = decoded::<domain::application::ManifestResponse>(data) {
        let _ = manifests.images();
        accepted.push("manifests");
    }
    if let Some(result) = said(domain::metrics::decode(data)) {
        let _ = result;
        accepted.push("prometheus");
    }
    accepted
}

/// What rollcall reads from Kafka: the output of `kafka-consumer-groups.sh` (every table
/// and its `Error:`/`Warn:` lines, from either stream), the reset plan joined from two of
/// them, a `--to-datetime` typed by the user (its first line), a `KafkaTopic` object and
/// a backup file of them. Returns what read as something.
pub fn kafka(data: &[u8]) -> Vec<&'static str> {
    use rollcall::domain::kafka::{datetime, plan::ResetPlan, table, topics};
    let Ok(text) = std::str::from_utf8(data) else {
        return Vec::new();
    };
    let mut accepted = Vec::new();
    if !table::parse_list(text).is_empty() {
        accepted.push("list");
    }
    let offsets = table::parse_offsets(text);
    if !offsets.rows.is_empty() {
        let _ = rollcall::domain::kafka::total_lag(&offsets.rows);
        accepted.push("offsets");
    }
    if !table::parse_state(text).rows.is_empty() {
        accepted.push("state");
    }
    if !table::parse_members(text).rows.is_empty() {
        accepted.push("members");
    }
    let reset = table::parse_reset(text);
    if !reset.rows.is_empty() {
        let plan = ResetPlan::new("g", &offsets.rows, &reset.rows, reset.warnings.clone());
        let _ = (plan.replayed(), plan.skipped(), plan.totals(), plan.lines());
        accepted.push("reset");
    }
    for error in [table::tool_error(text, ""), table::tool_error("", text)]
        .into_iter()
        .flatten()
    {
        let _ = error.message().to_owned();
        accepted.push("error");
    }
    let first = text.lines().next().unwrap_or("");
    if let Some(at) = said(datetime::parse(first, fixed_now())) {
        let _ = at.describe();
        accepted.push("datetime");
    }
    if let Ok(object) = serde_json::from_slice::<serde_json::Value>(data)
        && let Some(topic) = said(topics::TopicSpec::from_object(&object))
    {
        let live = std::slice::from_ref(&topic);
        for d in topics::diff_all(live, live) {
            let _ = (d.status(), d.restore_patch(), d.changes().count());
        }
        let _ = topic.to_object();
        accepted.push("topic");
    }
    if let Some(backup) = said(topics::parse_backup(text)) {
        for d in topics::diff_all(&backup, &backup) {
            let _ = (d.status(), d.restore_patch());
        }
        accepted.push("backup");
    }
    accepted
}
