//! `update(state, event) -> effects`: the only place state changes. Pure: no I/O,
//! no clock reads (the time comes in `Event::Tick`), so it is tested directly.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui_textarea::TextArea;

use super::panes::environments::select_env;
use crate::app::action::Action;
use crate::app::event::Event;
use crate::app::state::{EnvState, Mode, OpRecord, Pane, State};
use crate::bus::{Command, OpId};
use crate::domain::WatchUpdate;
use crate::domain::feed::EnvUpdate;

/// What the main loop must do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send this command through the bus, with the reason the policy asked for.
    Send {
        op: OpId,
        command: Command,
        reason: Option<String>,
    },
    /// Ask the server for a dry run of what an open dialog would send (nothing is
    /// changed); the answer comes back as `Event::DryRun`.
    DryRun(Command),
    /// Read an app's manifests at a revision (a read: no audit, no confirmation); the
    /// answer comes back as `Event::Manifests`.
    FetchManifests(crate::app::panes::argocd::images::ManifestFetch),
    /// Keep these checklist ticks, which the cluster does not have yet, in the local
    /// file (replacing what it held).
    SaveTicks(Vec<crate::app::panes::checklist::Unsynced>),
    /// Stream these pods' logs into the app (`Event::Log`).
    StreamLogs(crate::clients::logs::LogRequest),
    /// Stop the streams of a logs session.
    StopLogs(u64),
    /// Read this environment's Kafka now (a command on it finished).
    RefreshKafka(usize),
    /// Record how an Argo CD operation the bus sent ended (its wait settled).
    Settled {
        op: OpId,
        outcome: Result<String, String>,
    },
}

/// Applies one event. Returns the effects to run, and whether anything visible changed.
pub fn update(state: &mut State, event: Event) -> (Vec<Effect>, bool) {
    // Revisions come from ReplicaSets, which arrive with the Rollouts feed: only then
    // can the revisions list move under its cursor (not on every pod event).
    let replicasets = matches!(event, Event::Rollouts { .. });
    let result = dispatch(state, event);
    state.sync_pod_filter();
    state.sync_pod_sort();
    crate::app::confirm::recheck(state);
    crate::app::reverts::check(state);
    crate::app::drill::check(state);
    if replicasets && state.revisions.opened.is_some() {
        crate::app::panes::revisions::follow_anchor(state);
    }
    let (mut effects, changed) = result;
    effects.extend(crate::app::confirm::ask_dry_run(state));
    for (op, outcome) in std::mem::take(&mut state.argocd.settled) {
        crate::app::advisor::on_settled(state, op, &outcome);
        effects.push(Effect::Settled { op, outcome });
    }
    (effects, changed)
}

