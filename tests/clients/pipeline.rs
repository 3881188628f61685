//! The mutation pipeline, family by family, through the one `Bus` against the simulator
//! (and a SQLite database for migrations): the read-only refusal, the RBAC refusal, the
//! dry run that stops a write (the simulator's `dry-run=refuse` fault: an admission
//! webhook that cannot take a dry run), one send under a double confirm, and the audit
//! record of each.

use std::sync::Arc;

use rollcall::bus::Command;
use rollcall::bus::rollouts::{MERGE, RolloutAction, WireRequest};
use rollcall::clients::migrations::Target;
use rollcall_migrate::{DbUrl, Recorded, Request, Source};
use rollcall_sim::{FaultPlan, SimHandle};
use rollcall_testkit::bus::{BusHarness, BusSetup};
use rollcall_testkit::cluster;
use serde_json::Value;
use tokio::sync::Notify;

const NS: &str = "dictamesh-prod";
const DRY_RUN_REFUSED: &str = "admission webhook \"policy.dictamesh.io\" does not support dry run";

/// Reads of what the bus did, through the client it used.
trait Observed {
    async fn events(&self, namespace: &str, reason: &str)
    -> Vec<k8s_openapi::api::core::v1::Event>;
    async fn object(&self, group_version: &str, plural: &str, name: &str) -> Value;
}

impl Observed for BusHarness {
    /// rollcall's Events with `reason` in `namespace`.
    async fn events(
        &self,
        namespace: &str,
        reason: &str,
    ) -> Vec<k8s_openapi::api::core::v1::Event> {
        let api: kube::Api<k8s_openapi::api::core::v1::Event> =
            kube::Api::namespaced(self.kube.clone(), namespace);
        api.list(&Default::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|e| {
                e.reason.as_deref() == Some(reason)
                    && e.reporting_component.as_deref() == Some("rollcall")
            })
            .collect()
    }

    async fn object(&self, group_version: &str, plural: &str, name: &str) -> Value {
        let (group, version) = group_version.split_once('/').unwrap_or(("", group_version));
        let r = kube::api::ApiResource {
            group: group.into(),
            version: version.into(),
            api_version: group_version.into(),
            kind: String::new(),
            plural: plural.into(),
        };
        let api: kube::Api<kube::api::DynamicObject> =
            kube::Api::namespaced_with(self.kube.clone(), NS, &r);
        serde_json::to_value(api.get(name).await.unwrap()).unwrap()
    }
}

