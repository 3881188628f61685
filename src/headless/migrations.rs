//! The non-interactive side: `rollcall migrations [--env NAME] [-o json] [--demo]`
//! prints the same status the pane shows, and `rollcall demo` points every
//! environment at its seeded demo database.
//!
//! The exit status is the report's answer for scripts: 0 every database is clean, 1 one
//! needs attention (dirty, locked, an unsafe or unparsed pending migration, a problem
//! with the files), 2 one could not be read (none configured, its `url_env` unset,
//! unreachable) or the input was bad. The worst environment decides.

use std::path::Path;

use serde::Serialize;
use serde_json::json;

use crate::config::{Database, Environment};
use crate::domain::migrations::{EnvMigrations, RowState, SourceSnapshot};
use rollcall_migrate::demo::{self, DemoError};
use rollcall_migrate::source::Source;
use rollcall_migrate::status;

/// Why `rollcall migrations` printed no report. No variant names a source: main prints
/// the whole chain, and each message already ends with its cause.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("demo databases: {0}")]
    Demo(DemoError),
    #[error("no environment `{name}` (known: {known})")]
    NoEnvironment { name: String, known: String },
    #[error("{0}")]
    Json(serde_json::Error),
}

/// Seeds the demo databases under `dir` and points each environment at its own.
pub async fn use_demo_databases(
    environments: &mut [Environment],
    dir: &Path,
) -> Result<(), DemoError> {
    let names: Vec<String> = environments.iter().map(|e| e.name.clone()).collect();
    let dbs = demo::prepare(dir, &names).await?;
    for (env, db) in environments.iter_mut().zip(dbs) {
        env.database = Some(Database {
            url: Some(db.url),
            url_env: None,
            migrations: db.migrations,
        });
    }
    Ok(())
}

#[derive(Serialize)]
struct Pending {
    version: u64,
    title: String,
    verdict: Option<rollcall_sqllint::Verdict>,
    findings: Vec<rollcall_sqllint::Finding>,
    problems: Vec<rollcall_sqllint::ParseProblem>,
}

/// What one environment's migrations ask of the reader; the order is the exit status's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Answer {
    Clean,
    Attention,
    Unknown,
}

/// The printed report and the exit status it deserves.
#[derive(Debug)]
pub struct Report {
    pub text: String,
    pub status: u8,
}

/// `rollcall migrations`: the status report of the selected environments, from the demo's
/// freshly seeded databases when `demo_dir` is given.
pub fn report(
    environments: &mut [Environment],
    env: Option<&str>,
    json_out: bool,
    demo_dir: Option<&Path>,
) -> Result<Report, ReportError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ReportError::Runtime)?;
    runtime.block_on(async {
        if let Some(dir) = demo_dir {
            use_demo_databases(environments, dir)
                .await
                .map_err(ReportError::Demo)?;
        }
        status_report(environments, env, json_out).await
    })
}

/// An environment's migrations as the pane would show them: its files, their lint and
/// the database's recorded version, read once.
pub async fn read(e: &Environment) -> EnvMigrations {
    let mut m = EnvMigrations::configured(e.database.as_ref());
    if let Some(db) = &e.database {
        let source = Source::read(&db.migrations);
        m.source = Some(std::sync::Arc::new(SourceSnapshot::new(source)));
        m.status = Some(match db.resolve() {
            Ok(url) => status::read_url(&url).await.map_err(Into::into),
            Err(why) => Err(why.into()),
        });
    }
    m
}

