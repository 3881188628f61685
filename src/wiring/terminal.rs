//! The terminal loop: crossterm key events, watch data and a one-second clock feed
//! `update()`; the screen is redrawn only when something changed: at most ~30 times a
//! second after a key, ~15 times a second for watch data alone. The terminal is
//! restored on every exit path, panics included.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use color_eyre::eyre::{Result, WrapErr};
use crossterm::cursor::Show;
use crossterm::event::{Event as TermEvent, EventStream};
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen};
use futures::StreamExt;
use ratatui::DefaultTerminal;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{MissedTickBehavior, interval, sleep_until};

use crate::app::{Effect, Event, State, update};
use crate::bus::Bus;
use crate::config::Theme;
use crate::domain::Clock;
use crate::ui;

/// The least time between two frames when the user pressed a key or resized.
const FRAME_GAP: Duration = Duration::from_millis(33);
/// The least time between two frames that only show new watch data. A frame costs about
/// a millisecond; under steady churn (hundreds of pod changes a second on a big cluster)
/// 15 frames a second keeps the CPU near 1.5 % while a change still shows within ~70 ms.
const DATA_FRAME_GAP: Duration = Duration::from_millis(66);
/// How long one batch of queued data may hold the loop before the screen is drawn,
/// so the first page of a big list shows while the rest is still arriving.
const DRAIN_BUDGET: Duration = Duration::from_millis(12);

pub async fn run(
    state: State,
    theme: Theme,
    bus: Bus<Event>,
    rx: mpsc::Receiver<Event>,
    clock: Clock,
    ticks_file: &Path,
    streams: Streams,
) -> Result<()> {
    // Caught before the terminal goes raw, so that from then on no signal ends the
    // process without the terminal being given back.
    let stop = stop_signals();
    let mut terminal = init().wrap_err("cannot set up the terminal")?;
    let io = Io {
        bus: &bus,
        ticks_file,
        logs: &streams.logs,
        kafka: &streams.kafka,
    };
    let result = event_loop(&mut terminal, state, &theme, &io, rx, clock, stop).await;
    restore().wrap_err("cannot restore the terminal")?;
    result
}

/// Raw mode, the alternate screen, and a panic hook that gives the terminal back first.
fn init() -> std::io::Result<DefaultTerminal> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = restore();
        previous(info);
    }));
    crossterm::terminal::enable_raw_mode()?;
    crossterm::execute!(std::io::stdout(), EnterAlternateScreen)?;
    ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))
}

/// The terminal as the shell left it: raw mode off, the main screen back, the cursor
/// shown (ratatui's own restore leaves the cursor to the `Terminal`'s drop, which a
/// panic or an early return may never reach).
pub fn restore() -> std::io::Result<()> {
    let raw = crossterm::terminal::disable_raw_mode();
    let screen = crossterm::execute!(std::io::stdout(), LeaveAlternateScreen, Show);
    raw.and(screen)
}

/// The terminal loop ended because the process was asked to stop by a signal. The
/// terminal is restored by then; the exit status is 128 + the signal's number, as a shell
/// reports a process the signal ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stopped by {name}")]
pub struct Stopped {
    pub name: &'static str,
    pub number: i32,
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    mut state: State,
    theme: &Theme,
    io: &Io<'_>,
    mut rx: mpsc::Receiver<Event>,
    clock: Clock,
    mut stop: mpsc::Receiver<Stopped>,
) -> Result<()> {
    state.now = clock();
    let size = terminal.size()?;
    state.size = (size.width, size.height);
    let mut keys = EventStream::new();
    let mut ticker = interval(Duration::from_secs(1));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut dirty = true;
    // The gap the pending redraw waits for: short after input, longer for data alone.
    let mut gap = FRAME_GAP;
    let mut last_draw = Instant::now() - DATA_FRAME_GAP;

    loop {
        if dirty && last_draw.elapsed() >= gap {
            terminal.draw(|frame| ui::render(frame, &state, theme))?;
            dirty = false;
            gap = DATA_FRAME_GAP;
            last_draw = Instant::now();
        }
        if state.should_quit {
            return Ok(());
        }
        let next_frame = tokio::time::Instant::from_std(last_draw + gap);
        let event = tokio::select! {
            key = keys.next() => match key {
                Some(Ok(TermEvent::Key(k))) => Event::KeyAt { key: k, at: clock() },
                Some(Ok(TermEvent::Resize(width, height))) => Event::Resize { width, height },
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e).wrap_err("reading the terminal failed"),
                // stdin closed: nobody is there to drive the screen.
                None => return Ok(()),
            },
            Some(ev) = rx.recv() => ev,
            _ = ticker.tick() => Event::Tick(clock()),
            _ = sleep_until(next_frame), if dirty => continue,
            Some(signal) = stop.recv() => return Err(signal.into()),
        };
        if matches!(
            event,
            Event::Key(_) | Event::KeyAt { .. } | Event::Resize { .. }
        ) {
            gap = FRAME_GAP;
        }
        dirty |= apply(&mut state, event, io);
        // Coalesce whatever else is queued into this frame, within a time budget.
        let started = Instant::now();
        while started.elapsed() < DRAIN_BUDGET {
            match rx.try_recv() {
                Ok(ev) => dirty |= apply(&mut state, ev, io),
                Err(_) => break,
            }
        }
    }
}