/// The audit records of `op`: result and message of each.
fn audited(lines: &[Value], op: u64) -> Vec<(String, String)> {
    lines
        .iter()
        .filter(|l| l["op"] == op)
        .map(|l| {
            (
                l["result"].as_str().unwrap_or("").to_owned(),
                l["message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn refused_read_only(outcome: &Result<String, String>) {
    assert_eq!(
        outcome.as_ref().unwrap_err(),
        "read-only: rollcall runs with --readonly; nothing was sent"
    );
}

/// Two confirms of one command (as ops 1 and 2) and op 1 sent again, all at once: one
/// goes out, the others are refused.
fn sent_once(outcomes: &[(u64, Result<String, String>)], summary: &str, done: &str) -> u64 {
    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    let sent: Vec<&(u64, Result<String, String>)> =
        outcomes.iter().filter(|(_, o)| o.is_ok()).collect();
    assert_eq!(sent.len(), 1, "{outcomes:?}");
    // The tasks start in any order: whichever took off first is the one sent.
    let winner = sent[0].0;
    assert_eq!(sent[0].1.as_deref(), Ok(done));
    let refusals: Vec<&str> = outcomes
        .iter()
        .filter_map(|(_, o)| o.as_ref().err().map(String::as_str))
        .collect();
    assert!(
        refusals.contains(&"#1 was already sent; a command is sent once"),
        "{refusals:?}"
    );
    assert!(
        refusals.contains(
            &format!("{summary} is already in flight as #{winner}; nothing was sent").as_str()
        ),
        "{refusals:?}"
    );
    winner
}

fn set_faults(sim: &SimHandle, refuse_dry_runs: bool, latency_ms: u64) {
    sim.set_faults(FaultPlan {
        refuse_dry_runs,
        latency_ms,
        ..FaultPlan::default()
    });
}

/// The disk under the audit log fills mid-session (the log becomes /dev/full): the
/// restart is refused before anything is sent, and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intent_that_cannot_be_recorded_is_not_sent() {
    if !std::path::Path::new("/dev/full").exists() {
        eprintln!("SKIPPED: no /dev/full on this machine");
        return;
    }
    let sim = cluster::start(1.0).await;
    let mut admin = BusSetup::admin(&sim).build().await;
    std::fs::remove_file(&admin.audit).unwrap();
    std::os::unix::fs::symlink("/dev/full", &admin.audit).unwrap();
    let restart = Command::restart_deployment(
        "prod",
        NS,
        "metadata-catalog",
        "2026-12-04T03:00:00Z".parse().unwrap(),
    );
    let outcome = admin.run(1, &restart).await;
    let why = outcome.unwrap_err();
    assert!(
        why.starts_with("refused: the audit log") && why.contains("nothing was sent"),
        "{why}"
    );
    let d = admin
        .object("apps/v1", "deployments", "metadata-catalog")
        .await;
    assert!(
        d.pointer("/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt")
            .is_none(),
        "the restart was sent: {d}"
    );
    assert!(admin.events(NS, "RolloutRestart").await.is_empty());
    sim.shutdown().await;
}

/// The intent precedes the send; the outcome repeats the command with its result; op
/// ids are unique across sessions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_intent_is_recorded_before_the_outcome_with_a_unique_op_id() {
    let sim = cluster::start(1.0).await;
    let mut admin = BusSetup::admin(&sim).build().await;
    let restart = Command::restart_deployment(
        "prod",
        NS,
        "metadata-catalog",
        "2026-12-04T03:00:00Z".parse().unwrap(),
    );
    admin.run(1, &restart).await.unwrap();
    let records = admin.audit_records();
    let kinds: Vec<&str> = records
        .iter()
        .filter_map(|r| r["record"].as_str())
        .collect();
    assert_eq!(kinds, ["session", "intent", "outcome"], "{records:?}");
    let session = records[0]["session"].as_str().unwrap();
    assert_eq!(records[1]["op_uid"], format!("{session}-1"));
    assert_eq!(records[2]["op_uid"], records[1]["op_uid"]);
    assert_eq!(records[1]["user"], "tester");
    assert!(records[1]["uid"].is_u64());
    assert_eq!(records[2]["command"], "restart-deployment");
    assert_eq!(records[2]["result"], "ok");
    // A second rollcall on the same log: op 1 again, another id, one chain.
    let again = rollcall::bus::AuditLog::open(admin.audit.clone(), "tester").unwrap();
    assert_ne!(again.op_uid(rollcall::bus::OpId(1)), records[1]["op_uid"]);
    let text = std::fs::read(&admin.audit).unwrap();
    assert!(rollcall::bus::audit_verify::verify(&text).intact());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubernetes_commands_take_every_stage() {
    let sim = cluster::start(1.0).await;
    let restart = Command::restart_deployment(
        "prod",
        NS,
        "metadata-catalog",
        "2026-12-04T03:00:00Z".parse().unwrap(),
    );
    let stamp = |d: &Value| {
        d.pointer("/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt")
            .cloned()
    };

    let mut readonly = BusSetup {
        readonly: true,
        ..BusSetup::admin(&sim)
    }
    .build()
    .await;
    refused_read_only(&readonly.run(1, &restart).await);
    assert_eq!(
        audited(&readonly.audit_lines(), 1),
        [(
            "error".to_owned(),
            "read-only: rollcall runs with --readonly; nothing was sent".to_owned()
        )]
    );

    let mut viewer = BusSetup {
        kube_viewer: true,
        argocd_viewer: true,
        ..BusSetup::admin(&sim)
    }
    .build()
    .await;
    let outcome = viewer.run(1, &restart).await;
    assert!(
        outcome.as_ref().unwrap_err().starts_with(
            "forbidden: RBAC does not let you patch deployments.apps metadata-catalog -n \
             dictamesh-prod"
        ),
        "{outcome:?}"
    );
    assert!(outcome.unwrap_err().ends_with("; nothing was sent"));

    let mut admin = BusSetup::admin(&sim).build().await;
    set_faults(&sim, true, 0);
    let outcome = admin.run(1, &restart).await;
    assert_eq!(
        outcome,
        Err(format!(
            "server-side dry run refused: {DRY_RUN_REFUSED} (BadRequest)"
        ))
    );
    let d = admin
        .object("apps/v1", "deployments", "metadata-catalog")
        .await;
    assert_eq!(
        stamp(&d),
        None,
        "nothing was sent after the refused dry run"
    );
    assert!(admin.events(NS, "RolloutRestart").await.is_empty());

    // Slow enough that the second confirm arrives while the first is in flight.
    set_faults(&sim, false, 150);
    let mut admin = BusSetup::admin(&sim).build().await;
    let outcomes = admin
        .run_all(&[(1, &restart), (2, &restart), (1, &restart)])
        .await;
    let winner = sent_once(
        &outcomes,
        &restart.summary(),
        "deployment/metadata-catalog restarted",
    );
    let d = admin
        .object("apps/v1", "deployments", "metadata-catalog")
        .await;
    assert_eq!(stamp(&d), Some(Value::from("2026-12-04T03:00:00Z")));
    assert_eq!(admin.events(NS, "RolloutRestart").await.len(), 1);
    let lines = admin.audit_lines();
    assert_eq!(lines.len(), 3);
    assert!(audited(&lines, winner).contains(&(
        "ok".to_owned(),
        "deployment/metadata-catalog restarted".to_owned()
    )));
    assert_eq!(lines[0]["command"], "restart-deployment");
    assert_eq!(lines[0]["user"], "tester");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollouts_commands_take_every_stage() {
    let sim = cluster::start(1.0).await;
    let abort = Command::Rollout {
        env: "prod".into(),
        namespace: NS.into(),
        name: "customer-adapter".into(),
        action: RolloutAction::Abort,
        requests: vec![WireRequest {
            method: "PATCH",
            subresource: Some("status"),
            content_type: MERGE,
            body: r#"{"status":{"abort":true}}"#.into(),
        }],
    };
    let aborted = |ro: &Value| ro.pointer("/status/abort").and_then(Value::as_bool);

    let mut readonly = BusSetup {
        readonly: true,
        ..BusSetup::admin(&sim)
    }
    .build()
    .await;
    refused_read_only(&readonly.run(1, &abort).await);

    let mut viewer = BusSetup {
        kube_viewer: true,
        argocd_viewer: true,
        ..BusSetup::admin(&sim)
    }
    .build()
    .await;
    let outcome = viewer.run(1, &abort).await;
    assert!(
        outcome.as_ref().unwrap_err().starts_with(
            "forbidden: RBAC does not let you patch rollouts.argoproj.io/status customer-adapter \
             -n dictamesh-prod"
        ),
        "{outcome:?}"
    );

    let mut admin = BusSetup::admin(&sim).build().await;
    set_faults(&sim, true, 0);
    assert_eq!(
        admin.run(1, &abort).await,
        Err(format!(
            "server-side dry run refused: {DRY_RUN_REFUSED} (BadRequest)"
        ))
    );
    let ro = admin
        .object("argoproj.io/v1alpha1", "rollouts", "customer-adapter")
        .await;
    assert_ne!(
        aborted(&ro),
        Some(true),
        "nothing was sent after the refused dry run"
    );

    set_faults(&sim, false, 150);
    let mut admin = BusSetup::admin(&sim).build().await;
    let outcomes = admin
        .run_all(&[(1, &abort), (2, &abort), (1, &abort)])
        .await;
    let winner = sent_once(
        &outcomes,
        &abort.summary(),
        "rollout 'customer-adapter' aborted",
    );
    let ro = admin
        .object("argoproj.io/v1alpha1", "rollouts", "customer-adapter")
        .await;
    assert_eq!(aborted(&ro), Some(true));
    assert_eq!(admin.events(NS, "RollcallAction").await.len(), 1);
    assert!(audited(&admin.audit_lines(), winner).contains(&(
        "ok".to_owned(),
        "rollout 'customer-adapter' aborted".to_owned()
    )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn argocd_commands_take_every_stage() {
    let sim = cluster::start(1.0).await;
    let app = "metadata-catalog-prod";
    let sync = Command::ArgocdSync {
        env: "prod".into(),
        app: app.into(),
        revision: None,
    };

    let mut readonly = BusSetup {
        readonly: true,
        ..BusSetup::admin(&sim)
    }
    .build()
    .await;
    refused_read_only(&readonly.run(1, &sync).await);

    let mut viewer = BusSetup {
        kube_viewer: true,
        argocd_viewer: true,
        ..BusSetup::admin(&sim)
    }
    .build()
    .await;
    assert_eq!(
        viewer.run(1, &sync).await,
        Err(format!(
            "forbidden: Argo CD RBAC does not let you sync applications dictamesh/{app}; \
             nothing was sent"
        ))
    );

    // Argo CD runs a dry run as an operation; the webhook fails it, so no sync is sent,
    // and the app gets a Warning Event saying so.
    let mut admin = BusSetup::admin(&sim).build().await;
    set_faults(&sim, true, 0);
    let outcome = admin.run(1, &sync).await;
    assert!(
        outcome
            .as_ref()
            .unwrap_err()
            .starts_with("dry run failed: ")
            && outcome.as_ref().unwrap_err().contains(DRY_RUN_REFUSED),
        "{outcome:?}"
    );
    let warnings = admin.events("argocd", "ArgocdSync").await;
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].type_.as_deref(), Some("Warning"));

    set_faults(&sim, false, 150);
    let mut admin = BusSetup::admin(&sim).build().await;
    let outcomes = admin.run_all(&[(1, &sync), (2, &sync), (1, &sync)]).await;
    let winner = sent_once(&outcomes, &sync.summary(), &format!("{app}: sync started"));
    let normal: Vec<_> = admin
        .events("argocd", "ArgocdSync")
        .await
        .into_iter()
        .filter(|e| e.type_.as_deref() == Some("Normal"))
        .collect();
    assert_eq!(normal.len(), 1);
    assert!(
        audited(&admin.audit_lines(), winner)
            .contains(&("ok".to_owned(), format!("{app}: sync started")))
    );
}

const UP_1: &str = "CREATE TABLE a (id INTEGER PRIMARY KEY);";
const UP_2: &str = "ALTER TABLE a ADD COLUMN b TEXT;";

/// A SQLite database at version 1 with migration 2 pending.
async fn database(dir: &std::path::Path) -> (Target, Source) {
    let files = dir.join("migrations");
    std::fs::create_dir_all(&files).unwrap();
    for (name, sql) in [
        ("000001_a.up.sql", UP_1),
        ("000001_a.down.sql", "DROP TABLE a;"),
        ("000002_b.up.sql", UP_2),
        ("000002_b.down.sql", "ALTER TABLE a DROP COLUMN b;"),
    ] {
        std::fs::write(files.join(name), sql).unwrap();
    }
    let url = DbUrl::parse(&format!("sqlite://{}", dir.join("prod.db").display())).unwrap();
    let source = Source::read(&files);
    let mut db = rollcall_migrate::Db::connect(&url, true).await.unwrap();
    let plan = rollcall_migrate::plan(&source, Recorded::NIL, Request::Up { n: Some(1) }).unwrap();
    rollcall_migrate::execute(&mut db, &plan, None, &mut |_| {})
        .await
        .unwrap();
    db.close().await;
    let target = Target {
        env: 0,
        url: Ok(url),
        migrations: files,
        refresh: Arc::new(Notify::new()),
    };
    (target, source)
}

async fn version(target: &Target) -> Option<Recorded> {
    let mut db = rollcall_migrate::Db::connect(target.url.as_ref().unwrap(), false)
        .await
        .unwrap();
    let v = db.version().await.unwrap();
    db.close().await;
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_take_every_stage_they_have() {
    let sim = cluster::start(1.0).await;
    let dir = tempfile::tempdir().unwrap();
    let (target, source) = database(dir.path()).await;
    let at_1 = Recorded {
        version: 1,
        dirty: false,
    };
    let plan = rollcall_migrate::plan(&source, at_1, Request::Up { n: None }).unwrap();
    let up = Command::Migrate {
        env: "prod".into(),
        database: "prod.db".into(),
        plan: plan.clone(),
    };
    // What the user confirms is the SQL that runs.
    assert!(up.preview().body.contains(UP_2));

    let mut readonly = BusSetup {
        readonly: true,
        migrations: Some(target.clone()),
        ..BusSetup::admin(&sim)
    }
    .build()
    .await;
    refused_read_only(&readonly.run(1, &up).await);
    assert_eq!(version(&target).await, Some(at_1));

    // A database has no RBAC to ask: the viewer of the cluster is not asked about it.
    // The plan the user confirmed is checked against the database under its lock
    // instead of a dry run: a database that moved since the preview is left alone.
    let stale = Command::Migrate {
        env: "prod".into(),
        database: "prod.db".into(),
        plan: rollcall_migrate::plan(&source, Recorded::NIL, Request::Up { n: Some(1) }).unwrap(),
    };
    let mut viewer = BusSetup {
        kube_viewer: true,
        argocd_viewer: true,
        migrations: Some(target.clone()),
        ..BusSetup::admin(&sim)
    }
    .build()
    .await;
    assert_eq!(
        viewer.run(1, &stale).await,
        Err(
            "the database moved from version -1 to 1 since the preview; refresh and try again"
                .into()
        )
    );
    assert_eq!(version(&target).await, Some(at_1));

    let mut admin = BusSetup {
        migrations: Some(target.clone()),
        ..BusSetup::admin(&sim)
    }
    .build()
    .await;
    let outcomes = admin.run_all(&[(1, &up), (2, &up), (1, &up)]).await;
    assert_eq!(outcomes.len(), 3);
    let sent: Vec<(u64, &String)> = outcomes
        .iter()
        .filter_map(|(op, o)| o.as_ref().ok().map(|m| (*op, m)))
        .collect();
    assert_eq!(sent.len(), 1, "{outcomes:?}");
    let (winner, done) = sent[0];
    assert!(done.ends_with("now at version 2"), "{done}");
    // SQLite is quick: the second confirm may find the first already done, and then
    // the database has moved since its preview. Either way it runs once.
    for (_, o) in outcomes.iter().filter(|(_, o)| o.is_err()) {
        let e = o.as_ref().unwrap_err();
        assert!(
            e.ends_with("nothing was sent")
                || e == "#1 was already sent; a command is sent once"
                || e.ends_with("since the preview; refresh and try again"),
            "{outcomes:?}"
        );
    }
    assert_eq!(
        version(&target).await,
        Some(Recorded {
            version: 2,
            dirty: false
        })
    );
    assert!(audited(&admin.audit_lines(), winner).contains(&("ok".to_owned(), done.clone())));
}

/// The bus's answer to a dry run.
async fn dry_run_answer(h: &mut BusHarness) -> Result<String, String> {
    use rollcall::app::Event;
    loop {
        let ev = tokio::time::timeout(std::time::Duration::from_secs(20), h.rx.recv())
            .await
            .expect("answered")
            .expect("bus alive");
        if let Event::DryRun { result, .. } = ev {
            return result;
        }
    }
}

/// The dry run a dialog asks when it opens: the server's verdict on exactly what would be
/// sent, and nothing changed — no write, no Event, no audit line; RBAC refuses it as it
/// would refuse the send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dialogs_dry_run_answers_and_changes_nothing() {
    let sim = cluster::start(1.0).await;
    let restart = Command::restart_deployment(
        "prod",
        NS,
        "metadata-catalog",
        "2026-12-04T03:00:00Z".parse().unwrap(),
    );
    let mut admin = BusSetup::admin(&sim).build().await;
    admin.bus.dry_run(restart.clone());
    assert_eq!(
        dry_run_answer(&mut admin).await,
        Ok("the server accepts it".to_owned())
    );
    let d = admin
        .object("apps/v1", "deployments", "metadata-catalog")
        .await;
    assert!(
        d.pointer("/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt")
            .is_none(),
        "a dry run changed the Deployment"
    );
    assert!(admin.audit_lines().is_empty());
    assert!(admin.events(NS, "Restarted").await.is_empty());

    let mut viewer = BusSetup {
        kube_viewer: true,
        ..BusSetup::admin(&sim)
    }
    .build()
    .await;
    viewer.bus.dry_run(restart);
    let refused = dry_run_answer(&mut viewer).await.expect_err("forbidden");
    assert!(refused.contains("forbidden"), "{refused}");
}
