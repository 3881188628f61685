//! A release's checklist as a ConfigMap in the environment's namespace, so everyone
//! walking the release sees the same ticks: one data key per ticked item (`item.<id>`,
//! the last mark as JSON) and a `log` of every tick and un-tick (JSON lines). Writes are
//! made by applying a change to the freshest copy: a change never replaces a mark that
//! is newer than itself, so a teammate's tick made meanwhile survives a conflict.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Mark, Release};
use crate::domain::store::Keyed;
use crate::domain::wire::{MetaWire, slim_resource, watch_meta};

/// The label every checklist ConfigMap carries (watches select on it).
pub const LABEL: &str = "rollcall.dev/checklist";
pub const ANNOTATION_RELEASE: &str = "rollcall.dev/release";
pub const ANNOTATION_ENVIRONMENT: &str = "rollcall.dev/environment";
const ITEM_PREFIX: &str = "item.";
const LOG_KEY: &str = "log";
/// The log keeps this many entries, newest last (a ConfigMap holds at most 1 MiB).
const LOG_LIMIT: usize = 500;

/// `rollcall-checklist-customer-adapter-v1-2-0`: a DNS-1123 name for the release's map.
pub fn configmap_name(release: &Release) -> String {
    let slug = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect()
    };
    let name = format!(
        "rollcall-checklist-{}-{}",
        slug(&release.service),
        slug(&release.version)
    );
    let name: String = name.chars().take(253).collect();
    name.trim_end_matches('-').to_owned()
}

/// One tick or un-tick, as logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub item: String,
    #[serde(flatten)]
    pub mark: Mark,
}

/// A release's shared checklist state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedChecklist {
    pub namespace: String,
    pub release: Release,
    pub environment: String,
    /// The last mark per item id.
    pub marks: BTreeMap<String, Mark>,
    /// Every change, oldest first.
    pub log: Vec<Change>,
    /// Of the ConfigMap this was read from; None when it does not exist yet.
    pub resource_version: Option<String>,
}

impl SharedChecklist {
    pub fn new(namespace: &str, environment: &str, release: Release) -> Self {
        SharedChecklist {
            namespace: namespace.to_owned(),
            release,
            environment: environment.to_owned(),
            marks: BTreeMap::new(),
            log: Vec::new(),
            resource_version: None,
        }
    }

    pub fn name(&self) -> String {
        configmap_name(&self.release)
    }

    /// Applies a change: logged always (once), and the item's mark replaced unless the
    /// one there is newer.
    pub fn apply(&mut self, change: &Change) {
        if self.log.contains(change) {
            return;
        }
        self.log.push(change.clone());
        self.log.sort_by_key(|c| c.mark.at);
        if self.log.len() > LOG_LIMIT {
            self.log.drain(..self.log.len() - LOG_LIMIT);
        }
        let newer_there = self
            .marks
            .get(&change.item)
            .is_some_and(|m| m.at > change.mark.at);
        if !newer_there {
            self.marks.insert(change.item.clone(), change.mark.clone());
        }
    }

    /// The ConfigMap to write (without resourceVersion; the caller sets it).
    pub fn to_configmap(&self) -> Value {
        let mut data = serde_json::Map::new();
        for (item, mark) in &self.marks {
            data.insert(
                format!("{ITEM_PREFIX}{item}"),
                json!(serde_json::to_string(mark).unwrap_or_default()),
            );
        }
        let log: Vec<String> = self
            .log
            .iter()
            .filter_map(|c| serde_json::to_string(c).ok())
            .collect();
        data.insert(LOG_KEY.into(), json!(log.join("\n")));
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": self.name(),
                "namespace": self.namespace,
                "labels": {
                    LABEL: "true",
                    "app.kubernetes.io/managed-by": "rollcall",
                },
                "annotations": {
                    ANNOTATION_RELEASE: self.release.to_string(),
                    ANNOTATION_ENVIRONMENT: self.environment,
                },
            },
            "data": data,
        })
    }

    /// Reads a checklist ConfigMap; None when it is not one (no release annotation).
    /// Entries that do not decode are skipped: one bad key never hides the rest.
    pub fn from_parts(
        namespace: &str,
        annotations: &BTreeMap<String, String>,
        data: &BTreeMap<String, String>,
        resource_version: Option<String>,
    ) -> Option<SharedChecklist> {
        let release = Release::parse(annotations.get(ANNOTATION_RELEASE)?).ok()?;
        let environment = annotations
            .get(ANNOTATION_ENVIRONMENT)
            .cloned()
            .unwrap_or_default();
        let marks = data
            .iter()
            .filter_map(|(k, v)| {
                let item = k.strip_prefix(ITEM_PREFIX)?;
                Some((item.to_owned(), serde_json::from_str::<Mark>(v).ok()?))
            })
            .collect();
        let log = data
            .get(LOG_KEY)
            .map(|text| {
                text.lines()
                    .filter_map(|l| serde_json::from_str::<Change>(l).ok())
                    .collect()
            })
            .unwrap_or_default();
        Some(SharedChecklist {
            namespace: namespace.to_owned(),
            release,
            environment,
            marks,
            log,
            resource_version,
        })
    }
}

