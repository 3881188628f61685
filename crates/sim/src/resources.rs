//! The registry of served resource types: what discovery lists, how URLs map to stores,
//! which field selectors each kind accepts and which subresources it has.
//!
//! Adding a kind (issue 3: nodes, secrets, jobs, …) means adding one `ResourceDef` here.

/// Which Table column set a kind is printed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    Pod,
    Deployment,
    ReplicaSet,
    Service,
    Namespace,
    ConfigMap,
    Event,
    /// Argo Rollouts' printer columns (Desired, Current, Up-to-date, Available).
    Rollout,
    /// Argo CD Applications' printer columns (Sync Status, Health Status, Revision, Project).
    Application,
    Secret,
    ServiceAccount,
    Node,
    Job,
    /// CloudNativePG's printer columns (Age, Instances, Ready, Status, Primary).
    CnpgCluster,
    /// CloudNativePG Backups (Age, Cluster, Method, Phase, Error).
    CnpgBackup,
    /// Trivy's printer columns (Repository, Tag, Scanner, Age; severities at priority 1).
    VulnerabilityReport,
    /// Argo Rollouts' AnalysisRuns and Experiments (Status, Age).
    AnalysisRun,
    /// Strimzi KafkaTopics (Cluster, Partitions, Replication factor, Ready).
    KafkaTopic,
    Default,
}

/// A served resource type.
#[derive(Debug)]
pub struct ResourceDef {
    /// Index into the store's tables.
    pub id: usize,
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    /// Subresources served (`status`, `scale`).
    pub subresources: &'static [&'static str],
    /// Field selectors beyond metadata.name/metadata.namespace: (selector name, JSON path).
    pub fields: &'static [(&'static str, &'static str)],
    pub table: TableKind,
}

impl ResourceDef {
    /// `apiVersion` of objects of this kind.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `<resource>[.<group>]` as used in Status messages.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `<Kind>[.<group>]` as used in Invalid messages.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    pub fn has_status(&self) -> bool {
        self.subresources.contains(&"status")
    }
}

pub const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

const POD_FIELDS: &[(&str, &str)] = &[
    ("spec.nodeName", "spec.nodeName"),
    ("spec.restartPolicy", "spec.restartPolicy"),
    ("spec.schedulerName", "spec.schedulerName"),
    ("spec.serviceAccountName", "spec.serviceAccountName"),
    ("spec.hostNetwork", "spec.hostNetwork"),
    ("status.phase", "status.phase"),
    ("status.podIP", "status.podIP"),
    ("status.nominatedNodeName", "status.nominatedNodeName"),
];
const EVENT_FIELDS: &[(&str, &str)] = &[
    ("involvedObject.kind", "involvedObject.kind"),
    ("involvedObject.namespace", "involvedObject.namespace"),
    ("involvedObject.name", "involvedObject.name"),
    ("involvedObject.uid", "involvedObject.uid"),
    ("involvedObject.apiVersion", "involvedObject.apiVersion"),
    (
        "involvedObject.resourceVersion",
        "involvedObject.resourceVersion",
    ),
    ("involvedObject.fieldPath", "involvedObject.fieldPath"),
    ("reason", "reason"),
    ("reportingComponent", "reportingComponent"),
    ("source", "source.component"),
    ("type", "type"),
];

