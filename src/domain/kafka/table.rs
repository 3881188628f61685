//! What `kafka-consumer-groups.sh` prints, read back: `--list`, the three `--describe`
//! views (offsets, `--state`, `--members`) and the `--reset-offsets` table, with the
//! tool's `Warn:` and `Error:` lines. The tool pads its columns to the widest value and
//! prints `-` for what it does not know; these read rows by their tokens, so any padding
//! (and another version's widths) reads the same.

use super::GroupState;

/// One row of `--describe --group G` (the offsets view).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetRow {
    pub group: String,
    pub topic: String,
    pub partition: u32,
    /// The committed offset; `None` for `-` (nothing committed).
    pub current: Option<i64>,
    /// The log-end offset.
    pub end: Option<i64>,
    /// As the tool printed it; `None` for `-`.
    pub lag: Option<i64>,
    /// `None` for `-`: no member holds the partition.
    pub consumer_id: Option<String>,
    pub host: Option<String>,
    pub client_id: Option<String>,
}

impl OffsetRow {
    /// The lag: the tool's, else end − committed when both are known.
    pub fn lag(&self) -> Option<i64> {
        self.lag.or(match (self.end, self.current) {
            (Some(end), Some(current)) => Some((end - current).max(0)),
            _ => None,
        })
    }
}

/// One row of `--describe --group G --state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateRow {
    pub group: String,
    /// `host:port (id)`, as printed.
    pub coordinator: String,
    /// Empty when the group has no members (nothing to assign).
    pub assignment_strategy: String,
    pub state: GroupState,
    pub members: u32,
}

/// One row of `--describe --group G --members`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    pub group: String,
    pub consumer_id: String,
    pub host: String,
    pub client_id: String,
    pub partitions: u32,
}

/// One row of the `--reset-offsets` table (`GROUP TOPIC PARTITION NEW-OFFSET`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetRow {
    pub group: String,
    pub topic: String,
    pub partition: u32,
    pub new_offset: i64,
}

/// A table the tool printed, the lines around it that say something, and what did not
/// read as either.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed<T> {
    pub rows: Vec<T>,
    /// The groups the tool said have no active members.
    pub no_active_members: Vec<String>,
    /// `Warn: …` lines, without the prefix.
    pub warnings: Vec<String>,
    /// Lines that are neither a header, a row, a warning nor blank (a log line).
    pub unread: Vec<String>,
}

/// What the tool's `Error:` line says, sorted by what rollcall does about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolError {
    /// `Consumer group 'G' does not exist.`
    UnknownGroup {
        group: String,
        message: String,
    },
    /// `Assignments can only be reset if the group 'G' is inactive, but the current
    /// state is S.`
    GroupActive {
        group: String,
        state: String,
        message: String,
    },
    /// `… Topic 'T' does not exist` (or the tool's other words for an unknown topic).
    UnknownTopic {
        message: String,
    },
    /// `… Unparseable date: "…"`.
    BadDatetime {
        message: String,
    },
    Other {
        message: String,
    },
}

impl ToolError {
    /// The tool's own words.
    pub fn message(&self) -> &str {
        match self {
            ToolError::UnknownGroup { message, .. }
            | ToolError::GroupActive { message, .. }
            | ToolError::UnknownTopic { message }
            | ToolError::BadDatetime { message }
            | ToolError::Other { message } => message,
        }
    }

