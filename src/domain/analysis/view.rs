//! The canary pane's view of a Rollout's analysis: its runs for the current version (the
//! step's and the background one, newest first), each metric's measurements against its
//! limits, the failing metric with its message, and — when the Rollout aborted because
//! of a run — that reason in words. Pure: derived from rows, tested on real objects.

use super::{AnalysisRunRow, ExperimentRow, MetricRow, RunPhase};
use crate::domain::RolloutRow;

/// Runs shown per Rollout (the step's, the background one, one before).
const SHOWN: usize = 3;
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    /// Created by the canary step with this index (0-based, as the label has it).
    Step(u32),
    Background,
    Other,
}

impl RunKind {
    pub fn label(self) -> String {
        match self {
            RunKind::Step(i) => format!("step {}", i + 1),
            RunKind::Background => "background".into(),
            RunKind::Other => "analysis".into(),
        }
    }
}

/// One metric's line.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricView {
    pub name: String,
    pub phase: RunPhase,
    /// The last measurements' phases, oldest first.
    pub marks: Vec<RunPhase>,
    /// Their values as bars (empty without numbers).
    pub spark: String,
    /// The last measured value as written (`0.998`).
    pub last: Option<String>,
    pub successful: u32,
    pub failed: u32,
    pub inconclusive: u32,
    pub error: u32,
    pub count: u32,
    pub count_limit: Option<u32>,
    pub failure_limit: i64,
    pub inconclusive_limit: i64,
    pub condition: Option<String>,
    /// The metric's or its last measurement's message (an error, a provider's reason).
    pub message: Option<String>,
}

impl MetricView {
    /// Over its failure limit, or erring: what fails the run.
    pub fn failing(&self) -> bool {
        self.phase.bad()
    }
}

/// One run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunView {
    pub name: String,
    pub kind: RunKind,
    pub phase: RunPhase,
    pub message: Option<String>,
    pub terminated: bool,
    pub metrics: Vec<MetricView>,
}

/// What went wrong, for the pane's prominent line.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The run (empty when only the Rollout's condition told).
    pub run: String,
    pub kind: RunKind,
    pub metric: String,
    pub phase: RunPhase,
    /// Why, in Argo's words (`failed (3) > failureLimit (2)`).
    pub reason: String,
}

/// The analysis of one Rollout.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AnalysisView {
    pub runs: Vec<RunView>,
    /// The current experiment: (name, phase, "baseline 1/1 · canary 1/1").
    pub experiment: Option<(String, RunPhase, String)>,
    pub failing: Option<Failure>,
    /// The Rollout aborted because of its analysis (not by hand).
    pub aborted_by_analysis: bool,
}

impl AnalysisView {
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty() && self.experiment.is_none()
    }
}

fn owned_by(owner: &Option<(String, String)>, rollout: &str) -> bool {
    owner
        .as_ref()
        .is_some_and(|(k, n)| k == "Rollout" && n == rollout)
}

/// The view of `ro`'s analysis from the environment's runs and experiments.
pub fn analysis_view(
    ro: &RolloutRow,
    runs: &[&AnalysisRunRow],
    experiments: &[&ExperimentRow],
) -> AnalysisView {
    let hash = ro.current_pod_hash.as_deref();
    let mut mine: Vec<&&AnalysisRunRow> = runs
        .iter()
        .filter(|r| owned_by(&r.owner, &ro.name))
        .filter(|r| hash.is_none() || r.pod_hash.as_deref() == hash)
        .collect();
    // Newest first; a running one before a finished one of the same age.
    mine.sort_by(|a, b| {
        b.created
            .cmp(&a.created)
            .then(a.phase.completed().cmp(&b.phase.completed()))
            .then(b.name.cmp(&a.name))
    });
    let runs: Vec<RunView> = mine.iter().take(SHOWN).map(|r| run_view(r)).collect();
    let failing = runs.iter().find(|r| r.phase.bad()).map(|r| {
        let m = r.metrics.iter().find(|m| m.failing());
        let told = r.message.as_deref().and_then(assessment);
        Failure {
            run: r.name.clone(),
            kind: r.kind,
            metric: told
                .as_ref()
                .map(|t| t.0.clone())
                .or_else(|| m.map(|m| m.name.clone()))
                .unwrap_or_default(),
            phase: r.phase,
            reason: told
                .map(|t| t.2)
                .or_else(|| r.message.clone())
                .or_else(|| m.and_then(|m| m.message.clone()))
                .unwrap_or_else(|| format!("analysis {}", r.phase.label())),
        }
    });
    let experiment = experiments
        .iter()
        .filter(|x| owned_by(&x.owner, &ro.name))
        .filter(|x| hash.is_none() || x.pod_hash.as_deref() == hash)
        .max_by(|a, b| a.created.cmp(&b.created).then(a.name.cmp(&b.name)))
        .map(|x| {
            let pods = x
                .templates
                .iter()
                .map(|(n, _, ready, replicas)| format!("{n} {ready}/{replicas}"))
                .collect::<Vec<_>>()
                .join(" · ");
            (x.name.clone(), x.phase, pods)
        });
    let (aborted_by_analysis, told) = aborted_by(ro);
    AnalysisView {
        runs,
        experiment,
        failing: failing.or(told),
        aborted_by_analysis,
    }
}

