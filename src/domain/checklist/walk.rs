//! Walking a release's checklist in an environment: every item of the lists the
//! environment walks, with its check evaluated against the facts at hand and the last
//! mark people left on it. The facts come through a trait so the terminal app (from
//! its live state) and `rollcall checklist` (from one read of the cluster) walk the
//! same way.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::checks::{self, ArgoView, HttpProbe};
use super::{Evaluation, ItemState, Mark, Progress, Release, item_state};
use crate::config::{Check, Checklists, Environment, Item};
use crate::domain::cnpg::BackupRow;
use crate::domain::job::JobRow;
use crate::domain::migrations::MigrationSummary;
use crate::domain::vulnerability::VulnerabilityReportRow;

/// What the checks read. `None` from a list means it has not been read yet.
pub trait Facts {
    fn now(&self) -> Timestamp;
    /// The Argo CD Application `app` of environment `env` (by name).
    fn argo(&self, env: &str, app: &str) -> ArgoView<'_>;
    /// Backups of the environment's backup cluster namespace; Err when they cannot be
    /// listed (CloudNativePG not installed, no permission).
    fn backups(&self) -> Result<Option<Vec<BackupRow>>, String>;
    /// Vulnerability reports wherever the release may have run.
    fn reports(&self) -> Result<Option<Vec<VulnerabilityReportRow>>, String>;
    /// The service's image without its tag, from wherever it runs.
    fn image_repository(&self, service: &str) -> Option<String>;
    /// Whether the environment has a database, its summary and when it was read.
    fn migrations(&self) -> (bool, MigrationSummary, Option<Timestamp>);
    fn probe(&self, url: &str) -> Option<HttpProbe>;
    /// The environment's services rolling out now, with what they are doing.
    fn rolling(&self) -> Option<Vec<(String, String)>>;
    /// Job `name` in the environment's namespace: Ok(None) while the Jobs have not been
    /// listed, Ok(Some(None)) when there is none.
    fn job(&self, name: &str) -> Result<Option<Option<JobRow>>, String>;
    /// The environment's GitOps remote as last read: Err when there is nothing to read
    /// (no `gitops:`), Ok(None) before the first read.
    fn git(&self) -> Result<Option<&crate::domain::gitops::GitState>, String>;
    /// The last read of a Prometheus query in the environment, if any.
    fn metric(&self, query: &str) -> Option<super::metric::MetricRead>;
}

/// One item as walked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemView {
    /// The title of the list it is in.
    pub list: String,
    pub item: Item,
    /// None for items ticked by hand.
    pub evaluation: Option<Evaluation>,
    pub mark: Option<Mark>,
    pub state: ItemState,
}

/// The environment an `argocd-healthy` check looks at by default: the one before.
fn upstream(environments: &[Environment], env: usize) -> Option<&Environment> {
    env.checked_sub(1).and_then(|i| environments.get(i))
}