    fn classify(message: &str) -> ToolError {
        let message = message.trim().to_owned();
        let quoted = |after: &str| {
            let start = message.find(after)? + after.len();
            let rest = &message[start..];
            let end = rest.find('\'')?;
            Some(rest[..end].to_owned())
        };
        if message.contains("can only be reset if the group")
            && let Some(group) = quoted("group '")
        {
            let state = message
                .rsplit_once("current state is ")
                .map(|(_, s)| s.trim_end_matches('.').trim().to_owned())
                .unwrap_or_default();
            return ToolError::GroupActive {
                group,
                state,
                message,
            };
        }
        if message.contains("does not exist") {
            if let Some(group) = quoted("Consumer group '") {
                return ToolError::UnknownGroup { group, message };
            }
            if message.to_lowercase().contains("topic") {
                return ToolError::UnknownTopic { message };
            }
        }
        if message.contains("UnknownTopicOrPartition")
            || message.contains("does not host this topic-partition")
        {
            return ToolError::UnknownTopic { message };
        }
        if message.contains("Unparseable date") || message.contains("Error parsing timestamp") {
            return ToolError::BadDatetime { message };
        }
        ToolError::Other { message }
    }
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

/// The first `Error: …` line of the tool's output (stderr first), if it printed one.
/// The tool prints some refusals (a group that is not inactive) with exit status 0, so
/// this is read whatever the status.
pub fn tool_error(stderr: &str, stdout: &str) -> Option<ToolError> {
    stderr
        .lines()
        .chain(stdout.lines())
        .find_map(|l| l.trim().strip_prefix("Error: "))
        .map(ToolError::classify)
}

/// `--list`: one group per line.
pub fn parse_list(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !is_log_line(l) && !l.contains(char::is_whitespace))
        .map(str::to_owned)
        .collect()
}

/// The offsets view of `--describe`.
pub fn parse_offsets(stdout: &str) -> Parsed<OffsetRow> {
    const HEADER: &[&str] = &[
        "GROUP",
        "TOPIC",
        "PARTITION",
        "CURRENT-OFFSET",
        "LOG-END-OFFSET",
        "LAG",
        "CONSUMER-ID",
        "HOST",
        "CLIENT-ID",
    ];
    parse_table(stdout, HEADER, |t| {
        if t.len() < 6 {
            return None;
        }
        let client_id = match t.get(8..) {
            Some(rest) if !rest.is_empty() => dash(&rest.join(" ")),
            _ => None,
        };
        Some(OffsetRow {
            group: t[0].to_owned(),
            topic: t[1].to_owned(),
            partition: t[2].parse().ok()?,
            current: number(t[3])?,
            end: number(t[4])?,
            lag: number(t[5])?,
            consumer_id: t.get(6).and_then(|v| dash(v)),
            host: t.get(7).and_then(|v| dash(v)),
            client_id,
        })
    })
}

/// `--describe --state`. The coordinator is `host:port  (id)` and the assignment
/// strategy is blank for a group without members, so the row is read from both ends.
pub fn parse_state(stdout: &str) -> Parsed<StateRow> {
    const HEADER: &[&str] = &[
        "GROUP",
        "COORDINATOR",
        "(ID)",
        "ASSIGNMENT-STRATEGY",
        "STATE",
        "#MEMBERS",
    ];
    parse_table(stdout, HEADER, |t| {
        let (&members, rest) = t.split_last()?;
        let (&state, rest) = rest.split_last()?;
        let (&group, rest) = rest.split_first()?;
        let members: u32 = members.parse().ok()?;
        let state = GroupState::parse(state);
        // The coordinator runs to its `(id)`; what follows is the strategy.
        let id_at = rest
            .iter()
            .position(|t| t.starts_with('(') && t.ends_with(')'));
        let (coordinator, strategy) = match id_at {
            Some(i) => (rest[..=i].join(" "), rest[i + 1..].join(" ")),
            None => (rest.first().copied().unwrap_or("").to_owned(), {
                rest.get(1..).map(|r| r.join(" ")).unwrap_or_default()
            }),
        };
        Some(StateRow {
            group: group.to_owned(),
            coordinator,
            assignment_strategy: if strategy == "-" {
                String::new()
            } else {
                strategy
            },
            state,
            members,
        })
    })
}

