//! The scale benchmark: `cargo bench --bench scale` (see the README's performance
//! section). For each size it starts `rollcall sim --scenario scale`, runs rollcall
//! (all namespaces, in a pseudo-terminal) and a peer command against it, and prints
//! one table: time to first rows, time to the whole list, peak RSS, idle CPU, CPU
//! under churn, and change→screen latency measured with a marker planted in the
//! first visible pod.
//!
//! Options (after `--`): --sizes 1000,10000,50000  --namespaces 50  --idle-secs 60
//! --churn-secs 20  --changes 200  --no-peer

mod cluster;
mod proc;
mod screen;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cluster::Sim;
use screen::Screen;

const ROLLCALL: &str = env!("CARGO_BIN_EXE_rollcall");

#[derive(Debug, Clone)]
struct Options {
    sizes: Vec<u32>,
    namespaces: u32,
    idle: Duration,
    churn_window: Duration,
    changes: u32,
    peer: bool,
}

fn options() -> Options {
    let mut o = Options {
        sizes: vec![1_000, 10_000, 50_000],
        namespaces: 50,
        idle: Duration::from_secs(60),
        churn_window: Duration::from_secs(20),
        changes: 200,
        peer: true,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut next = || it.next().cloned().unwrap_or_default();
        match a.as_str() {
            "--sizes" => o.sizes = next().split(',').filter_map(|s| s.parse().ok()).collect(),
            "--namespaces" => o.namespaces = next().parse().unwrap_or(o.namespaces),
            "--idle-secs" => o.idle = Duration::from_secs(next().parse().unwrap_or(60)),
            "--churn-secs" => o.churn_window = Duration::from_secs(next().parse().unwrap_or(20)),
            "--changes" => o.changes = next().parse().unwrap_or(o.changes),
            "--no-peer" => o.peer = false,
            _ => {} // cargo bench passes --bench
        }
    }
    o
}

/// One tool's figures at one size. None = could not be measured.
#[derive(Debug, Default, Clone)]
struct Figures {
    first_rows: Option<Duration>,
    loaded: Option<Duration>,
    peak_rss_mib: Option<f64>,
    idle_cpu: Option<f64>,
    cpu_at: Vec<(u32, Option<f64>)>,
    latency: Vec<Duration>,
}

