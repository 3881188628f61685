//! What the watchers feed the app, per environment: rows of each watched kind, Argo CD
//! Applications, and watch failures. Clients produce these; the app consumes them.

use crate::domain::checklist::checks::HttpProbe;
use crate::domain::checklist::shared::SharedRow;
use crate::domain::cnpg::BackupRow;
use crate::domain::vulnerability::VulnerabilityReportRow;
use crate::domain::{AppRow, DeploymentRow, EventRow, PodRow, ServiceRow, WatchUpdate};

#[derive(Debug, Clone)]
pub enum EnvUpdate {
    Pods(WatchUpdate<PodRow>),
    Deployments(WatchUpdate<DeploymentRow>),
    Events(WatchUpdate<EventRow>),
    Services(WatchUpdate<ServiceRow>),
    /// A watch failed; the watcher retries with backoff by itself. A 410 Expired is
    /// routine (the watcher re-lists) and never sent.
    WatchError {
        stream: Stream,
        message: String,
        /// The server answered and refused (401, 403, 404, …): the link is up, this
        /// stream is not. Otherwise it did not answer, or failed (5xx, 429).
        refused: bool,
    },
}

impl EnvUpdate {
    pub fn stream(&self) -> Stream {
        match self {
            EnvUpdate::Pods(_) => Stream::Pods,
            EnvUpdate::Deployments(_) => Stream::Deployments,
            EnvUpdate::Events(_) => Stream::Events,
            EnvUpdate::Services(_) => Stream::Services,
            EnvUpdate::WatchError { stream, .. } => *stream,
        }
    }

    /// Whether it carries data: something answered, though maybe not just now (a
    /// streaming list's objects, an open watch's change). `Init` does not: a paged list
    /// says it before asking.
    pub fn delivers(&self) -> bool {
        fn data<T>(u: &WatchUpdate<T>) -> bool {
            !matches!(u, WatchUpdate::Init)
        }
        match self {
            EnvUpdate::Pods(u) => data(u),
            EnvUpdate::Deployments(u) => data(u),
            EnvUpdate::Events(u) => data(u),
            EnvUpdate::Services(u) => data(u),
            EnvUpdate::WatchError { .. } => false,
        }
    }
}

/// What the probe of an environment's API server found (`clients::link`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkProbe {
    /// It answered (any status but 5xx and 429: a refusal is an answer too), or a
    /// watcher's request did.
    Answered,
    /// No answer, or a 5xx / 429, in the server's or the transport's words.
    Failed(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Pods,
    Deployments,
    Events,
    Services,
}

impl Stream {
    pub const ALL: [Stream; 4] = [
        Stream::Pods,
        Stream::Deployments,
        Stream::Events,
        Stream::Services,
    ];

    pub fn index(self) -> usize {
        match self {
            Stream::Pods => 0,
            Stream::Deployments => 1,
            Stream::Events => 2,
            Stream::Services => 3,
        }
    }
}

/// What the Argo CD watch of an environment tells.
// Apps move through the channel once; boxing would add an allocation per event.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum ArgoUpdate {
    Apps(WatchUpdate<AppRow>),
    /// The server cannot be reached or refused the watch; the watcher retries.
    Down(String),
    /// No server configured for the environment, or no token: said once, at start.
    NotConfigured(String),
}

/// What the checklist's watchers and prober tell, per environment.
#[derive(Debug, Clone)]
pub enum ChecklistUpdate {
    /// CloudNativePG Backups in the environment's backup namespace.
    Backups(WatchUpdate<BackupRow>),
    /// Trivy reports in the environment's namespace.
    Reports(WatchUpdate<VulnerabilityReportRow>),
    /// The release checklists kept in the environment's namespace.
    Shared(WatchUpdate<SharedRow>),
    /// Jobs in the environment's namespace (the runbook's smoke tests).
    Jobs(WatchUpdate<crate::domain::job::JobRow>),
    /// A watch failed (the kind is not served, no permission, the server is away).
    WatchError {
        stream: ChecklistStream,
        message: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecklistStream {
    Backups,
    Reports,
    Shared,
    Jobs,
}

/// One GET of a URL a check reads.
#[derive(Debug, Clone)]
pub struct ProbeUpdate(pub HttpProbe);