/// Reads every selected environment's status and renders it as text or JSON.
pub async fn status_report(
    environments: &[Environment],
    env: Option<&str>,
    json_out: bool,
) -> Result<Report, ReportError> {
    let envs: Vec<_> = environments
        .iter()
        .filter(|e| env.is_none_or(|n| n == e.name))
        .collect();
    if envs.is_empty() {
        let known: Vec<&str> = environments.iter().map(|e| e.name.as_str()).collect();
        return Err(ReportError::NoEnvironment {
            name: env.unwrap_or_default().to_owned(),
            known: known.join(", "),
        });
    }
    let mut text = String::new();
    let mut docs = Vec::new();
    let mut worst = Answer::Clean;
    for e in envs {
        let m = read(e).await;
        let summary = m.summary();
        let rows = m.rows();
        let snap = m.source.clone();
        let pending: Vec<Pending> = rows
            .iter()
            .filter(|r| matches!(r.state, RowState::Pending | RowState::Dirty))
            .map(|r| {
                let report = snap.as_ref().and_then(|s| s.lint.get(&r.version));
                Pending {
                    version: r.version,
                    title: r.title.clone(),
                    verdict: r.verdict,
                    findings: report.map(|r| r.findings.clone()).unwrap_or_default(),
                    problems: report.map(|r| r.problems.clone()).unwrap_or_default(),
                }
            })
            .collect();
        let applied: Vec<u64> = rows
            .iter()
            .filter(|r| matches!(r.state, RowState::Applied | RowState::Current))
            .map(|r| r.version)
            .collect();
        let st = m.status.as_ref().and_then(|s| s.as_ref().ok());
        let needs_a_look = summary.dirty
            || st.is_some_and(|s| s.locked_by.is_some())
            || !summary.problems.is_empty()
            || pending.iter().any(|p| {
                matches!(
                    p.verdict,
                    Some(rollcall_sqllint::Verdict::Unsafe | rollcall_sqllint::Verdict::Unchecked)
                ) || !p.problems.is_empty()
            });
        let answer = if summary.error.is_some() {
            Answer::Unknown
        } else if needs_a_look {
            Answer::Attention
        } else {
            Answer::Clean
        };
        worst = worst.max(answer);
        if json_out {
            docs.push(json!({
                "env": e.name,
                "database": m.database,
                "version": summary.version,
                "title": summary.title,
                "dirty": summary.dirty,
                "error": summary.error,
                "lock_key": st.and_then(|s| s.lock_key),
                "locked_by": st.and_then(|s| s.locked_by.clone()),
                "last_change": st.and_then(|s| s.last_change).map(|t| t.to_string()),
                "applied": applied,
                "pending": pending,
                "problems": summary.problems,
            }));
            continue;
        }
        text.push_str(&format!(
            "{}  {}\n",
            e.name,
            m.database.as_deref().unwrap_or("(no database)")
        ));
        if let Some(err) = &summary.error {
            text.push_str(&format!("  ✖ {err}\n"));
        } else {
            let version = summary
                .version
                .map(|v| v.to_string())
                .unwrap_or_else(|| "none".into());
            let title = summary.title.clone().unwrap_or_default();
            let dirty = if summary.dirty {
                "DIRTY: fix the schema, then force the version it is really at"
            } else {
                "clean"
            };
            text.push_str(&format!("  version {version} {title} ({dirty})\n"));
            if let Some(t) = st.and_then(|s| s.last_change) {
                text.push_str(&format!("  last change {t}\n"));
            }
            if let Some(h) = st.and_then(|s| s.locked_by.as_ref()) {
                text.push_str(&format!("  locked by {h}\n"));
            }
        }
        text.push_str(&format!("  applied: {}\n", applied.len()));
        for p in &pending {
            let verdict = match p.verdict {
                Some(rollcall_sqllint::Verdict::Safe) => "safe",
                Some(rollcall_sqllint::Verdict::Unsafe) => "UNSAFE",
                Some(rollcall_sqllint::Verdict::Unchecked) => "unparsed",
                None => "-",
            };
            text.push_str(&format!(
                "  pending {:06} {}  {verdict}\n",
                p.version, p.title
            ));
            for f in &p.findings {
                text.push_str(&format!(
                    "    line {}: {} → {}\n",
                    f.line, f.message, f.safer
                ));
            }
            for pr in &p.problems {
                text.push_str(&format!("    line {}: {}\n", pr.line, pr.message));
            }
        }
        for p in &summary.problems {
            text.push_str(&format!("  ⚠ {p}\n"));
        }
    }
    if json_out {
        let doc = if docs.len() == 1 && env.is_some() {
            docs.remove(0)
        } else {
            serde_json::Value::Array(docs)
        };
        text = serde_json::to_string_pretty(&doc).map_err(ReportError::Json)?;
    }
    Ok(Report {
        text,
        status: worst as u8,
    })
}