fn dispatch(state: &mut State, event: Event) -> (Vec<Effect>, bool) {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => on_key(state, key),
        Event::KeyAt { key, at } if key.kind != KeyEventKind::Release => {
            state.now = state.now.max(at);
            crate::app::drill::on_key(state);
            if guarded(state, &key) {
                return (Vec::new(), true);
            }
            // A change key that opened no dialog (refused, or nothing to act on): what
            // the user types next is likely the name for the dialog they expected.
            let asks_dialog = matches!(state.mode, Mode::Normal)
                && state.keys.action(&key).is_some_and(|a| a.is_mutating());
            let out = on_key(state, key);
            if asks_dialog && matches!(state.mode, Mode::Normal) {
                state.key_guard_until = Some(key_guard_end(state));
            }
            out
        }
        Event::KeyAt { .. } => (Vec::new(), false),
        Event::Key(_) => (Vec::new(), false),
        Event::Resize { width, height } => {
            state.size = (width, height);
            clamp_cursors(state);
            (Vec::new(), true)
        }
        Event::Tick(now) => {
            state.now = now;
            if let Some((at, _, _)) = &state.flash
                && now.duration_since(*at) > in_clock_time(state, FLASH_FOR)
            {
                state.flash = None;
            }
            for env in &mut state.envs {
                env.link.tick(now);
            }
            crate::app::panes::rollouts::on_tick(state);
            crate::app::panes::argocd::on_tick(state);
            (crate::app::panes::checklist::on_tick(state), true)
        }
        Event::Watch { env, update } => {
            let pods = env == state.selected_env && moves_pods(state, &update);
            let changed = on_watch(state, env, update);
            if pods {
                crate::app::panes::pods::follow_anchor(state);
            }
            if changed {
                clamp_cursors(state);
            }
            (Vec::new(), changed)
        }
        Event::WatchBatch { env, updates } => {
            let pods = env == state.selected_env && updates.iter().any(|u| moves_pods(state, u));
            let mut changed = false;
            for update in updates {
                changed |= on_watch(state, env, update);
            }
            if pods {
                crate::app::panes::pods::follow_anchor(state);
            }
            if changed {
                clamp_cursors(state);
            }
            (Vec::new(), changed)
        }
        Event::Link { env, probe } => {
            let now = state.now;
            let changed = state
                .envs
                .get_mut(env)
                .is_some_and(|e| e.link.on_probe(now, &probe));
            (Vec::new(), changed)
        }
        Event::Rollouts { env, update } => {
            let changed = crate::app::panes::rollouts::on_event(state, env, update);
            (Vec::new(), changed)
        }
        Event::Argocd { env, update } => {
            let changed = crate::app::panes::argocd::on_event(state, env, update);
            (Vec::new(), changed)
        }
        Event::Manifests { fetch, result } => {
            crate::app::panes::argocd::images::on_manifests(state, fetch, result);
            (Vec::new(), true)
        }
        Event::Migrations { env, update } => {
            let changed = crate::app::panes::migrations::on_event(state, env, update);
            (Vec::new(), changed)
        }
        Event::Checklist { env, update } => {
            crate::app::panes::checklist::on_event(state, env, update)
        }
        Event::Log { session, update } => {
            let changed = crate::app::panes::logs::on_log(state, session, update);
            (Vec::new(), changed)
        }
        Event::Git { env, state: git } => {
            let changed = crate::app::panes::checklist::on_git(state, env, git);
            (Vec::new(), changed)
        }
        Event::Metric { env, query, read } => {
            let changed = crate::app::panes::checklist::on_metric(state, env, query, read);
            (Vec::new(), changed)
        }
        Event::Kafka { env, update } => {
            let changed = crate::app::panes::kafka::on_event(state, env, update);
            (Vec::new(), changed)
        }
        Event::Probe(probe) => {
            let changed = crate::app::panes::checklist::on_probe(state, probe);
            (Vec::new(), changed)
        }
        Event::DryRun { command, result } => {
            let mine = matches!(&state.mode, Mode::Confirm(d) if d.command == command);
            if let Mode::Confirm(d) = &mut state.mode
                && mine
            {
                d.dry_run = crate::app::state::DryRun::Done(result);
            }
            (Vec::new(), mine)
        }
        Event::OpFinished { op, outcome } => {
            let ok = outcome.is_ok();
            let text = match &outcome {
                Ok(m) => format!("{op} ✔ {m}"),
                Err(m) => format!("{op} ✖ {m}"),
            };
            state.flash = Some((state.now, text, ok));
            // Landed first: what follows it (a rollback after auto-sync off) may target
            // the same object, and only commands still in flight hold a target.
            if let Some(rec) = state.ops.get_mut(&op) {
                rec.outcome = Some(outcome.clone());
            }
            crate::app::reverts::on_op_finished(state, op, outcome.is_ok());
            crate::app::panes::argocd::on_op_finished(state, op, &outcome);
            crate::app::advisor::on_op_finished(state, op, &outcome);
            let mut effects = crate::app::panes::checklist::on_op_finished(state, op, &outcome);
            effects.extend(crate::app::panes::runbook::on_op_finished(
                state, op, &outcome,
            ));
            effects.extend(crate::app::panes::kafka::on_op_finished(state, op));
            (effects, true)
        }
    }
}

fn on_watch(state: &mut State, env_index: usize, update: EnvUpdate) -> bool {
    let offscreen = matches!(&update, EnvUpdate::Pods(WatchUpdate::Apply(row))
        if crate::app::panes::pods::visibility::pod_change_offscreen(state, env_index, row));
    let now = state.now;
    let State {
        envs,
        pod_filter,
        pod_sort,
        pod_sort_index,
        ..
    } = state;
    let Some(env) = envs.get_mut(env_index) else {
        return false;
    };
    let link_changed = env.link.on_watch(now, &update);
    let changed = match update {
        EnvUpdate::Pods(u) => {
            let sorted = *pod_sort != crate::app::panes::pods::sort::PodSort::Name
                && pod_sort_index.is_current(env_index, *pod_sort, &env.pods);
            let follow = sorted.then(|| u.clone());
            let changed = pod_filter.apply(env_index, &mut env.pods, u);
            if let Some(u) = follow {
                pod_sort_index.follow(env_index, &env.pods, &u);
            }
            changed && !offscreen
        }
        other => apply_rows(env, other),
    };
    changed || link_changed
}

