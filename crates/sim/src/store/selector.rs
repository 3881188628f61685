//! Label selectors (`=`, `==`, `!=`, `in`, `notin`, exists, `!`) and field selectors, parsed
//! from query strings or from a `LabelSelector` object, and matched against stored labels.

use serde_json::Value;

use crate::resources::ResourceDef;
use crate::store::Meta;

#[derive(Debug, Clone, PartialEq)]
enum Op {
    Eq,
    NotEq,
    In,
    NotIn,
    Exists,
    NotExists,
}

#[derive(Debug, Clone, PartialEq)]
struct Requirement {
    key: String,
    op: Op,
    values: Vec<String>,
}

/// Why a selector does not parse, in the API server's words (a 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    #[error("unable to parse requirement: {why} in selector {selector:?}")]
    Requirement { why: &'static str, selector: String },
    /// A `matchExpressions` operator that is none of In, NotIn, Exists, DoesNotExist.
    #[error("{0:?} is not a valid label selector operator")]
    Operator(Option<String>),
    #[error("invalid selector: '{selector}'; can't understand '{part}'")]
    FieldSyntax { selector: String, part: String },
    #[error("field label not supported: {0}")]
    FieldUnsupported(String),
}

/// A parsed label selector; empty matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector {
    reqs: Vec<Requirement>,
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-')
}

fn is_value_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

impl Cursor<'_> {
    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|c| c == ' ') {
            self.i += 1;
        }
    }
    fn peek(&self) -> Option<char> {
        self.s[self.i..].chars().next()
    }
    fn eat(&mut self, p: &str) -> bool {
        if self.s[self.i..].starts_with(p) {
            self.i += p.len();
            true
        } else {
            false
        }
    }
    fn take(&mut self, f: fn(char) -> bool) -> String {
        let start = self.i;
        while self.peek().is_some_and(f) {
            self.i += 1;
        }
        self.s[start..self.i].to_string()
    }
    fn at_end(&self) -> bool {
        self.i >= self.s.len()
    }
}

impl LabelSelector {
    /// Parses the query-string form.
    pub fn parse(s: &str) -> Result<Self, SelectorError> {
        let mut c = Cursor { s, i: 0 };
        let mut reqs = Vec::new();
        let err = |why| SelectorError::Requirement {
            why,
            selector: s.to_owned(),
        };
        loop {
            c.skip_ws();
            if c.at_end() {
                break;
            }
            if c.eat("!") {
                c.skip_ws();
                let key = c.take(is_key_char);
                if key.is_empty() {
                    return Err(err("missing key after '!'"));
                }
                reqs.push(Requirement {
                    key,
                    op: Op::NotExists,
                    values: vec![],
                });
            } else {
                let key = c.take(is_key_char);
                if key.is_empty() {
                    return Err(err("found unexpected character, expected a key"));
                }
                c.skip_ws();
                let (op, values) = if c.at_end() || c.peek() == Some(',') {
                    (Op::Exists, vec![])
                } else if c.eat("==") || c.eat("=") {
                    c.skip_ws();
                    (Op::Eq, vec![c.take(is_value_char)])
                } else if c.eat("!=") {
                    c.skip_ws();
                    (Op::NotEq, vec![c.take(is_value_char)])
                } else if c.eat("notin") || c.eat("in") {
                    let op = if c.s[..c.i].ends_with("notin") {
                        Op::NotIn
                    } else {
                        Op::In
                    };
                    c.skip_ws();
                    if !c.eat("(") {
                        return Err(err("found unexpected token, expected '('"));
                    }
                    let mut vals = Vec::new();
                    loop {
                        c.skip_ws();
                        vals.push(c.take(is_value_char));
                        c.skip_ws();
                        if c.eat(",") {
                            continue;
                        }
                        if c.eat(")") {
                            break;
                        }
                        return Err(err("found unexpected token, expected ',' or ')'"));
                    }
                    (op, vals)
                } else {
                    return Err(err("found unexpected operator"));
                };
                reqs.push(Requirement { key, op, values });
            }
            c.skip_ws();
            if c.at_end() {
                break;
            }
            if !c.eat(",") {
                return Err(err("found unexpected token, expected ','"));
            }
        }
        Ok(LabelSelector { reqs })
    }

    /// Builds a selector from a `metav1.LabelSelector` object (matchLabels + matchExpressions).
    pub fn from_object(v: &Value) -> Result<Self, SelectorError> {
        let mut reqs = Vec::new();
        if let Some(m) = v.get("matchLabels").and_then(Value::as_object) {
            for (k, val) in m {
                let val = val.as_str().unwrap_or_default().to_string();
                reqs.push(Requirement {
                    key: k.clone(),
                    op: Op::Eq,
                    values: vec![val],
                });
            }
        }
        if let Some(exprs) = v.get("matchExpressions").and_then(Value::as_array) {
            for e in exprs {
                let key = e
                    .get("key")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let values: Vec<String> = e
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                let op = match e.get("operator").and_then(Value::as_str) {
                    Some("In") => Op::In,
                    Some("NotIn") => Op::NotIn,
                    Some("Exists") => Op::Exists,
                    Some("DoesNotExist") => Op::NotExists,
                    other => return Err(SelectorError::Operator(other.map(String::from))),
                };
                reqs.push(Requirement { key, op, values });
            }
        }
        Ok(LabelSelector { reqs })
    }

    pub fn is_empty(&self) -> bool {
        self.reqs.is_empty()
    }

