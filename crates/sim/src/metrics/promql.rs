//! The queries the simulator answers. It does not implement PromQL: it recognises the
//! three shapes a release's T+30m comparison sends (error ratio, a latency quantile,
//! restarts), token by token so whitespace and the order of label matchers do not
//! matter, and refuses anything else by naming the shapes it serves. Total: every input,
//! however odd, ends in `Ok` or `Err`, never a panic (the recursion is fixed by the
//! shapes, not by the input).

/// The shapes served, as the refusal names them.
pub const SHAPES: &str = "the simulator does not implement PromQL; it answers these query \
shapes (NS a namespace, SVC a service, Q a quantile, any range up to 1h): \
sum(rate(http_requests_total{namespace=\"NS\",service=\"SVC\",code=~\"5..\"}[5m])) / \
sum(rate(http_requests_total{namespace=\"NS\",service=\"SVC\"}[5m])) (code!~\"5..\" for the \
success ratio; both sums may add rollouts_pod_template_hash=\"HASH\" for one version's pods); \
histogram_quantile(Q, sum by (le) (rate(http_request_duration_seconds_bucket{namespace=\"NS\",service=\"SVC\"}[5m]))); \
sum(increase(kube_pod_container_status_restarts_total{namespace=\"NS\",pod=~\"SVC-.*\"}[5m]))";

/// The longest range (`[…]`) served: a point averages at most this much history.
pub const MAX_RANGE_MS: i64 = 3_600_000;

/// One recognised query: which series, what is derived, over what range.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub namespace: String,
    pub service: String,
    /// One version's pods only (`rollouts_pod_template_hash`), as an analysis asks.
    pub version: Option<String>,
    pub kind: Kind,
    /// The range selector's length (`[5m]`), in milliseconds.
    pub range_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// 5xx requests over all requests.
    ErrorRatio,
    /// Requests that were not 5xx over all requests (an analysis' success rate).
    SuccessRatio,
    /// `histogram_quantile(q, …)` of the request duration, in seconds.
    Latency(f64),
    /// Container restarts of the service's pods within the range.
    Restarts,
}

/// Parses one query; the error is the message to answer with.
pub fn parse(query: &str) -> Result<Query, String> {
    let tokens = lex(query).ok_or_else(|| SHAPES.to_owned())?;
    let mut p = Parser {
        toks: &tokens,
        i: 0,
    };
    let q = p.query().ok_or_else(|| SHAPES.to_owned())?;
    if p.i != tokens.len() || q.range_ms <= 0 || q.range_ms > MAX_RANGE_MS {
        return Err(SHAPES.to_owned());
    }
    Ok(q)
}

