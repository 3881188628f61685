//! External programs the tests drive (kubectl, curl): found on PATH, or a loud skip —
//! except under CI=true, where a missing tool fails the test.

use std::path::PathBuf;

/// `name` in a directory of PATH.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// `name` on PATH; otherwise panics under CI=true, or says loudly that `what` did not
/// run and returns None.
pub fn or_skip(name: &str, what: &str) -> Option<PathBuf> {
    let found = on_path(name);
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{name} not found on PATH (required under CI=true)"
        );
        eprintln!("\n*** SKIPPED: {name} not found on PATH; {what} did not run ***\n");
    }
    found
}

/// `git -C dir ARGS`, which must succeed; its stdout.
pub fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