/// The pods pane title says `all namespaces · N`; N is how many rows have arrived.
fn title_count(screen: &str) -> Option<usize> {
    let rest = &screen[screen.find("all namespaces · ")? + "all namespaces · ".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn rollcall_args(sim: &Sim, logs: &tempfile::TempDir) -> Vec<String> {
    vec![
        "run".into(),
        "--kubeconfig".into(),
        sim.kubeconfig.display().to_string(),
        "--all-namespaces".into(),
        "--readonly".into(),
        "--log-file".into(),
        logs.path().join("rollcall.log").display().to_string(),
        "--audit-log".into(),
        logs.path().join("audit.jsonl").display().to_string(),
    ]
}

async fn measure_rollcall(o: &Options, n: u32) -> Result<Figures, String> {
    let mut f = Figures::default();
    let logs = tempfile::tempdir().map_err(|e| e.to_string())?;
    let sim = Sim::start(ROLLCALL, n, o.namespaces, 0).await?;
    let started = Instant::now();
    let screen = Screen::spawn(ROLLCALL, &rollcall_args(&sim, &logs))?;
    let pid = screen.pid().ok_or("no pid")?;
    f.first_rows = screen
        .wait(Duration::from_secs(60), |s| {
            title_count(s).filter(|c| *c > 0)
        })
        .map(|_| started.elapsed());
    f.loaded = screen
        .wait(Duration::from_secs(180), |s| {
            (title_count(s) == Some(n as usize) && !s.contains("loading")).then_some(())
        })
        .map(|_| started.elapsed());
    f.idle_cpu = proc::cpu_percent_over(pid, o.idle);
    let (ns, name) = sim.first_pod().await?;
    for i in 1..=o.changes {
        let marker = 1000 + i;
        let sent = sim.mark(&ns, &name, marker).await?;
        let token = format!(" {marker} ");
        let seen = screen.wait(Duration::from_secs(5), |s| {
            s.lines()
                .any(|l| l.contains(&name) && l.contains(&token))
                .then(Instant::now)
        });
        if let Some(at) = seen {
            f.latency.push(at - sent);
        }
        tokio::time::sleep(Duration::from_millis(20 + u64::from(i % 7) * 5)).await;
    }
    f.peak_rss_mib = proc::peak_rss_mib(pid);
    drop(screen);
    drop(sim);
    for rate in [100, 1_000] {
        let sim = Sim::start(ROLLCALL, n, o.namespaces, rate).await?;
        let screen = Screen::spawn(ROLLCALL, &rollcall_args(&sim, &logs))?;
        let pid = screen.pid().ok_or("no pid")?;
        screen.wait(Duration::from_secs(180), |s| {
            (title_count(s) == Some(n as usize)).then_some(())
        });
        f.cpu_at
            .push((rate, proc::cpu_percent_over(pid, o.churn_window)));
        if let Some(rss) = proc::peak_rss_mib(pid) {
            f.peak_rss_mib = Some(f.peak_rss_mib.unwrap_or(0.0).max(rss));
        }
    }
    Ok(f)
}

/// Lines kubectl printed, with when each arrived.
type Lines = Arc<Mutex<Vec<(Instant, String)>>>;

/// Starts `kubectl get pods -A -w -o name` against `sim`, collecting its lines.
fn spawn_kubectl(
    sim: &Sim,
    cache: &std::path::Path,
) -> Result<(std::process::Child, Lines), String> {
    let mut child = Command::new("kubectl")
        .args(["get", "pods", "-A", "-w", "-o", "name", "--kubeconfig"])
        .arg(&sim.kubeconfig)
        .arg("--cache-dir")
        .arg(cache)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("kubectl: {e}"))?;
    let lines: Lines = Arc::default();
    let out = child.stdout.take().ok_or("no stdout")?;
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Ok(mut v) = sink.lock() {
                v.push((Instant::now(), line));
            }
        }
    });
    Ok((child, lines))
}