pub const NAMESPACES: usize = 0;
pub const PODS: usize = 1;
pub const SERVICES: usize = 2;
pub const CONFIGMAPS: usize = 3;
pub const EVENTS: usize = 4;
pub const DEPLOYMENTS: usize = 5;
pub const REPLICASETS: usize = 6;
/// Argo Rollouts and the Istio VirtualService it drives (CRDs: no strategic merge).
pub const ROLLOUTS: usize = 7;
pub const VIRTUALSERVICES: usize = 8;
/// Argo CD Applications (CRD without subresources: status is written through the object).
pub const APPLICATIONS: usize = 9;
pub const SECRETS: usize = 10;
pub const SERVICEACCOUNTS: usize = 11;
pub const NODES: usize = 12;
pub const JOBS: usize = 13;
/// events.k8s.io/v1 Events: another version of the core Events, stored once (as core/v1)
/// and converted on the way in and out (`events_v1.rs`).
pub const EVENTS_V1: usize = 14;
/// CloudNativePG (postgresql.cnpg.io/v1): the database Clusters and their Backups.
pub const CNPG_CLUSTERS: usize = 15;
pub const CNPG_BACKUPS: usize = 16;
/// Trivy operator scan results (aquasecurity.github.io/v1alpha1), one per container.
pub const VULNERABILITYREPORTS: usize = 17;
/// Argo Rollouts' analysis (CRDs without subresources: status is written with the object).
pub const ANALYSISRUNS: usize = 18;
pub const ANALYSISTEMPLATES: usize = 19;
pub const CLUSTERANALYSISTEMPLATES: usize = 20;
pub const EXPERIMENTS: usize = 21;
/// Strimzi's KafkaTopic (kafka.strimzi.io/v1beta2), applied by the simulated topic operator.
pub const KAFKATOPICS: usize = 22;

