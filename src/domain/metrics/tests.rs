//! Answers shaped as Prometheus's HTTP API documents them (prometheus.io/docs/prometheus/
//! latest/querying/api: the instant and range examples, the scalar form, the error
//! envelope), odd ones, and the before/after comparison.

use super::*;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[test]
fn an_instant_vector_as_the_docs_show_it() {
    let body = br#"{
       "status" : "success",
       "data" : {
          "resultType" : "vector",
          "result" : [
             {"metric" : {"__name__" : "up", "job" : "prometheus", "instance" : "localhost:9090"},
              "value": [ 1435781451.781, "1" ]},
             {"metric" : {"__name__" : "up", "job" : "node", "instance" : "localhost:9100"},
              "value" : [ 1435781451.781, "0" ]}
          ]
       }
    }"#;
    let r = decode(body).unwrap();
    assert_eq!(r.result_type, ResultType::Vector);
    assert_eq!(r.series.len(), 2);
    assert_eq!(r.series[0].labels["job"], "prometheus");
    assert_eq!(
        r.series[0].series.points,
        vec![(Timestamp::from_millisecond(1_435_781_451_781).unwrap(), 1.0)]
    );
    assert_eq!(r.series[1].series.points[0].1, 0.0);
}

#[test]
fn a_range_matrix_as_the_docs_show_it() {
    let body = br#"{
       "status" : "success",
       "data" : {
          "resultType" : "matrix",
          "result" : [
             {"metric" : {"__name__" : "up", "job" : "prometheus", "instance" : "localhost:9090"},
              "values" : [[ 1435781430.781, "1" ], [ 1435781445.781, "1" ], [ 1435781460.781, "1" ]]},
             {"metric" : {"__name__" : "up", "job" : "node", "instance" : "localhost:9091"},
              "values" : [[ 1435781430.781, "0" ], [ 1435781445.781, "0" ], [ 1435781460.781, "1" ]]}
          ]
       },
       "warnings": ["something odd"], "infos": ["ignored"], "stats": {"timings": {}}
    }"#;
    let r = decode(body).unwrap();
    assert_eq!(r.result_type, ResultType::Matrix);
    assert_eq!(r.warnings, vec!["something odd".to_owned()]);
    let node = &r.series[1].series.points;
    assert_eq!(node.len(), 3);
    assert_eq!(node[2], (ts("2015-07-01T20:11:00.781Z"), 1.0));
}

#[test]
fn special_values_scalars_and_strings() {
    let body = br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},
        "values":[[1700000000,"NaN"],[1700000015,"+Inf"],[1700000030,"-Inf"],[1700000045,"0.0021"],
                  [1700000060,"1e-3"],["1700000075","2"]]}]}}"#;
    let r = decode(body).unwrap();
    let v: Vec<f64> = r.series[0].series.points.iter().map(|p| p.1).collect();
    assert!(v[0].is_nan());
    assert_eq!(
        v[1..],
        [f64::INFINITY, f64::NEG_INFINITY, 0.0021, 0.001, 2.0]
    );
    assert!(r.series[0].labels.is_empty());

    let scalar = decode(
        br#"{"status":"success","data":{"resultType":"scalar","result":[1435781451.781,"42"]}}"#,
    )
    .unwrap();
    assert_eq!(scalar.result_type, ResultType::Scalar);
    assert_eq!(scalar.series[0].series.points[0].1, 42.0);
    let string =
        decode(br#"{"status":"success","data":{"resultType":"string","result":[1,"hi"]}}"#)
            .unwrap();
    assert_eq!(string.result_type, ResultType::String);
    assert!(string.series.is_empty());
}

#[test]
fn errors_are_typed() {
    let body = br#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:1: parse error: no expression found in input"}"#;
    assert_eq!(
        decode(body),
        Err(DecodeError::Api {
            error_type: "bad_data".into(),
            error: "invalid parameter \"query\": 1:1: parse error: no expression found in input"
                .into()
        })
    );
    let timeout = decode(br#"{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation","data":null}"#);
    assert!(matches!(timeout, Err(DecodeError::Api { error_type, .. }) if error_type == "timeout"));
    for odd in [
        &b"<html>502 Bad Gateway</html>"[..],
        b"",
        b"null",
        b"[]",
        b"{}",
        br#"{"status":"success","data":{"resultType":"histogram","result":[]}}"#,
        br#"{"status":"success","data":"x"}"#,
    ] {
        assert!(
            matches!(decode(odd), Err(DecodeError::Malformed(_))),
            "{odd:?}"
        );
    }
}

#[test]
fn odd_samples_are_skipped_not_fatal() {
    let body = br#"{"status":"success","data":{"resultType":"matrix","result":[
        {"metric":{"a":"b","n":3},"values":[[1700000015,"2"],[1e300,"1"],[1700000000,"1"],"x",[1],[null,"1"],[1700000030,"abc"],[1700000045,{}]]},
        {"metric":null,"values":null},
        "garbage",
        {"metric":{},"histogram":[1700000000,{"count":"3"}]}]}}"#;
    let r = decode(body).unwrap();
    assert_eq!(r.series.len(), 4);
    // Sorted by time, the unreadable ones dropped; non-string labels dropped.
    let p = &r.series[0].series.points;
    assert_eq!(p.len(), 2);
    assert!(p[0].0 < p[1].0);
    assert_eq!(r.series[0].labels.len(), 1);
    assert!(r.series[1..].iter().all(|s| s.series.points.is_empty()));
}