fn apply_rows(env: &mut EnvState, update: EnvUpdate) -> bool {
    match update {
        EnvUpdate::Pods(u) => env.pods.apply(u),
        EnvUpdate::Deployments(u) => env.deployments.apply(u),
        EnvUpdate::Services(u) => env.services.apply(u),
        EnvUpdate::Events(u) => {
            let log = &mut env.events;
            match u {
                WatchUpdate::Init => {
                    log.recent.clear();
                    log.last_warning.clear();
                    true
                }
                WatchUpdate::InitDone => false,
                WatchUpdate::Apply(e) | WatchUpdate::InitApply(e) => {
                    if e.warning {
                        let key = (e.involved_kind.clone(), e.involved_name.clone());
                        let newer = log
                            .last_warning
                            .get(&key)
                            .is_none_or(|old| old.last_seen <= e.last_seen);
                        if newer {
                            log.last_warning.insert(key, e.clone());
                        }
                    }
                    log.recent.retain(|r| r.name != e.name);
                    log.recent.push_back(e);
                    while log.recent.len() > crate::app::state::EventLog::RECENT {
                        log.recent.pop_front();
                    }
                    true
                }
                WatchUpdate::Delete(e) => {
                    log.recent.retain(|r| r.name != e.name);
                    true
                }
            }
        }
        EnvUpdate::WatchError { .. } => false,
    }
}

/// Quits, unless commands are in flight: then says which, and quits on a second press
/// within a few seconds (their outcome is recorded as unknown).
fn request_quit(state: &mut State) {
    let in_flight: Vec<String> = state
        .ops
        .values()
        .filter(|o| o.outcome.is_none())
        .map(|o| format!("{} {}", o.op, o.summary))
        .collect();
    let armed = state
        .quit_armed_until
        .is_some_and(|until| state.now < until);
    if in_flight.is_empty() || armed {
        state.should_quit = true;
        return;
    }
    state.quit_armed_until = Some(after_wall_time(state, jiff::SignedDuration::from_secs(5)));
    state.flash = Some((
        state.now,
        format!(
            "press q again to quit anyway: {} in flight, its outcome would be recorded as \
             unknown",
            in_flight.join(", ")
        ),
        false,
    ));
}

/// How long after a change key opened no dialog (or a dialog was closed under the
/// user) plain keys are not taken as commands.
pub const KEY_GUARD: jiff::SignedDuration = jiff::SignedDuration::from_millis(800);

/// When the key guard set now ends: `KEY_GUARD` of wall time, on the app's clock.
pub fn key_guard_end(state: &State) -> jiff::Timestamp {
    after_wall_time(state, KEY_GUARD)
}

/// How long a message stays in the status line, in the user's time (the outcome of a
/// command must stay readable when the demo's clock runs twenty times faster).
pub const FLASH_FOR: jiff::SignedDuration = jiff::SignedDuration::from_secs(15);

/// `wall` of the user's time as a span of the app's clock (which the demo runs fast).
fn in_clock_time(state: &State, wall: jiff::SignedDuration) -> jiff::SignedDuration {
    std::time::Duration::try_from_secs_f64(wall.as_secs_f64() * state.clock_speed)
        .ok()
        .and_then(|d| jiff::SignedDuration::try_from(d).ok())
        .unwrap_or(wall)
}

/// `now` plus `wall` of the user's time, on the app's clock.
fn after_wall_time(state: &State, wall: jiff::SignedDuration) -> jiff::Timestamp {
    let scaled = in_clock_time(state, wall);
    state.now.checked_add(scaled).unwrap_or(state.now)
}

/// A plain key typed within the guard after a dialog closed: dropped, and said.
fn guarded(state: &mut State, key: &KeyEvent) -> bool {
    let Some(until) = state.key_guard_until else {
        return false;
    };
    if state.now >= until || !matches!(state.mode, Mode::Normal) {
        state.key_guard_until = None;
        return false;
    }
    let plain = matches!(key.code, KeyCode::Char(_))
        && !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
    if plain {
        state.flash = Some((
            state.now,
            format!(
                "ignored {:?}: no dialog is open (keys typed right after one was expected are \
                 not commands)",
                key.code.to_string()
            ),
            false,
        ));
    }
    plain
}

