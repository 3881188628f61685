//! Argo CD commands through the command bus against the simulator: the RBAC check comes
//! first (the read-only viewer's rollback is refused with nothing sent), and each
//! command's outcome leaves a Kubernetes Event on the Application in `argocd`.

use std::time::Duration;

use rollcall::app::Event;
use rollcall::bus::Command;
use rollcall::clients::argocd::{ArgoClient, Endpoint, Timeouts, Token};
use rollcall_sim::{self as sim, SimHandle, SimOptions};
use rollcall_testkit::bus::{BusHarness, BusSetup};

const APP: &str = "customer-adapter-prod";

fn argo(sim: &SimHandle, token: &str) -> ArgoClient {
    let endpoint = Endpoint {
        server: sim.argocd_url(),
        insecure: false,
        ca_pem: sim.argocd_ca_pem(),
        token: Some(Token::new(token)),
    };
    ArgoClient::new(&endpoint, Timeouts::default()).expect("client builds")
}

/// A bus whose prod environment talks to the simulator's Argo CD as the admin or its
/// viewer, and to its Kubernetes API as the admin (for Events).
async fn harness(sim: &SimHandle, argocd_viewer: bool) -> BusHarness {
    BusSetup {
        argocd_viewer,
        ..BusSetup::admin(sim)
    }
    .build()
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_viewers_rollback_is_refused_by_argo_cd_rbac_before_anything_is_sent() {
    let sim = sim::start(SimOptions::default()).await.unwrap();
    let admin = argo(&sim, sim.argocd_token());
    // Auto-sync off first (as admin), so only RBAC can stand in the way.
    admin.disable_auto_sync(APP).await.unwrap();
    let before = admin.get(APP).await.unwrap();
    let previous = before.history[before.history.len() - 2].id;

    let mut h = harness(&sim, true).await;
    let outcome = h
        .run(
            1,
            Command::ArgocdRollback {
                env: "prod".into(),
                app: APP.into(),
                id: previous,
                revision: None,
            },
        )
        .await;
    assert_eq!(
        outcome,
        Err(format!(
            "forbidden: Argo CD RBAC does not let you sync applications dictamesh/{APP}; nothing was sent"
        ))
    );
    let outcome = h
        .run(
            2,
            Command::ArgocdDisableAutoSync {
                env: "prod".into(),
                app: APP.into(),
                then_rollback: None,
            },
        )
        .await;
    assert!(
        outcome
            .as_ref()
            .is_err_and(|m| m.contains("does not let you update applications dictamesh/")),
        "{outcome:?}"
    );

    // Nothing was sent: no operation, the same history.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = admin.get(APP).await.unwrap();
    assert_eq!(after.history, before.history);
    assert!(after.operation_state.is_none() || after.operation_state == before.operation_state);
    assert!(after.pending_operation.is_none());

    let lines = h.audit_lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["command"], "argocd-rollback");
    assert_eq!(lines[0]["result"], "error");
    assert!(
        lines[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("forbidden: Argo CD RBAC")
    );
    // Refused before anything was sent: no Event either.
    assert!(rollcall_events(&h.kube).await.is_empty());
    sim.shutdown().await;
}

/// The Events rollcall left in `argocd`: (type, reason, involved kind, apiVersion, name, message).
async fn rollcall_events(kube: &kube::Client) -> Vec<[String; 6]> {
    use k8s_openapi::api::core::v1::Event as KubeEvent;
    let api: kube::Api<KubeEvent> = kube::Api::namespaced(kube.clone(), "argocd");
    let list = api.list(&Default::default()).await.unwrap();
    list.items
        .into_iter()
        .filter(|e| e.reporting_component.as_deref() == Some("rollcall"))
        .map(|e| {
            let o = e.involved_object;
            [
                e.type_.unwrap_or_default(),
                e.reason.unwrap_or_default(),
                o.kind.unwrap_or_default(),
                o.api_version.unwrap_or_default(),
                o.name.unwrap_or_default(),
                e.message.unwrap_or_default(),
            ]
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_argo_cd_command_leaves_an_event_on_its_application() {
    let sim = sim::start(SimOptions::default()).await.unwrap();
    let mut h = harness(&sim, false).await;
    let outcome = h
        .run(
            1,
            Command::ArgocdDisableAutoSync {
                env: "prod".into(),
                app: APP.into(),
                then_rollback: None,
            },
        )
        .await;
    assert_eq!(outcome, Ok(format!("{APP}: auto-sync off")));
    // A rollback to an id the app does not have: Argo CD refuses the dry run.
    let outcome = h
        .run(
            2,
            Command::ArgocdRollback {
                env: "prod".into(),
                app: APP.into(),
                id: 99,
                revision: None,
            },
        )
        .await;
    assert!(
        outcome
            .as_ref()
            .is_err_and(|m| m.contains("does not have deployment with id 99")),
        "{outcome:?}"
    );
    assert!(!outcome.unwrap_err().contains("could not record"));

    let events = rollcall_events(&h.kube).await;
    let find = |reason: &str| {
        events
            .iter()
            .find(|e| e[1] == reason)
            .unwrap_or_else(|| panic!("no {reason} Event in {events:?}"))
            .clone()
    };
    let off = find("ArgocdDisableAutoSync");
    assert_eq!(off[0], "Normal");
    assert_eq!(
        off[2..5],
        ["Application", "argoproj.io/v1alpha1", APP].map(String::from)
    );
    assert_eq!(
        off[5],
        format!("tester ran auto-sync off of application/{APP} with rollcall")
    );
    let failed = find("ArgocdRollback");
    assert_eq!(failed[0], "Warning");
    assert!(
        failed[5].starts_with(&format!(
            "tester's rollback to history id 99 of application/{APP} with rollcall failed: "
        )),
        "{failed:?}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminate_stops_a_running_rollback_as_argo_cd_does() {
    use rollcall::clients::argocd::StreamEvent;
    // Half speed: the simulated operation runs for about 4 s.
    let sim = sim::start(SimOptions {
        speed: 0.5,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let admin = argo(&sim, sim.argocd_token());
    admin.disable_auto_sync(APP).await.unwrap();
    let before = admin.get(APP).await.unwrap();
    let previous = before.history[before.history.len() - 2].id;
    let mut h = harness(&sim, false).await;

    // Nothing running: Argo CD's refusal comes back as the outcome.
    let outcome = h
        .run(
            1,
            Command::ArgocdTerminateOperation {
                env: "prod".into(),
                app: APP.into(),
            },
        )
        .await;
    assert!(
        outcome.as_ref().is_err_and(
            |m| m.contains("Unable to terminate operation. No operation is in progress")
        ),
        "{outcome:?}"
    );

    let mut stream = admin.open_stream().await.unwrap();
    admin.rollback(APP, previous, false, false).await.unwrap();
    let mut phases: Vec<(String, Option<String>)> = Vec::new();
    let mut sent = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let ev = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("the operation ends within 60 s")
            .unwrap()
            .expect("stream open");
        let (StreamEvent::Modified(app) | StreamEvent::Added(app)) = ev else {
            continue;
        };
        let Some(st) = app.operation_state.filter(|_| app.name == APP) else {
            continue;
        };
        // The initial ADDED carries the previous operation's end; ours starts Running.
        let ours = st.phase == "Running" || !phases.is_empty();
        if ours && phases.last().map(|p| &p.0) != Some(&st.phase) {
            phases.push((st.phase.clone(), st.message.clone()));
        }
        if st.phase == "Running" && !sent {
            sent = true;
            let outcome = h
                .run(
                    2,
                    Command::ArgocdTerminateOperation {
                        env: "prod".into(),
                        app: APP.into(),
                    },
                )
                .await;
            assert_eq!(outcome, Ok(format!("{APP}: operation terminating")));
        }
        if !st.in_flight() && sent {
            break;
        }
    }
    let seen: Vec<&str> = phases.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(seen, ["Running", "Terminating", "Failed"], "{phases:?}");
    assert_eq!(
        phases[2].1.as_deref(),
        Some("Operation terminated"),
        "{phases:?}"
    );
    // The rollback never finished: no new history entry, no operation left.
    let after = admin.get(APP).await.unwrap();
    assert_eq!(after.history, before.history);
    assert!(after.pending_operation.is_none());

    let events = rollcall_events(&h.kube).await;
    assert!(
        events.iter().any(|e| e[0] == "Normal"
            && e[1] == "ArgocdTerminateOperation"
            && e[5] == format!("tester ran terminate-op of application/{APP} with rollcall")),
        "{events:?}"
    );
    let lines = h.audit_lines();
    assert_eq!(lines[1]["command"], "argocd-terminate-operation");
    assert_eq!(lines[1]["result"], "ok");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifests_fetch_answers_with_the_images_of_that_revision() {
    use rollcall::app::panes::argocd::images::ManifestFetch;
    let sim = sim::start(SimOptions::default()).await.unwrap();
    let mut h = harness(&sim, true).await;
    let app = argo(&sim, sim.argocd_viewer_token())
        .get(APP)
        .await
        .unwrap();
    let fetch = |revision: &str| ManifestFetch {
        env: 2,
        env_name: "prod".into(),
        app: APP.into(),
        revision: revision.into(),
    };
    h.bus.fetch_manifests(fetch(&app.history[0].revision));
    h.bus.fetch_manifests(fetch("0000000"));
    let mut answers = Vec::new();
    while answers.len() < 2 {
        let ev = tokio::time::timeout(Duration::from_secs(20), h.rx.recv())
            .await
            .expect("answered")
            .expect("bus alive");
        if let Event::Manifests { fetch, result } = ev {
            answers.push((fetch.revision, result));
        }
    }
    answers.sort();
    assert_eq!(answers[0].0, "0000000");
    assert!(
        answers[0]
            .1
            .as_ref()
            .is_err_and(|e| e.contains("unable to resolve '0000000'")),
        "{answers:?}"
    );
    assert_eq!(
        answers[1].1,
        Ok(vec![
            "ghcr.io/controle-digital/customer-adapter:v1.1.3".to_string()
        ])
    );
    // A read: nothing in the audit log.
    assert!(h.audit_lines().is_empty());
    sim.shutdown().await;
}

/// A push to the GitOps remote is what a hard refresh compares against: the app goes
/// OutOfSync at the pushed commit, as Argo CD's repo server would read it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hard_refresh_compares_the_app_with_what_was_pushed() {
    let sim = sim::start(SimOptions::default()).await.unwrap();
    let mut h = harness(&sim, false).await;
    let clone = sim.gitops_checkout().expect("a clone").to_path_buf();
    let file = clone.join("infrastructure/k8s/overlays/prod/metadata-catalog/kustomization.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("newTag: v1.1.4", "newTag: v1.2.0")).unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(&clone)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    git(&[
        "commit",
        "-qam",
        "deploy: metadata-catalog v1.2.0 to production",
    ]);
    git(&["push", "-q", "origin", "main"]);
    let pushed = git(&["rev-parse", "HEAD"]);
    let app = "metadata-catalog-prod";
    let outcome = h
        .run(
            1,
            Command::ArgocdRefresh {
                env: "prod".into(),
                app: app.into(),
            },
        )
        .await;
    assert_eq!(
        outcome,
        Ok(format!(
            "{app} refreshed: OutOfSync · Healthy at {}",
            &pushed[..7]
        ))
    );
    let lines = h.audit_lines();
    assert_eq!(lines[0]["command"], "argocd-refresh");
    assert_eq!(lines[0]["result"], "ok");
    sim.shutdown().await;
}