/// `--describe --members`.
pub fn parse_members(stdout: &str) -> Parsed<MemberRow> {
    const HEADER: &[&str] = &["GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS"];
    parse_table(stdout, HEADER, |t| {
        if t.len() < 5 {
            return None;
        }
        // `--verbose` adds an ASSIGNMENT column after #PARTITIONS; the count is the
        // last number before it.
        let count_at = (4..t.len()).find(|&i| t[i].parse::<u32>().is_ok())?;
        Some(MemberRow {
            group: t[0].to_owned(),
            consumer_id: t[1].to_owned(),
            host: t[2].to_owned(),
            client_id: t[3..count_at].join(" "),
            partitions: t[count_at].parse().ok()?,
        })
    })
}

/// The `--reset-offsets` table, of a dry run or an execute.
pub fn parse_reset(stdout: &str) -> Parsed<ResetRow> {
    const HEADER: &[&str] = &["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"];
    parse_table(stdout, HEADER, |t| {
        if t.len() != 4 {
            return None;
        }
        Some(ResetRow {
            group: t[0].to_owned(),
            topic: t[1].to_owned(),
            partition: t[2].parse().ok()?,
            new_offset: t[3].parse().ok()?,
        })
    })
}

/// `-` is unknown; anything else must be a number (`Some(None)` for `-`, `None` when
/// the value is neither, so the row is not taken for one).
fn number(v: &str) -> Option<Option<i64>> {
    if v == "-" {
        return Some(None);
    }
    v.parse().ok().map(Some)
}

fn dash(v: &str) -> Option<String> {
    (v != "-" && !v.is_empty()).then(|| v.to_owned())
}

/// A log4j line the JVM put among the output (`[2024-…] WARN …`, `SLF4J: …`).
fn is_log_line(l: &str) -> bool {
    l.starts_with('[') || l.starts_with("SLF4J") || l.starts_with("WARNING:")
}

/// Rows under every `header` line (the tool repeats it per group), read by `row`.
fn parse_table<T>(stdout: &str, header: &[&str], row: impl Fn(&[&str]) -> Option<T>) -> Parsed<T> {
    let mut out = Parsed {
        rows: Vec::new(),
        no_active_members: Vec::new(),
        warnings: Vec::new(),
        unread: Vec::new(),
    };
    let mut in_table = false;
    for line in stdout.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(w) = trimmed.strip_prefix("Warn: ") {
            out.warnings.push(w.to_owned());
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("Consumer group '")
            && let Some((group, tail)) = rest.split_once('\'')
            && tail.contains("has no active members")
        {
            out.no_active_members.push(group.to_owned());
            continue;
        }
        let tokens: Vec<&str> = trimmed.split_whitespace().collect();
        if tokens == header {
            in_table = true;
            continue;
        }
        match (in_table, row(&tokens)) {
            (true, Some(r)) => out.rows.push(r),
            _ => out.unread.push(trimmed.to_owned()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_sorted_by_what_they_mean() {
        let e = tool_error("Error: Consumer group 'nope' does not exist.\n", "").unwrap();
        assert_eq!(
            e,
            ToolError::UnknownGroup {
                group: "nope".into(),
                message: "Consumer group 'nope' does not exist.".into()
            }
        );
        let e = tool_error(
            "",
            "\nError: Assignments can only be reset if the group 'g' is inactive, but the \
             current state is Stable.\n",
        )
        .unwrap();
        assert!(
            matches!(e, ToolError::GroupActive { ref group, ref state, .. }
            if group == "g" && state == "Stable")
        );
        assert!(matches!(
            tool_error(
                "Error: Executing consumer group command failed due to Topic 't' does not exist",
                ""
            ),
            Some(ToolError::UnknownTopic { .. })
        ));
        assert!(matches!(
            tool_error(
                "Error: Executing consumer group command failed due to java.text.ParseException: Unparseable date: \"x\"",
                ""
            ),
            Some(ToolError::BadDatetime { .. })
        ));
        assert_eq!(tool_error("fine\n", "GROUP TOPIC\n"), None);
    }
}
