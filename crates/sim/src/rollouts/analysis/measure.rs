//! One measurement of one metric: the run's `{{args.NAME}}` put into the provider's
//! query, the query answered by the simulator's Prometheus (the query API's own code over
//! its history), the result written as Argo's Prometheus provider writes it (`[0.998]`),
//! and judged by the metric's conditions (Argo's `EvaluateResult`).

use std::collections::HashMap;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::condition::{self, Value as Answer};
use crate::clock::fmt_time;
use crate::metrics::History;
use crate::metrics::http::{instant, value_string};

type Result<T> = std::result::Result<T, String>;

/// The run's resolved arguments (`spec.args[].value`).
pub fn args(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| {
                    Some((
                        x["name"].as_str()?.to_owned(),
                        x["value"].as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `{{args.NAME}}` (spaces allowed inside the braces) replaced by its value.
pub fn substitute(text: &str, args: &[(String, String)]) -> Result<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let close = after
            .find("}}")
            .ok_or_else(|| format!("failed to resolve {{{{{after}"))?;
        let key = after[..close].trim();
        let value = key
            .strip_prefix("args.")
            .and_then(|n| args.iter().find(|(k, _)| k == n))
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| format!("failed to resolve {{{{{key}}}}}"))?;
        out.push_str(value);
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Takes one measurement now: `{phase, value?, message?, startedAt, finishedAt}`.
pub fn take(
    history: Option<&History>,
    metric: &Value,
    args: &[(String, String)],
    now: Timestamp,
) -> Value {
    let at = fmt_time(now);
    let mut m = json!({"startedAt": at, "finishedAt": at});
    match query(history, metric, args, now) {
        Err(message) => {
            m["phase"] = json!("Error");
            m["message"] = json!(message);
        }
        Ok(values) => {
            let text = format!(
                "[{}]",
                values
                    .iter()
                    .map(|v| value_string(*v))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            match judge(metric, &Answer::List(values)) {
                Ok(phase) => {
                    m["phase"] = json!(phase);
                    m["value"] = json!(text);
                }
                Err(message) => {
                    m["phase"] = json!("Error");
                    m["message"] = json!(message);
                }
            }
        }
    }
    m
}

/// Asks the simulator's Prometheus; the values of the vector it answers.
fn query(
    history: Option<&History>,
    metric: &Value,
    args: &[(String, String)],
    now: Timestamp,
) -> Result<Vec<f64>> {
    let Some(prom) = metric.pointer("/provider/prometheus") else {
        let name = metric["name"].as_str().unwrap_or("");
        return Err(format!(
            "the simulator measures Prometheus metrics only; metric '{name}' has another provider"
        ));
    };
    let history = history.ok_or("Prometheus is not running")?;
    let q = substitute(prom["query"].as_str().unwrap_or(""), args)?;
    let params = HashMap::from([("query".to_owned(), q)]);
    let data = instant(history, &params, now.as_millisecond())
        .map_err(|e| format!("bad_data: {}", e.0))?;
    let values = data["result"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|s| s.pointer("/value/1").and_then(Value::as_str))
                .filter_map(parse_value)
                .collect()
        })
        .unwrap_or_default();
    Ok(values)
}

fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

/// Argo's `EvaluateResult`: the measurement's phase, or the error to report.
pub fn judge(metric: &Value, result: &Answer) -> Result<&'static str> {
    let success = metric["successCondition"].as_str().unwrap_or("");
    let failure = metric["failureCondition"].as_str().unwrap_or("");
    let eval = |kind: &str, expr: &str| {
        condition::eval(expr, result).map_err(|e| {
            let empty = matches!(result, Answer::List(xs) if xs.is_empty());
            if empty {
                format!(
                    "could not evaluate {kind} \"{expr}\": metric result is nil or empty: no data returned from the metric provider"
                )
            } else {
                format!("could not evaluate {kind} \"{expr}\": {e}")
            }
        })
    };
    let mut ok = !success.is_empty() && eval("successCondition", success)?;
    let mut failed = !failure.is_empty() && eval("failureCondition", failure)?;
    match (success.is_empty(), failure.is_empty()) {
        (true, true) => return Ok("Successful"),
        (false, true) => failed = !ok,
        (true, false) => ok = !failed,
        (false, false) => {}
    }
    Ok(if failed {
        "Failed"
    } else if !ok {
        "Inconclusive"
    } else {
        "Successful"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_are_put_into_the_query() {
        let args = vec![("service-name".to_owned(), "customer-adapter".to_owned())];
        assert_eq!(
            substitute(
                "svc=\"{{args.service-name}}\" {{ args.service-name }}",
                &args
            ),
            Ok("svc=\"customer-adapter\" customer-adapter".into())
        );
        assert!(substitute("{{args.missing}}", &args).is_err());
        assert!(substitute("{{args.service-name", &args).is_err());
    }

    #[test]
    fn conditions_judge_like_argo() {
        let m = |s: &str, f: &str| json!({"successCondition": s, "failureCondition": f});
        let v = Answer::List(vec![0.97]);
        assert_eq!(judge(&m("", ""), &v), Ok("Successful"));
        assert_eq!(judge(&m("result[0] >= 0.95", ""), &v), Ok("Successful"));
        assert_eq!(judge(&m("result[0] >= 0.99", ""), &v), Ok("Failed"));
        assert_eq!(judge(&m("", "result[0] < 0.99"), &v), Ok("Failed"));
        // Neither holds: inconclusive.
        assert_eq!(
            judge(&m("result[0] >= 0.99", "result[0] < 0.9"), &v),
            Ok("Inconclusive")
        );
        let e = judge(&m("result[0] >= 0.95", ""), &Answer::List(vec![])).unwrap_err();
        assert!(e.contains("no data returned"), "{e}");
    }
}