/// Whether the Rollout's abort came from its analysis: the `RolloutAborted` condition
/// carries Argo's `AddAbort` message ("Step-based analysis phase error/failed: …",
/// "Background analysis …", "Experiment analysis phase is error/failed: …"), and what it
/// says failed, for when the run itself is not (yet) seen.
fn aborted_by(ro: &RolloutRow) -> (bool, Option<Failure>) {
    if !ro.abort {
        return (false, None);
    }
    let condition = ro
        .conditions
        .iter()
        .find(|(_, _, reason, _)| reason == "RolloutAborted")
        .map_or("", |(_, _, _, m)| m.as_str());
    let Some(at) = condition.find("analysis phase") else {
        return (false, None);
    };
    let kind = if condition[..at].ends_with("Background ") {
        RunKind::Background
    } else {
        RunKind::Other
    };
    let told = condition[at..]
        .split_once(": ")
        .and_then(|(_, rest)| assessment(rest))
        .map(|(metric, phase, reason)| Failure {
            run: String::new(),
            kind,
            metric,
            phase,
            reason,
        });
    (true, told)
}

/// Argo's run message `Metric "NAME" assessed PHASE due to REASON`, taken apart.
pub fn assessment(message: &str) -> Option<(String, RunPhase, String)> {
    let rest = message.strip_prefix("Metric \"")?;
    let (metric, rest) = rest.split_once("\" assessed ")?;
    let (phase, reason) = rest.split_once(" due to ")?;
    Some((metric.to_owned(), RunPhase::parse(phase), reason.to_owned()))
}

fn run_view(r: &AnalysisRunRow) -> RunView {
    let kind = match (r.rollout_type.as_deref(), r.step_index) {
        (Some("Step"), Some(i)) => RunKind::Step(i),
        (Some("Background"), _) => RunKind::Background,
        (_, Some(i)) => RunKind::Step(i),
        _ => RunKind::Other,
    };
    RunView {
        name: r.name.clone(),
        kind,
        phase: r.phase,
        message: r.message.clone(),
        terminated: r.terminated,
        metrics: r.metrics.iter().map(metric_view).collect(),
    }
}

fn metric_view(m: &MetricRow) -> MetricView {
    let last = m.measurements.last();
    let values: Vec<Option<f64>> = m.measurements.iter().map(|x| x.number()).collect();
    MetricView {
        name: m.name.clone(),
        phase: m.phase,
        marks: m.measurements.iter().map(|x| x.phase).collect(),
        spark: spark(&values),
        last: m
            .measurements
            .iter()
            .rev()
            .find_map(|x| x.number())
            .map(short),
        successful: m.successful,
        failed: m.failed,
        inconclusive: m.inconclusive,
        error: m.error,
        count: m.count,
        count_limit: m.count_limit,
        failure_limit: m.failure_limit,
        inconclusive_limit: m.inconclusive_limit,
        condition: m
            .success_condition
            .clone()
            .or_else(|| m.failure_condition.as_ref().map(|f| format!("fail if {f}"))),
        message: m
            .message
            .clone()
            .or_else(|| last.and_then(|x| x.message.clone())),
    }
}

/// A value in at most four significant digits (`0.9983`, `97.2`).
fn short(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.len() > 6 {
        format!("{v:.1}")
    } else {
        s.to_owned()
    }
}

/// Bars from zero (or the lowest value, when below zero) to the highest; a gap where a
/// measurement had no number.
fn spark(values: &[Option<f64>]) -> String {
    let nums: Vec<f64> = values.iter().flatten().copied().collect();
    if nums.is_empty() {
        return String::new();
    }
    let lo = nums.iter().copied().fold(0.0, f64::min);
    let hi = nums.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    values
        .iter()
        .map(|v| match v {
            None => ' ',
            Some(_) if hi - lo < 1e-9 => BARS[7],
            Some(x) => BARS[(((x - lo) / (hi - lo)) * 7.0).round().clamp(0.0, 7.0) as usize],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_and_short_values() {
        assert_eq!(spark(&[Some(0.99), Some(0.99), Some(0.7)]), "██▆");
        assert_eq!(spark(&[Some(1.0), Some(0.0)]), "█▁");
        assert_eq!(spark(&[Some(1.0), None, Some(1.0)]), "█ █");
        assert_eq!(spark(&[]), "");
        assert_eq!(short(0.99812345), "0.9981");
        assert_eq!(short(97.0), "97");
        assert_eq!(short(123456.789), "123456.8");
    }

    #[test]
    fn argos_run_message_taken_apart() {
        let m = "Metric \"success-rate\" assessed Failed due to failed (3) > failureLimit (2)";
        assert_eq!(
            assessment(m),
            Some((
                "success-rate".into(),
                RunPhase::Failed,
                "failed (3) > failureLimit (2)".into()
            ))
        );
        assert_eq!(assessment("Run Terminated"), None);
    }
}