/// Points every minute from an hour before `t0` to half an hour after, the value
/// before and after as given.
fn around(t0: Timestamp, before: f64, after: f64) -> Series {
    Series {
        points: (-60..=30)
            .map(|m| {
                let t = t0 + SignedDuration::from_mins(m);
                (t, if m < 0 { before } else { after })
            })
            .collect(),
    }
}

#[test]
fn comparisons_with_a_factor_and_a_floor() {
    let t0 = ts("2026-01-01T12:00:00Z");
    let w = Window::default();
    let fine = compare(&around(t0, 0.001, 0.002), t0, w, Threshold::ERROR_RATIO);
    assert_eq!(
        fine.verdict,
        Verdict::Fine,
        "doubling a tiny ratio is noise"
    );
    assert_eq!((fine.baseline, fine.current), (Some(0.001), Some(0.002)));
    let worse = compare(&around(t0, 0.002, 0.08), t0, w, Threshold::ERROR_RATIO);
    assert_eq!(worse.verdict, Verdict::Worse);
    let p99 = compare(&around(t0, 0.25, 0.30), t0, w, Threshold::LATENCY);
    assert_eq!(p99.verdict, Verdict::Fine, "20 % slower is within 1.5x");
    let p99 = compare(&around(t0, 0.25, 0.60), t0, w, Threshold::LATENCY);
    assert_eq!(p99.verdict, Verdict::Worse);
    let restarts = compare(&around(t0, 0.0, 4.0), t0, w, Threshold::RESTARTS);
    assert_eq!(restarts.verdict, Verdict::Worse);
    let better = compare(&around(t0, 0.05, 0.002), t0, w, Threshold::ERROR_RATIO);
    assert_eq!(better.verdict, Verdict::Fine);
}

#[test]
fn medians_ignore_a_spike_and_nan_is_no_data() {
    let t0 = ts("2026-01-01T12:00:00Z");
    let mut s = around(t0, 0.002, 0.002);
    let last = s.points.len() - 1;
    s.points[last].1 = 0.9;
    let c = compare(&s, t0, Window::default(), Threshold::ERROR_RATIO);
    assert_eq!(c.verdict, Verdict::Fine);
    let nan = around(t0, 0.002, f64::NAN);
    let c = compare(&nan, t0, Window::default(), Threshold::ERROR_RATIO);
    assert_eq!((c.current, c.verdict), (None, Verdict::NoData));
    let only_after = Series {
        points: around(t0, 1.0, 1.0).points.split_off(60),
    };
    let c = compare(&only_after, t0, Window::default(), Threshold::ERROR_RATIO);
    assert_eq!((c.baseline, c.verdict), (None, Verdict::NoData));
    let empty = compare(
        &Series::default(),
        t0,
        Window::default(),
        Threshold::LATENCY,
    );
    assert_eq!(empty.verdict, Verdict::NoData);
    // The window bounds the baseline: an old incident two hours back does not count.
    let mut s = around(t0, 0.002, 0.002);
    s.points
        .insert(0, (t0 - SignedDuration::from_hours(2), 0.5));
    let c = compare(&s, t0, Window::default(), Threshold::ERROR_RATIO);
    assert_eq!(c.baseline, Some(0.002));
}

#[test]
fn sparkline_heights() {
    let t = ts("2026-01-01T00:00:00Z");
    let s = Series {
        points: [
            0.002,
            0.004,
            f64::NAN,
            0.001,
            f64::INFINITY,
            -1.0,
            f64::NEG_INFINITY,
        ]
        .iter()
        .enumerate()
        .map(|(i, v)| (t + SignedDuration::from_secs(i as i64 * 15), *v))
        .collect(),
    };
    assert_eq!(sparkline(&s), vec![500, 1000, 0, 250, 1000, 0, 0]);
    assert_eq!(sparkline(&Series::default()), Vec::<u64>::new());
    let zeros = Series {
        points: vec![(t, 0.0), (t, f64::NAN)],
    };
    assert_eq!(sparkline(&zeros), vec![0, 0]);
}
