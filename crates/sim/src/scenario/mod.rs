//! Scenarios: the DictaMesh demo (dev/staging/prod with customer-adapter, graphql-gateway and
//! metadata-catalog, their Services, the feature-flags ConfigMap, dictamesh-infra) built as
//! if deployed days ago, by running the real controllers on a clock set in the past.

pub mod argocd;
pub mod checklist;
pub mod cluster;
pub mod rollouts;
pub mod scale;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::Shared;
use crate::api::admission::{finish_update, prepare_create};
use crate::controllers::Controllers;
use crate::resources::{CONFIGMAPS, DEPLOYMENTS, NAMESPACES, ResourceDef, SERVICES, def};
use crate::store::WriteMode;

/// Which world the simulator starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scenario {
    /// The DictaMesh demo from the seed.
    #[default]
    Dictamesh,
    /// Only the default namespaces.
    Empty,
    /// `pods` ready pods over `namespaces` namespaces, `churn` pod status changes per
    /// second (benchmarks; see `scale.rs`).
    Scale {
        pods: u32,
        namespaces: u32,
        churn: u32,
    },
}

/// The demo's CloudNativePG cluster (prod's in dictamesh-infra, staging's beside it).
pub fn cnpg_cluster() -> &'static str {
    crate::cnpg::scenario::CLUSTER
}

pub const SERVICE_NAMES: &[&str] = &["customer-adapter", "graphql-gateway", "metadata-catalog"];

struct Env {
    name: &'static str,
    replicas: i64,
    tag: &'static str,
    /// (cpu request, memory request, cpu limit, memory limit)
    resources: (&'static str, &'static str, &'static str, &'static str),
    /// How long ago this environment was deployed.
    age: SignedDuration,
}

const ENVS: &[Env] = &[
    Env {
        name: "prod",
        replicas: 3,
        tag: "v1.1.4",
        resources: ("250m", "256Mi", "1", "512Mi"),
        age: SignedDuration::from_hours(76),
    },
    Env {
        name: "staging",
        replicas: 2,
        tag: "v1.2.0",
        resources: ("125m", "128Mi", "500m", "256Mi"),
        age: SignedDuration::from_hours(26),
    },
    Env {
        name: "dev",
        replicas: 1,
        tag: "v1.2.0",
        resources: ("50m", "64Mi", "250m", "128Mi"),
        age: SignedDuration::from_hours(5),
    },
];

fn create(shared: &Shared, d: &ResourceDef, ns: Option<&str>, mut obj: Value) {
    if prepare_create(shared, d, ns, &mut obj).is_ok() {
        let _ = shared.store.write(d, &mut obj, WriteMode::Create);
    }
}

/// Creates `obj` in namespace `ns`, as of the simulated clock's now.
pub(crate) fn create_at(shared: &Shared, d: &ResourceDef, ns: &str, obj: Value) {
    create(shared, d, Some(ns), obj);
}

fn labels(service: &str) -> Value {
    json!({"app": service, "app.kubernetes.io/name": service, "app.kubernetes.io/part-of": "dictamesh"})
}

/// The Deployment of one DictaMesh service in one environment, probes as the seed shows.
pub fn service_deployment(
    service: &str,
    env: &str,
    replicas: i64,
    image_tag: &str,
    res: (&str, &str, &str, &str),
) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": service, "labels": labels(service)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": service}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": labels(service)},
                "spec": {"containers": [{
                    "name": service,
                    "image": format!("ghcr.io/controle-digital/{service}:{image_tag}"),
                    "ports": [{"name": "http", "containerPort": 8080}],
                    "env": [{"name": "ENVIRONMENT", "value": env}],
                    "livenessProbe": {"httpGet": {"path": "/health/live", "port": 8080},
                        "initialDelaySeconds": 30, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 3},
                    "readinessProbe": {"httpGet": {"path": "/health/ready", "port": 8080},
                        "initialDelaySeconds": 10, "periodSeconds": 5, "timeoutSeconds": 3, "failureThreshold": 3},
                    "resources": {"requests": {"cpu": res.0, "memory": res.1}, "limits": {"cpu": res.2, "memory": res.3}},
                }]},
            },
        },
    })
}

