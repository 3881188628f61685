//! The automatic checks: each reads what rollcall already watches (Argo CD apps, CNPG
//! backups, Trivy reports, migration status, HTTP probes, the policy) and says pass or
//! fail with the evidence it read and when. Pure functions; the app gathers the inputs.

use jiff::{SignedDuration, Timestamp};

use super::{Evaluation, Release, Verdict};
use crate::config::{BackupTarget, Policy};
use crate::domain::AppRow;
use crate::domain::cnpg::{BackupRow, latest_completed};
use crate::domain::format::duration;
use crate::domain::migrations::MigrationSummary;
use crate::domain::vulnerability::{Severity, VulnerabilityReportRow};

fn ago(now: Timestamp, then: Timestamp) -> String {
    format!(
        "{} ago",
        duration(now.duration_since(then).as_secs().max(0))
    )
}

fn hours(d: SignedDuration) -> String {
    duration(d.as_secs())
}

/// What is known of an environment's Argo CD.
#[derive(Debug, Clone, Copy)]
pub enum ArgoView<'a> {
    /// No server or token for the environment: nothing to ask.
    NotConfigured(&'a str),
    /// The server cannot be reached now.
    Down(&'a str),
    /// The apps have not been listed yet.
    Loading,
    /// The app, if it exists, as last seen at `at`.
    App(Option<&'a AppRow>, Option<Timestamp>),
}

/// The release's service in `environment` is Synced and Healthy, running its version.
pub fn argocd_healthy(
    release: &Release,
    environment: &str,
    app_name: &str,
    argo: ArgoView<'_>,
) -> Evaluation {
    let app = match argo {
        ArgoView::NotConfigured(why) => {
            return Evaluation::new(
                Verdict::CannotTell,
                format!("no Argo CD for {environment} ({why}); tick by hand"),
                None,
            );
        }
        ArgoView::Down(why) => {
            return Evaluation::new(
                Verdict::Pending,
                format!("Argo CD unreachable: {why}"),
                None,
            );
        }
        ArgoView::Loading => {
            return Evaluation::new(Verdict::Pending, "reading Argo CD…", None);
        }
        ArgoView::App(None, at) => {
            return Evaluation::new(
                Verdict::Fail,
                format!("no Application {app_name} in Argo CD"),
                at,
            );
        }
        ArgoView::App(Some(app), at) => (app, at),
    };
    let (app, at) = app;
    let revision = app
        .sync_revision
        .as_deref()
        .map(|r| r.chars().take(7).collect::<String>())
        .unwrap_or_else(|| "no revision".into());
    let runs = app
        .images
        .iter()
        .filter(|i| image_service(i) == release.service)
        .filter_map(|i| i.rsplit_once(':').map(|(_, tag)| tag.to_owned()))
        .collect::<Vec<_>>();
    let state = format!(
        "{app_name} {} · {} · {revision}",
        if app.sync_status.is_empty() {
            "not compared"
        } else {
            &app.sync_status
        },
        if app.health.is_empty() {
            "no health"
        } else {
            &app.health
        }
    );
    let on_version = runs.contains(&release.version);
    let verdict = if app.sync_status == "Synced" && app.health == "Healthy" && on_version {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    let running = if runs.is_empty() {
        format!("does not run {}", release.service)
    } else if on_version {
        format!("runs {}", release.version)
    } else {
        format!("runs {}, not {}", runs.join(", "), release.version)
    };
    Evaluation::new(verdict, format!("{state} · {running}"), at)
}

/// `ghcr.io/controle-digital/customer-adapter:v1.2.0` → `customer-adapter`.
fn image_service(image: &str) -> &str {
    let path = image
        .rsplit_once(':')
        .map_or(image, |(p, t)| if t.contains('/') { image } else { p });
    path.rsplit('/').next().unwrap_or(path)
}

/// The newest completed backup of the environment's cluster is younger than `max_age`.
pub fn backup_fresh(
    target: Option<&BackupTarget>,
    max_age: Option<SignedDuration>,
    backups: Option<&[BackupRow]>,
    now: Timestamp,
) -> Evaluation {
    let Some(target) = target else {
        return Evaluation::new(
            Verdict::CannotTell,
            "no backup: cluster configured for this environment; tick by hand",
            None,
        );
    };
    let Some(max_age) = max_age else {
        return Evaluation::new(
            Verdict::CannotTell,
            "no max_age on the check and no backup_max_age in the policy; tick by hand",
            None,
        );
    };
    let Some(backups) = backups else {
        return Evaluation::new(Verdict::Pending, "reading backups…", None);
    };
    let cluster = format!("{}/{}", target.namespace, target.cluster);
    let mine: Vec<&BackupRow> = backups
        .iter()
        .filter(|b| b.namespace == target.namespace && b.cluster == target.cluster)
        .collect();
    let newest = mine.iter().max_by_key(|b| b.taken_at());
    let running = mine
        .iter()
        .find(|b| b.phase.in_progress())
        .map(|b| format!(" · {} {}", b.name, b.phase.as_str()))
        .unwrap_or_default();
    let Some(last) = latest_completed(mine.iter().copied(), &target.namespace, &target.cluster)
    else {
        let failed = newest
            .filter(|b| b.phase.failed())
            .map(|b| {
                format!(
                    "; newest {} {}: {}",
                    b.name,
                    b.phase.as_str(),
                    b.error.as_deref().unwrap_or("no error given")
                )
            })
            .unwrap_or_default();
        return Evaluation::new(
            Verdict::Fail,
            format!("no completed backup of {cluster}{failed}{running}"),
            Some(now),
        );
    };
    let age = last.age(now).unwrap_or(SignedDuration::MAX);
    let taken = last
        .taken_at()
        .map_or("at an unknown time".into(), |t| ago(now, t));
    // A failure after the last good one is worth knowing even when the gate passes.
    let failed_since = newest
        .filter(|b| b.phase.failed() && b.taken_at() > last.taken_at())
        .map(|b| {
            format!(
                " · then {} failed: {}",
                b.name,
                b.error.as_deref().unwrap_or("no error given")
            )
        })
        .unwrap_or_default();
    let verdict = if age <= max_age {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    Evaluation::new(
        verdict,
        format!(
            "{} completed {taken} (limit {}){failed_since}{running}",
            last.name,
            hours(max_age)
        ),
        Some(now),
    )
}

/// No Trivy report of the release's image has a finding at `fail_at` or worse.
/// `repository` is the image without its tag (`ghcr.io/org/service`), when known.
pub fn vulnerabilities(
    release: &Release,
    repository: Option<&str>,
    fail_at: &str,
    reports: Option<&[VulnerabilityReportRow]>,
) -> Evaluation {
    let Some(repository) = repository else {
        return Evaluation::new(
            Verdict::Pending,
            format!("the image of {} is not known yet", release.service),
            None,
        );
    };
    let Some(reports) = reports else {
        return Evaluation::new(Verdict::Pending, "reading vulnerability reports…", None);
    };
    let image = format!("{repository}:{}", release.version);
    let short = format!("{}:{}", release.service, release.version);
    let threshold = Severity::parse(fail_at);
    // The same image is scanned wherever it runs: the worst report speaks for it.
    let Some(worst) = reports
        .iter()
        .filter(|r| r.is_image(&image))
        .max_by_key(|r| (r.summary.at_least(threshold), r.updated))
    else {
        return Evaluation::new(
            Verdict::Fail,
            format!("no Trivy report for {short} yet: not scanned"),
            None,
        );
    };
    let s = worst.summary;
    let counts = format!(
        "{} critical, {} high, {} medium, {} low",
        s.critical, s.high, s.medium, s.low
    );
    let scanned = format!("scanned in {}", worst.namespace);
    let blocking = s.at_least(threshold);
    if blocking == 0 {
        return Evaluation::new(
            Verdict::Pass,
            format!("{short}: {counts} · {scanned}"),
            worst.updated,
        );
    }
    let first = worst
        .findings
        .iter()
        .find(|f| f.severity <= threshold)
        .map(|f| {
            let fix = if f.fixed.is_empty() {
                "no fix yet".to_owned()
            } else {
                format!("fixed in {}", f.fixed)
            };
            format!(": {} in {} {} ({fix})", f.id, f.package, f.installed)
        })
        .unwrap_or_default();
    Evaluation::new(
        Verdict::Fail,
        format!(
            "{short}: {blocking} at {} or worse{first} · {counts} · {scanned}",
            threshold.as_str()
        ),
        worst.updated,
    )
}

/// The migration database is clean and what is pending passes the lint.
pub fn migrations(
    configured: bool,
    summary: &MigrationSummary,
    checked: Option<Timestamp>,
) -> Evaluation {
    if !configured {
        return Evaluation::new(
            Verdict::CannotTell,
            "no migration database configured; tick by hand if none applies",
            None,
        );
    }
    if checked.is_none() {
        return Evaluation::new(Verdict::Pending, "reading schema_migrations…", None);
    }
    if let Some(error) = &summary.error {
        return Evaluation::new(
            Verdict::Fail,
            format!("cannot read schema_migrations: {error}"),
            checked,
        );
    }
    let version = summary
        .version
        .map_or("no version".into(), |v| format!("version {v}"));
    if summary.dirty {
        return Evaluation::new(
            Verdict::Fail,
            format!("DIRTY at {version}: fix it (force) before deploying"),
            checked,
        );
    }
    if summary.unsafe_pending > 0 {
        return Evaluation::new(
            Verdict::Fail,
            format!(
                "{version}; {} of {} pending fail the zero-downtime lint",
                summary.unsafe_pending, summary.pending
            ),
            checked,
        );
    }
    let pending = match summary.pending {
        0 => "nothing pending".to_owned(),
        n => format!("{n} pending, lint-clean"),
    };
    Evaluation::new(Verdict::Pass, format!("{version}, {pending}"), checked)
}

/// One GET and what came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpProbe {
    pub url: String,
    pub at: Timestamp,
    /// The status and how long it took, or why there was none.
    pub outcome: Result<(u16, u64), String>,
}

/// GET `url` answered `expect`.
pub fn http(url: Option<&str>, expect: u16, probe: Option<&HttpProbe>) -> Evaluation {
    let Some(url) = url else {
        return Evaluation::new(
            Verdict::CannotTell,
            "no monitoring.health_url for this environment; tick by hand",
            None,
        );
    };
    let Some(probe) = probe.filter(|p| p.url == url) else {
        return Evaluation::new(Verdict::Pending, format!("GET {url}…"), None);
    };
    match &probe.outcome {
        Ok((status, millis)) => Evaluation::new(
            if *status == expect {
                Verdict::Pass
            } else {
                Verdict::Fail
            },
            if *status == expect {
                format!("GET {url} → {status} ({millis} ms)")
            } else {
                format!("GET {url} → {status}, expected {expect} ({millis} ms)")
            },
            Some(probe.at),
        ),
        Err(why) => Evaluation::new(
            Verdict::Fail,
            format!("GET {url} failed: {why}"),
            Some(probe.at),
        ),
    }
}

/// The environment's change window is open now.
pub fn change_window(policy: &Policy, now: Timestamp) -> Evaluation {
    let windows = policy
        .change_windows
        .iter()
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join("; ");
    match policy.window_open(now) {
        None => Evaluation::new(
            Verdict::Pass,
            format!(
                "deploy mode {}: no change window to wait for",
                policy.deploy_mode
            ),
            Some(now),
        ),
        Some(true) => Evaluation::new(Verdict::Pass, format!("open now: {windows}"), Some(now)),
        Some(false) => {
            let next = policy
                .next_window(now)
                .map(|t| {
                    format!(
                        "; next opens {} UTC (in {})",
                        t.strftime("%a %H:%M"),
                        duration(t.duration_since(now).as_secs())
                    )
                })
                .unwrap_or_default();
            Evaluation::new(
                Verdict::Fail,
                format!("closed now ({windows}){next}"),
                Some(now),
            )
        }
    }
}

/// No other service of the environment is mid-rollout. `rolling` names the services
/// rolling now, with what they are doing; `None` while the workloads are being listed.
pub fn no_other_rollout(
    release: &Release,
    rolling: Option<&[(String, String)]>,
    now: Timestamp,
) -> Evaluation {
    let Some(rolling) = rolling else {
        return Evaluation::new(Verdict::Pending, "reading workloads…", None);
    };
    let others: Vec<String> = rolling
        .iter()
        .filter(|(service, _)| *service != release.service)
        .map(|(service, what)| format!("{service} {what}"))
        .collect();
    if others.is_empty() {
        Evaluation::new(Verdict::Pass, "no other service is rolling out", Some(now))
    } else {
        Evaluation::new(Verdict::Fail, others.join(" · "), Some(now))
    }
}

/// Job `name` has completed. `found` is None while the Jobs are being listed.
pub fn job_complete(
    name: &str,
    found: Option<Option<crate::domain::job::JobRow>>,
    now: Timestamp,
) -> Evaluation {
    match found {
        None => Evaluation::new(Verdict::Pending, "reading jobs…", None),
        Some(None) => Evaluation::new(Verdict::Fail, format!("job/{name} has not run"), Some(now)),
        Some(Some(j)) if j.complete => Evaluation::new(
            Verdict::Pass,
            format!("job/{name} complete ({} succeeded)", j.succeeded),
            Some(now),
        ),
        Some(Some(j)) => match &j.failed {
            Some(why) => Evaluation::new(
                Verdict::Fail,
                format!("job/{name} failed: {why}"),
                Some(now),
            ),
            None => Evaluation::new(
                Verdict::Pending,
                format!("job/{name} running ({} active)", j.active),
                Some(now),
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cnpg::BackupPhase;
    use crate::domain::vulnerability::{Finding, Summary};

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn backup(name: &str, phase: &str, stopped: &str, error: Option<&str>) -> BackupRow {
        BackupRow {
            namespace: "dictamesh-infra".into(),
            name: name.into(),
            cluster: "metadata-catalog-db".into(),
            phase: BackupPhase::parse(Some(phase)),
            error: error.map(str::to_owned),
            created: Some(ts(stopped)),
            started: Some(ts(stopped)),
            stopped: Some(ts(stopped)),
            method: "barmanObjectStore".into(),
        }
    }

    #[test]
    fn backups_pass_when_fresh_and_say_what_failed() {
        let target = BackupTarget {
            namespace: "dictamesh-infra".into(),
            cluster: "metadata-catalog-db".into(),
        };
        let now = ts("2026-12-04T12:00:00Z");
        let day = Some(SignedDuration::from_hours(24));
        let fresh = [
            backup("b1", "completed", "2026-12-04T09:00:00Z", None),
            backup("b0", "completed", "2026-12-02T09:00:00Z", None),
        ];
        let e = backup_fresh(Some(&target), day, Some(&fresh), now);
        assert_eq!(e.verdict, Verdict::Pass);
        assert_eq!(e.evidence, "b1 completed 3h0m ago (limit 24h)");

        let stale = [
            backup("b0", "completed", "2026-12-03T09:00:00Z", None),
            backup(
                "b1",
                "failed",
                "2026-12-04T09:00:00Z",
                Some("object store down"),
            ),
        ];
        let e = backup_fresh(Some(&target), day, Some(&stale), now);
        assert_eq!(e.verdict, Verdict::Fail);
        assert_eq!(
            e.evidence,
            "b0 completed 27h ago (limit 24h) · then b1 failed: object store down"
        );
        let e = backup_fresh(Some(&target), day, Some(&stale[1..]), now);
        assert_eq!(
            e.evidence,
            "no completed backup of dictamesh-infra/metadata-catalog-db; newest b1 failed: object store down"
        );
        assert_eq!(
            backup_fresh(Some(&target), day, None, now).verdict,
            Verdict::Pending
        );
        assert_eq!(
            backup_fresh(None, day, Some(&fresh), now).verdict,
            Verdict::CannotTell
        );
    }

    fn report(tag: &str, critical: u32) -> VulnerabilityReportRow {
        VulnerabilityReportRow {
            namespace: "dictamesh-staging".into(),
            name: format!("replicaset-customer-adapter-{tag}-customer-adapter"),
            repository: "controle-digital/customer-adapter".into(),
            tag: tag.into(),
            registry: "ghcr.io".into(),
            workload_kind: "ReplicaSet".into(),
            workload_name: "customer-adapter-abc".into(),
            container: "customer-adapter".into(),
            updated: None,
            summary: Summary {
                critical,
                high: 1,
                ..Summary::default()
            },
            findings: (0..critical)
                .map(|_| Finding {
                    id: "CVE-2024-45337".into(),
                    severity: Severity::Critical,
                    package: "golang.org/x/crypto".into(),
                    installed: "v0.30.0".into(),
                    fixed: "0.31.0".into(),
                    title: String::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_critical_finding_fails_the_scan_with_its_cve() {
        let release = Release::new("customer-adapter", "v1.2.0");
        let repo = Some("ghcr.io/controle-digital/customer-adapter");
        let reports = [report("v1.1.4", 0), report("v1.2.0", 1)];
        let e = vulnerabilities(&release, repo, "CRITICAL", Some(&reports));
        assert_eq!(e.verdict, Verdict::Fail);
        assert_eq!(
            e.evidence,
            "customer-adapter:v1.2.0: 1 at CRITICAL or worse: CVE-2024-45337 in golang.org/x/crypto v0.30.0 (fixed in 0.31.0) · 1 critical, 1 high, 0 medium, 0 low · scanned in dictamesh-staging"
        );
        let older = Release::new("customer-adapter", "v1.1.4");
        assert_eq!(
            vulnerabilities(&older, repo, "CRITICAL", Some(&reports)).verdict,
            Verdict::Pass
        );
        assert_eq!(
            vulnerabilities(&older, repo, "HIGH", Some(&reports)).verdict,
            Verdict::Fail
        );
        let unscanned = Release::new("customer-adapter", "v9");
        let e = vulnerabilities(&unscanned, repo, "CRITICAL", Some(&reports));
        assert_eq!(
            (e.verdict, e.evidence.as_str()),
            (
                Verdict::Fail,
                "no Trivy report for customer-adapter:v9 yet: not scanned"
            )
        );
    }

    #[test]
    fn a_closed_window_says_when_it_opens() {
        let windows = crate::config::parse_environments(
            std::path::Path::new("e.yaml"),
            "environments:\n  - name: prod\n    namespace: p\n    policy:\n      change_windows:\n        - days: [tue, wed, thu]\n          start: \"10:00\"\n          end: \"16:00\"\n",
        )
        .unwrap();
        let policy = &windows[0].policy;
        // Friday 2026-12-04 12:00 UTC: closed until Tuesday 10:00.
        let e = change_window(policy, ts("2026-12-04T12:00:00Z"));
        assert_eq!(e.verdict, Verdict::Fail);
        assert_eq!(
            e.evidence,
            "closed now (Tue Wed Thu 10:00-16:00 UTC); next opens Tue 10:00 UTC (in 3d)"
        );
        let e = change_window(policy, ts("2026-12-08T11:00:00Z"));
        assert_eq!(e.verdict, Verdict::Pass);
    }

    #[test]
    fn probes_and_rollouts() {
        let at = ts("2026-12-04T12:00:00Z");
        let url = "http://127.0.0.1:9/api/health";
        let probe = |outcome| HttpProbe {
            url: url.into(),
            at,
            outcome,
        };
        assert_eq!(
            http(Some(url), 200, Some(&probe(Ok((200, 12))))).verdict,
            Verdict::Pass
        );
        let e = http(Some(url), 200, Some(&probe(Ok((503, 3)))));
        assert_eq!(e.evidence, format!("GET {url} → 503, expected 200 (3 ms)"));
        assert_eq!(http(None, 200, None).verdict, Verdict::CannotTell);
        assert_eq!(http(Some(url), 200, None).verdict, Verdict::Pending);

        let release = Release::new("customer-adapter", "v1.2.0");
        let rolling = [("customer-adapter".to_owned(), "rolling 1/3".to_owned())];
        assert_eq!(
            no_other_rollout(&release, Some(&rolling), at).verdict,
            Verdict::Pass
        );
        let rolling = [("graphql-gateway".to_owned(), "rolling 2/3".to_owned())];
        let e = no_other_rollout(&release, Some(&rolling), at);
        assert_eq!(
            (e.verdict, e.evidence.as_str()),
            (Verdict::Fail, "graphql-gateway rolling 2/3")
        );
    }
}
