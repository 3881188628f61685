//! Command-line parsing as Kafka's tools do it with jopt-simple: long options only,
//! `--name value` or `--name=value`, unique prefixes accepted (`--desc`), a required
//! argument taken from the next word whatever it looks like, an optional one only when
//! the next word does not look like an option, `--` ending the options, other words
//! ignored, and `availableIf` checked once everything is read. Errors carry jopt-simple's
//! exception class and message; the help table is printed in its layout.

/// What an option takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    None,
    /// Required, described as (type, description).
    Required(&'static str, &'static str),
    /// May take a value.
    Optional(&'static str),
}

/// One accepted option.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub name: &'static str,
    pub arg: Arg,
    pub doc: &'static str,
    /// Options one of which must be present for this one (`availableIf`).
    pub available_if: &'static [&'static str],
}

/// The parsed command line: options in the order given, with their values.
#[derive(Debug, Default, Clone)]
pub struct Parsed {
    pub seen: Vec<(&'static str, Option<String>)>,
}

impl Parsed {
    pub fn has(&self, name: &str) -> bool {
        self.seen.iter().any(|(n, _)| *n == name)
    }

    pub fn values(&self, name: &str) -> Vec<&str> {
        self.seen
            .iter()
            .filter(|(n, _)| *n == name)
            .filter_map(|(_, v)| v.as_deref())
            .collect()
    }

    /// `valueOf`: the one value, None when absent, an error when given twice.
    pub fn value(&self, name: &str) -> Result<Option<&str>, String> {
        match self.values(name).as_slice() {
            [] => Ok(None),
            [v] => Ok(Some(v)),
            _ => Err(format!(
                "Found multiple arguments for option {name}, but you asked for only one"
            )),
        }
    }

    /// `valueOf` of a `Long` option.
    pub fn long(&self, name: &str) -> Result<Option<i64>, String> {
        match self.value(name)? {
            None => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .map(Some)
                .map_err(|_| format!("Cannot parse argument '{v}' of option {name}")),
        }
    }
}

/// A jopt-simple `OptionException`: its class and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionError {
    pub class: &'static str,
    pub message: String,
}

fn unrecognized(name: &str) -> OptionError {
    OptionError {
        class: "joptsimple.UnrecognizedOptionException",
        message: format!("{name} is not a recognized option"),
    }
}

/// Resolves a long option name: exact, else a unique prefix.
fn lookup<'a>(specs: &'a [Spec], name: &str) -> Option<&'a Spec> {
    if let Some(s) = specs.iter().find(|s| s.name == name) {
        return Some(s);
    }
    let mut candidates = specs.iter().filter(|s| s.name.starts_with(name));
    match (candidates.next(), candidates.next()) {
        (Some(s), None) if !name.is_empty() => Some(s),
        _ => None,
    }
}

fn looks_like_option(word: &str) -> bool {
    (word.starts_with("--") && word.len() > 2)
        || (word.starts_with('-') && word.len() > 1 && word.parse::<f64>().is_err())
}

/// Parses `args` against `specs`.
pub fn parse(specs: &[Spec], args: &[String]) -> Result<Parsed, OptionError> {
    let mut out = Parsed::default();
    let mut i = 0;
    while i < args.len() {
        let word = &args[i];
        i += 1;
        if word == "--" {
            break;
        }
        if let Some(body) = word.strip_prefix("--").filter(|b| !b.is_empty()) {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let spec = lookup(specs, name).ok_or_else(|| unrecognized(name))?;
            let value = match spec.arg {
                Arg::None => {
                    if inline.is_some() {
                        return Err(OptionError {
                            class: "joptsimple.UnrecognizedOptionException",
                            message: format!("{body} is not a recognized option"),
                        });
                    }
                    None
                }
                Arg::Required(..) => match inline {
                    Some(v) => Some(v),
                    None if i < args.len() => {
                        i += 1;
                        Some(args[i - 1].clone())
                    }
                    None => {
                        return Err(OptionError {
                            class: "joptsimple.OptionMissingRequiredArgumentException",
                            message: format!("Option {} requires an argument", spec.name),
                        });
                    }
                },
                Arg::Optional(_) => match inline {
                    Some(v) => Some(v),
                    None if i < args.len() && !looks_like_option(&args[i]) => {
                        i += 1;
                        Some(args[i - 1].clone())
                    }
                    None => None,
                },
            };
            out.seen.push((spec.name, value));
        } else if let Some(cluster) = word.strip_prefix('-').filter(|c| !c.is_empty())
            && word.parse::<f64>().is_err()
        {
            // Short options: the tools define none.
            let first: String = cluster.chars().take(1).collect();
            return Err(unrecognized(&first));
        }
        // Anything else is a non-option argument, which the tools ignore.
    }
    let unavailable: Vec<&str> = out
        .seen
        .iter()
        .filter_map(|(n, _)| specs.iter().find(|s| s.name == *n))
        .filter(|s| !s.available_if.is_empty() && !s.available_if.iter().any(|a| out.has(a)))
        .map(|s| s.name)
        .collect();
    if let Some(first) = unavailable.first() {
        return Err(OptionError {
            class: "joptsimple.UnavailableOptionException",
            message: format!(
                "Option(s) [{first}] are unavailable given other options on the command line"
            ),
        });
    }
    Ok(out)
}

