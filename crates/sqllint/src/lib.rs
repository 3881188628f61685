//! Zero-downtime lint of migration SQL against the seed's rules: additive changes
//! only, code that works with both schemas, backfill in batches, constraints in the
//! next release. The SQL is parsed with sqlparser (PostgreSQL dialect), statement by
//! statement, so one statement it cannot parse is reported and the rest still linted.
//! Nothing here panics on any input: every failure is a `LintReport::problems` entry.
//! A crate of its own: it knows nothing of golang-migrate or rollcall, and the parser
//! it builds on is the slowest dependency to compile, which this keeps off the
//! migrations crate's path.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde::Serialize;
use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnOption, Expr, ObjectType, Statement,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    DropTable,
    DropColumn,
    Rename,
    TypeChange,
    AddColumnNotNull,
    SetNotNull,
    IndexNotConcurrent,
    UnbatchedUpdate,
}

impl Rule {
    /// Short tag for the pane's LINT column.
    pub fn tag(self) -> &'static str {
        match self {
            Rule::DropTable => "DROP TABLE",
            Rule::DropColumn => "DROP COLUMN",
            Rule::Rename => "RENAME",
            Rule::TypeChange => "TYPE CHANGE",
            Rule::AddColumnNotNull => "NOT NULL w/o DEFAULT",
            Rule::SetNotNull => "SET NOT NULL",
            Rule::IndexNotConcurrent => "INDEX not CONCURRENTLY",
            Rule::UnbatchedUpdate => "UNBATCHED UPDATE",
        }
    }

    /// What to do instead, in the seed's words.
    pub fn safer(self) -> &'static str {
        match self {
            Rule::DropTable | Rule::DropColumn => {
                "stop using it in code first; drop it in the next release, once no running version reads it"
            }
            Rule::Rename => {
                "add the new name, write both, backfill, switch reads, drop the old one in the next release"
            }
            Rule::TypeChange => {
                "add a new column of the new type, backfill in batches, switch code, drop the old column next release"
            }
            Rule::AddColumnNotNull => {
                "add the column nullable (or with a DEFAULT), backfill in batches, constrain next release"
            }
            Rule::SetNotNull => {
                "backfill first, constrain next release (ADD CONSTRAINT … CHECK (col IS NOT NULL) NOT VALID, then VALIDATE)"
            }
            Rule::IndexNotConcurrent => {
                "CREATE INDEX CONCURRENTLY, alone in its own migration file (it cannot run in a transaction)"
            }
            Rule::UnbatchedUpdate => {
                "backfill in batches: UPDATE … WHERE id IN (SELECT id … LIMIT 1000), repeated until no rows change"
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: Rule,
    /// 1-based line of the statement in the file.
    pub line: u64,
    /// The statement, shortened to one line.
    pub statement: String,
    pub message: String,
    pub safer: &'static str,
}

/// Something the linter could not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParseProblem {
    pub line: u64,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LintReport {
    pub findings: Vec<Finding>,
    pub problems: Vec<ParseProblem>,
    pub statements: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Safe,
    Unsafe,
    /// Some SQL could not be parsed, so the migration could not be fully checked.
    Unchecked,
}

impl LintReport {
    pub fn verdict(&self) -> Verdict {
        if !self.findings.is_empty() {
            Verdict::Unsafe
        } else if !self.problems.is_empty() {
            Verdict::Unchecked
        } else {
            Verdict::Safe
        }
    }

    pub fn rules(&self) -> Vec<Rule> {
        let mut rules: Vec<Rule> = self.findings.iter().map(|f| f.rule).collect();
        rules.dedup();
        rules
    }
}

/// sqlparser's own limit is 50; deep nesting in garbage input must end in an error,
/// well before the thread's stack does.
const RECURSION_LIMIT: usize = 40;

/// Lints one migration file's SQL.
pub fn lint(sql: &str) -> LintReport {
    let dialect = PostgreSqlDialect {};
    let mut report = LintReport::default();
    let tokens = match Tokenizer::new(&dialect, sql).tokenize_with_location() {
        Ok(t) => t,
        Err(e) => {
            report.problems.push(ParseProblem {
                line: e.location.line.max(1),
                message: format!("cannot tokenize: {}", e.message),
            });
            return report;
        }
    };
    // Tables created in this same file are empty, so indexing or constraining them
    // cannot block traffic.
    let mut created: Vec<String> = Vec::new();
    for chunk in split_statements(tokens) {
        let line = chunk
            .iter()
            .find(|t| !matches!(t.token, Token::Whitespace(_)))
            .map(|t| t.span.start.line)
            .unwrap_or(1)
            .max(1);
        let parsed = Parser::new(&dialect)
            .with_recursion_limit(RECURSION_LIMIT)
            .with_tokens_with_locations(chunk)
            .parse_statements();
        match parsed {
            Ok(statements) => {
                for stmt in statements {
                    report.statements += 1;
                    check(&stmt, line, &mut created, &mut report.findings);
                }
            }
            Err(e) => report.problems.push(ParseProblem {
                line,
                message: format!("cannot parse: {e}"),
            }),
        }
    }
    report
}

/// Splits tokens at top-level semicolons, dropping pieces with only whitespace and
/// comments (golang-migrate skips those too).
fn split_statements(tokens: Vec<TokenWithSpan>) -> Vec<Vec<TokenWithSpan>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    for t in tokens {
        match t.token {
            Token::SemiColon => {
                current.push(t);
                out.push(std::mem::take(&mut current));
            }
            Token::EOF => {}
            _ => current.push(t),
        }
    }
    out.push(current);
    out.retain(|chunk| {
        chunk
            .iter()
            .any(|t| !matches!(t.token, Token::Whitespace(_) | Token::SemiColon))
    });
    out
}

