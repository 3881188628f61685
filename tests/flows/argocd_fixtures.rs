//! Every real Argo CD Application in shared/fixtures/real/argo-cd decodes into the
//! slim view, with the fields the release pane and history read.

use rollcall::domain::AppRow;
use rollcall_testkit::fixtures::{parse, real};

#[test]
fn every_fixture_decodes() {
    let Some(dir) = real("argo-cd") else { return };
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 6, "{names:?}");
    for name in &names {
        let app = parse::<AppRow>(&dir.join(name));
        // Through JSON as well, as the REST API sends it.
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let value: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        let via_json: AppRow = serde_json::from_value(value).unwrap();
        assert_eq!(app, via_json, "{name}");
        assert!(
            !app.health.is_empty(),
            "{name}: every fixture has a health status"
        );
    }
}

#[test]
fn fields_read_correctly() {
    let Some(dir) = real("argo-cd") else { return };
    let bare = parse::<AppRow>(&dir.join("app--health-healthy-bare.yaml"));
    assert_eq!(bare.name, "");
    assert_eq!(bare.health, "Healthy");
    assert_eq!(bare.sync_status, "");
    assert!(bare.history.is_empty() && bare.automated.is_none());

    let pending =
        parse::<AppRow>(&dir.join("app--automated-synced-healthy-pending-operation.yaml"));
    assert_eq!(pending.name, "my-app-2");
    assert_eq!(pending.project, "important-project");
    let auto = pending.automated.unwrap();
    assert!(auto.prune && !auto.self_heal);
    let op = pending.pending_operation.as_ref().unwrap();
    assert_eq!(op.kind, "sync");
    assert!(op.dry_run);
    assert_eq!(
        op.revision.as_deref(),
        Some("041eab7439ece92c99b043f0e171788185b8fc1d")
    );
    assert!(pending.operation_in_flight());

    let done = parse::<AppRow>(&dir.join("app--operation-succeeded-minimal.yaml"));
    let st = done.operation_state.as_ref().unwrap();
    assert!(st.succeeded() && !done.operation_in_flight());
    assert_eq!(st.started_at.unwrap().to_string(), "2025-01-29T08:42:34Z");
    assert_eq!(st.finished_at.unwrap().to_string(), "2025-01-29T08:42:35Z");

    let degraded = parse::<AppRow>(&dir.join("app--outofsync-degraded-warning-conditions.yaml"));
    assert_eq!(degraded.sync_status, "OutOfSync");
    assert_eq!(degraded.health, "Degraded");
    assert_eq!(degraded.conditions.len(), 3);
    assert_eq!(degraded.conditions[0].0, "OrphanedResourceWarning");

    let hist = parse::<AppRow>(&dir.join("app--synced-healthy-history-op-succeeded.yaml"));
    assert_eq!(hist.name, "velero-test");
    assert_eq!(hist.namespace, "argo-cd");
    assert_eq!(hist.history.len(), 10);
    assert_eq!(hist.history.first().unwrap().id, 14);
    assert_eq!(hist.history.last().unwrap().id, 23);
    assert_eq!(
        hist.history[0].deployed_at.unwrap().to_string(),
        "2024-03-04T22:00:06Z"
    );
    // No initiatedBy in this controller's history entries.
    assert!(hist.history.iter().all(|h| h.initiated_by.is_none()));
    assert_eq!(hist.images, vec!["nginx:latest".to_owned()]);
    assert_eq!(hist.image_tag(), Some("latest"));
    assert_eq!(hist.sync_revision.as_deref(), Some("rev1"));
    assert_eq!(
        hist.deployed_revision(),
        Some("ea8759964626a583667a2bfd08f334ec2070040a")
    );
    assert_eq!(hist.current_history_id(), Some(23));
    assert_eq!(hist.resources.total, 2);
    assert_eq!(hist.resources.healthy, 2);
    assert!(hist.automated.is_none());

    let labels = parse::<AppRow>(&dir.join("app--synced-healthy-labels.yaml"));
    assert_eq!(
        (labels.sync_status.as_str(), labels.health.as_str()),
        ("Synced", "Healthy")
    );
    assert_eq!(
        labels.destination_namespace.as_deref(),
        Some("dummy-namespace")
    );
}