const OPTION_COL: usize = 40;
const DESC_COL: usize = 39;

/// Greedy word wrap to `width` columns.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split_whitespace() {
            if !line.is_empty() && line.len() + 1 + word.len() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

/// jopt-simple's help table (`printHelpOn`): options sorted, two columns, continuation
/// lines indented by two.
pub fn help(specs: &[Spec]) -> String {
    let mut sorted: Vec<&Spec> = specs.iter().collect();
    sorted.sort_by_key(|s| s.name);
    let row = |o: &str, d: &str| format!("{o:<OPTION_COL$}{d:<DESC_COL$}\n");
    let mut out = row("Option", "Description");
    out.push_str(&row("------", "-----------"));
    for s in sorted {
        let option = match s.arg {
            Arg::None => format!("--{}", s.name),
            Arg::Required(ty, "") => format!("--{} <{ty}>", s.name),
            Arg::Required(ty, what) => format!("--{} <{ty}: {what}>", s.name),
            Arg::Optional(ty) => format!("--{} [{ty}]", s.name),
        };
        let left = wrap(&option, OPTION_COL - 2);
        let right = wrap(s.doc, DESC_COL - 2);
        for i in 0..left.len().max(right.len()) {
            let indent = if i == 0 { "" } else { "  " };
            let l = left
                .get(i)
                .map(|l| format!("{indent}{l}"))
                .unwrap_or_default();
            let r = right
                .get(i)
                .map(|r| format!("{indent}{r}"))
                .unwrap_or_default();
            out.push_str(&row(&l, &r));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: &[Spec] = &[
        Spec {
            name: "describe",
            arg: Arg::None,
            doc: "d",
            available_if: &[],
        },
        Spec {
            name: "delete",
            arg: Arg::None,
            doc: "d",
            available_if: &[],
        },
        Spec {
            name: "group",
            arg: Arg::Required("String", "consumer group"),
            doc: "g",
            available_if: &[],
        },
        Spec {
            name: "shift-by",
            arg: Arg::Required("Long", "number-of-offsets"),
            doc: "s",
            available_if: &[],
        },
        Spec {
            name: "state",
            arg: Arg::Optional("String"),
            doc: "s",
            available_if: &["describe"],
        },
    ];

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn jopt_simple_rules() {
        let p = parse(
            SPECS,
            &args(&["--describe", "--group=g1", "--group", "g2", "--state"]),
        )
        .unwrap();
        assert_eq!(p.values("group"), ["g1", "g2"]);
        assert!(p.value("group").is_err());
        assert_eq!(p.value("state"), Ok(None));
        // Required arguments are taken whatever they look like; prefixes resolve.
        let p = parse(
            SPECS,
            &args(&["--desc", "--shift-by", "-5", "stray", "--state", "Stable"]),
        )
        .unwrap();
        assert_eq!(p.long("shift-by"), Ok(Some(-5)));
        assert_eq!(p.value("state"), Ok(Some("Stable")));
        assert!(p.has("describe"));
        // Ambiguous prefix, unknown option, short option, missing argument, availableIf.
        assert_eq!(
            parse(SPECS, &args(&["--de"])).unwrap_err().message,
            "de is not a recognized option"
        );
        assert_eq!(
            parse(SPECS, &args(&["--nope"])).unwrap_err().message,
            "nope is not a recognized option"
        );
        assert_eq!(
            parse(SPECS, &args(&["-g"])).unwrap_err().message,
            "g is not a recognized option"
        );
        assert_eq!(
            parse(SPECS, &args(&["--group"])).unwrap_err().message,
            "Option group requires an argument"
        );
        assert_eq!(
            parse(SPECS, &args(&["--state"])).unwrap_err().message,
            "Option(s) [state] are unavailable given other options on the command line"
        );
        let p = parse(SPECS, &args(&["--describe", "--", "--nope"])).unwrap();
        assert!(!p.has("nope"));
        assert_eq!(
            parse(SPECS, &args(&["--describe", "--shift-by", "x"]))
                .unwrap()
                .long("shift-by"),
            Err("Cannot parse argument 'x' of option shift-by".into())
        );
    }

    #[test]
    fn help_is_a_two_column_table() {
        let h = help(SPECS);
        let lines: Vec<&str> = h.lines().collect();
        assert!(lines[0].starts_with("Option") && lines[0].contains("Description"));
        assert!(lines[1].starts_with("------"));
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("--group <String: consumer group>"))
        );
    }
}