/// A checklist ConfigMap as the app keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedRow {
    pub namespace: String,
    pub name: String,
    /// None when the ConfigMap carries the label but is not a checklist.
    pub checklist: Option<SharedChecklist>,
}

impl Keyed for SharedRow {
    fn key(&self) -> (&str, &str) {
        (&self.namespace, &self.name)
    }
}

/// A watched checklist ConfigMap, decoded straight into its state.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "MapWire")]
pub struct WatchedChecklist {
    pub meta: ObjectMeta,
    pub row: SharedRow,
}

slim_resource!(WatchedChecklist, "ConfigMap", "", "v1", "configmaps");

#[derive(Deserialize)]
struct MapWire {
    #[serde(default)]
    metadata: MetaWire,
    #[serde(default)]
    data: Option<BTreeMap<String, String>>,
}

impl From<MapWire> for WatchedChecklist {
    fn from(w: MapWire) -> Self {
        let meta = watch_meta(&w.metadata);
        let namespace = w.metadata.namespace.clone().unwrap_or_default();
        let checklist = SharedChecklist::from_parts(
            &namespace,
            &w.metadata.annotations.clone().unwrap_or_default(),
            &w.data.unwrap_or_default(),
            w.metadata.resource_version.clone(),
        );
        WatchedChecklist {
            meta,
            row: SharedRow {
                namespace,
                name: w.metadata.name.unwrap_or_default(),
                checklist,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;

    fn change(item: &str, done: bool, by: &str, at: &str) -> Change {
        Change {
            item: item.into(),
            mark: Mark {
                done,
                by: by.into(),
                at: at.parse::<Timestamp>().unwrap(),
                note: String::new(),
                skipped: false,
            },
        }
    }

    fn round_trip(s: &SharedChecklist) -> SharedChecklist {
        let cm = s.to_configmap();
        let strings = |v: &Value| -> BTreeMap<String, String> {
            v.as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect()
        };
        SharedChecklist::from_parts(
            &s.namespace,
            &strings(&cm["metadata"]["annotations"]),
            &strings(&cm["data"]),
            None,
        )
        .unwrap()
    }

    #[test]
    fn names_are_dns_labels() {
        assert_eq!(
            configmap_name(&Release::new("customer-adapter", "v1.2.0")),
            "rollcall-checklist-customer-adapter-v1-2-0"
        );
        assert_eq!(
            configmap_name(&Release::new("Api_GW", "2024.1")),
            "rollcall-checklist-api-gw-2024-1"
        );
    }

    #[test]
    fn a_change_never_replaces_a_newer_mark_and_everything_is_logged() {
        let release = Release::new("customer-adapter", "v1.2.0");
        let mut s = SharedChecklist::new("dictamesh-prod", "prod", release);
        s.apply(&change("load-test", true, "bob", "2026-12-04T10:05:00Z"));
        // Alice's older tick arrives after Bob's newer one: logged, but Bob's mark stays.
        s.apply(&change("load-test", false, "alice", "2026-12-04T10:01:00Z"));
        s.apply(&change("docs", true, "alice", "2026-12-04T10:02:00Z"));
        s.apply(&change("docs", true, "alice", "2026-12-04T10:02:00Z"));
        assert_eq!(s.marks["load-test"].by, "bob");
        assert!(s.marks["load-test"].done);
        assert_eq!(s.log.len(), 3, "the duplicate is applied once");
        assert_eq!(s.log[0].mark.by, "alice");

        let back = round_trip(&s);
        assert_eq!(back.marks, s.marks);
        assert_eq!(back.log, s.log);
        assert_eq!(back.release, s.release);
        assert_eq!(back.environment, "prod");
    }

    #[test]
    fn a_bad_entry_is_skipped_not_fatal() {
        let annotations = BTreeMap::from([(ANNOTATION_RELEASE.to_owned(), "svc@v1".to_owned())]);
        let data = BTreeMap::from([
            ("item.a".to_owned(), "not json".to_owned()),
            (
                "item.b".to_owned(),
                r#"{"done":true,"by":"x","at":"2026-12-04T10:00:00Z"}"#.to_owned(),
            ),
            ("log".to_owned(), "garbage\n{}".to_owned()),
        ]);
        let s = SharedChecklist::from_parts("ns", &annotations, &data, Some("7".into())).unwrap();
        assert_eq!(s.marks.keys().collect::<Vec<_>>(), ["b"]);
        assert!(s.log.is_empty());
        assert!(SharedChecklist::from_parts("ns", &BTreeMap::new(), &data, None).is_none());
    }
}
