//! The zero-downtime lint: each rule on SQL that must trip it and on the safe
//! pattern that must not, plus a deterministic fuzz that arbitrary text never
//! panics the linter.

use rollcall_sqllint::{Rule, Verdict, lint};

fn rules(sql: &str) -> Vec<Rule> {
    let report = lint(sql);
    assert!(report.problems.is_empty(), "{sql}: {:?}", report.problems);
    report.findings.iter().map(|f| f.rule).collect()
}

#[test]
fn drop_table_and_column() {
    assert_eq!(rules("DROP TABLE legacy;"), vec![Rule::DropTable]);
    assert_eq!(
        rules("ALTER TABLE t DROP COLUMN c;"),
        vec![Rule::DropColumn]
    );
    assert_eq!(
        rules("DROP INDEX idx_a; ALTER TABLE t ADD COLUMN c int;"),
        vec![]
    );
}

#[test]
fn renames() {
    assert_eq!(
        rules("ALTER TABLE t RENAME COLUMN a TO b;"),
        vec![Rule::Rename]
    );
    assert_eq!(rules("ALTER TABLE t RENAME TO t2;"), vec![Rule::Rename]);
    assert_eq!(rules("ALTER TABLE t ADD COLUMN b text;"), vec![]);
}

#[test]
fn type_changes() {
    assert_eq!(
        rules("ALTER TABLE t ALTER COLUMN a TYPE bigint;"),
        vec![Rule::TypeChange]
    );
    assert_eq!(
        rules("ALTER TABLE t ALTER COLUMN a SET DATA TYPE text;"),
        vec![Rule::TypeChange]
    );
    assert_eq!(rules("ALTER TABLE t ALTER COLUMN a SET DEFAULT 0;"), vec![]);
}

#[test]
fn add_column_not_null_needs_a_default() {
    assert_eq!(
        rules("ALTER TABLE t ADD COLUMN n int NOT NULL;"),
        vec![Rule::AddColumnNotNull]
    );
    assert_eq!(
        rules("ALTER TABLE t ADD COLUMN n int NOT NULL DEFAULT 0;"),
        vec![]
    );
    assert_eq!(rules("ALTER TABLE t ADD COLUMN n int;"), vec![]);
}

#[test]
fn set_not_null_says_backfill_first() {
    let report = lint("ALTER TABLE entity_catalog ALTER COLUMN new_field SET NOT NULL;");
    assert_eq!(report.findings.len(), 1);
    let f = &report.findings[0];
    assert_eq!(f.rule, Rule::SetNotNull);
    assert!(
        f.message.contains("backfill first, constrain next release"),
        "{}",
        f.message
    );
    assert!(f.safer.contains("backfill first, constrain next release"));
    assert_eq!(rules("ALTER TABLE t ALTER COLUMN a DROP NOT NULL;"), vec![]);
}

#[test]
fn create_index_needs_concurrently() {
    // The seed's own 000002 migration.
    assert_eq!(
        rules("CREATE INDEX idx_entity_type ON entity_catalog(entity_type);"),
        vec![Rule::IndexNotConcurrent]
    );
    assert_eq!(rules("CREATE INDEX CONCURRENTLY idx ON t (a);"), vec![]);
    // A table created in the same file is empty: nothing to block.
    assert_eq!(
        rules("CREATE TABLE n (id int);\nCREATE INDEX n_id ON n (id);"),
        vec![]
    );
}

#[test]
fn unbatched_updates() {
    assert_eq!(rules("UPDATE t SET a = 1;"), vec![Rule::UnbatchedUpdate]);
    // The seed's backfill touches every row in one statement.
    assert_eq!(
        rules("UPDATE entity_catalog SET new_field = 'default' WHERE new_field IS NULL;"),
        vec![Rule::UnbatchedUpdate]
    );
    assert_eq!(rules("UPDATE t SET a = 1 WHERE id = 7;"), vec![]);
    assert_eq!(
        rules("UPDATE t SET a = 1 WHERE id IN (SELECT id FROM t WHERE a IS NULL LIMIT 1000);"),
        vec![]
    );
    assert_eq!(
        rules("UPDATE t SET a = 1 WHERE id BETWEEN 1 AND 1000;"),
        vec![]
    );
}

