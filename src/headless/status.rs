//! `rollcall status [--env E] [-o json]`: every environment in a few lines — its
//! services' versions and health, the canary, Argo CD's sync and health, the migration
//! database, and the progress of each release checklist walked there — from one read of
//! the clusters (the wiring's). Non-zero when something is degraded, for scripts.

use serde_json::{Value, json};

use crate::config::Environment;
use crate::domain::AppRow;
use crate::domain::checklist::{Progress, Release};
use crate::domain::environment::{EnvironmentSummary, Health};
use crate::domain::migrations::MigrationSummary;
use crate::domain::rollout::RolloutRow;
use crate::domain::rollout::view::{Phase, phase};

/// What was read of one environment.
pub struct EnvStatus<'a> {
    pub config: &'a Environment,
    /// Err: the workloads could not be listed.
    pub summary: Result<EnvironmentSummary, String>,
    pub rollouts: Vec<RolloutRow>,
    /// Err: why Argo CD could not be asked.
    pub apps: Result<Vec<AppRow>, String>,
    pub migrations: MigrationSummary,
    pub checklists: Vec<(Release, Progress)>,
}

fn health_word(h: Health) -> (&'static str, &'static str) {
    match h {
        Health::Healthy => ("✔", "Healthy"),
        Health::Progressing => ("◐", "Progressing"),
        Health::Unknown => ("?", "Unknown"),
        Health::Degraded => ("✖", "Degraded"),
        Health::Missing => ("∅", "Missing"),
    }
}

/// Whether anything in the environment is degraded (what makes the exit status 1).
pub fn degraded(s: &EnvStatus<'_>) -> Vec<String> {
    let mut out = Vec::new();
    match &s.summary {
        Err(why) => out.push(format!("cannot list workloads: {why}")),
        Ok(summary) => {
            for svc in &summary.services {
                if matches!(svc.health, Health::Degraded | Health::Missing) {
                    out.push(format!("{} {}", svc.name, health_word(svc.health).1));
                }
            }
        }
    }
    for ro in &s.rollouts {
        if phase(ro).0 == Phase::Degraded {
            out.push(format!("rollout {} Degraded", ro.name));
        }
    }
    if let Ok(apps) = &s.apps {
        for app in apps {
            if matches!(app.health.as_str(), "Degraded" | "Missing") {
                out.push(format!("app {} {}", app.name, app.health));
            }
        }
    }
    if s.migrations.dirty {
        out.push("migrations DIRTY".into());
    }
    out
}

/// Apps of the environment's services, by service.
fn app_of<'a>(s: &'a EnvStatus<'_>, service: &str) -> Option<&'a AppRow> {
    let name = &s
        .config
        .services
        .iter()
        .find(|x| x.name == service)?
        .argocd_app;
    s.apps.as_ref().ok()?.iter().find(|a| &a.name == name)
}

fn rollout_words(ro: &RolloutRow) -> String {
    let (p, _) = phase(ro);
    let step = match (ro.step_index, ro.steps.len()) {
        (Some(i), n) if n > 0 => format!(" step {}/{n}", (i as usize + 1).min(n)),
        _ => String::new(),
    };
    let weight = ro
        .weights
        .map(|(canary, _)| format!(" {canary}%"))
        .unwrap_or_default();
    format!("{} {}{step}{weight}", p.icon(), p.label())
}

