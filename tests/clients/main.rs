//! Clients over real connections: rollcall's kube, Argo CD and migration clients and the
//! command bus against the simulator (or a mock server) over HTTP, the simulator's own
//! behaviour, the real kubectl and curl against it, migrations on SQLite and a PostgreSQL
//! started from initdb, and reconnecting after an outage. Tests whose external tool is
//! missing fail under CI=true and skip loudly otherwise.

mod all_namespaces;
mod argocd_bus;
mod argocd_client;
mod argocd_client_sim;
mod checklist_shared;
mod git_steps;
mod hostile_files;
mod kafka_bus;
mod kubectl_analysis;
mod kubectl_cnpg_trivy;
mod kubectl_conformance;
mod kubectl_conformance_kinds;
mod kubectl_conformance_ops;
mod link_states;
mod logs_stream;
mod migrate_postgres;
mod migrate_sqlite;
mod migrations_poller;
mod not_the_api;
mod pipeline;
mod prometheus_sim;
mod reconnect;
mod runbook_steps;
mod sim_argocd;
mod sim_faults;
mod sim_kafka;
mod sim_kinds;
mod sim_kube;
mod sim_kubectl;
mod sim_scale;
mod sim_state_dir;
mod sim_unhealthy;