/// Prometheus's duration syntax (`1h30m`, `5m`, `90s`, `500ms`; units in decreasing
/// order, each at most once), in milliseconds. `None` when it is not one or overflows.
pub fn model_duration_ms(s: &str) -> Option<i64> {
    const UNITS: [(&str, i64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ];
    if s == "0" {
        return Some(0);
    }
    let mut rest = s;
    let mut next_unit = 0;
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let letters = rest[digits..]
            .bytes()
            .take_while(u8::is_ascii_alphabetic)
            .count();
        if digits == 0 || letters == 0 {
            return None;
        }
        let n: i64 = rest[..digits].parse().ok()?;
        let unit = &rest[digits..digits + letters];
        let idx = UNITS.iter().position(|(u, _)| *u == unit)?;
        if idx < next_unit {
            return None;
        }
        next_unit = idx + 1;
        total = total.checked_add(n.checked_mul(UNITS[idx].1)?)?;
        rest = &rest[digits + letters..];
    }
    (next_unit > 0).then_some(total)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// Identifiers, numbers and durations: whatever the shape expects there.
    Word(String),
    Str(String),
    Punct(&'static str),
}

const PUNCT: [&str; 11] = ["=~", "!~", "!=", "=", "(", ")", "{", "}", "[", "]", ","];

fn lex(s: &str) -> Option<Vec<Tok>> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '#' {
            // A PromQL comment runs to the end of the line.
            while chars.next_if(|&(_, c)| c != '\n').is_some() {}
        } else if c == '/' {
            chars.next();
            out.push(Tok::Punct("/"));
        } else if c == '"' || c == '\'' || c == '`' {
            chars.next();
            let mut text = String::new();
            loop {
                let (_, ch) = chars.next()?;
                match ch {
                    _ if ch == c => break,
                    '\\' if c != '`' => {
                        let (_, esc) = chars.next()?;
                        text.push(match esc {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                    }
                    _ => text.push(ch),
                }
            }
            out.push(Tok::Str(text));
        } else if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == ':' {
            let mut word = String::new();
            while let Some((_, ch)) =
                chars.next_if(|&(_, ch)| ch.is_ascii_alphanumeric() || "_.:".contains(ch))
            {
                word.push(ch);
            }
            out.push(Tok::Word(word));
        } else {
            let rest = s.get(i..)?;
            let p = PUNCT.iter().find(|p| rest.starts_with(**p))?;
            for _ in 0..p.len() {
                chars.next();
            }
            out.push(Tok::Punct(p));
        }
    }
    Some(out)
}

/// One label matcher: name, operator, value.
type Matcher = (String, &'static str, String);

/// `func(metric{matchers}[range])` inside an aggregation.
struct Inner {
    func: String,
    metric: String,
    matchers: Vec<Matcher>,
    range_ms: i64,
}

struct Parser<'a> {
    toks: &'a [Tok],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i)
    }

    fn punct(&mut self, p: &str) -> Option<()> {
        match self.peek() {
            Some(Tok::Punct(q)) if *q == p => {
                self.i += 1;
                Some(())
            }
            _ => None,
        }
    }

    fn word(&mut self) -> Option<String> {
        match self.peek() {
            Some(Tok::Word(w)) => {
                let w = w.clone();
                self.i += 1;
                Some(w)
            }
            _ => None,
        }
    }

    fn string(&mut self) -> Option<String> {
        match self.peek() {
            Some(Tok::Str(s)) => {
                let s = s.clone();
                self.i += 1;
                Some(s)
            }
            _ => None,
        }
    }

    /// PromQL's keywords (`sum`, `by`) are case-insensitive; function and metric names not.
    fn keyword(&mut self, k: &str) -> Option<()> {
        match self.peek() {
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k) => {
                self.i += 1;
                Some(())
            }
            _ => None,
        }
    }

    fn query(&mut self) -> Option<Query> {
        if self.peek() == Some(&Tok::Word("histogram_quantile".into())) {
            return self.latency();
        }
        let first = self.sum()?;
        if self.punct("/").is_none() {
            return restarts(&first);
        }
        let second = self.sum()?;
        let (kind, (namespace, service, version)) = ratio(&first, &second)?;
        Some(Query {
            namespace,
            service,
            version,
            kind,
            range_ms: first.1.range_ms,
        })
    }

    fn latency(&mut self) -> Option<Query> {
        self.word()?;
        self.punct("(")?;
        let q: f64 = self.word()?.parse().ok()?;
        self.punct(",")?;
        let (by, inner) = self.sum()?;
        self.punct(")")?;
        if by != ["le"]
            || inner.func != "rate"
            || inner.metric != "http_request_duration_seconds_bucket"
        {
            return None;
        }
        let (ns, svc) = ns_and_service(&inner.matchers)?;
        Some(Query {
            namespace: ns,
            service: svc,
            version: None,
            kind: Kind::Latency(q),
            range_ms: inner.range_ms,
        })
    }

    /// `sum [by (l…)] (inner) [by (l…)]`: the grouping labels and the inner call.
    fn sum(&mut self) -> Option<(Vec<String>, Inner)> {
        self.keyword("sum")?;
        let mut by = self.grouping()?;
        self.punct("(")?;
        let inner = self.inner()?;
        self.punct(")")?;
        if by.is_empty() {
            by = self.grouping()?;
        }
        Some((by, inner))
    }

    /// An optional `by (labels)`; empty when there is none.
    fn grouping(&mut self) -> Option<Vec<String>> {
        if self.keyword("by").is_none() {
            return Some(Vec::new());
        }
        self.punct("(")?;
        let mut labels = Vec::new();
        while self.punct(")").is_none() {
            labels.push(self.word()?);
            if self.punct(",").is_none() {
                self.punct(")")?;
                break;
            }
        }
        Some(labels)
    }

    fn inner(&mut self) -> Option<Inner> {
        let func = self.word()?;
        self.punct("(")?;
        let metric = self.word()?;
        self.punct("{")?;
        let mut matchers = Vec::new();
        while self.punct("}").is_none() {
            let name = self.word()?;
            let op = match self.peek() {
                Some(Tok::Punct(op)) if ["=", "=~", "!=", "!~"].contains(op) => *op,
                _ => return None,
            };
            self.i += 1;
            let value = self.string()?;
            if matchers.iter().any(|(n, _, _): &Matcher| *n == name) {
                return None;
            }
            matchers.push((name, op, value));
            if self.punct(",").is_none() {
                self.punct("}")?;
                break;
            }
        }
        self.punct("[")?;
        let range_ms = model_duration_ms(&self.word()?)?;
        self.punct("]")?;
        self.punct(")")?;
        Some(Inner {
            func,
            metric,
            matchers,
            range_ms,
        })
    }
}

