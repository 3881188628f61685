//! End to end: the real `rollcall` binary in a pseudo-terminal, driven from the
//! keyboard the way a user would drive it.
//!
//! - `demo`: see the environments and pods, restart metadata-catalog in prod through
//!   the production confirm dialog, watch the rollout replace every pod without the
//!   prod READY ever dropping below 9/9, quit, and check the terminal was restored and
//!   the audit log has its intent and its outcome.
//! - `demo --readonly`: `r` opens nothing and says read-only; help has no restart.
//! - `demo --config DIR` with a broken environments.yaml: exit status 2, the error
//!   names file:line:column, and the terminal is never touched.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use rollcall_testkit::pty::Tui;
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_rollcall");

const STARTUP: Duration = Duration::from_secs(30);
const STEP: Duration = Duration::from_secs(10);
const ROLLOUT: Duration = Duration::from_secs(40);
const EXIT: Duration = Duration::from_secs(5);

const ENTER_ALT_SCREEN: &[u8] = b"\x1b[?1049h";
const HIDE_CURSOR: &[u8] = b"\x1b[?25l";

/// A private HOME / XDG_STATE_HOME / XDG_CONFIG_HOME plus the audit and log files.
struct Sandbox {
    dir: TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        for sub in ["state", "config"] {
            fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        Sandbox { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn audit_log(&self) -> PathBuf {
        self.path("audit.jsonl")
    }

    fn env(&self) -> Vec<(&'static str, OsString)> {
        vec![
            ("HOME", self.dir.path().into()),
            ("XDG_STATE_HOME", self.path("state").into()),
            ("XDG_CONFIG_HOME", self.path("config").into()),
        ]
    }

    /// `rollcall demo --speed 20 --audit-log .. --log-file .. EXTRA...` in a pty.
    fn spawn_demo(&self, extra: &[&str]) -> Tui {
        let mut args: Vec<OsString> = vec!["demo".into(), "--speed".into(), "20".into()];
        args.push("--audit-log".into());
        args.push(self.audit_log().into());
        args.push("--log-file".into());
        args.push(self.path("rollcall.log").into());
        args.extend(extra.iter().map(OsString::from));
        let env = self.env();
        let env: Vec<(&str, &OsStr)> = env.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
        Tui::spawn(BIN, &args, &env)
    }

    fn audit_lines(&self) -> Vec<String> {
        match fs::read_to_string(self.audit_log()) {
            // The session record says rollcall started; the rest are what it did.
            Ok(text) => text
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.contains(r#""record":"session""#))
                .map(str::to_string)
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => panic!("cannot read the audit log: {e}"),
        }
    }
}

/// Parse `a/b`.
fn ratio(token: &str) -> Option<(u32, u32)> {
    let (a, b) = token.split_once('/')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// READY of one row of the Environments pane, e.g. `prod  dictamesh-prod  window  9/9`.
fn env_ready(screen: &str, env: &str, namespace: &str) -> Option<(u32, u32)> {
    screen.lines().find_map(|line| {
        let tokens: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || "│┃▶".contains(c))
            .filter(|t| !t.is_empty())
            .collect();
        let at = tokens
            .windows(2)
            .position(|w| w[0] == env && w[1] == namespace)?;
        tokens[at + 2..].iter().find_map(|t| ratio(t))
    })
}

#[derive(Debug, Clone, PartialEq)]
struct PodRow {
    name: String,
    /// The pod-template hash of the ReplicaSet that owns the pod.
    hash: String,
    ready: String,
    status: String,
}

/// Rows of the Pods pane whose name is `{service}-{hash}-{suffix}`.
fn pod_rows(screen: &str, service: &str) -> Vec<PodRow> {
    let prefix = format!("{service}-");
    screen
        .lines()
        .filter_map(|line| {
            let line = line.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
            let mut tokens = line.split_whitespace();
            let name = tokens.next()?;
            let (hash, suffix) = name.strip_prefix(&prefix)?.split_once('-')?;
            if hash.is_empty() || suffix.is_empty() || suffix.contains('-') {
                return None;
            }
            let ready = tokens.next()?;
            ratio(ready)?;
            Some(PodRow {
                name: name.to_string(),
                hash: hash.to_string(),
                ready: ready.to_string(),
                status: tokens.next()?.to_string(),
            })
        })
        .collect()
}

fn footer(screen: &str) -> &str {
    screen.lines().last().unwrap_or("")
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

fn printable(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).escape_debug().to_string()
}

/// Quits with `q` (waiting out a command in flight) and checks the exit.
fn assert_exits_cleanly(tui: &mut Tui) {
    let status = tui.quit(EXIT);
    assert!(
        status.success(),
        "rollcall exited with {status}, expected status 0"
    );
    tui.assert_terminal_restored();
}

/// Wait until prod has all 9 desired replicas ready and the pods pane shows some
/// Running 1/1 metadata-catalog pod. Ready may exceed 9: the demo's customer-adapter
/// canary runs one canary pod beside its 3 stable ones.
fn wait_for_demo_ready(tui: &mut Tui) {
    tui.wait_until(
        "prod at least 9/9 and a Running 1/1 metadata-catalog pod",
        STARTUP,
        |screen| {
            let prod = env_ready(screen, "prod", "dictamesh-prod");
            let pod = pod_rows(screen, "metadata-catalog")
                .into_iter()
                .any(|p| p.ready == "1/1" && p.status == "Running");
            let prod_ready = prod.is_some_and(|(ready, desired)| desired == 9 && ready >= 9);
            Ok((prod_ready && pod).then_some(()))
        },
    );
}

/// `]` `]` to prod, `2` to focus the Pods pane; returns prod's metadata-catalog pods.
fn open_prod_pods(tui: &mut Tui) -> Vec<PodRow> {
    tui.send("]]");
    let pods = tui.wait_until(
        "prod's pods: 3 metadata-catalog pods Running 1/1",
        STEP,
        |screen| {
            // 9 Deployment/stable pods, plus the demo canary's pod(s).
            if !screen.contains("Pods · prod · dictamesh-prod · ") {
                return Ok(None);
            }
            let pods = pod_rows(screen, "metadata-catalog");
            let ready = pods.len() == 3
                && pods
                    .iter()
                    .all(|p| p.ready == "1/1" && p.status == "Running");
            Ok(ready.then_some(pods))
        },
    );
    tui.send("2");
    tui.wait_until("the Pods pane to take focus", STEP, |screen| {
        // The focused pane has the heavy border.
        Ok(screen
            .lines()
            .any(|l| l.starts_with("┏ Pods · prod"))
            .then_some(()))
    });
    pods
}

#[test]
fn demo_restart_metadata_catalog_in_prod() {
    let sandbox = Sandbox::new();
    let started = Instant::now();
    let mut tui = sandbox.spawn_demo(&[]);

    wait_for_demo_ready(&mut tui);
    let before = open_prod_pods(&mut tui);
    let old_hash = before[0].hash.clone();
    assert!(
        before.iter().all(|p| p.hash == old_hash),
        "prod's metadata-catalog pods come from more than one ReplicaSet before the restart: {before:?}"
    );

    // The list is sorted by name: 3 customer-adapter, 3 graphql-gateway, then
    // metadata-catalog. From the top, six rows down is the first metadata-catalog pod.
    // Sorted by name, metadata-catalog's pods come last.
    tui.send("G");
    tui.send("r");
    let dialog = tui.wait_for(
        "PATCH /apis/apps/v1/namespaces/dictamesh-prod/deployments/metadata-catalog",
        STEP,
    );
    assert!(
        dialog.contains("type metadata-catalog to confirm"),
        "the production dialog does not ask to type the Deployment's name:\n{dialog}"
    );

    // Enter with nothing typed is refused (the name, or first the reason when the
    // change window is closed), and the dialog stays open.
    tui.send("\r");
    let refused = tui.wait_until("the refusal", STEP, |s| {
        Ok(
            (s.contains("type metadata-catalog exactly") || s.contains("type the reason"))
                .then(|| s.to_string()),
        )
    });
    assert!(
        refused.contains("PATCH /apis/apps/v1/namespaces/dictamesh-prod/deployments/"),
        "the dialog closed after an empty confirmation:\n{refused}"
    );
    assert!(
        sandbox.audit_lines().is_empty(),
        "a refused confirmation wrote to the audit log: {:?}",
        sandbox.audit_lines()
    );

    tui.confirm("metadata-catalog", STEP);

    // Until every pod is replaced: prod never shows fewer than 9 ready.
    let mut restarted = false;
    let mut prod_seen: Vec<(u32, u32)> = Vec::new();
    let after = tui.wait_until(
        "'restarted' in the footer and 3 new metadata-catalog pods, all 1/1, old ones gone",
        ROLLOUT,
        |screen| {
            let (ready, desired) = env_ready(screen, "prod", "dictamesh-prod")
                .ok_or("the prod row of the Environments pane is not on screen")?;
            if desired != 9 || ready < 9 {
                return Err(format!(
                    "prod READY is {ready}/{desired} during the rollout; it must never be below 9/9"
                ));
            }
            if prod_seen.last() != Some(&(ready, desired)) {
                prod_seen.push((ready, desired));
            }
            restarted |= footer(screen).contains("✔ deployment/metadata-catalog restarted");
            let pods = pod_rows(screen, "metadata-catalog");
            let done = restarted
                && pods.len() == 3
                && pods.iter().all(|p| {
                    p.hash != old_hash
                        && p.hash == pods[0].hash
                        && p.ready == "1/1"
                        && p.status == "Running"
                });
            Ok(done.then_some(pods))
        },
    );
    assert!(
        after.iter().all(|p| !before.contains(p)),
        "old pods survived the restart: before {before:?}, after {after:?}"
    );
    eprintln!(
        "rollout done after {:?}: ReplicaSet {old_hash} -> {}; prod READY went {prod_seen:?}",
        started.elapsed(),
        after[0].hash
    );

    assert_exits_cleanly(&mut tui);

    // The intent, recorded before the PATCH left, then the outcome.
    let lines = sandbox.audit_lines();
    assert_eq!(
        lines.len(),
        2,
        "expected the intent and the outcome, got {lines:#?}"
    );
    assert!(lines[0].contains(r#""record":"intent""#), "{}", lines[0]);
    let entry: serde_json::Value = serde_json::from_str(&lines[1])
        .unwrap_or_else(|e| panic!("audit line is not JSON ({e}): {}", lines[1]));
    for (field, want) in [
        ("command", "restart-deployment"),
        ("name", "metadata-catalog"),
        ("namespace", "dictamesh-prod"),
        ("result", "ok"),
    ] {
        assert_eq!(
            entry[field].as_str(),
            Some(want),
            "audit field {field:?} in {entry}"
        );
    }
}

#[test]
fn readonly_demo_refuses_restart_and_hides_it_from_help() {
    let sandbox = Sandbox::new();
    let mut tui = sandbox.spawn_demo(&["--readonly"]);

    wait_for_demo_ready(&mut tui);
    open_prod_pods(&mut tui);
    // Sorted by name, metadata-catalog's pods come last.
    tui.send("G");
    tui.send("r");
    let screen = tui.wait_until("the footer to say read-only", STEP, |screen| {
        Ok(footer(screen)
            .contains("read-only")
            .then(|| screen.to_string()))
    });
    for dialog_text in ["PATCH", "Restart deployment", "to confirm"] {
        assert!(
            !screen.contains(dialog_text),
            "read-only mode opened a restart dialog ({dialog_text:?} on screen):\n{screen}"
        );
    }

    // Keys typed right after a refused change key are not commands (the key guard,
    // 800 ms of the user's time): the user reads the refusal first.
    std::thread::sleep(Duration::from_millis(900));
    tui.send("?");
    let screen = tui.wait_for("Keys (any key closes)", STEP);
    let help = help_popup(&tui, &screen);
    assert!(help.contains("quit"), "help does not list quit:\n{help}");
    // The restart action, not the sort order's "most restarts".
    assert!(
        !help.contains("restart the selected pod's Deployment"),
        "read-only help lists restart:\n{help}"
    );

    tui.send("\x1b");
    tui.wait_until("the help to close", STEP, |screen| {
        Ok((!screen.contains("Keys (any key closes)")).then_some(()))
    });
    assert_exits_cleanly(&mut tui);
    assert!(
        sandbox.audit_lines().is_empty(),
        "read-only mode wrote to the audit log: {:?}",
        sandbox.audit_lines()
    );
}

/// The text inside the help popup's border (the pane behind it cut away).
fn help_popup(tui: &Tui, screen: &str) -> String {
    let lines: Vec<&str> = screen.lines().collect();
    let (top, title) = lines
        .iter()
        .enumerate()
        .find(|(_, l)| l.contains("┌ Keys"))
        .expect("help popup title");
    let start = title.find("┌ Keys").expect("popup corner");
    // Everything left of the popup is one column per character (borders, spaces).
    let left = title[..start].chars().count();
    let width = title[start..]
        .chars()
        .position(|c| c == '┐')
        .expect("popup's top-right corner")
        + 1;
    let height = lines[top..]
        .iter()
        .position(|l| l.chars().nth(left) == Some('└'))
        .expect("popup's bottom border")
        + 1;
    tui.region(top as u16, left as u16, height as u16, width as u16)
        .join("\n")
}

/// `rollcall demo --config DIR` with DIR/environments.yaml = `yaml`: (status, stdout, stderr).
fn run_with_config(yaml: &str) -> (Option<i32>, Vec<u8>, String, PathBuf, TempDir) {
    let sandbox = Sandbox::new();
    let dir = sandbox.path("config");
    fs::write(dir.join("environments.yaml"), yaml).expect("write environments.yaml");
    let mut child = Command::new(BIN)
        .args(["demo", "--speed", "20", "--config"])
        .arg(&dir)
        .arg("--audit-log")
        .arg(sandbox.audit_log())
        .arg("--log-file")
        .arg(sandbox.path("rollcall.log"))
        .env("TERM", "xterm-256color")
        .envs(sandbox.env())
        .env_remove("ROLLCALL_AUDIT_LOG")
        .env_remove("ROLLCALL_LOG_FILE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rollcall");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for rollcall") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("rollcall with a bad config did not exit within 20 s");
        }
        thread::sleep(Duration::from_millis(20));
    };
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_end(&mut stdout)
        .expect("read stdout");
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_end(&mut stderr)
        .expect("read stderr");
    (
        status.code(),
        stdout,
        String::from_utf8_lossy(&stderr).into_owned(),
        dir,
        sandbox.dir,
    )
}

/// The `LINE:COL` right after `environments.yaml:` in `stderr`.
fn error_position(stderr: &str) -> Option<(u32, u32)> {
    let (_, rest) = stderr.split_once("environments.yaml:")?;
    let mut parts = rest.splitn(3, ':');
    let line = parts.next()?.parse().ok()?;
    let col = parts.next()?.parse().ok()?;
    parts.next()?;
    Some((line, col))
}

fn assert_untouched_terminal(stdout: &[u8], stderr: &str) {
    for (name, bytes) in [("stdout", stdout), ("stderr", stderr.as_bytes())] {
        for seq in [ENTER_ALT_SCREEN, HIDE_CURSOR, b"\x1b[?1049".as_slice()] {
            assert!(
                find(bytes, seq).is_none(),
                "{name} has terminal escape {:?}: \"{}\"",
                printable(seq),
                printable(bytes)
            );
        }
    }
}

#[test]
fn bad_config_exits_2_with_position_and_leaves_terminal_alone() {
    // An unknown key in flow style, and a wrongly typed value in block style.
    let cases: [(&str, Option<(u32, u32)>); 2] = [
        (
            "environments: [{name: prod, namespace: 5, bogus: true}]\n",
            None,
        ),
        (
            "environments:\n  - name: prod\n    namespace: dictamesh-prod\n    policy:\n      min_replicas: lots\n",
            Some((5, 21)),
        ),
    ];
    for (yaml, want_position) in cases {
        let (code, stdout, stderr, dir, _keep) = run_with_config(yaml);
        assert_eq!(code, Some(2), "exit status for {yaml:?}; stderr: {stderr}");
        let position = error_position(&stderr).unwrap_or_else(|| {
            panic!("stderr does not name environments.yaml:LINE:COL for {yaml:?}: {stderr}")
        });
        if let Some(want) = want_position {
            assert_eq!(
                position, want,
                "error position for {yaml:?}; stderr: {stderr}"
            );
        } else {
            assert_eq!(position.0, 1, "error line for {yaml:?}; stderr: {stderr}");
        }
        assert!(
            stderr.contains(&path_display(&dir.join("environments.yaml"))),
            "stderr does not name the file's path {:?}: {stderr}",
            dir.join("environments.yaml")
        );
        assert!(
            !stderr.contains("panicked"),
            "rollcall panicked on a bad config: {stderr}"
        );
        assert_untouched_terminal(&stdout, &stderr);
    }
}

fn path_display(path: &Path) -> String {
    path.display().to_string()
}