/// What `check` says about `release` in environment `env`; None for a check a person
/// decides.
pub fn evaluate(
    check: &Check,
    environments: &[Environment],
    env: usize,
    release: &Release,
    t0: Option<Timestamp>,
    facts: &dyn Facts,
) -> Option<Evaluation> {
    let here = environments.get(env)?;
    let now = facts.now();
    let cannot = |why: String| Evaluation::new(super::Verdict::CannotTell, why, None);
    Some(match check {
        Check::Manual | Check::OnCall => return None,
        Check::ArgocdHealthy { environment } => {
            let target = match environment {
                Some(name) if name == crate::config::THIS_ENVIRONMENT => Some(here),
                Some(name) => environments.iter().find(|e| &e.name == name),
                None => upstream(environments, env),
            };
            let Some(target) = target else {
                return Some(cannot(format!(
                    "{} has no environment before it; tick by hand",
                    here.name
                )));
            };
            let app = target
                .services
                .iter()
                .find(|s| s.name == release.service)
                .map(|s| s.argocd_app.clone())
                .unwrap_or_else(|| format!("{}-{}", release.service, target.name));
            checks::argocd_healthy(release, &target.name, &app, facts.argo(&target.name, &app))
        }
        Check::Backup { max_age } => match facts.backups() {
            Err(why) => cannot(format!("cannot list backups: {why}; tick by hand")),
            Ok(backups) => checks::backup_fresh(
                here.backup.as_ref(),
                max_age.or(here.policy.backup_max_age),
                backups.as_deref(),
                now,
            ),
        },
        Check::Vulnerabilities { fail_at } => match facts.reports() {
            Err(why) => cannot(format!(
                "cannot list vulnerability reports: {why}; tick by hand"
            )),
            Ok(reports) => checks::vulnerabilities(
                release,
                facts.image_repository(&release.service).as_deref(),
                fail_at,
                reports.as_deref(),
            ),
        },
        Check::Migrations => {
            let (configured, summary, checked) = facts.migrations();
            checks::migrations(configured, &summary, checked)
        }
        Check::MonitoringHealth => {
            let url = here.monitoring.health_url.as_deref();
            checks::http(url, 200, url.and_then(|u| facts.probe(u)).as_ref())
        }
        Check::Http { url, expect_status } => {
            checks::http(Some(url), *expect_status, facts.probe(url).as_ref())
        }
        Check::ChangeWindow => checks::change_window(&here.policy, now),
        Check::NoOtherRollout => checks::no_other_rollout(release, facts.rolling().as_deref(), now),
        Check::JobComplete { job } => match facts.job(job) {
            Err(why) => cannot(format!("cannot list jobs: {why}; tick by hand")),
            Ok(found) => checks::job_complete(job, found, now),
        },
        Check::GitTag { tag } => super::git::tagged(tag, release, facts.git()),
        Check::GitImage => {
            let file = here
                .gitops
                .as_ref()
                .map(|g| g.kustomization(&here.name, &release.service));
            super::git::image_set(file.as_deref(), release, facts.git())
        }
        Check::Metric { series } => super::metric::compared(
            series,
            &here.namespace,
            release,
            t0,
            here.monitoring.prometheus_url.is_some(),
            &|q| facts.metric(q),
        ),
    })
}

/// Every item the environment walks for `release`, and the counts by state.
pub fn walk(
    lists: &Checklists,
    environments: &[Environment],
    env: usize,
    release: &Release,
    marks: &BTreeMap<String, Mark>,
    facts: &dyn Facts,
) -> (Vec<ItemView>, Progress) {
    let production = environments.get(env).is_some_and(|e| e.production);
    let mut progress = Progress::default();
    let mut out = Vec::new();
    for list in lists.for_environment(production) {
        for item in &list.items {
            let evaluation = evaluate(&item.check, environments, env, release, None, facts);
            let mark = marks.get(&item.id).cloned();
            let state = item_state(&item.check, evaluation.as_ref(), mark.as_ref());
            progress.add(state);
            out.push(ItemView {
                list: list.title.clone(),
                item: item.clone(),
                evaluation,
                mark,
                state,
            });
        }
    }
    (out, progress)
}

/// URLs the lists would GET in any environment, for the prober.
pub fn probe_urls(lists: &Checklists, environments: &[Environment]) -> Vec<String> {
    let mut urls: Vec<String> = Vec::new();
    let wants_health = lists
        .lists
        .iter()
        .flat_map(|l| l.items.iter())
        .any(|i| i.check == Check::MonitoringHealth);
    for list in &lists.lists {
        for item in &list.items {
            if let Check::Http { url, .. } = &item.check {
                urls.push(url.clone());
            }
        }
    }
    if wants_health {
        urls.extend(
            environments
                .iter()
                .filter_map(|e| e.monitoring.health_url.clone()),
        );
    }
    urls.sort();
    urls.dedup();
    urls
}