fn short(stmt: &Statement) -> String {
    let text = stmt.to_string();
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 100 {
        let cut: String = one_line.chars().take(97).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

fn check(stmt: &Statement, line: u64, created: &mut Vec<String>, out: &mut Vec<Finding>) {
    let mut flag = |rule: Rule, message: String| {
        out.push(Finding {
            rule,
            line,
            statement: short(stmt),
            message,
            safer: rule.safer(),
        })
    };
    match stmt {
        Statement::CreateTable(ct) => created.push(ct.name.to_string().to_lowercase()),
        Statement::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        } => {
            let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            flag(
                Rule::DropTable,
                format!(
                    "drops table {}: running code that reads it breaks",
                    names.join(", ")
                ),
            );
        }
        Statement::CreateIndex(ci) => {
            let table = ci.table_name.to_string().to_lowercase();
            if !ci.concurrently && !created.contains(&table) {
                flag(
                    Rule::IndexNotConcurrent,
                    format!(
                        "CREATE INDEX on {table} without CONCURRENTLY locks writes to the table while it builds"
                    ),
                );
            }
        }
        Statement::AlterTable(at) => {
            let table = at.name.to_string();
            let fresh = created.contains(&table.to_lowercase());
            for op in &at.operations {
                alter_op(op, &table, fresh, &mut flag);
            }
        }
        Statement::Update(u) => {
            let table = u.table.relation.to_string();
            let whole = match &u.selection {
                None => Some("has no WHERE".to_owned()),
                Some(expr) if is_backfill_filter(expr) => {
                    Some(format!("WHERE {expr} still matches the whole table"))
                }
                Some(_) => None,
            };
            if let Some(why) = whole
                && u.limit.is_none()
            {
                flag(
                    Rule::UnbatchedUpdate,
                    format!(
                        "UPDATE {table} {why}: one long transaction locks every row it touches"
                    ),
                );
            }
        }
        _ => {}
    }
}

fn alter_op(
    op: &AlterTableOperation,
    table: &str,
    fresh: bool,
    flag: &mut impl FnMut(Rule, String),
) {
    match op {
        AlterTableOperation::DropColumn { column_names, .. } => {
            let cols: Vec<String> = column_names.iter().map(|c| c.to_string()).collect();
            flag(
                Rule::DropColumn,
                format!(
                    "drops column {} of {table}: code still reading it breaks",
                    cols.join(", ")
                ),
            );
        }
        AlterTableOperation::RenameColumn {
            old_column_name,
            new_column_name,
        } => flag(
            Rule::Rename,
            format!(
                "renames {table}.{old_column_name} to {new_column_name}: the running version uses the old name"
            ),
        ),
        AlterTableOperation::RenameTable { .. } => flag(
            Rule::Rename,
            format!("renames table {table}: the running version uses the old name"),
        ),
        AlterTableOperation::ChangeColumn { old_name, .. } => flag(
            Rule::TypeChange,
            format!(
                "changes column {table}.{old_name}: rewrites the table and breaks the running version"
            ),
        ),
        AlterTableOperation::ModifyColumn { col_name, .. } => flag(
            Rule::TypeChange,
            format!(
                "modifies column {table}.{col_name}: rewrites the table and breaks the running version"
            ),
        ),
        AlterTableOperation::AlterColumn { column_name, op } => match op {
            AlterColumnOperation::SetDataType { data_type, .. } => flag(
                Rule::TypeChange,
                format!(
                    "changes the type of {table}.{column_name} to {data_type}: may rewrite the table under an exclusive lock"
                ),
            ),
            AlterColumnOperation::SetNotNull if !fresh => flag(
                Rule::SetNotNull,
                format!(
                    "SET NOT NULL on {table}.{column_name} scans the table under an exclusive lock and fails on old rows: backfill first, constrain next release"
                ),
            ),
            _ => {}
        },
        AlterTableOperation::AddColumn { column_def, .. } if !fresh => {
            let opts = || column_def.options.iter().map(|o| &o.option);
            let not_null = opts().any(|o| matches!(o, ColumnOption::NotNull));
            let default = opts().any(|o| matches!(o, ColumnOption::Default(_)));
            if not_null && !default {
                flag(
                    Rule::AddColumnNotNull,
                    format!(
                        "adds {table}.{} NOT NULL without a DEFAULT: fails on existing rows, and old code cannot insert",
                        column_def.name
                    ),
                );
            }
        }
        _ => {}
    }
}

/// `col IS NULL` / `col IS NOT NULL` (alone or AND-ed): the backfill filter, which
/// on a live table matches every row at once.
fn is_backfill_filter(expr: &Expr) -> bool {
    match expr {
        Expr::IsNull(_) | Expr::IsNotNull(_) | Expr::Value(_) => true,
        Expr::Nested(e) => is_backfill_filter(e),
        Expr::BinaryOp { left, op, right } if op.to_string() == "AND" => {
            is_backfill_filter(left) && is_backfill_filter(right)
        }
        _ => false,
    }
}
