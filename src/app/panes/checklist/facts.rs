//! The checklist's facts from the app's live state: what the watchers, the Argo CD
//! link, the migration poller and the prober last said.

use jiff::Timestamp;

use crate::app::State;
use crate::domain::checklist::checks::{ArgoView, HttpProbe};
use crate::domain::checklist::walk::Facts;
use crate::domain::cnpg::BackupRow;
use crate::domain::environment::summarize;
use crate::domain::feed::ChecklistStream;
use crate::domain::migrations::MigrationSummary;
use crate::domain::vulnerability::VulnerabilityReportRow;

/// The facts of environment `env` as `state` knows them.
pub struct LiveFacts<'a> {
    pub state: &'a State,
    pub env: usize,
}

impl Facts for LiveFacts<'_> {
    fn now(&self) -> Timestamp {
        self.state.now
    }

    fn argo(&self, env: &str, app: &str) -> ArgoView<'_> {
        use crate::app::panes::argocd::ArgoLink;
        let Some(index) = self.state.envs.iter().position(|e| e.config.name == env) else {
            return ArgoView::NotConfigured("no such environment");
        };
        let Some(re) = self.state.argocd.env(index) else {
            return ArgoView::Loading;
        };
        match &re.link {
            ArgoLink::NotConfigured(why) => ArgoView::NotConfigured(why),
            ArgoLink::Down { message, .. } => ArgoView::Down(message),
            ArgoLink::Unknown => ArgoView::Loading,
            ArgoLink::Live if !re.apps.listed() => ArgoView::Loading,
            ArgoLink::Live => ArgoView::App(re.app(app), Some(self.state.now)),
        }
    }

    fn backups(&self) -> Result<Option<Vec<BackupRow>>, String> {
        let Some(c) = self.state.checklist.envs.get(self.env) else {
            return Ok(None);
        };
        if c.backups.listed() {
            return Ok(Some(c.backups.iter().cloned().collect()));
        }
        match c.errors.get(&ChecklistStream::Backups) {
            Some(e) => Err(e.clone()),
            None => Ok(None),
        }
    }

    fn reports(&self) -> Result<Option<Vec<VulnerabilityReportRow>>, String> {
        let envs = &self.state.checklist.envs;
        let listed: Vec<VulnerabilityReportRow> = envs
            .iter()
            .filter(|c| c.reports.listed())
            .flat_map(|c| c.reports.iter().cloned())
            .collect();
        if envs.iter().any(|c| c.reports.listed()) {
            return Ok(Some(listed));
        }
        match envs
            .iter()
            .find_map(|c| c.errors.get(&ChecklistStream::Reports))
        {
            Some(e) => Err(e.clone()),
            None => Ok(None),
        }
    }

    fn image_repository(&self, service: &str) -> Option<String> {
        (0..self.state.envs.len()).find_map(|i| {
            let workloads = crate::app::panes::bluegreen::workloads(self.state, i);
            let svc = self.state.envs[i]
                .config
                .services
                .iter()
                .find(|s| s.name == service)?;
            let row = workloads.get(&self.state.envs[i].config.namespace, &svc.workload)?;
            let image = row.image.as_deref()?;
            Some(match image.rsplit_once(':') {
                Some((path, tag)) if !tag.contains('/') => path.to_owned(),
                _ => image.to_owned(),
            })
        })
    }

    fn migrations(&self) -> (bool, MigrationSummary, Option<Timestamp>) {
        match self.state.envs.get(self.env) {
            Some(e) => (
                e.migrations.database.is_some(),
                e.migrations.summary(),
                e.migrations.checked,
            ),
            None => (
                false,
                crate::domain::migrations::EnvMigrations::default().summary(),
                None,
            ),
        }
    }

    fn job(&self, name: &str) -> Result<Option<Option<crate::domain::job::JobRow>>, String> {
        let Some(c) = self.state.checklist.envs.get(self.env) else {
            return Ok(None);
        };
        if !c.jobs.listed() {
            return match c.errors.get(&ChecklistStream::Jobs) {
                Some(e) => Err(e.clone()),
                None => Ok(None),
            };
        }
        let ns = &self.state.envs[self.env].config.namespace;
        Ok(Some(c.jobs.get(ns, name).cloned()))
    }

    fn git(&self) -> Result<Option<&crate::domain::gitops::GitState>, String> {
        let Some(env) = self.state.envs.get(self.env) else {
            return Ok(None);
        };
        if env.config.gitops.is_none() {
            return Err(crate::domain::gitops::not_configured(&env.config.name));
        }
        Ok(self
            .state
            .checklist
            .envs
            .get(self.env)
            .and_then(|c| c.git.as_ref()))
    }

    fn metric(&self, query: &str) -> Option<crate::domain::checklist::metric::MetricRead> {
        self.state
            .checklist
            .envs
            .get(self.env)
            .and_then(|c| c.metrics.get(query))
            .cloned()
    }

    fn probe(&self, url: &str) -> Option<HttpProbe> {
        self.state.checklist.probes.get(url).cloned()
    }

    fn rolling(&self) -> Option<Vec<(String, String)>> {
        let env = self.state.envs.get(self.env)?;
        if !env.deployments.listed() {
            return None;
        }
        let workloads = crate::app::panes::bluegreen::workloads(self.state, self.env);
        Some(summarize(&env.config, &workloads, &env.pods, self.state.now).rolling())
    }
}