fn find<'a>(matchers: &'a [Matcher], name: &str, op: &str) -> Option<&'a str> {
    matchers
        .iter()
        .find(|(n, o, _)| n == name && *o == op)
        .map(|(_, _, v)| v.as_str())
}

/// Exactly `namespace="NS", service="SVC"`, in either order.
fn ns_and_service(matchers: &[Matcher]) -> Option<(String, String)> {
    let ns = find(matchers, "namespace", "=")?;
    let svc = find(matchers, "service", "=")?;
    (matchers.len() == 2 && !ns.is_empty() && !svc.is_empty())
        .then(|| (ns.to_owned(), svc.to_owned()))
}

/// The label that tells one version's pods from another's.
pub const VERSION_LABEL: &str = "rollouts_pod_template_hash";

/// Namespace, service and (for one version's pods) the pod-template hash.
type Series = (String, String, Option<String>);

/// `namespace="NS", service="SVC"` and an optional `rollouts_pod_template_hash="HASH"`.
fn series(matchers: &[Matcher]) -> Option<Series> {
    let version = find(matchers, VERSION_LABEL, "=").filter(|v| !v.is_empty());
    let rest: Vec<Matcher> = matchers
        .iter()
        .filter(|(n, _, _)| n != VERSION_LABEL)
        .cloned()
        .collect();
    if rest.len() + usize::from(version.is_some()) != matchers.len() {
        return None;
    }
    let (ns, svc) = ns_and_service(&rest)?;
    Some((ns, svc, version.map(str::to_owned)))
}

/// `sum(rate(…{…, code=~"5.."}[r])) / sum(rate(…{…}[r]))` (or `code!~` for successes).
fn ratio(
    (by_num, num): &(Vec<String>, Inner),
    (by_den, den): &(Vec<String>, Inner),
) -> Option<(Kind, Series)> {
    let metric_ok = |i: &Inner| i.func == "rate" && i.metric == "http_requests_total";
    if !by_num.is_empty() || !by_den.is_empty() || !metric_ok(num) || !metric_ok(den) {
        return None;
    }
    if num.range_ms != den.range_ms || num.matchers.len() != den.matchers.len() + 1 {
        return None;
    }
    let kind = if find(&num.matchers, "code", "=~") == Some("5..") {
        Kind::ErrorRatio
    } else if find(&num.matchers, "code", "!~") == Some("5..") {
        Kind::SuccessRatio
    } else {
        return None;
    };
    let rest: Vec<Matcher> = num
        .matchers
        .iter()
        .filter(|(n, _, _)| n != "code")
        .cloned()
        .collect();
    let a = series(&rest)?;
    (series(&den.matchers)? == a).then_some((kind, a))
}

