//! The fuzz targets on stable, in bounded time: every file of fuzz/corpus/<target> and a
//! fixed set of mutations of each go through the same bodies `cargo fuzz` runs
//! (fuzz/src/lib.rs, included here), with no panic; the seeds taken from config/ and
//! shared/fixtures/real must also read as what they are.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

#[allow(dead_code)]
#[path = "../../fuzz/src/lib.rs"]
mod bodies;

/// Mutations per seed: enough to leave the happy path in every decoder, few enough
/// for the whole replay to take seconds.
const MUTANTS: usize = 48;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} has no seeds", dir.display());
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

/// Truncations, flipped and inserted bytes, cut and repeated ranges, splices with
/// another seed: what libFuzzer tries first, from a fixed seed so a failure repeats.
fn mutants(seed: &[u8], other: &[u8], rng: &mut fastrand::Rng) -> Vec<Vec<u8>> {
    let mut out = Vec::with_capacity(MUTANTS);
    for i in 0..MUTANTS {
        let mut m = seed.to_vec();
        let at = |rng: &mut fastrand::Rng, len: usize| rng.usize(0..=len);
        match i % 6 {
            0 => m.truncate(at(rng, seed.len())),
            1 if !m.is_empty() => {
                let p = rng.usize(0..m.len());
                m[p] ^= 1 << rng.u8(0..8);
            }
            2 => {
                let p = at(rng, m.len());
                let byte = *rng
                    .choice(b"{}[]:,\"'\\-#&*!|>%@` \n\t0\xff".iter())
                    .unwrap();
                m.insert(p, byte);
            }
            3 => {
                let (a, b) = (at(rng, m.len()), at(rng, m.len()));
                m.drain(a.min(b)..a.max(b));
            }
            4 => {
                let (a, b) = (at(rng, m.len()), at(rng, m.len()));
                let slice = m[a.min(b)..a.max(b)].to_vec();
                let p = at(rng, m.len());
                m.splice(p..p, slice.iter().cycle().take(slice.len() * 3).copied());
            }
            _ => {
                let cut = at(rng, m.len());
                m.truncate(cut);
                m.extend_from_slice(&other[at(rng, other.len())..]);
            }
        }
        out.push(m);
    }
    out
}

/// Feeds every seed and its mutants to `body`; returns each seed's result.
fn replay<T>(target: &str, body: fn(&[u8]) -> T) -> Vec<(String, T)> {
    let seeds = corpus(target);
    let mut rng = fastrand::Rng::with_seed(15);
    let mut results = Vec::new();
    for (i, (name, data)) in seeds.iter().enumerate() {
        let other = &seeds[(i + 1) % seeds.len()].1;
        for (n, input) in mutants(data, other, &mut rng).iter().enumerate() {
            if catch_unwind(AssertUnwindSafe(|| body(input))).is_err() {
                panic!("{target}: mutant {n} of {name} panicked; input: {input:?}");
            }
        }
        results.push((name.clone(), body(data)));
    }
    results
}

#[test]
fn config_loaders_read_their_own_files() {
    let results = replay("config_yaml", bodies::config_yaml);
    let expect = |file: &str, kind: &str| {
        let (_, accepted) = results
            .iter()
            .find(|(name, _)| name == file)
            .unwrap_or_else(|| panic!("{file} is in the corpus"));
        assert!(accepted.contains(&kind), "{file}: {accepted:?}");
    };
    expect("config--environments.yaml", "environments");
    expect("config--checklists.yaml", "checklists");
    expect("config--runbooks--production.yaml", "runbook");
    expect("config--keys.yaml", "keys");
    for (name, accepted) in &results {
        if name.starts_with("config--drills--") {
            assert!(accepted.contains(&"drill"), "{name}: {accepted:?}");
        }
    }
    expect("argocd-cli-config.yaml", "argocd-cli-config");
    expect("kustomization.yaml", "kustomization");
    for (name, accepted) in &results {
        if name.starts_with("themes--") {
            assert!(accepted.contains(&"theme"), "{name}: {accepted:?}");
        }
    }
}

