//! Container log lines as the logs pane shows them: which pod they came from, and how
//! loud they are (error and warning lines stand out, in colour and in a mark).

/// How a line reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warn,
    Other,
}

impl Level {
    /// The mark in front of the line, readable without colour.
    pub fn mark(self) -> &'static str {
        match self {
            Level::Error => "✖ ",
            Level::Warn => "⚠ ",
            Level::Other => "  ",
        }
    }
}

/// The level a line announces: the words log libraries print (`ERROR`, `error:`,
/// `level=error`, `FATAL`, `panic`, a stack trace's `Exception`), case aside.
pub fn level(line: &str) -> Level {
    let lower = line.to_ascii_lowercase();
    let has_word = |w: &str| {
        lower.match_indices(w).any(|(i, _)| {
            let before = lower[..i].chars().next_back();
            let after = lower[i + w.len()..].chars().next();
            before.is_none_or(|c| !c.is_ascii_alphanumeric())
                && after.is_none_or(|c| !c.is_ascii_alphanumeric())
        })
    };
    if [
        "error",
        "fatal",
        "panic",
        "exception",
        "err",
        "crit",
        "critical",
    ]
    .iter()
    .any(|w| has_word(w))
    {
        Level::Error
    } else if ["warn", "warning"].iter().any(|w| has_word(w)) {
        Level::Warn
    } else {
        Level::Other
    }
}

/// One line of one pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub pod: String,
    pub text: String,
    pub level: Level,
}

impl LogLine {
    pub fn new(pod: &str, text: &str) -> Self {
        LogLine {
            pod: pod.to_owned(),
            text: text.to_owned(),
            level: level(text),
        }
    }
}

/// What a log stream tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogUpdate {
    Line(LogLine),
    /// The pod's stream ended (the container stopped, or not following).
    Ended {
        pod: String,
    },
    /// The server refused or the connection broke.
    Failed {
        pod: String,
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_read_like_people_read_them() {
        assert_eq!(
            level("ERROR readiness check failed: connection refused"),
            Level::Error
        );
        assert_eq!(level("level=error msg=\"boom\""), Level::Error);
        assert_eq!(
            level("panic: runtime error: index out of range"),
            Level::Error
        );
        assert_eq!(level("java.lang.IllegalStateException at x"), Level::Other);
        assert_eq!(level("Exception in thread main"), Level::Error);
        assert_eq!(level("WARN  slow query"), Level::Warn);
        assert_eq!(level("INFO  errors=0 retries=0"), Level::Other);
        assert_eq!(level("INFO  served /terror"), Level::Other);
    }
}