/// All served resources; `RESOURCES[i].id == i`.
pub static RESOURCES: &[ResourceDef] = &[
    ResourceDef {
        id: NAMESPACES,
        group: "",
        version: "v1",
        plural: "namespaces",
        singular: "namespace",
        kind: "Namespace",
        namespaced: false,
        short_names: &["ns"],
        categories: &[],
        subresources: &["status"],
        fields: &[("status.phase", "status.phase")],
        table: TableKind::Namespace,
    },
    ResourceDef {
        id: PODS,
        group: "",
        version: "v1",
        plural: "pods",
        singular: "pod",
        kind: "Pod",
        namespaced: true,
        short_names: &["po"],
        categories: &["all"],
        subresources: &["status", "log", "proxy", "exec"],
        fields: POD_FIELDS,
        table: TableKind::Pod,
    },
    ResourceDef {
        id: SERVICES,
        group: "",
        version: "v1",
        plural: "services",
        singular: "service",
        kind: "Service",
        namespaced: true,
        short_names: &["svc"],
        categories: &["all"],
        subresources: &["status", "proxy"],
        fields: &[
            ("spec.clusterIP", "spec.clusterIP"),
            ("spec.type", "spec.type"),
        ],
        table: TableKind::Service,
    },
    ResourceDef {
        id: CONFIGMAPS,
        group: "",
        version: "v1",
        plural: "configmaps",
        singular: "configmap",
        kind: "ConfigMap",
        namespaced: true,
        short_names: &["cm"],
        categories: &[],
        subresources: &[],
        fields: &[],
        table: TableKind::ConfigMap,
    },
    ResourceDef {
        id: EVENTS,
        group: "",
        version: "v1",
        plural: "events",
        singular: "event",
        kind: "Event",
        namespaced: true,
        short_names: &["ev"],
        categories: &[],
        subresources: &[],
        fields: EVENT_FIELDS,
        table: TableKind::Event,
    },
    ResourceDef {
        id: DEPLOYMENTS,
        group: "apps",
        version: "v1",
        plural: "deployments",
        singular: "deployment",
        kind: "Deployment",
        namespaced: true,
        short_names: &["deploy"],
        categories: &["all"],
        subresources: &["status", "scale"],
        fields: &[],
        table: TableKind::Deployment,
    },
    ResourceDef {
        id: REPLICASETS,
        group: "apps",
        version: "v1",
        plural: "replicasets",
        singular: "replicaset",
        kind: "ReplicaSet",
        namespaced: true,
        short_names: &["rs"],
        categories: &["all"],
        subresources: &["status", "scale"],
        fields: &[],
        table: TableKind::ReplicaSet,
    },
    ResourceDef {
        id: ROLLOUTS,
        group: "argoproj.io",
        version: "v1alpha1",
        plural: "rollouts",
        singular: "rollout",
        kind: "Rollout",
        namespaced: true,
        short_names: &["ro"],
        categories: &[],
        subresources: &["status", "scale"],
        fields: &[],
        table: TableKind::Rollout,
    },
    ResourceDef {
        id: VIRTUALSERVICES,
        group: "networking.istio.io",
        version: "v1beta1",
        plural: "virtualservices",
        singular: "virtualservice",
        kind: "VirtualService",
        namespaced: true,
        short_names: &["vs"],
        categories: &["istio-io", "networking-istio-io"],
        subresources: &["status"],
        fields: &[],
        table: TableKind::Default,
    },
    ResourceDef {
        id: APPLICATIONS,
        group: "argoproj.io",
        version: "v1alpha1",
        plural: "applications",
        singular: "application",
        kind: "Application",
        namespaced: true,
        short_names: &["app", "apps"],
        categories: &[],
        subresources: &[],
        fields: &[],
        table: TableKind::Application,
    },
    ResourceDef {
        id: SECRETS,
        group: "",
        version: "v1",
        plural: "secrets",
        singular: "secret",
        kind: "Secret",
        namespaced: true,
        short_names: &[],
        categories: &[],
        subresources: &[],
        fields: &[("type", "type")],
        table: TableKind::Secret,
    },
    ResourceDef {
        id: SERVICEACCOUNTS,
        group: "",
        version: "v1",
        plural: "serviceaccounts",
        singular: "serviceaccount",
        kind: "ServiceAccount",
        namespaced: true,
        short_names: &["sa"],
        categories: &[],
        subresources: &[],
        fields: &[],
        table: TableKind::ServiceAccount,
    },
    ResourceDef {
        id: NODES,
        group: "",
        version: "v1",
        plural: "nodes",
        singular: "node",
        kind: "Node",
        namespaced: false,
        short_names: &["no"],
        categories: &[],
        subresources: &["status"],
        fields: &[("spec.unschedulable", "spec.unschedulable")],
        table: TableKind::Node,
    },
    ResourceDef {
        id: JOBS,
        group: "batch",
        version: "v1",
        plural: "jobs",
        singular: "job",
        kind: "Job",
        namespaced: true,
        short_names: &[],
        categories: &["all"],
        subresources: &["status"],
        fields: &[("status.successful", "status.succeeded")],
        table: TableKind::Job,
    },
    ResourceDef {
        id: EVENTS_V1,
        group: "events.k8s.io",
        version: "v1",
        plural: "events",
        singular: "event",
        kind: "Event",
        namespaced: true,
        short_names: &["ev"],
        categories: &[],
        subresources: &[],
        fields: EVENT_FIELDS,
        table: TableKind::Event,
    },
    ResourceDef {
        id: CNPG_CLUSTERS,
        group: "postgresql.cnpg.io",
        version: "v1",
        plural: "clusters",
        singular: "cluster",
        kind: "Cluster",
        namespaced: true,
        short_names: &[],
        categories: &[],
        subresources: &["status", "scale"],
        fields: &[],
        table: TableKind::CnpgCluster,
    },
    ResourceDef {
        id: CNPG_BACKUPS,
        group: "postgresql.cnpg.io",
        version: "v1",
        plural: "backups",
        singular: "backup",
        kind: "Backup",
        namespaced: true,
        short_names: &[],
        categories: &[],
        subresources: &["status"],
        fields: &[],
        table: TableKind::CnpgBackup,
    },
    ResourceDef {
        id: VULNERABILITYREPORTS,
        group: "aquasecurity.github.io",
        version: "v1alpha1",
        plural: "vulnerabilityreports",
        singular: "vulnerabilityreport",
        kind: "VulnerabilityReport",
        namespaced: true,
        short_names: &["vuln", "vulns"],
        categories: &[],
        subresources: &[],
        fields: &[],
        table: TableKind::VulnerabilityReport,
    },
    ResourceDef {
        id: ANALYSISRUNS,
        group: "argoproj.io",
        version: "v1alpha1",
        plural: "analysisruns",
        singular: "analysisrun",
        kind: "AnalysisRun",
        namespaced: true,
        short_names: &["ar"],
        categories: &[],
        subresources: &[],
        fields: &[],
        table: TableKind::AnalysisRun,
    },
    ResourceDef {
        id: ANALYSISTEMPLATES,
        group: "argoproj.io",
        version: "v1alpha1",
        plural: "analysistemplates",
        singular: "analysistemplate",
        kind: "AnalysisTemplate",
        namespaced: true,
        short_names: &["at"],
        categories: &[],
        subresources: &[],
        fields: &[],
        table: TableKind::Default,
    },
    ResourceDef {
        id: CLUSTERANALYSISTEMPLATES,
        group: "argoproj.io",
        version: "v1alpha1",
        plural: "clusteranalysistemplates",
        singular: "clusteranalysistemplate",
        kind: "ClusterAnalysisTemplate",
        namespaced: false,
        short_names: &["cat"],
        categories: &[],
        subresources: &[],
        fields: &[],
        table: TableKind::Default,
    },
    ResourceDef {
        id: EXPERIMENTS,
        group: "argoproj.io",
        version: "v1alpha1",
        plural: "experiments",
        singular: "experiment",
        kind: "Experiment",
        namespaced: true,
        short_names: &["exp"],
        categories: &[],
        subresources: &[],
        fields: &[],
        table: TableKind::AnalysisRun,
    },
    ResourceDef {
        id: KAFKATOPICS,
        group: "kafka.strimzi.io",
        version: "v1beta2",
        plural: "kafkatopics",
        singular: "kafkatopic",
        kind: "KafkaTopic",
        namespaced: true,
        short_names: &["kt"],
        categories: &["strimzi"],
        subresources: &["status"],
        fields: &[],
        table: TableKind::KafkaTopic,
    },
];