    /// Matches against a label lookup function.
    pub fn matches_with<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.reqs.iter().all(|r| {
            let v = get(&r.key);
            match r.op {
                Op::Eq => v == Some(r.values[0].as_str()),
                Op::NotEq => v != Some(r.values[0].as_str()),
                Op::In => v.is_some_and(|v| r.values.iter().any(|x| x == v)),
                Op::NotIn => !v.is_some_and(|v| r.values.iter().any(|x| x == v)),
                Op::Exists => v.is_some(),
                Op::NotExists => v.is_none(),
            }
        })
    }

    /// Matches a stored object's labels.
    pub fn matches(&self, meta: &Meta) -> bool {
        self.matches_with(|k| meta.label(k))
    }

    /// Matches a JSON labels map.
    pub fn matches_json(&self, labels: Option<&Value>) -> bool {
        self.matches_with(|k| labels.and_then(|l| l.get(k)).and_then(Value::as_str))
    }
}

impl std::fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .reqs
            .iter()
            .map(|r| match r.op {
                Op::Eq => format!("{}={}", r.key, r.values[0]),
                Op::NotEq => format!("{}!={}", r.key, r.values[0]),
                Op::In => format!("{} in ({})", r.key, r.values.join(",")),
                Op::NotIn => format!("{} notin ({})", r.key, r.values.join(",")),
                Op::Exists => r.key.clone(),
                Op::NotExists => format!("!{}", r.key),
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// A parsed field selector (`=`, `==`, `!=`, comma = AND), validated against a kind.
#[derive(Debug, Clone, Default)]
pub struct FieldSelector {
    reqs: Vec<(String, bool, String)>,
}

impl FieldSelector {
    /// Parses and validates; an unsupported field gives the server's 400 message.
    pub fn parse(s: &str, def: &ResourceDef) -> Result<Self, SelectorError> {
        let mut reqs = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, eq, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(SelectorError::FieldSyntax {
                    selector: s.to_owned(),
                    part: part.to_owned(),
                });
            };
            let field = field.trim();
            let known = field == "metadata.name"
                || field == "metadata.namespace"
                || def.fields.iter().any(|(n, _)| *n == field);
            if !known {
                return Err(SelectorError::FieldUnsupported(field.to_owned()));
            }
            reqs.push((field.to_string(), eq, value.trim().to_string()));
        }
        Ok(FieldSelector { reqs })
    }

    pub fn is_empty(&self) -> bool {
        self.reqs.is_empty()
    }

    /// The value required for `metadata.name`, if the selector pins one.
    pub fn pinned_name(&self) -> Option<&str> {
        self.reqs
            .iter()
            .find(|(f, eq, _)| *eq && f == "metadata.name")
            .map(|(_, _, v)| v.as_str())
    }

    pub fn matches(&self, meta: &Meta) -> bool {
        self.reqs.iter().all(|(f, eq, v)| {
            let actual = match f.as_str() {
                "metadata.name" => &*meta.name,
                "metadata.namespace" => &*meta.namespace,
                other => meta.field(other),
            };
            (actual == v) == *eq
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(sel: &str, labels: Value) -> bool {
        LabelSelector::parse(sel)
            .unwrap()
            .matches_json(Some(&labels))
    }

    #[test]
    fn label_operators() {
        let l = json!({"app": "web", "tier": "fe", "env": "prod"});
        assert!(m("app=web", l.clone()));
        assert!(m("app==web,tier=fe", l.clone()));
        assert!(!m("app!=web", l.clone()));
        assert!(m("app!=db", l.clone()));
        assert!(m("env in (prod, staging)", l.clone()));
        assert!(!m("env notin (prod,staging)", l.clone()));
        assert!(m("env notin (dev)", l.clone()));
        assert!(m("tier", l.clone()));
        assert!(!m("!tier", l.clone()));
        assert!(m("!missing", l.clone()));
        assert!(m("", l.clone()));
        assert!(m(
            "app.kubernetes.io/name notin (x),app=web",
            json!({"app": "web"})
        ));
        assert!(!m("missing in (a)", l));
    }

    #[test]
    fn label_errors_and_display() {
        assert!(LabelSelector::parse("app=web,").is_ok());
        assert!(LabelSelector::parse("app in web").is_err());
        assert!(LabelSelector::parse("=x").is_err());
        assert_eq!(
            LabelSelector::parse("a b").unwrap_err().to_string(),
            "unable to parse requirement: found unexpected operator in selector \"a b\""
        );
        assert_eq!(
            LabelSelector::from_object(
                &json!({"matchExpressions": [{"key": "a", "operator": "Is"}]})
            )
            .unwrap_err()
            .to_string(),
            "Some(\"Is\") is not a valid label selector operator"
        );
        let s = LabelSelector::from_object(
            &json!({"matchLabels": {"app": "x", "pod-template-hash": "abc"}}),
        )
        .unwrap();
        assert_eq!(s.to_string(), "app=x,pod-template-hash=abc");
        assert_eq!(LabelSelector::parse(&s.to_string()).unwrap(), s);
    }

    #[test]
    fn field_selectors_validate() {
        use crate::resources::{CONFIGMAPS, PODS, def};
        assert!(FieldSelector::parse("status.phase=Running,spec.nodeName!=x", def(PODS)).is_ok());
        let e = FieldSelector::parse("status.phase=Running", def(CONFIGMAPS)).unwrap_err();
        assert_eq!(e.to_string(), "field label not supported: status.phase");
        let f = FieldSelector::parse("metadata.name==web", def(CONFIGMAPS)).unwrap();
        assert_eq!(f.pinned_name(), Some("web"));
    }
}