fn text(s: &EnvStatus<'_>) -> String {
    let e = s.config;
    let mut out = String::new();
    match &s.summary {
        Err(why) => out.push_str(&format!(
            "{} ({}): cannot list workloads: {why}\n",
            e.name, e.namespace
        )),
        Ok(summary) => {
            let window = match summary.window_open {
                Some(true) => " · window open",
                Some(false) => " · window closed",
                None => "",
            };
            let (icon, word) = health_word(summary.health);
            out.push_str(&format!(
                "{} ({}){window} · {}/{} ready {icon} {word}\n",
                e.name, e.namespace, summary.ready, summary.desired
            ));
            for svc in &summary.services {
                let (icon, _) = health_word(svc.health);
                let mut line = format!(
                    "  {:<18} {:<8} {}/{} {icon}",
                    svc.name,
                    svc.version.as_deref().unwrap_or("-"),
                    svc.ready,
                    svc.desired
                );
                if let Some(ro) = s.rollouts.iter().find(|r| {
                    e.services
                        .iter()
                        .any(|x| x.name == svc.name && x.workload == r.name)
                }) {
                    line.push_str(&format!("  canary {}", rollout_words(ro)));
                }
                if let Some(app) = app_of(s, &svc.name) {
                    line.push_str(&format!("  argocd {}/{}", app.sync_status, app.health));
                }
                out.push_str(&line);
                out.push('\n');
            }
            for d in &summary.drift {
                out.push_str(&format!("  drift: {}\n", d.describe()));
            }
        }
    }
    if let Err(why) = &s.apps {
        out.push_str(&format!("  argocd: {why}\n"));
    }
    let m = &s.migrations;
    let migrations = match (&m.error, m.dirty) {
        (Some(e), _) => e.clone(),
        (None, true) => format!("DIRTY at version {}", m.version.unwrap_or_default()),
        (None, false) => format!(
            "version {}, {} pending ({} unsafe)",
            m.version.map_or("none".into(), |v| v.to_string()),
            m.pending,
            m.unsafe_pending
        ),
    };
    out.push_str(&format!("  migrations: {migrations}\n"));
    for (release, p) in &s.checklists {
        out.push_str(&format!(
            "  checklist {release}: {}/{} done, {} failing{}\n",
            p.done,
            p.total(),
            p.failing,
            if p.complete() { " — complete" } else { "" }
        ));
    }
    for d in degraded(s) {
        out.push_str(&format!("  ✖ {d}\n"));
    }
    out
}

fn doc(s: &EnvStatus<'_>) -> Value {
    let services: Vec<Value> = match &s.summary {
        Ok(summary) => summary
            .services
            .iter()
            .map(|svc| {
                let app = app_of(s, &svc.name);
                let rollout = s.rollouts.iter().find(|r| {
                    s.config
                        .services
                        .iter()
                        .any(|x| x.name == svc.name && x.workload == r.name)
                });
                json!({
                    "name": svc.name,
                    "version": svc.version,
                    "ready": svc.ready,
                    "desired": svc.desired,
                    "health": health_word(svc.health).1,
                    "canary": rollout.map(|r| {
                        let (p, message) = phase(r);
                        json!({"phase": p.label(), "message": message,
                               "step": r.step_index, "steps": r.steps.len(),
                               "weight": r.weights.map(|w| w.0)})
                    }),
                    "argocd": app.map(|a| json!({"app": a.name, "sync": a.sync_status, "health": a.health})),
                })
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    json!({
        "env": s.config.name,
        "namespace": s.config.namespace,
        "health": s.summary.as_ref().ok().map(|x| health_word(x.health).1),
        "error": s.summary.as_ref().err(),
        "window_open": s.summary.as_ref().ok().and_then(|x| x.window_open),
        "services": services,
        "drift": s.summary.as_ref().map(|x| x.drift.iter().map(|d| d.describe()).collect::<Vec<_>>()).unwrap_or_default(),
        "argocd_error": s.apps.as_ref().err(),
        "migrations": s.migrations,
        "checklists": s.checklists.iter().map(|(r, p)| json!({
            "release": r.to_string(), "done": p.done, "failing": p.failing,
            "total": p.total(), "complete": p.complete()})).collect::<Vec<_>>(),
        "degraded": degraded(s),
    })
}

/// The report of the environments, and whether any is degraded.
pub fn report(envs: &[EnvStatus<'_>], json_out: bool) -> (String, bool) {
    let any = envs.iter().any(|s| !degraded(s).is_empty());
    if json_out {
        let docs: Vec<Value> = envs.iter().map(doc).collect();
        let text = serde_json::to_string_pretty(&json!({"environments": docs, "degraded": any}))
            .unwrap_or_default();
        return (text, any);
    }
    let text = envs.iter().map(text).collect::<Vec<_>>().join("\n");
    (text, any)
}
