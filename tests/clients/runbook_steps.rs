//! The runbook steps rollcall runs, through the pipeline against the simulator: the
//! CloudNativePG backup (POST, as `kubectl cnpg backup`) that the controller then
//! completes, and the feature flag merge patch; each audited, each with its Event; a
//! backup of a Cluster that is not there is refused before anything is sent.

use std::time::Duration;

use jiff::Timestamp;
use rollcall::bus::Command;
use rollcall::bus::runbook::StepAction;
use rollcall_sim::{self as sim, SimOptions};
use rollcall_testkit::bus::BusSetup;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_and_a_flag_through_the_pipeline() {
    let sim = sim::start(SimOptions {
        speed: 20.0,
        ..SimOptions::default()
    })
    .await
    .expect("simulator starts");
    let mut bus = BusSetup::admin(&sim).build().await;
    let action =
        StepAction::cnpg_backup("dictamesh-infra", "metadata-catalog-db", Timestamp::now());
    let StepAction::CnpgBackup { name, .. } = action.clone() else {
        unreachable!()
    };
    let outcome = bus
        .run(
            1,
            Command::RunbookStep {
                env: "prod".into(),
                step: "backup".into(),
                action,
            },
        )
        .await;
    assert_eq!(outcome, Ok(format!("backup/{name} created")));
    let backups: kube::Api<kube::api::DynamicObject> = kube::Api::namespaced_with(
        bus.kube.clone(),
        "dictamesh-infra",
        &kube::api::ApiResource {
            group: "postgresql.cnpg.io".into(),
            version: "v1".into(),
            api_version: "postgresql.cnpg.io/v1".into(),
            kind: "Backup".into(),
            plural: "backups".into(),
        },
    );
    let mut phase = String::new();
    for _ in 0..100 {
        let b = backups.get(&name).await.expect("the backup exists");
        phase = b.data["status"]["phase"].as_str().unwrap_or("").to_owned();
        if phase == "completed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(phase, "completed");

    let outcome = bus
        .run(
            2,
            Command::RunbookStep {
                env: "prod".into(),
                step: "maintenance-on".into(),
                action: StepAction::SetConfigMapKey {
                    namespace: "dictamesh-prod".into(),
                    configmap: "feature-flags".into(),
                    key: "maintenance_mode".into(),
                    value: "true".into(),
                },
            },
        )
        .await;
    assert_eq!(
        outcome,
        Ok("configmap/feature-flags: maintenance_mode=true".into())
    );
    let flags: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(bus.kube.clone(), "dictamesh-prod");
    let data = flags.get("feature-flags").await.unwrap().data.unwrap();
    assert_eq!(data["maintenance_mode"], "true");
    assert_eq!(
        data["graphql_introspection"], "false",
        "the other keys stay"
    );

    // No such Cluster: refused, nothing created.
    let outcome = bus
        .run(
            3,
            Command::RunbookStep {
                env: "prod".into(),
                step: "backup".into(),
                action: StepAction::cnpg_backup("dictamesh-infra", "nope", Timestamp::now()),
            },
        )
        .await;
    let why = outcome.expect_err("refused");
    assert!(why.contains("not found"), "{why}");

    let audit = bus.audit_lines();
    assert_eq!(
        audit
            .iter()
            .filter(|l| l["command"] == "runbook-step" && l["result"] == "ok")
            .count(),
        2,
        "{audit:?}"
    );
    sim.shutdown().await;
}