/// When the `count`th line arrived, waiting up to `timeout` for it.
fn wait_lines(lines: &Lines, count: usize, timeout: Duration) -> Option<Instant> {
    let deadline = Instant::now() + timeout;
    loop {
        let got = lines
            .lock()
            .map(|v| v.get(count - 1).map(|l| l.0))
            .ok()
            .flatten();
        if got.is_some() || Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// `kubectl get pods -A -w -o name`: prints each pod once, then a line per change.
async fn measure_kubectl(o: &Options, n: u32) -> Result<Figures, String> {
    let mut f = Figures::default();
    let sim = Sim::start(ROLLCALL, n, o.namespaces, 0).await?;
    let cache = tempfile::tempdir().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let (mut child, lines) = spawn_kubectl(&sim, cache.path())?;
    let pid = child.id();
    let line_at = |count: usize, timeout: Duration| wait_lines(&lines, count, timeout);
    f.first_rows = line_at(1, Duration::from_secs(60)).map(|t| t - started);
    f.loaded = line_at(n as usize, Duration::from_secs(180)).map(|t| t - started);
    f.idle_cpu = proc::cpu_percent_over(pid, o.idle);
    let (ns, name) = sim.first_pod().await?;
    let wanted = format!("pod/{name}");
    for i in 1..=o.changes {
        let before = lines.lock().map(|v| v.len()).unwrap_or(0);
        let sent = sim.mark(&ns, &name, 1000 + i).await?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            let hit = lines.lock().ok().and_then(|v| {
                v[before.min(v.len())..]
                    .iter()
                    .find(|(_, l)| *l == wanted)
                    .map(|(t, _)| *t)
            });
            if let Some(at) = hit {
                f.latency.push(at.saturating_duration_since(sent));
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        tokio::time::sleep(Duration::from_millis(20 + u64::from(i % 7) * 5)).await;
    }
    f.peak_rss_mib = proc::peak_rss_mib(pid);
    let _ = child.kill();
    let _ = child.wait();
    drop(sim);
    for rate in [100, 1_000] {
        let sim = Sim::start(ROLLCALL, n, o.namespaces, rate).await?;
        let (mut child, lines) = spawn_kubectl(&sim, cache.path())?;
        let cpu = wait_lines(&lines, n as usize, Duration::from_secs(180))
            .and_then(|_| proc::cpu_percent_over(child.id(), o.churn_window));
        f.cpu_at.push((rate, cpu));
        let _ = child.kill();
        let _ = child.wait();
    }
    Ok(f)
}

fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(idx).copied()
}

fn cell<T>(v: Option<T>, fmt: impl Fn(T) -> String) -> String {
    v.map(fmt).unwrap_or_else(|| "—".into())
}

fn print_table(tool: &str, sizes: &[u32], all: &[Figures]) {
    println!("\n### {tool}\n");
    let head: Vec<String> = sizes.iter().map(|n| format!("{n} pods")).collect();
    println!("| metric | {} |", head.join(" | "));
    println!("|---|{}", "---|".repeat(sizes.len()));
    let row = |name: &str, f: &dyn Fn(&Figures) -> String| {
        let cells: Vec<String> = all.iter().map(f).collect();
        println!("| {name} | {} |", cells.join(" | "));
    };
    let ms = |d: Duration| format!("{} ms", d.as_millis());
    let secs = |d: Duration| format!("{:.2} s", d.as_secs_f64());
    row("first screen with rows", &|f| cell(f.first_rows, ms));
    row("whole list loaded", &|f| cell(f.loaded, secs));
    row("peak RSS", &|f| {
        cell(f.peak_rss_mib, |m| format!("{m:.1} MiB"))
    });
    row("idle CPU", &|f| cell(f.idle_cpu, |c| format!("{c:.2} %")));
    for rate in [100, 1_000] {
        row(&format!("CPU at {rate} events/s"), &|f| {
            let c = f
                .cpu_at
                .iter()
                .find(|(r, _)| *r == rate)
                .and_then(|(_, c)| *c);
            cell(c, |c| format!("{c:.1} %"))
        });
    }
    row("change → screen median / p99", &|f| {
        let mut l = f.latency.clone();
        l.sort();
        match (percentile(&l, 0.5), percentile(&l, 0.99)) {
            (Some(m), Some(p)) => format!(
                "{} / {} ms ({} changes)",
                m.as_millis(),
                p.as_millis(),
                l.len()
            ),
            _ => "—".into(),
        }
    });
}

fn main() {
    let o = options();
    let Ok(rt) = tokio::runtime::Runtime::new() else {
        eprintln!("cannot start a tokio runtime");
        std::process::exit(1);
    };
    let kubectl_present = Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok();
    let mut ours = Vec::new();
    let mut peer = Vec::new();
    for &n in &o.sizes {
        eprintln!("== {n} pods: rollcall");
        ours.push(rt.block_on(measure_rollcall(&o, n)).unwrap_or_else(|e| {
            eprintln!("rollcall at {n} pods: {e}");
            Figures::default()
        }));
        if o.peer && kubectl_present {
            eprintln!("== {n} pods: kubectl get pods -A -w -o name");
            peer.push(rt.block_on(measure_kubectl(&o, n)).unwrap_or_else(|e| {
                eprintln!("kubectl at {n} pods: {e}");
                Figures::default()
            }));
        }
    }
    print_table("rollcall run --all-namespaces", &o.sizes, &ours);
    if !peer.is_empty() {
        print_table(
            "kubectl get pods -A -w -o name (the floor)",
            &o.sizes,
            &peer,
        );
    }
}