#[test]
fn findings_name_statement_line_and_safer_pattern() {
    let sql = "-- add things\nCREATE TABLE a (id int);\n\nALTER TABLE entity_catalog\n  DROP COLUMN legacy_ref;\n";
    let report = lint(sql);
    assert_eq!(report.verdict(), Verdict::Unsafe);
    let f = &report.findings[0];
    assert_eq!(f.line, 4);
    assert_eq!(
        f.statement,
        "ALTER TABLE entity_catalog DROP COLUMN legacy_ref"
    );
    assert!(f.safer.contains("next release"));
    assert_eq!(report.statements, 2);
}

#[test]
fn unparseable_sql_is_reported_and_the_rest_still_linted() {
    let report = lint("CREATE TABLE ok (id int);\nTHIS IS NOT SQL;\nDROP TABLE ok;");
    assert_eq!(report.problems.len(), 1);
    assert_eq!(report.problems[0].line, 2);
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].line, 3);
    let report = lint("SELECT 'unterminated");
    assert_eq!(report.verdict(), Verdict::Unchecked);
    assert_eq!(lint("").verdict(), Verdict::Safe);
    assert_eq!(lint("-- only a comment\n").verdict(), Verdict::Safe);
}

#[test]
fn the_shipped_demo_migrations() {
    // Down files undo ups (a DROP is expected there); only up files are linted.
    for (name, sql) in rollcall_migrate::demo::FILES
        .iter()
        .filter(|(n, _)| n.contains(".up."))
    {
        let report = lint(sql);
        assert!(report.problems.is_empty(), "{name}: {:?}", report.problems);
        let unsafe_ = report.verdict() == Verdict::Unsafe;
        let expected =
            name.contains(".up.") && (name.starts_with("000002") || name.starts_with("000005"));
        assert_eq!(unsafe_, expected, "{name}: {:?}", report.findings);
    }
}

/// xorshift: deterministic, so a failure reproduces.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const WORDS: &[&str] = &[
    "ALTER",
    "TABLE",
    "DROP",
    "COLUMN",
    "CREATE",
    "INDEX",
    "CONCURRENTLY",
    "ON",
    "UPDATE",
    "SET",
    "WHERE",
    "NOT",
    "NULL",
    "DEFAULT",
    "RENAME",
    "TO",
    "TYPE",
    "ADD",
    "(",
    ")",
    ";",
    ",",
    "'",
    "\"",
    "$$",
    "--",
    "/*",
    "*/",
    "t",
    "a",
    "1",
    "=",
    "IS",
    "SELECT",
    "FROM",
    "BEGIN",
    "COMMIT",
    "\n",
    "é",
    "\u{0}",
    "\\",
    "E'",
    "$tag$",
    "[",
    "]",
    "::",
    "->",
    "LIMIT",
    "IN",
    "BETWEEN",
    "AND",
];

#[test]
fn fuzz_token_soup_never_panics() {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for _ in 0..3000 {
        let n = (rng.next() % 40) as usize;
        let sql: Vec<&str> = (0..n).map(|_| rng.pick(WORDS)).collect();
        let _ = lint(&sql.join(" "));
    }
}

#[test]
fn fuzz_random_bytes_and_mutations_never_panic() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let seeds: Vec<&str> = rollcall_migrate::demo::FILES
        .iter()
        .map(|(_, s)| *s)
        .collect();
    for i in 0..3000 {
        let text = if i % 2 == 0 {
            let len = (rng.next() % 200) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| (rng.next() % 256) as u8).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            // A real migration with a few characters cut, doubled or swapped.
            let mut chars: Vec<char> = rng.pick(&seeds).chars().collect();
            for _ in 0..(rng.next() % 6) {
                if chars.is_empty() {
                    break;
                }
                let at = (rng.next() as usize) % chars.len();
                match rng.next() % 3 {
                    0 => {
                        chars.remove(at);
                    }
                    1 => chars.insert(at, chars[at]),
                    _ => chars[at] = ['(', '\'', ';', '"', '$'][(rng.next() % 5) as usize],
                }
            }
            chars.into_iter().collect()
        };
        let _ = lint(&text);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let sql = format!("SELECT {}1{};", "(".repeat(5000), ")".repeat(5000));
    let report = lint(&sql);
    assert_eq!(report.verdict(), Verdict::Unchecked);
    let sql = format!(
        "UPDATE t SET a = 1 WHERE {}a IS NULL{};",
        "(".repeat(3000),
        ")".repeat(3000)
    );
    let _ = lint(&sql);
}
