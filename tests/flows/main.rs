//! Pure flows: `update()` driven by keys and watch data, real upstream objects decoded
//! into rows, config loading, the migration lint, pod ordering and redraw decisions. No
//! network, no child processes.

mod advisor;
mod advisor_kafka;
mod analysis_fixtures;
mod app_update;
mod argocd_fixtures;
mod bluegreen;
mod canary_fixtures;
mod canary_update;
mod checklist_update;
mod cnpg_trivy_fixtures;
mod config_load;
mod confirm_policy;
mod fixtures_decode;
mod fuzz_replay;
mod kafka_parse;
mod kafka_update;
mod layers;
mod link_state;
mod lint_rules;
mod logs_update;
mod pod_sort;
mod redraw_on_visible_change;
mod release_update;
mod runbook_update;
mod upstream_states;
mod workload_health;