/// Where the loop's effects go.
struct Io<'a> {
    bus: &'a Bus<Event>,
    ticks_file: &'a Path,
    logs: &'a LogStreams,
    kafka: &'a KafkaWakes,
}

/// What the loop's effects start or wake besides the bus.
pub struct Streams {
    pub logs: LogStreams,
    pub kafka: KafkaWakes,
}

/// Each Kafka watcher's wake-up, by environment: notified to read at once.
pub type KafkaWakes = HashMap<usize, std::sync::Arc<tokio::sync::Notify>>;

/// The clusters' clients by environment, for log streams, and the streams running.
pub struct LogStreams {
    clients: HashMap<usize, kube::Client>,
    tx: mpsc::Sender<Event>,
    running: Mutex<HashMap<u64, Vec<JoinHandle<()>>>>,
}

impl LogStreams {
    pub fn new(clients: HashMap<usize, kube::Client>, tx: mpsc::Sender<Event>) -> Self {
        LogStreams {
            clients,
            tx,
            running: Mutex::new(HashMap::new()),
        }
    }

    fn start(&self, request: &crate::clients::logs::LogRequest) -> Option<String> {
        let Some(client) = self.clients.get(&request.env) else {
            return Some("logs: no cluster connection for this environment".into());
        };
        let tasks = crate::clients::logs::spawn(client, request, &self.tx);
        if let Ok(mut running) = self.running.lock() {
            running.insert(request.session, tasks);
        }
        None
    }

    fn stop(&self, session: u64) {
        if let Ok(mut running) = self.running.lock()
            && let Some(tasks) = running.remove(&session)
        {
            for t in tasks {
                t.abort();
            }
        }
    }
}

impl Drop for LogStreams {
    fn drop(&mut self) {
        if let Ok(running) = self.running.get_mut() {
            for t in running.drain().flat_map(|(_, t)| t) {
                t.abort();
            }
        }
    }
}

fn apply(state: &mut State, event: Event, io: &Io<'_>) -> bool {
    let (effects, mut changed) = update(state, event);
    for effect in effects {
        match effect {
            Effect::Send {
                op,
                command,
                reason,
            } => io.bus.send_with_reason(op, command, reason),
            Effect::FetchManifests(fetch) => io.bus.fetch_manifests(fetch),
            Effect::DryRun(command) => io.bus.dry_run(command),
            Effect::Settled { op, outcome } => io.bus.settled(op, outcome),
            Effect::StreamLogs(request) => {
                if let Some(why) = io.logs.start(&request) {
                    state.flash = Some((state.now, why, false));
                    changed = true;
                }
            }
            Effect::StopLogs(session) => io.logs.stop(session),
            Effect::RefreshKafka(env) => {
                if let Some(wake) = io.kafka.get(&env) {
                    wake.notify_one();
                }
            }
            Effect::SaveTicks(ticks) => {
                if let Err(e) = super::ticks::save(io.ticks_file, &ticks) {
                    let why = format!(
                        "cannot keep unsynced ticks in {}: {e}",
                        io.ticks_file.display()
                    );
                    tracing::warn!("{why}");
                    state.flash = Some((state.now, why, false));
                    changed = true;
                }
            }
        }
    }
    changed
}

/// SIGINT, SIGQUIT, SIGTERM and SIGHUP end the app cleanly (terminal restored) instead
/// of killing it. In raw mode Ctrl-C and Ctrl-\ arrive as keys; these are the signals
/// sent with `kill`, or by a closing terminal. Registered at once, so that none arriving
/// from here on has its default effect (ending the process as it is).
fn stop_signals() -> mpsc::Receiver<Stopped> {
    let (tx, rx) = mpsc::channel(1);
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let kinds = [
            ("SIGINT", SignalKind::interrupt()),
            ("SIGQUIT", SignalKind::quit()),
            ("SIGTERM", SignalKind::terminate()),
            ("SIGHUP", SignalKind::hangup()),
        ];
        for (name, kind) in kinds {
            let mut stream = match signal(kind) {
                Ok(stream) => stream,
                Err(e) => {
                    tracing::warn!("cannot catch {name}: {e}");
                    continue;
                }
            };
            let tx = tx.clone();
            let stopped = Stopped {
                name,
                number: kind.as_raw_value(),
            };
            tokio::spawn(async move {
                if stream.recv().await.is_some() {
                    let _ = tx.send(stopped).await;
                }
            });
        }
    }
    drop(tx);
    rx
}
