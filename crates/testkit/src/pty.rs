//! A small driver for running the real `rollcall` binary in a pseudo-terminal.
//!
//! Everything the program writes is collected twice: as raw bytes (to check the
//! escape sequences it leaves behind) and through a `vt100::Parser` (to read the
//! screen as a user would see it). Every wait is bounded, and a failed wait panics
//! with the whole screen in the message. Dropping a [`Tui`] kills the child if it is
//! still running, so a failing test never leaves a process behind.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, native_pty_system};

pub const ROWS: u16 = 48;
pub const COLS: u16 = 160;

/// How often the screen is looked at while waiting.
const POLL: Duration = Duration::from_millis(50);
/// A screen counts as settled when no output arrived for this long: ratatui writes a
/// frame in one burst, so a quiet gap means no frame is half applied.
const QUIET: Duration = Duration::from_millis(15);

struct Shared {
    parser: vt100::Parser,
    raw: Vec<u8>,
    last_output: Instant,
}

pub struct Tui {
    child: Box<dyn Child + Send + Sync>,
    writer: Option<Box<dyn Write + Send>>,
    shared: Arc<Mutex<Shared>>,
    reader_done: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
    // Kept open for as long as the child runs; the reader holds a clone.
    _master: Box<dyn MasterPty + Send>,
    status: Option<ExitStatus>,
}

impl Tui {
    /// Start `program args...` in a fresh 160x48 pseudo-terminal with
    /// TERM=xterm-256color and the given extra environment.
    /// `rollcall run --kubeconfig KC` with its audit log (`DIR/audit.jsonl`), its own
    /// log, HOME and XDG directories all in `dir`.
    pub fn run_against(bin: &str, dir: &std::path::Path, kubeconfig: &std::path::Path) -> Tui {
        let args: Vec<std::ffi::OsString> = vec![
            "run".into(),
            "--kubeconfig".into(),
            kubeconfig.into(),
            "--audit-log".into(),
            dir.join("audit.jsonl").into(),
            "--log-file".into(),
            dir.join("rollcall.log").into(),
        ];
        let home = dir.as_os_str();
        let state = dir.join("state");
        let env: Vec<(&str, &OsStr)> = vec![
            ("HOME", home),
            ("XDG_CONFIG_HOME", home),
            ("XDG_STATE_HOME", state.as_os_str()),
        ];
        Tui::spawn(bin, &args, &env)
    }

    /// `rollcall demo ARGS` with its audit log (`DIR/audit.jsonl`), its own log, HOME
    /// and XDG directories all in `dir`, so it shares nothing with the user or another
    /// test.
    pub fn demo(bin: &str, dir: &std::path::Path, demo_args: &[&str]) -> Tui {
        let mut args: Vec<std::ffi::OsString> = vec!["demo".into()];
        args.extend(demo_args.iter().map(std::ffi::OsString::from));
        args.extend([
            "--audit-log".into(),
            dir.join("audit.jsonl").into(),
            "--log-file".into(),
            dir.join("rollcall.log").into(),
        ]);
        let state = dir.join("state");
        let env: Vec<(&str, &OsStr)> = vec![
            ("HOME", dir.as_os_str()),
            ("XDG_CONFIG_HOME", dir.as_os_str()),
            ("XDG_STATE_HOME", state.as_os_str()),
        ];
        Tui::spawn(bin, &args, &env)
    }

