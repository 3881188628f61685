//! The `successCondition` / `failureCondition` of a metric, as Argo Rollouts evaluates
//! them (expr-lang) on a measurement's result: the forms analysis templates use —
//! `result[0] >= 0.95`, `result < 92`, `len(result) == 0`, `isNaN(result[0])`, joined
//! with `&&`/`and`, `||`/`or`, negated with `!`/`not`, grouped in parentheses. Anything
//! else is an error the measurement reports, never a panic.

/// A metric's result: Prometheus' vector (or matrix) as a list, a scalar as a number.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Num(f64),
    Bool(bool),
    List(Vec<f64>),
}

/// Evaluates `expr` with `result` bound; the error is expr-lang's kind of message.
pub fn eval(expr: &str, result: &Value) -> Result<bool, String> {
    let toks = lex(expr)?;
    let mut p = Parser {
        toks: &toks,
        i: 0,
        result,
    };
    let v = p.or()?;
    if p.i != toks.len() {
        return Err(format!("unexpected token {:?}", toks[p.i]));
    }
    match v {
        Value::Bool(b) => Ok(b),
        other => Err(format!("expected bool, but got {}", type_name(&other))),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Num(_) => "float64",
        Value::Bool(_) => "bool",
        Value::List(_) => "[]float64",
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Op(&'static str),
}

const OPS: [&str; 15] = [
    ">=", "<=", "==", "!=", "&&", "||", ">", "<", "!", "(", ")", "[", "]", ",", "-",
];

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            let start = i;
            while i < b.len()
                && (b[i].is_ascii_digit() || matches!(b[i], b'.' | b'e' | b'E' | b'_'))
            {
                i += 1;
            }
            let text: String = s[start..i].chars().filter(|c| *c != '_').collect();
            let n = text
                .parse::<f64>()
                .map_err(|_| format!("invalid number {text}"))?;
            out.push(Tok::Num(n));
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(s[start..i].to_owned()));
        } else if let Some(op) = OPS.iter().find(|op| s[i..].starts_with(**op)) {
            out.push(Tok::Op(op));
            i += op.len();
        } else {
            let ch = s[i..].chars().next().unwrap_or('?');
            return Err(format!("unexpected token {ch:?}"));
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: &'a [Tok],
    i: usize,
    result: &'a Value,
}

impl Parser<'_> {
    fn op(&mut self, op: &str) -> bool {
        if matches!(self.toks.get(self.i), Some(Tok::Op(o)) if *o == op) {
            self.i += 1;
            return true;
        }
        false
    }

    fn word(&mut self, w: &str) -> bool {
        if matches!(self.toks.get(self.i), Some(Tok::Ident(x)) if x == w) {
            self.i += 1;
            return true;
        }
        false
    }

    fn expect(&mut self, op: &str) -> Result<(), String> {
        if self.op(op) {
            Ok(())
        } else {
            Err(format!("expected {op}"))
        }
    }

    fn or(&mut self) -> Result<Value, String> {
        let mut v = self.and()?;
        while self.op("||") || self.word("or") {
            let r = self.and()?;
            v = Value::Bool(truth(&v)? || truth(&r)?);
        }
        Ok(v)
    }

    fn and(&mut self) -> Result<Value, String> {
        let mut v = self.not()?;
        while self.op("&&") || self.word("and") {
            let r = self.not()?;
            v = Value::Bool(truth(&v)? && truth(&r)?);
        }
        Ok(v)
    }

    fn not(&mut self) -> Result<Value, String> {
        if self.op("!") || self.word("not") {
            let v = self.not()?;
            return Ok(Value::Bool(!truth(&v)?));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Value, String> {
        let l = self.primary()?;
        for op in [">=", "<=", "==", "!=", ">", "<"] {
            if self.op(op) {
                let r = self.primary()?;
                return compare(op, &l, &r).map(Value::Bool);
            }
        }
        Ok(l)
    }

    fn primary(&mut self) -> Result<Value, String> {
        let tok = self.toks.get(self.i).cloned();
        self.i += 1;
        match tok {
            Some(Tok::Num(n)) => Ok(Value::Num(n)),
            Some(Tok::Op("(")) => {
                let v = self.or()?;
                self.expect(")")?;
                Ok(v)
            }
            Some(Tok::Op("-")) => match self.primary()? {
                Value::Num(n) => Ok(Value::Num(-n)),
                other => Err(format!("invalid operation: - ({})", type_name(&other))),
            },
            Some(Tok::Ident(w)) => match w.as_str() {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                "result" => self.indexed(),
                "len" | "isNaN" | "isInf" => {
                    self.expect("(")?;
                    let arg = self.or()?;
                    self.expect(")")?;
                    call(&w, &arg)
                }
                _ => Err(format!("unknown name {w}")),
            },
            Some(t) => Err(format!("unexpected token {t:?}")),
            None => Err("unexpected end of expression".into()),
        }
    }

    /// `result` or `result[i]`.
    fn indexed(&mut self) -> Result<Value, String> {
        if !self.op("[") {
            return Ok(self.result.clone());
        }
        let idx = match self.primary()? {
            Value::Num(n) if n.fract() == 0.0 => n as i64,
            other => return Err(format!("cannot index with {}", type_name(&other))),
        };
        self.expect("]")?;
        match self.result {
            Value::List(xs) => {
                let i = if idx < 0 { xs.len() as i64 + idx } else { idx };
                usize::try_from(i)
                    .ok()
                    .and_then(|i| xs.get(i))
                    .map(|x| Value::Num(*x))
                    .ok_or_else(|| {
                        format!(
                            "runtime error: index out of range [{idx}] with length {}",
                            xs.len()
                        )
                    })
            }
            other => Err(format!("cannot fetch {idx} from {}", type_name(other))),
        }
    }
}

fn call(name: &str, arg: &Value) -> Result<Value, String> {
    match (name, arg) {
        ("len", Value::List(xs)) => Ok(Value::Num(xs.len() as f64)),
        ("isNaN", Value::Num(n)) => Ok(Value::Bool(n.is_nan())),
        ("isInf", Value::Num(n)) => Ok(Value::Bool(n.is_infinite())),
        _ => Err(format!(
            "invalid argument for {name} (type {})",
            type_name(arg)
        )),
    }
}

fn truth(v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        other => Err(format!("expected bool, but got {}", type_name(other))),
    }
}