/// The definition whose store table holds a kind's objects (events.k8s.io Events live in
/// the core Events table).
pub fn storage(d: &ResourceDef) -> &'static ResourceDef {
    if d.id == EVENTS_V1 {
        &RESOURCES[EVENTS]
    } else {
        &RESOURCES[d.id]
    }
}

/// Whether a kind is a custom resource: CRDs take no strategic-merge patches (415).
pub fn is_custom(def: &ResourceDef) -> bool {
    def.group.contains('.') && !def.group.ends_with(".k8s.io")
}

/// The definition for a resource id.
pub fn def(id: usize) -> &'static ResourceDef {
    &RESOURCES[id]
}

/// Looks up a resource by group, version and plural name.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceDef> {
    RESOURCES
        .iter()
        .find(|d| d.group == group && d.version == version && d.plural == plural)
}

/// The API groups served under `/apis`, with their versions.
pub fn groups() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for d in RESOURCES.iter().filter(|d| !d.group.is_empty()) {
        if !out.contains(&(d.group, d.version)) {
            out.push((d.group, d.version));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_indices() {
        for (i, d) in RESOURCES.iter().enumerate() {
            assert_eq!(d.id, i, "{}", d.plural);
        }
        assert_eq!(
            find("apps", "v1", "deployments").map(|d| d.kind),
            Some("Deployment")
        );
        assert_eq!(def(DEPLOYMENTS).qualified(), "deployments.apps");
        assert!(groups().contains(&("apps", "v1")));
        assert!(groups().contains(&("argoproj.io", "v1alpha1")));
        assert!(is_custom(def(ROLLOUTS)) && !is_custom(def(DEPLOYMENTS)));
        assert!(!is_custom(def(EVENTS_V1)));
        assert_eq!(storage(def(EVENTS_V1)).id, EVENTS);
        assert!(groups().contains(&("batch", "v1")));
        assert!(groups().contains(&("postgresql.cnpg.io", "v1")));
        assert_eq!(
            find("aquasecurity.github.io", "v1alpha1", "vulnerabilityreports").map(|d| d.id),
            Some(VULNERABILITYREPORTS)
        );
        assert_eq!(
            find("argoproj.io", "v1alpha1", "analysisruns").map(|d| d.kind),
            Some("AnalysisRun")
        );
        assert!(!def(CLUSTERANALYSISTEMPLATES).namespaced && is_custom(def(EXPERIMENTS)));
    }
}
