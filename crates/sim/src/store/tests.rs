//! Store unit tests: writes, conflicts, history expiry and resumption.
use super::*;
use crate::resources::{CONFIGMAPS, PODS, def};
use serde_json::json;

fn cm(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "a", "uid": name}})
}

#[test]
fn write_get_list_conflict() {
    let s = Store::new(100, 100);
    let d = def(CONFIGMAPS);
    s.write(d, &mut cm("x"), WriteMode::Create).unwrap();
    assert_eq!(
        s.write(d, &mut cm("x"), WriteMode::Create)
            .unwrap_err()
            .code,
        409
    );
    let e = s
        .write(d, &mut cm("x"), WriteMode::Update(Some(1)))
        .unwrap();
    assert_eq!(e.meta.rv, 2);
    assert_eq!(
        s.write(d, &mut cm("x"), WriteMode::Update(Some(1)))
            .unwrap_err()
            .reason,
        "Conflict"
    );
    let mut other = cm("y");
    other["metadata"]["namespace"] = json!("b");
    s.write(d, &mut other, WriteMode::Create).unwrap();
    assert_eq!(s.list(d, Some("a"), |_| true).1.len(), 1);
    assert_eq!(s.list(d, None, |_| true).1.len(), 2);
    assert!(s.list(def(PODS), None, |_| true).1.is_empty());
    assert_eq!(
        s.get(d, "a", "x").unwrap().value()["metadata"]["resourceVersion"],
        "2"
    );
}

#[test]
fn watch_history_expires() {
    let s = Store::new(3, 100);
    let d = def(CONFIGMAPS);
    for i in 0..6 {
        s.write(d, &mut cm(&format!("c{i}")), WriteMode::Create)
            .unwrap();
    }
    // History holds rv 4..=6; compacted = 3.
    match s.watch(d, None, Some(3), |_| true) {
        Ok((WatchStart::Replay(r, _), _)) => {
            assert_eq!(r.iter().map(|c| c.rv).collect::<Vec<_>>(), vec![4, 5, 6])
        }
        _ => panic!("expected replay"),
    }
    let e = s.watch(d, None, Some(1), |_| true).err().unwrap();
    assert_eq!((e.code, e.reason), (410, "Expired"));
    assert_eq!(e.message, "too old resource version: 1 (4)");
    s.delete(d, "a", "c5", None).unwrap();
    match s.watch(d, Some("a"), Some(6), |_| true) {
        Ok((WatchStart::Replay(r, rv), _)) => {
            assert_eq!(rv, 7);
            assert_eq!(r[0].ty, ChangeType::Deleted);
            assert_eq!(r[0].entry.value()["metadata"]["resourceVersion"], "7");
        }
        _ => panic!("expected replay"),
    }
}

#[test]
fn versions_from_an_earlier_run_are_expired() {
    let s = Store::starting_at(1_000, 10, 10);
    let d = def(CONFIGMAPS);
    for rv in [500, 999, 2_000] {
        let e = s.watch(d, None, Some(rv), |_| true).err().unwrap();
        assert_eq!((e.code, e.reason), (410, "Expired"), "rv {rv}");
    }
    assert!(matches!(
        s.watch(d, None, Some(1_000), |_| true),
        Ok((WatchStart::Replay(ref r, 1_000), _)) if r.is_empty()
    ));
}
