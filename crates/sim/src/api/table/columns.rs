//! The API server's Table column definitions per kind (names, types, priorities).

use serde_json::{Value, json};

use crate::resources::TableKind;

type Col = (&'static str, &'static str, i32);

fn columns(kind: TableKind) -> &'static [Col] {
    match kind {
        TableKind::Pod => &[
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Status", "string", 0),
            ("Restarts", "string", 0),
            ("Age", "string", 0),
            ("IP", "string", 1),
            ("Node", "string", 1),
            ("Nominated Node", "string", 1),
            ("Readiness Gates", "string", 1),
        ],
        TableKind::Deployment => &[
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Up-to-date", "integer", 0),
            ("Available", "integer", 0),
            ("Age", "string", 0),
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        TableKind::ReplicaSet => &[
            ("Name", "string", 0),
            ("Desired", "integer", 0),
            ("Current", "integer", 0),
            ("Ready", "integer", 0),
            ("Age", "string", 0),
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        TableKind::Service => &[
            ("Name", "string", 0),
            ("Type", "string", 0),
            ("Cluster-IP", "string", 0),
            ("External-IP", "string", 0),
            ("Port(s)", "string", 0),
            ("Age", "string", 0),
            ("Selector", "string", 1),
        ],
        TableKind::Namespace => &[
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Age", "string", 0),
        ],
        TableKind::ConfigMap => &[
            ("Name", "string", 0),
            ("Data", "integer", 0),
            ("Age", "string", 0),
        ],
        TableKind::Event => &[
            ("Last Seen", "string", 0),
            ("Type", "string", 0),
            ("Reason", "string", 0),
            ("Object", "string", 0),
            ("Subobject", "string", 1),
            ("Source", "string", 1),
            ("Message", "string", 0),
            ("First Seen", "string", 1),
            ("Count", "integer", 1),
            ("Name", "string", 1),
        ],
        TableKind::Rollout => &[
            ("Name", "string", 0),
            ("Desired", "integer", 0),
            ("Current", "integer", 0),
            ("Up-to-date", "integer", 0),
            ("Available", "integer", 0),
            ("Age", "string", 0),
        ],
        // The CRD's additionalPrinterColumns: with those set the API server adds only Name.
        TableKind::Application => &[
            ("Name", "string", 0),
            ("Sync Status", "string", 0),
            ("Health Status", "string", 0),
            ("Revision", "string", 10),
            ("Project", "string", 10),
        ],
        // CRD printer columns: Name first, then additionalPrinterColumns in their order.
        TableKind::CnpgCluster => &[
            ("Name", "string", 0),
            ("Age", "date", 0),
            ("Instances", "integer", 0),
            ("Ready", "integer", 0),
            ("Status", "string", 0),
            ("Primary", "string", 0),
        ],
        TableKind::CnpgBackup => &[
            ("Name", "string", 0),
            ("Age", "date", 0),
            ("Cluster", "string", 0),
            ("Method", "string", 0),
            ("Phase", "string", 0),
            ("Error", "string", 0),
        ],
        TableKind::KafkaTopic => &[
            ("Name", "string", 0),
            ("Cluster", "string", 0),
            ("Partitions", "integer", 0),
            ("Replication factor", "integer", 0),
            ("Ready", "string", 0),
        ],
        TableKind::VulnerabilityReport => &[
            ("Name", "string", 0),
            ("Repository", "string", 0),
            ("Tag", "string", 0),
            ("Scanner", "string", 0),
            ("Age", "date", 0),
            ("Critical", "integer", 1),
            ("High", "integer", 1),
            ("Medium", "integer", 1),
            ("Low", "integer", 1),
            ("Unknown", "integer", 1),
        ],
        TableKind::Secret => &[
            ("Name", "string", 0),
            ("Type", "string", 0),
            ("Data", "string", 0),
            ("Age", "string", 0),
        ],
        TableKind::ServiceAccount => &[
            ("Name", "string", 0),
            ("Secrets", "string", 0),
            ("Age", "string", 0),
        ],
        TableKind::Node => &[
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Roles", "string", 0),
            ("Age", "string", 0),
            ("Version", "string", 0),
            ("Internal-IP", "string", 1),
            ("External-IP", "string", 1),
            ("OS-Image", "string", 1),
            ("Kernel-Version", "string", 1),
            ("Container-Runtime", "string", 1),
        ],
        TableKind::Job => &[
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Completions", "string", 0),
            ("Duration", "string", 0),
            ("Age", "string", 0),
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        // The CRDs' additionalPrinterColumns (Status, then Age as a date).
        TableKind::AnalysisRun => &[
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Age", "date", 0),
        ],
        TableKind::Default => &[("Name", "string", 0), ("Age", "string", 0)],
    }
}

pub(super) fn column_definitions(kind: TableKind) -> Vec<Value> {
    columns(kind)
        .iter()
        .map(|(name, ty, prio)| {
            let format = if *name == "Name" { "name" } else { "" };
            json!({"name": name, "type": ty, "format": format, "description": column_description(name), "priority": prio})
        })
        .collect()
}

fn column_description(name: &str) -> &'static str {
    match name {
        "Name" => {
            "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
        }
        "Age" => {
            "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC."
        }
        "Ready" => "The aggregate readiness state of this object.",
        "Status" => "The aggregate status of the object.",
        "Restarts" => {
            "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."
        }
        "IP" => {
            "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."
        }
        "Node" => "NodeName is a request to schedule this pod onto a specific node.",
        "Containers" => "Names of each container in the template.",
        "Images" => "Images referenced by each container in the template.",
        "Selector" => "Label query over pods that should match the replica count.",
        _ => "",
    }
}