fn on_key(state: &mut State, key: KeyEvent) -> (Vec<Effect>, bool) {
    // Ctrl-C always quits, whatever the mode and key map say.
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        request_quit(state);
        return (Vec::new(), true);
    }
    match &mut state.mode {
        Mode::Help => {
            // Scroll keys scroll (the help does not fit 80×24); any other key closes.
            let s = &mut state.help_scroll;
            match key.code {
                KeyCode::Up | KeyCode::Char('k') => *s = s.saturating_sub(1),
                KeyCode::Down | KeyCode::Char('j') => *s = s.saturating_add(1),
                KeyCode::PageUp => *s = s.saturating_sub(10),
                KeyCode::PageDown | KeyCode::Char(' ') => *s = s.saturating_add(10),
                KeyCode::Home | KeyCode::Char('g') => *s = 0,
                KeyCode::End | KeyCode::Char('G') => *s = u16::MAX,
                _ => {
                    state.help_scroll = 0;
                    state.mode = Mode::Normal;
                }
            }
            (Vec::new(), true)
        }
        Mode::Filter => {
            match key.code {
                KeyCode::Esc => {
                    state.filter = TextArea::default();
                    state.mode = Mode::Normal;
                }
                KeyCode::Enter => state.mode = Mode::Normal,
                _ => {
                    state.filter.input(key);
                    state.pod_cursor = Default::default();
                    state.pod_anchor = None;
                }
            }
            (Vec::new(), true)
        }
        Mode::Confirm(dialog) => match key.code {
            KeyCode::Esc => {
                state.mode = Mode::Normal;
                state.runbook.pending = None;
                state.flash = Some((state.now, "cancelled".into(), true));
                crate::app::advisor::on_cancel(state);
                (Vec::new(), true)
            }
            KeyCode::Tab | KeyCode::BackTab
                if dialog.reason.is_some() && dialog.typed.is_some() =>
            {
                dialog.reason_focused = !dialog.reason_focused;
                (Vec::new(), true)
            }
            KeyCode::Char('o') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                crate::app::reverts::auto_sync_off_first(state);
                (Vec::new(), true)
            }
            KeyCode::Up | KeyCode::Down | KeyCode::PageUp | KeyCode::PageDown => {
                let (width, height) = state.size;
                let Mode::Confirm(dialog) = &mut state.mode else {
                    return (Vec::new(), true);
                };
                let body = crate::app::confirm::body_lines(dialog);
                let rows =
                    crate::app::confirm::wrapped_rows(body.iter().map(String::as_str), width);
                let visible = dialog.visible_rows(height).max(1);
                let max = rows.saturating_sub(visible);
                let step = if matches!(key.code, KeyCode::PageUp | KeyCode::PageDown) {
                    visible
                } else {
                    1
                };
                dialog.scroll = if matches!(key.code, KeyCode::Up | KeyCode::PageUp) {
                    dialog.scroll.saturating_sub(step)
                } else {
                    dialog.scroll.saturating_add(step).min(max)
                };
                dialog.seen_to = dialog.seen_to.max(dialog.scroll.saturating_add(visible));
                (Vec::new(), true)
            }
            KeyCode::Enter => {
                if let Some(why) = crate::app::confirm::refusal(state) {
                    if let Mode::Confirm(dialog) = &mut state.mode {
                        dialog.error = Some(why);
                    }
                    return (Vec::new(), true);
                }
                let Mode::Confirm(dialog) = &mut state.mode else {
                    return (Vec::new(), true);
                };
                if dialog.reason_text().is_some_and(|r| r.is_empty()) {
                    dialog.reason_focused = true;
                    dialog.error =
                        Some("type the reason (kept in the audit log), or Esc to cancel".into());
                    return (Vec::new(), true);
                }
                if !dialog.ready() {
                    let expected = dialog.typed.as_ref().map(|(n, _)| n.clone());
                    dialog.reason_focused = false;
                    dialog.error = Some(format!(
                        "type {} exactly to confirm, or Esc to cancel",
                        expected.unwrap_or_default()
                    ));
                    return (Vec::new(), true);
                }
                let Mode::Confirm(dialog) = std::mem::replace(&mut state.mode, Mode::Normal) else {
                    return (Vec::new(), true);
                };
                let op = OpId(state.next_op);
                state.next_op += 1;
                let reason = dialog.reason_text();
                let command = dialog.command;
                state.ops.insert(
                    op,
                    OpRecord {
                        op,
                        summary: command.summary(),
                        target: (command.env().to_owned(), command.target_name().to_owned()),
                        started: state.now,
                        outcome: None,
                    },
                );
                state.flash = Some((state.now, format!("{op} … {}", command.summary()), true));
                crate::app::panes::argocd::on_sent(state, op, &command);
                crate::app::panes::runbook::on_sent(state, op, &command);
                crate::app::panes::kafka::on_sent(state, op, &command);
                crate::app::reverts::on_sent(state, op, &command);
                crate::app::advisor::on_sent(state, op);
                crate::app::drill::on_sent(state, &command);
                (
                    vec![Effect::Send {
                        op,
                        command,
                        reason,
                    }],
                    true,
                )
            }
            _ => {
                let input = match (&mut dialog.reason, &mut dialog.typed) {
                    (Some((_, r)), _) if dialog.reason_focused => Some(r),
                    (_, Some((_, t))) => Some(t),
                    (Some((_, r)), None) => Some(r),
                    (None, None) => None,
                };
                if let Some(input) = input {
                    input.input(key);
                    dialog.error = None;
                }
                (Vec::new(), true)
            }
        },
        Mode::Prompt(_) => crate::app::panes::rollouts::on_prompt_key(state, key),
        Mode::Reason(_) => crate::app::panes::bluegreen::on_reason_key(state, key),
        Mode::Note(_) => crate::app::panes::checklist::on_note_key(state, key),
        Mode::LogFilter => crate::app::panes::logs::on_filter_key(state, key),
        Mode::KafkaReset(_) => crate::app::panes::kafka::on_reset_key(state, key),
        Mode::Advice(_) => crate::app::advisor::on_key(state, key),
        Mode::Normal => match state.keys.action(&key) {
            Some(action) => on_action(state, action),
            None => (Vec::new(), false),
        },
    }
}

