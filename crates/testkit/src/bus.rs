//! The command bus for one `prod` environment against the simulator: its Kubernetes API
//! and Argo CD as the admin or the viewer, optionally a migration database, an audit log
//! in a temporary directory, and the channel its reports arrive on.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::time::Duration;

use rollcall::app::Event;
use rollcall::bus::{AuditLog, Bus, Command, OpId};
use rollcall::clients::argocd::{ArgoClient, Endpoint, Timeouts, Token};
use rollcall::clients::kube::KubeActions;
use rollcall::clients::migrations::Target;
use rollcall_sim::SimHandle;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::cluster;

/// Who the bus acts as, and what else it has.
pub struct BusSetup<'a> {
    pub sim: &'a SimHandle,
    /// The Kubernetes API as the simulator's viewer instead of its admin.
    pub kube_viewer: bool,
    /// Argo CD as its viewer account instead of its admin.
    pub argocd_viewer: bool,
    pub readonly: bool,
    pub migrations: Option<Target>,
}

impl<'a> BusSetup<'a> {
    /// The admin everywhere, not read-only, no database.
    pub fn admin(sim: &'a SimHandle) -> Self {
        BusSetup {
            sim,
            kube_viewer: false,
            argocd_viewer: false,
            readonly: false,
            migrations: None,
        }
    }

    pub async fn build(self) -> BusHarness {
        let dir = tempfile::tempdir().expect("temp dir");
        let audit = dir.path().join("audit.jsonl");
        let kube_token = if self.kube_viewer {
            self.sim.viewer_token()
        } else {
            self.sim.token()
        };
        let argocd_token = if self.argocd_viewer {
            self.sim.argocd_viewer_token()
        } else {
            self.sim.argocd_token()
        };
        let kube = cluster::client_for(self.sim, None, Some(kube_token)).await;
        let argo = ArgoClient::new(
            &Endpoint {
                server: self.sim.argocd_url(),
                insecure: false,
                ca_pem: self.sim.argocd_ca_pem(),
                token: Some(Token::new(argocd_token)),
            },
            Timeouts::default(),
        )
        .expect("Argo CD client builds");
        let (tx, rx) = mpsc::channel(64);
        let bus = Bus::new(
            HashMap::from([("prod".to_string(), KubeActions::new(kube.clone()))]),
            AuditLog::open(audit.clone(), "tester").expect("audit log opens"),
            "tester".into(),
            tx,
        )
        .with_argocd(HashMap::from([("prod".to_string(), argo)]))
        .with_migrations(
            self.migrations
                .map(|t| HashMap::from([("prod".to_string(), t)]))
                .unwrap_or_default(),
        )
        .readonly(self.readonly);
        BusHarness {
            bus,
            rx,
            audit,
            kube,
            _dir: dir,
        }
    }
}

pub struct BusHarness {
    pub bus: Bus<Event>,
    /// Where the bus's reports arrive, as app events.
    pub rx: mpsc::Receiver<Event>,
    pub audit: std::path::PathBuf,
    /// The client the bus uses, for reading what it did.
    pub kube: kube::Client,
    _dir: tempfile::TempDir,
}

impl BusHarness {
    /// Sends each (op, command) at once and waits for all their outcomes, sorted by op.
    pub async fn run_all(
        &mut self,
        sends: &[(u64, &Command)],
    ) -> Vec<(u64, Result<String, String>)> {
        for (op, command) in sends {
            self.bus.send(OpId(*op), (*command).clone());
        }
        let mut out = Vec::new();
        while out.len() < sends.len() {
            let ev = tokio::time::timeout(Duration::from_secs(90), self.rx.recv())
                .await
                .expect("every operation finishes")
                .expect("bus alive");
            if let Event::OpFinished { op, outcome } = ev {
                out.push((op.0, outcome));
            }
        }
        out.sort_by_key(|(op, _)| *op);
        out
    }

    /// Sends one command and waits for its outcome.
    pub async fn run(&mut self, op: u64, command: impl Borrow<Command>) -> Result<String, String> {
        self.run_all(&[(op, command.borrow())]).await.remove(0).1
    }

    /// The outcome records of the audit log: one per command, what it came to.
    pub fn audit_lines(&self) -> Vec<Value> {
        crate::audit::outcomes(&self.audit)
    }

    /// Every record of the audit log (session, intent, outcome, settled).
    pub fn audit_records(&self) -> Vec<Value> {
        crate::audit::records(&self.audit)
    }
}