    pub fn spawn<S: AsRef<OsStr>>(program: &str, args: &[S], env: &[(&str, &OsStr)]) -> Tui {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pseudo-terminal");
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        for var in ["ROLLCALL_AUDIT_LOG", "ROLLCALL_LOG_FILE", "KUBECONFIG"] {
            cmd.env_remove(var);
        }
        for (key, value) in env {
            cmd.env(key, value);
        }
        let child = pty.slave.spawn_command(cmd).expect("spawn rollcall");
        // Only the child may hold the slave side, or reading the master never ends.
        drop(pty.slave);

        let mut reader = pty.master.try_clone_reader().expect("pty reader");
        let writer = pty.master.take_writer().expect("pty writer");
        let shared = Arc::new(Mutex::new(Shared {
            parser: vt100::Parser::new(
                NonZeroU16::new(ROWS).expect("rows"),
                NonZeroU16::new(COLS).expect("cols"),
                0,
            ),
            raw: Vec::new(),
            last_output: Instant::now(),
        }));
        let reader_done = Arc::new(AtomicBool::new(false));
        let handle = {
            let shared = Arc::clone(&shared);
            let done = Arc::clone(&reader_done);
            thread::spawn(move || {
                let mut buf = [0u8; 16 * 1024];
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
                            s.raw.extend_from_slice(&buf[..n]);
                            s.parser.process(&buf[..n]);
                            s.last_output = Instant::now();
                        }
                    }
                }
                done.store(true, Ordering::SeqCst);
            })
        };
        Tui {
            child,
            writer: Some(writer),
            shared,
            reader_done,
            reader: Some(handle),
            _master: pty.master,
            status: None,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The process id of the program under test.
    pub fn pid(&self) -> u32 {
        self.child.process_id().expect("the child has a pid")
    }

    /// The screen as text right now (rows joined by newlines, trailing blanks cut).
    pub fn screen(&self) -> String {
        self.lock().parser.screen().contents()
    }

    /// The screen once no output has arrived for a moment (bounded to half a
    /// second), so it never shows a frame half drawn.
    pub fn settled_screen(&self) -> String {
        let deadline = Instant::now() + Duration::from_millis(500);
        loop {
            {
                let s = self.lock();
                if s.last_output.elapsed() >= QUIET || Instant::now() >= deadline {
                    return s.parser.screen().contents();
                }
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// The text of a rectangle of the screen, one string per row.
    pub fn region(&self, top: u16, left: u16, height: u16, width: u16) -> Vec<String> {
        let s = self.lock();
        s.parser
            .screen()
            .rows(left, width)
            .skip(top as usize)
            .take(height as usize)
            .collect()
    }

    /// Every byte the program has written so far.
    pub fn raw_output(&self) -> Vec<u8> {
        self.lock().raw.clone()
    }

    /// Panic with `why` and the whole screen.
    pub fn fail(&self, why: &str) -> ! {
        panic!(
            "{why}\n===== screen ({COLS}x{ROWS}) =====\n{}\n===== end of screen =====",
            self.screen()
        );
    }

    /// Poll the settled screen every 50 ms until `check` returns `Ok(Some(_))`.
    /// Fails (with the screen) when `check` returns an error, when the program
    /// exits, or after `timeout`, saying what was awaited.
    pub fn wait_until<T>(
        &mut self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut(&str) -> Result<Option<T>, String>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.settled_screen();
            match check(&screen) {
                Ok(Some(value)) => return value,
                Ok(None) => {}
                Err(why) => panic!(
                    "{why} (while waiting for {what})\n===== screen ({COLS}x{ROWS}) =====\n{screen}\n===== end of screen ====="
                ),
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                self.status = Some(status.clone());
                self.fail(&format!(
                    "rollcall exited ({status}) while waiting for {what}"
                ));
            }
            if Instant::now() >= deadline {
                self.fail(&format!("timed out after {timeout:?} waiting for {what}"));
            }
            thread::sleep(POLL);
        }
    }

    /// Wait until `text` is on screen; returns that screen.
    pub fn wait_for(&mut self, text: &str, timeout: Duration) -> String {
        self.wait_until(&format!("{text:?}"), timeout, |screen| {
            Ok(screen.contains(text).then(|| screen.to_string()))
        })
    }

    /// Confirms the open confirm dialog: scrolled to its end when it does not fit, a
    /// reason first when the change window is closed (the wall clock decides, so tests
    /// pass on any day), then `name` when the dialog asks for it typed, then Enter.
    pub fn confirm(&mut self, name: &str, timeout: Duration) {
        let screen = self.wait_until("a confirm dialog", timeout, |s| {
            Ok((s.contains("Enter confirm") || s.contains("to confirm:")).then(|| s.to_string()))
        });
        // A dialog taller than the terminal is read to its end before it can be confirmed.
        if screen.contains("it does not fit") {
            for _ in 0..20 {
                self.send("\x1b[6~");
            }
        }
        let reason = screen.contains("CHANGE WINDOW CLOSED");
        if reason {
            self.send("end-to-end test outside the change window");
        }
        if screen.contains(&format!("type {name} to confirm")) {
            if reason {
                self.send("\t");
            }
            self.send(name);
        }
        self.send("\r");
        self.until_dialog_closed(timeout);
    }

    /// Watches the dialog just confirmed for a refusal. One that grew past the screen
    /// (its server dry run answered) is scrolled to its end, and one whose target still
    /// had a command in flight is confirmed again once that landed, as a user would; any
    /// other refusal fails with the dialog on screen. A refusal counts once it has stayed
    /// for a second (one from before the keys were read goes as they are), and a dialog
    /// with none after a few seconds is the next one (a change offered again).
    fn until_dialog_closed(&mut self, timeout: Duration) {
        const REFUSALS: [&str; 4] = [
            "does not fit: scroll it",
            "still in flight",
            "exactly to confirm, or Esc",
            "type the reason (kept in the audit log)",
        ];
        let start = Instant::now();
        let mut seen: Option<(&str, Instant)> = None;
        loop {
            let screen = self.settled_screen();
            if !(screen.contains("Enter confirm") || screen.contains("to confirm:")) {
                return;
            }
            if start.elapsed() >= timeout {
                self.fail(&format!("the confirmed dialog stayed open for {timeout:?}"));
            }
            let refusal = REFUSALS.into_iter().find(|r| screen.contains(r));
            seen = match (refusal, seen) {
                (Some(r), Some((was, since))) if r == was => Some((was, since)),
                (Some(r), _) => Some((r, Instant::now())),
                (None, _) => None,
            };
            match seen {
                Some((r, since)) if since.elapsed() >= Duration::from_secs(1) => {
                    if r == REFUSALS[0] {
                        for _ in 0..20 {
                            self.send("\x1b[6~");
                        }
                    } else if r != REFUSALS[1] {
                        self.fail("the confirmed dialog refused what was typed");
                    }
                    eprintln!("the confirmed dialog said {r:?}: Enter again");
                    self.send("\r");
                    seen = None;
                }
                None if start.elapsed() >= Duration::from_secs(3) => return,
                _ => {}
            }
            thread::sleep(POLL);
        }
    }

    /// Type `keys` (raw bytes: "\r" is Enter, "\x1b" is Esc).
    pub fn send(&mut self, keys: &str) {
        let writer = self.writer.as_mut().expect("pty writer");
        writer.write_all(keys.as_bytes()).expect("write to pty");
        writer.flush().expect("flush pty");
    }

    /// Sends `signal` (INT, QUIT, TERM, HUP, …) to the program as `kill -SIGNAL PID`
    /// would, from outside its terminal: in raw mode Ctrl-C is a key, this is the signal.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.process_id().expect("rollcall has a process id");
        let status = std::process::Command::new("sh")
            .args(["-c", &format!("kill -{signal} {pid}")])
            .status()
            .expect("sh runs kill");
        assert!(status.success(), "kill -{signal} {pid} failed: {status}");
    }

    /// Asserts from the bytes written that the terminal was given back: the alternate
    /// screen entered and then left, the cursor shown again after it was last hidden,
    /// and nothing drawn after that.
    pub fn assert_terminal_restored(&self) {
        const ENTER_ALT_SCREEN: &[u8] = b"\x1b[?1049h";
        const LEAVE_ALT_SCREEN: &[u8] = b"\x1b[?1049l";
        const HIDE_CURSOR: &[u8] = b"\x1b[?25l";
        const SHOW_CURSOR: &[u8] = b"\x1b[?25h";
        let raw = self.raw_output();
        let find = |needle: &[u8]| raw.windows(needle.len()).rposition(|w| w == needle);
        let printable = |bytes: &[u8]| String::from_utf8_lossy(bytes).escape_debug().to_string();
        let tail = printable(&raw[raw.len().saturating_sub(400)..]);
        let enter = find(ENTER_ALT_SCREEN).expect("the alternate screen was never entered");
        let leave = find(LEAVE_ALT_SCREEN).unwrap_or_else(|| {
            panic!("the alternate screen was never left; output ends with \"{tail}\"")
        });
        assert!(
            leave > enter,
            "the alternate screen was entered again after leaving it; output ends with \"{tail}\""
        );
        let show = find(SHOW_CURSOR).unwrap_or_else(|| {
            panic!("the cursor was never shown again; output ends with \"{tail}\"")
        });
        if let Some(hide) = find(HIDE_CURSOR) {
            assert!(
                show > hide,
                "the cursor was hidden after it was last shown; output ends with \"{tail}\""
            );
        }
        let end = (leave + LEAVE_ALT_SCREEN.len()).max(show + SHOW_CURSOR.len());
        assert!(
            raw[end..].iter().all(u8::is_ascii_whitespace),
            "output goes on after the terminal was restored: \"{}\"",
            printable(&raw[end..])
        );
    }

    /// Quits with `q` and waits for the exit. A command still in flight makes `q` ask
    /// for a second press (its outcome would be recorded as unknown): then the command
    /// is waited out (the question gives way to its outcome) before `q` again, as an
    /// on-call engineer who wants a complete record would.
    pub fn quit(&mut self, timeout: Duration) -> ExitStatus {
        const ASKED: &str = "press q again to quit anyway";
        self.send("q");
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                return self.wait_exit(timeout);
            }
            if self.settled_screen().contains(ASKED) {
                break;
            }
            if Instant::now() >= deadline {
                self.fail(&format!("q did not quit nor ask within {timeout:?}"));
            }
            thread::sleep(POLL);
        }
        self.wait_until("the command in flight to land", timeout, |s| {
            Ok((!s.contains(ASKED)).then_some(()))
        });
        self.send("q");
        self.wait_exit(timeout)
    }

    /// Wait for the program to exit, and for all of its output to be read.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => thread::sleep(POLL),
                Ok(None) => self.fail(&format!("rollcall did not exit within {timeout:?}")),
                Err(e) => self.fail(&format!("waiting for rollcall failed: {e}")),
            }
        };
        self.status = Some(status.clone());
        // The slave side closes with the child; the reader then sees EOF / EIO.
        while !self.reader_done.load(Ordering::SeqCst) {
            if Instant::now() >= deadline + Duration::from_secs(5) {
                self.fail("rollcall exited but its terminal output never ended");
            }
            thread::sleep(Duration::from_millis(10));
        }
        if let Some(handle) = self.reader.take() {
            handle.join().expect("pty reader thread");
        }
        status
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        if self.status.is_none() && matches!(self.child.try_wait(), Ok(None)) {
            // SIGHUP, then SIGKILL after a short grace period.
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        // Dropping the writer after the child is gone keeps its EOF from reaching it.
        self.writer.take();
    }
}