pub(crate) fn settle(shared: &Shared, ctl: &mut Controllers) {
    for _ in 0..600 {
        ctl.drain();
        ctl.tick();
        ctl.drain();
        if ctl.idle() {
            break;
        }
        shared.clock.advance(SignedDuration::from_millis(500));
    }
}

/// Builds a scenario into an empty store, leaving the clock at the real current time.
pub fn build(shared: &Shared, ctl: &mut Controllers, scenario: Scenario) {
    let now = Timestamp::now();
    shared.set_events(false);
    shared.clock.set(now - SignedDuration::from_hours(24 * 30));
    let mut namespaces = vec!["default", "kube-system"];
    if scenario == Scenario::Dictamesh {
        namespaces.extend([
            "dictamesh-dev",
            "dictamesh-staging",
            "dictamesh-prod",
            "dictamesh-infra",
        ]);
    }
    for ns in namespaces {
        create(
            shared,
            def(NAMESPACES),
            None,
            json!({"metadata": {"name": ns}}),
        );
    }
    if scenario == Scenario::Dictamesh {
        crate::cnpg::scenario::build(shared, ctl, now);
        for env in ENVS {
            shared.clock.set(now - env.age);
            let ns = format!("dictamesh-{}", env.name);
            for svc in SERVICE_NAMES {
                let deployment =
                    service_deployment(svc, env.name, env.replicas, env.tag, env.resources);
                if env.name == "prod" && *svc == crate::scenario::rollouts::NAME {
                    // The seed ships customer-adapter to prod as an Argo Rollouts canary.
                    crate::scenario::rollouts::create_canary(shared, ctl, &ns, &deployment);
                } else if env.name == "prod" && *svc == BLUE_GREEN {
                    create_blue(shared, &ns, &deployment);
                    continue;
                } else if let Some(old) = previous_tag(env.name, svc) {
                    create(
                        shared,
                        def(DEPLOYMENTS),
                        Some(&ns),
                        with_tag(deployment, old),
                    );
                } else {
                    create(shared, def(DEPLOYMENTS), Some(&ns), deployment);
                }
                create(
                    shared,
                    def(SERVICES),
                    Some(&ns),
                    json!({"metadata": {"name": svc, "labels": labels(svc)},
                           "spec": {"selector": {"app": svc}, "ports": [{"name": "http", "port": 8080, "targetPort": "http"}]}}),
                );
            }
            if env.name == "prod" {
                create(
                    shared,
                    def(CONFIGMAPS),
                    Some(&ns),
                    json!({"metadata": {"name": "feature-flags", "labels": {"app.kubernetes.io/part-of": "dictamesh"}},
                           "data": {"maintenance_mode": "false", "graphql_introspection": "false", "new_entity_resolver": "false"}}),
                );
            }
            settle(shared, ctl);
            upgrade_from_previous(shared, ctl, env, &ns, now);
        }
        create_green(shared, ctl, "dictamesh-prod", now);
        crate::scenario::rollouts::start_canary(shared, ctl, "dictamesh-prod", "v1.2.0", now);
        shared.clock.set(now - SignedDuration::from_hours(6));
        checklist::build(shared, now);
        // Last: its logs and consumers only move forward in time.
        crate::kafka::scenario::build(shared, ctl, now);
    } else {
        settle(shared, ctl);
    }
    crate::scenario::cluster::build(shared, ctl, scenario, now);
    shared.clock.set(now);
    shared.set_events(true);
}

/// prod's graphql-gateway is the seed's blue/green pair: Deployments `-blue` (the
/// release in service) and `-green` (the next one, idle), told apart by `version`, and the
/// Service selecting `version: blue`.
pub const BLUE_GREEN: &str = "graphql-gateway";
/// The release the green side runs.
pub const GREEN_TAG: &str = "v1.2.0";