fn on_action(state: &mut State, action: Action) -> (Vec<Effect>, bool) {
    if state.readonly && action.is_mutating() {
        state.flash = Some((state.now, "read-only mode: no changes".into(), false));
        return (Vec::new(), true);
    }
    if let Some(effects) = super::panes::on_action(state, action) {
        return (effects, true);
    }
    let page = crate::app::layout::table_rows(state, state.focus).max(1);
    match action {
        Action::Quit => request_quit(state),
        Action::Advise => crate::app::advisor::open(state),
        Action::Help => state.mode = Mode::Help,
        Action::NextPane | Action::PrevPane => {
            let all = Pane::ALL;
            let at = all.iter().position(|p| *p == state.focus).unwrap_or(0);
            let step = if action == Action::NextPane {
                1
            } else {
                all.len() - 1
            };
            state.focus = all[(at + step) % all.len()];
        }
        Action::Up => super::panes::move_cursor(state, -1, page),
        Action::Down => super::panes::move_cursor(state, 1, page),
        Action::PageUp => super::panes::move_cursor(state, -(page as isize), page),
        Action::PageDown => super::panes::move_cursor(state, page as isize, page),
        Action::Top => super::panes::move_cursor(state, isize::MIN / 2, page),
        Action::Bottom => super::panes::move_cursor(state, isize::MAX / 2, page),
        Action::Back => {
            if state.zoomed {
                state.zoomed = false;
            } else if !state.filter_text().is_empty() {
                state.filter = TextArea::default();
                clamp_cursors(state);
            }
        }
        Action::Zoom => state.zoomed = !state.zoomed,
        Action::NextEnvironment => select_env(state, state.selected_env as isize + 1),
        Action::PrevEnvironment => select_env(state, state.selected_env as isize - 1),
        // Select means something only in a pane that took it; every other action has a
        // home pane, which took it above.
        _ => {}
    }
    (Vec::new(), true)
}

/// Whether a watch update can move pods up or down the shown list (one arriving or
/// leaving, or any change under a sort other than by name): only then is the cursor's
/// pod looked for again, and only when the user put the cursor on one.
fn moves_pods(state: &State, update: &EnvUpdate) -> bool {
    if state.pod_anchor.is_none() {
        return false;
    }
    let EnvUpdate::Pods(u) = update else {
        return false;
    };
    match u {
        WatchUpdate::Apply(row)
            if state.pod_sort == crate::app::panes::pods::sort::PodSort::Name =>
        {
            state
                .env()
                .is_none_or(|e| e.pods.get(&row.namespace, &row.name).is_none())
        }
        _ => true,
    }
}

fn clamp_cursors(state: &mut State) {
    super::panes::pods::clamp(state);
}