fn restarts((by, inner): &(Vec<String>, Inner)) -> Option<Query> {
    if !by.is_empty()
        || inner.func != "increase"
        || inner.metric != "kube_pod_container_status_restarts_total"
        || inner.matchers.len() != 2
    {
        return None;
    }
    let ns = find(&inner.matchers, "namespace", "=")?;
    let svc = find(&inner.matchers, "pod", "=~")?.strip_suffix("-.*")?;
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    (!ns.is_empty() && plain(svc)).then(|| Query {
        namespace: ns.to_owned(),
        service: svc.to_owned(),
        version: None,
        kind: Kind::Restarts,
        range_ms: inner.range_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ERRORS: &str = r#"sum(rate(http_requests_total{namespace="dictamesh-prod",service="customer-adapter",code=~"5.."}[5m])) / sum(rate(http_requests_total{namespace="dictamesh-prod",service="customer-adapter"}[5m]))"#;
    const P95: &str = r#"histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="dictamesh-prod",service="customer-adapter"}[5m])))"#;
    const RESTARTS: &str = r#"sum(increase(kube_pod_container_status_restarts_total{namespace="dictamesh-prod",pod=~"customer-adapter-.*"}[5m]))"#;

    fn q(kind: Kind) -> Query {
        Query {
            namespace: "dictamesh-prod".into(),
            service: "customer-adapter".into(),
            version: None,
            kind,
            range_ms: 300_000,
        }
    }

    #[test]
    fn the_three_shapes() {
        assert_eq!(parse(ERRORS), Ok(q(Kind::ErrorRatio)));
        assert_eq!(parse(P95), Ok(q(Kind::Latency(0.95))));
        assert_eq!(parse(RESTARTS), Ok(q(Kind::Restarts)));
        let p99 = P95.replace("0.95", "0.99");
        assert_eq!(parse(&p99), Ok(q(Kind::Latency(0.99))));
    }

    #[test]
    fn an_analysis_asks_for_one_versions_success_ratio() {
        let success = ERRORS.replace("=~\"5..\"", "!~\"5..\"");
        assert_eq!(parse(&success), Ok(q(Kind::SuccessRatio)));
        let versioned = success.replace(
            "service=\"customer-adapter\"",
            "service=\"customer-adapter\",rollouts_pod_template_hash=\"abc123\"",
        );
        let want = Query {
            version: Some("abc123".into()),
            ..q(Kind::SuccessRatio)
        };
        assert_eq!(parse(&versioned), Ok(want));
        // The version on one side only is two different series: refused.
        let one_sided = success.replacen(
            "service=\"customer-adapter\"",
            "service=\"customer-adapter\",rollouts_pod_template_hash=\"abc123\"",
            1,
        );
        assert!(parse(&one_sided).is_err());
        assert!(parse(&success.replace("!~", "!=")).is_err());
    }

    #[test]
    fn whitespace_matcher_order_and_grouping_position_do_not_matter() {
        let errors = "sum ( rate ( http_requests_total { code =~ '5..' , service=\"customer-adapter\",\n namespace=\"dictamesh-prod\", } [ 5m ] ) )\n/\nSUM(rate(http_requests_total{service=\"customer-adapter\",namespace=\"dictamesh-prod\"}[5m]))";
        assert_eq!(parse(errors), Ok(q(Kind::ErrorRatio)));
        let p95 = r#"histogram_quantile(0.95,sum(rate(http_request_duration_seconds_bucket{service="customer-adapter",namespace="dictamesh-prod"}[300s]))by(le))"#;
        assert_eq!(parse(p95), Ok(q(Kind::Latency(0.95))));
    }

    #[test]
    fn near_misses_are_refused_with_the_shapes() {
        for bad in [
            "up",
            "",
            &ERRORS.replace("5..", "4.."),
            &ERRORS.replace("service=\"customer-adapter\"}", "service=\"other\"}"),
            &ERRORS.replace("[5m])) / ", "[1m])) / "),
            &P95.replace("by (le)", "by (code)"),
            &P95.replace(",service", ",service=\"x\",service"),
            &RESTARTS.replace("-.*", ".*"),
            &RESTARTS.replace("increase", "rate"),
            &format!("{RESTARTS} extra"),
            &RESTARTS.replace("[5m]", "[2h]"),
            &RESTARTS.replace("[5m]", "[0s]"),
        ] {
            let e = parse(bad).expect_err(bad);
            assert!(e.contains("histogram_quantile(Q"), "{e}");
        }
    }

    #[test]
    fn garbage_never_panics() {
        let pieces = [
            "sum",
            "(",
            ")",
            "{",
            "}",
            "[",
            "]",
            "5m",
            "\"",
            "'",
            "`",
            "\\",
            "=~",
            "!",
            "/",
            ",",
            "histogram_quantile",
            "by",
            "le",
            "rate",
            "é",
            "#",
            "\n",
            "0.95",
            "=",
            "x",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..20_000 {
            let mut s = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 40) as usize;
            let mut x = seed;
            for _ in 0..len {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                s.push_str(pieces[(x >> 33) as usize % pieces.len()]);
            }
            let _ = parse(&s);
        }
        for prefix_len in 0..ERRORS.len() {
            if let Some(p) = ERRORS.get(..prefix_len) {
                assert!(parse(p).is_err());
            }
        }
        let _ = parse("\u{0}\u{ffff}\"\\");
    }

    #[test]
    fn durations_as_prometheus_reads_them() {
        assert_eq!(model_duration_ms("5m"), Some(300_000));
        assert_eq!(model_duration_ms("1h30m"), Some(5_400_000));
        assert_eq!(model_duration_ms("1s500ms"), Some(1_500));
        assert_eq!(model_duration_ms("0"), Some(0));
        for bad in [
            "",
            "m",
            "5",
            "30m1h",
            "5m5m",
            "1.5m",
            "5x",
            "-5m",
            "99999999999999999y",
        ] {
            assert_eq!(model_duration_ms(bad), None, "{bad}");
        }
    }
}