/// Whether a service starts with an older release, so it has a revision to go back to:
/// metadata-catalog in prod and staging (revision 1 the previous release, 2 the current).
pub fn previous_tag(env: &str, service: &str) -> Option<&'static str> {
    match (env, service) {
        ("prod", "metadata-catalog") => Some("v1.1.3"),
        ("staging", "metadata-catalog") => Some("v1.1.4"),
        _ => None,
    }
}

fn with_tag(mut deployment: Value, tag: &str) -> Value {
    let service = deployment["metadata"]["name"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    for c in deployment["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        c["image"] = json!(format!("ghcr.io/controle-digital/{service}:{tag}"));
    }
    deployment
}

/// One colour of the pair: the service's Deployment renamed, with `version: <colour>` in
/// its labels, selector and pod template.
fn coloured(deployment: &Value, colour: &str, tag: &str) -> Value {
    let mut d = with_tag(deployment.clone(), tag);
    d["metadata"]["name"] = json!(format!("{BLUE_GREEN}-{colour}"));
    for ptr in [
        "/metadata/labels",
        "/spec/selector/matchLabels",
        "/spec/template/metadata/labels",
    ] {
        if let Some(m) = d.pointer_mut(ptr).and_then(Value::as_object_mut) {
            m.insert("version".into(), json!(colour));
        }
    }
    d
}

/// The blue side and the Service, deployed with the environment.
fn create_blue(shared: &Shared, ns: &str, deployment: &Value) {
    let tag = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .and_then(|i| i.rsplit_once(':'))
        .map_or("latest", |(_, t)| t)
        .to_owned();
    create(
        shared,
        def(DEPLOYMENTS),
        Some(ns),
        coloured(deployment, "blue", &tag),
    );
    create(
        shared,
        def(SERVICES),
        Some(ns),
        json!({"metadata": {"name": BLUE_GREEN, "labels": labels(BLUE_GREEN)},
               "spec": {"selector": {"app": BLUE_GREEN, "version": "blue"},
                        "ports": [{"name": "http", "port": 8080, "targetPort": "http"}]}}),
    );
}

/// The green side: the next release, deployed two hours ago and fully ready, no traffic.
fn create_green(shared: &Shared, ctl: &mut Controllers, ns: &str, now: Timestamp) {
    let Some(prod) = ENVS.iter().find(|e| e.name == "prod") else {
        return;
    };
    shared.clock.set(now - SignedDuration::from_hours(2));
    let deployment = service_deployment(
        BLUE_GREEN,
        prod.name,
        prod.replicas,
        prod.tag,
        prod.resources,
    );
    create(
        shared,
        def(DEPLOYMENTS),
        Some(ns),
        coloured(&deployment, "green", GREEN_TAG),
    );
    settle(shared, ctl);
}

/// An hour after the environment was deployed, the services that started on an older
/// release move to the current one: the Deployment controller makes revision 2.
fn upgrade_from_previous(
    shared: &Shared,
    ctl: &mut Controllers,
    env: &Env,
    ns: &str,
    now: Timestamp,
) {
    let mut changed = false;
    shared
        .clock
        .set(now - env.age + SignedDuration::from_hours(1));
    for svc in SERVICE_NAMES {
        if previous_tag(env.name, svc).is_none() {
            continue;
        }
        let d = def(DEPLOYMENTS);
        let Some(e) = shared.store.get(d, ns, svc) else {
            continue;
        };
        let old = e.value();
        let new = with_tag(old.clone(), env.tag);
        if let Ok(mut new) = finish_update(d, None, &old, new) {
            changed |= shared
                .store
                .write(d, &mut new, WriteMode::Update(Some(e.meta.rv)))
                .is_ok();
        }
    }
    if changed {
        settle(shared, ctl);
    }
}