#[test]
fn kubeconfigs_pick_their_context_and_user() {
    let results = replay("kubeconfig", bodies::kubeconfig);
    let picked = |file: &str| results.iter().find(|(n, _)| n == file).unwrap().1.clone();
    assert_eq!(
        picked("sim.yaml"),
        Some(("rollcall-sim".to_owned(), "rollcall-sim-admin".to_owned()))
    );
    assert_eq!(
        picked("exec-multidoc.yaml"),
        Some(("prod".to_owned(), "aws".to_owned()))
    );
}

#[test]
fn durations_windows_and_timestamps_parse() {
    for (name, accepted) in replay("time", bodies::time) {
        let want: &[&str] = match name.split('-').next().unwrap() {
            "window" => &["duration", "window"],
            "offset" => &["offset"],
            "duration" => &["duration", "offset"],
            "timestamp" => &["timestamp"],
            _ => &[],
        };
        for w in want {
            assert!(accepted.contains(w), "{name}: {accepted:?}");
        }
    }
}

#[test]
fn migrations_lint_statement_by_statement() {
    for (name, statements) in replay("sqllint", bodies::sqllint) {
        assert!(statements >= 1, "{name}: no statements");
    }
}

/// The kinds rollcall watches, as the fixtures name them.
const WATCHED: &[&str] = &[
    "Pod",
    "Deployment",
    "ReplicaSet",
    "Rollout",
    "Event",
    "Service",
    "Job",
    "Backup",
    "Cluster",
    "VulnerabilityReport",
    "ConfigMap",
    "AnalysisRun",
    "Experiment",
];

#[test]
fn every_watched_kind_decodes_with_its_name() {
    let seeds = corpus("wire_kube");
    let mut seen = std::collections::BTreeSet::new();
    for (name, named) in replay("wire_kube", bodies::wire_kube) {
        let data = &seeds.iter().find(|(n, _)| *n == name).unwrap().1;
        let object: serde_json::Value = serde_json::from_slice(data).unwrap();
        let kind = object["kind"].as_str().unwrap_or_default();
        let Some(kind) = WATCHED.iter().find(|k| **k == kind) else {
            continue;
        };
        let object_name = object["metadata"]["name"].as_str().unwrap().to_owned();
        assert!(
            named.contains(&(*kind, object_name.clone())),
            "{name}: {kind} {object_name} not in {named:?}"
        );
        seen.insert(*kind);
    }
    assert_eq!(
        seen.len(),
        WATCHED.len(),
        "a seed for every watched kind: {seen:?}"
    );
}

#[test]
fn argocd_and_prometheus_answers_decode() {
    for (name, accepted) in replay("wire_http", bodies::wire_http) {
        let want = if name.starts_with("stream--") {
            "stream event"
        } else if name.starts_with("argo-cd--") {
            "Application"
        } else if name.starts_with("manifests") {
            "manifests"
        } else if name == "prometheus-matrix.json" {
            "prometheus"
        } else {
            continue;
        };
        assert!(accepted.contains(&want), "{name}: {accepted:?}");
    }
}

#[test]
fn kafka_tool_output_datetimes_and_topics_read_as_what_they_are() {
    for (name, accepted) in replay("kafka", bodies::kafka) {
        let want: &[&str] = match name.split('-').next().unwrap() {
            "offsets" => &["offsets"],
            "state" => &["state"],
            "members" => &["members"],
            "reset" => &["reset"],
            "list" => &["list"],
            "error" => &["error"],
            "datetime" => &["datetime"],
            "topic" => &["topic"],
            "backup" => &["backup"],
            other => panic!("{name}: a kafka seed named for what it is, not {other}"),
        };
        for w in want {
            assert!(accepted.contains(w), "{name}: {accepted:?}");
        }
    }
}
