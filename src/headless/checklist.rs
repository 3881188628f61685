//! `rollcall checklist --env E --release SERVICE@VERSION [-o json]`: the release's
//! checklist in one environment, evaluated once from a snapshot of the cluster (read by
//! the wiring), printed with its evidence; complete or not decides the exit status, so
//! a CI job can gate a deploy on it.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use serde_json::json;

use crate::config::{Checklists, Environment};
use crate::domain::AppRow;
use crate::domain::checklist::checks::{ArgoView, HttpProbe};
use crate::domain::checklist::walk::{Facts, ItemView, walk};
use crate::domain::checklist::{ItemState, Mark, Progress, Release};
use crate::domain::cnpg::BackupRow;
use crate::domain::format::age;
use crate::domain::migrations::{EnvMigrations, MigrationSummary};
use crate::domain::vulnerability::VulnerabilityReportRow;

/// What one environment's Argo CD said.
#[derive(Debug, Clone)]
pub enum ArgoRead {
    NotConfigured(String),
    Down(String),
    Apps(Vec<AppRow>),
}

/// Everything the checks read, read once.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub now: Timestamp,
    /// Per environment name.
    pub argocd: HashMap<String, ArgoRead>,
    pub backups: Result<Vec<BackupRow>, String>,
    pub reports: Result<Vec<VulnerabilityReportRow>, String>,
    /// Per service: its image without the tag.
    pub images: HashMap<String, String>,
    pub migrations: EnvMigrations,
    pub probes: HashMap<String, HttpProbe>,
    /// Services rolling out in the environment, with what they are doing.
    pub rolling: Result<Vec<(String, String)>, String>,
    /// The ticks in the release's ConfigMap.
    pub marks: BTreeMap<String, Mark>,
    /// Jobs of the environment's namespace.
    pub jobs: Result<Vec<crate::domain::job::JobRow>, String>,
    /// The GitOps remote, read once.
    pub git: Result<crate::domain::gitops::GitState, String>,
}

impl Facts for Snapshot {
    fn now(&self) -> Timestamp {
        self.now
    }

    fn argo(&self, env: &str, app: &str) -> ArgoView<'_> {
        match self.argocd.get(env) {
            None => ArgoView::NotConfigured("not read"),
            Some(ArgoRead::NotConfigured(why)) => ArgoView::NotConfigured(why),
            Some(ArgoRead::Down(why)) => ArgoView::Down(why),
            Some(ArgoRead::Apps(apps)) => {
                ArgoView::App(apps.iter().find(|a| a.name == app), Some(self.now))
            }
        }
    }

    fn backups(&self) -> Result<Option<Vec<BackupRow>>, String> {
        self.backups.clone().map(Some)
    }

    fn reports(&self) -> Result<Option<Vec<VulnerabilityReportRow>>, String> {
        self.reports.clone().map(Some)
    }

    fn image_repository(&self, service: &str) -> Option<String> {
        self.images.get(service).cloned()
    }

    fn migrations(&self) -> (bool, MigrationSummary, Option<Timestamp>) {
        let read = self.migrations.database.is_some().then_some(self.now);
        (
            self.migrations.database.is_some(),
            self.migrations.summary(),
            read,
        )
    }

    fn job(&self, name: &str) -> Result<Option<Option<crate::domain::job::JobRow>>, String> {
        let jobs = self.jobs.as_ref().map_err(Clone::clone)?;
        Ok(Some(jobs.iter().find(|j| j.name == name).cloned()))
    }

    fn probe(&self, url: &str) -> Option<HttpProbe> {
        self.probes.get(url).cloned()
    }

    // The checklist has no T-0: a metric check there waits for one and reads nothing.
    fn metric(&self, _query: &str) -> Option<crate::domain::checklist::metric::MetricRead> {
        None
    }

    fn git(&self) -> Result<Option<&crate::domain::gitops::GitState>, String> {
        self.git.as_ref().map(Some).map_err(Clone::clone)
    }

    fn rolling(&self) -> Option<Vec<(String, String)>> {
        self.rolling.clone().ok()
    }
}

fn state_word(s: ItemState) -> &'static str {
    match s {
        ItemState::Done => "done",
        ItemState::Failing => "failing",
        ItemState::Open => "open",
        ItemState::Checking => "checking",
    }
}

fn mark_words(now: Timestamp, m: &Mark) -> String {
    let verb = if m.done { "ticked by" } else { "unticked by" };
    let note = if m.note.is_empty() {
        String::new()
    } else {
        format!(" · \"{}\"", m.note)
    };
    format!("{verb} {} {} ago{note}", m.by, age(now, Some(m.at)))
}

/// What an item says: the evidence, or the mark, or the hint (or whom to call).
fn said(lists: &Checklists, now: Timestamp, v: &ItemView) -> String {
    match (&v.evaluation, &v.mark) {
        (None, None) if v.item.check == crate::config::Check::OnCall => match &lists.on_call {
            Some(o) => format!("not ticked; reach {}: {}", o.name, o.contact),
            None => "not ticked".into(),
        },
        (Some(e), Some(m)) if v.state == ItemState::Done && m.done => {
            format!("{} · {}", e.evidence, mark_words(now, m))
        }
        (Some(e), _) => e.evidence.clone(),
        (None, Some(m)) => mark_words(now, m),
        (None, None) => v.item.hint.clone().unwrap_or_else(|| "not ticked".into()),
    }
}

/// The report and whether the checklist is complete.
pub fn report(
    lists: &Checklists,
    environments: &[Environment],
    env: usize,
    release: &Release,
    snapshot: &Snapshot,
    json_out: bool,
) -> (String, Progress) {
    let (items, progress) = walk(lists, environments, env, release, &snapshot.marks, snapshot);
    let env_name = environments.get(env).map_or("", |e| e.name.as_str());
    if json_out {
        let items: Vec<_> = items
            .iter()
            .map(|v| {
                json!({
                    "list": v.list,
                    "id": v.item.id,
                    "title": v.item.title,
                    "state": state_word(v.state),
                    "automatic": v.item.check.is_automatic(),
                    "evidence": v.evaluation.as_ref().map(|e| &e.evidence),
                    "read_at": v.evaluation.as_ref().and_then(|e| e.read_at).map(|t| t.to_string()),
                    "mark": v.mark,
                })
            })
            .collect();
        let doc = json!({
            "release": release.to_string(),
            "environment": env_name,
            "complete": progress.complete(),
            "progress": {
                "done": progress.done,
                "failing": progress.failing,
                "open": progress.open,
                "checking": progress.checking,
                "total": progress.total(),
            },
            "items": items,
        });
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        return (text, progress);
    }
    let mut out = format!(
        "{release} → {env_name}: {}/{} done, {} failing, {} open{}\n",
        progress.done,
        progress.total(),
        progress.failing,
        progress.open + progress.checking,
        if progress.complete() {
            " — complete"
        } else {
            ""
        }
    );
    let mut list = "";
    for v in &items {
        if v.list != list {
            out.push_str(&format!("{}\n", v.list));
            list = &v.list;
        }
        out.push_str(&format!(
            "  {} {} — {}\n",
            v.state.symbol(),
            v.item.title,
            said(lists, snapshot.now, v)
        ));
    }
    (out, progress)
}