fn compare(op: &str, l: &Value, r: &Value) -> Result<bool, String> {
    match (l, r) {
        (Value::Num(a), Value::Num(b)) => Ok(match op {
            ">=" => a >= b,
            "<=" => a <= b,
            ">" => a > b,
            "<" => a < b,
            "==" => a == b,
            _ => a != b,
        }),
        (Value::Bool(a), Value::Bool(b)) if op == "==" || op == "!=" => {
            Ok((a == b) == (op == "=="))
        }
        _ => Err(format!(
            "invalid operation: {} {op} {}",
            type_name(l),
            type_name(r)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(xs: &[f64]) -> Value {
        Value::List(xs.to_vec())
    }

    #[test]
    fn the_common_forms() {
        let ok = list(&[0.998]);
        let bad = list(&[0.7]);
        assert_eq!(eval("result[0] >= 0.95", &ok), Ok(true));
        assert_eq!(eval("result[0] >= 0.95", &bad), Ok(false));
        assert_eq!(eval("result[0] < 0.05", &list(&[0.01])), Ok(true));
        assert_eq!(eval("len(result) == 0", &list(&[])), Ok(true));
        assert_eq!(eval("len(result) > 0", &ok), Ok(true));
        assert_eq!(eval("result[0] >= 0.9 && result[0] <= 1", &ok), Ok(true));
        assert_eq!(eval("result[0] < 0.5 or result[0] > 0.99", &ok), Ok(true));
        assert_eq!(eval("not (result[0] > 0.99)", &ok), Ok(false));
        assert_eq!(eval("!isNaN(result[0])", &list(&[f64::NAN])), Ok(false));
        assert_eq!(eval("result > 95", &Value::Num(97.0)), Ok(true));
        // NaN compares false, as in Go.
        assert_eq!(eval("result[0] >= 0.95", &list(&[f64::NAN])), Ok(false));
    }

    #[test]
    fn errors_are_messages() {
        let e = eval("result[0] >= 0.95", &list(&[])).unwrap_err();
        assert!(e.contains("index out of range [0] with length 0"), "{e}");
        assert!(eval("result >= 0.95", &list(&[1.0])).is_err());
        assert!(eval("result[0] >=", &list(&[1.0])).is_err());
        assert!(eval("result[0]", &list(&[1.0])).is_err());
        assert!(eval("foo(1)", &list(&[1.0])).is_err());
        for garbage in [
            "",
            "((",
            "]]",
            "result[",
            "1 2",
            "&&",
            "é",
            "result[-9]",
            "len(",
        ] {
            assert!(eval(garbage, &list(&[1.0])).is_err(), "{garbage}");
        }
    }
}
