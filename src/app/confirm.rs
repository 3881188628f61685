//! The policy every confirm dialog passes through when it opens and when it is
//! confirmed: one command per target at a time; the environment's confirmation (the
//! target's name typed, or one key; de-escalating actions such as abort and pause take
//! one key so they are quick mid-incident); a typed reason, audited, for an escalating
//! change while the production change window is closed; the name typed in any
//! environment for an unsafe migration, with its lint findings shown; and nothing
//! confirmed that the dialog could not show.

use super::state::{ConfirmDialog, Mode, State};
use crate::bus::Command;
use crate::config::Confirm;

/// The dialog's width on screen, at most.
pub const DIALOG_WIDTH: u16 = 86;

/// Opens `dialog` under the policy, or says why not.
pub fn open(state: &mut State, mut dialog: ConfirmDialog) {
    if let Some(why) = in_flight(state, &dialog.command) {
        state.flash = Some((state.now, why, false));
        state.runbook.pending = None;
        return;
    }
    let env = state
        .envs
        .iter()
        .find(|e| e.config.name == dialog.command.env())
        .map(|e| e.config.clone());
    let de_escalates = dialog.command.de_escalates();
    let mut typed = env.as_ref().is_none_or(|e| {
        let policy = e.confirm;
        let how = if de_escalates {
            policy.de_escalating
        } else {
            policy.escalating
        };
        how == Confirm::Typed
    });
    dialog.typed_because = if env.as_ref().is_some_and(|e| e.production) {
        "PRODUCTION"
    } else {
        "CONFIRM"
    };
    if let Some(findings) = unsafe_migration(state, &dialog.command) {
        typed = true;
        dialog.typed_because = "UNSAFE MIGRATION";
        dialog.notes.push(findings);
    }
    if let Some(env) = &env
        && !de_escalates
        && env.policy.window_open(state.now) == Some(false)
    {
        let next = env
            .policy
            .next_window(state.now)
            .map(|t| format!("; it opens {} UTC", t.strftime("%a %H:%M")))
            .unwrap_or_default();
        dialog.notes.push(format!(
            "{}'s change window is closed{next}. Going ahead needs a reason, kept in the \
             audit log.",
            env.name
        ));
        dialog.reason = Some((
            "why now, outside the change window".to_owned(),
            ratatui_textarea::TextArea::default(),
        ));
        dialog.reason_focused = true;
    }
    if dialog.warning.is_none() {
        dialog.warning = super::reverts::warning(state, &dialog.command);
    }
    dialog.require_typed(typed);
    state.mode = Mode::Confirm(Box::new(dialog));
}

/// A dialog just opened: its dry run, asked of the server where the family has one that
/// changes nothing (the Kubernetes API's `dryRun=All`).
pub fn ask_dry_run(state: &mut State) -> Vec<super::update::Effect> {
    use super::state::DryRun;
    let Mode::Confirm(dialog) = &mut state.mode else {
        return Vec::new();
    };
    if dialog.dry_run != DryRun::NotAsked {
        return Vec::new();
    }
    match crate::bus::dry_run_family(&dialog.command) {
        Ok(()) => {
            dialog.dry_run = DryRun::Asking;
            vec![super::update::Effect::DryRun(dialog.command.clone())]
        }
        Err(why) => {
            dialog.dry_run = DryRun::Unavailable(why);
            Vec::new()
        }
    }
}

/// Why the open dialog cannot be confirmed now, if it cannot.
pub fn refusal(state: &State) -> Option<String> {
    let Mode::Confirm(dialog) = &state.mode else {
        return None;
    };
    if let Some(why) = in_flight(state, &dialog.command) {
        return Some(why);
    }
    let (width, height) = state.size;
    let needed = needed_rows(dialog, width);
    if needed > height && !dialog.seen_all((width, height)) {
        return Some(
            "the dialog does not fit: scroll it to its end (↓) or enlarge the terminal before \
             confirming"
                .into(),
        );
    }
    None
}

/// After the state under an open dialog changed: a dialog whose target no longer
/// allows it (the operation it would terminate ended) is closed and says why, and the
/// keys typed into it next are not taken as commands.
pub fn recheck(state: &mut State) {
    let Mode::Confirm(dialog) = &state.mode else {
        return;
    };
    let why = match &dialog.command {
        Command::ArgocdTerminateOperation { env, app } => {
            let row = state
                .envs
                .iter()
                .position(|e| &e.config.name == env)
                .and_then(|i| state.argocd.env(i))
                .and_then(|e| e.app(app));
            match row {
                Some(r) if r.operation_running() => None,
                Some(_) => Some(format!("{app}: the operation ended; nothing to terminate")),
                None => Some(format!("{app} is gone; nothing to terminate")),
            }
        }
        _ => None,
    };
    if let Some(why) = why {
        state.mode = Mode::Normal;
        state.flash = Some((state.now, format!("dialog closed: {why}"), false));
        state.key_guard_until = Some(super::update::key_guard_end(state));
    }
}

/// A command on the same target still in flight: say so rather than send a second.
fn in_flight(state: &State, command: &Command) -> Option<String> {
    let target = (command.env().to_owned(), command.target_name().to_owned());
    state
        .ops
        .values()
        .find(|r| r.outcome.is_none() && r.target == target)
        .map(|r| {
            format!(
                "{} is still in flight for {} ({}); wait for it before another",
                r.op, target.1, r.summary
            )
        })
}

/// The lint findings of a migration that is unsafe to run: a pending up whose lint
/// warns, or any down (it drops what the up made).
fn unsafe_migration(state: &State, command: &Command) -> Option<String> {
    let Command::Migrate { env, plan, .. } = command else {
        return None;
    };
    let snapshot = state
        .envs
        .iter()
        .find(|e| &e.config.name == env)
        .and_then(|e| e.migrations.source.as_ref());
    let mut findings = Vec::new();
    for step in &plan.steps {
        match step.direction {
            rollcall_migrate::Direction::Down => findings.push(format!(
                "{} runs down SQL: what it drops is gone",
                step.label()
            )),
            rollcall_migrate::Direction::Up => {
                let Some(report) = snapshot.and_then(|s| s.lint.get(&step.version)) else {
                    continue;
                };
                if report.verdict() != rollcall_sqllint::Verdict::Safe {
                    let rules: Vec<String> = report
                        .findings
                        .iter()
                        .map(|f| format!("line {}: {}", f.line, f.message))
                        .collect();
                    findings.push(format!(
                        "{} lint ⚠ {}",
                        step.label(),
                        if rules.is_empty() {
                            "unsafe".to_owned()
                        } else {
                            rules.join("; ")
                        }
                    ));
                }
            }
        }
    }
    (!findings.is_empty()).then(|| format!("unsafe migration: {}", findings.join(" · ")))
}

/// Rows the wrapped text of `lines` takes inside a dialog at `width` columns, as
/// ratatui wraps it.
pub fn wrapped_rows<'a>(lines: impl Iterator<Item = &'a str>, width: u16) -> u16 {
    use ratatui::widgets::{Paragraph, Wrap};
    let inner = width.min(DIALOG_WIDTH).saturating_sub(2).max(1);
    let text: Vec<ratatui::text::Line> = lines.map(ratatui::text::Line::raw).collect();
    let rows = Paragraph::new(text)
        .wrap(Wrap { trim: false })
        .line_count(inner);
    u16::try_from(rows).unwrap_or(u16::MAX)
}

/// The text of the dialog's body, in order: notes, warning, the request, the effect.
pub fn body_lines(dialog: &ConfirmDialog) -> Vec<String> {
    let p = &dialog.preview;
    let mut out = Vec::new();
    for n in &dialog.notes {
        out.push(format!("⚠ {n}"));
    }
    if let Some(w) = &dialog.warning {
        out.push(format!("⚠ {w}"));
    }
    if !out.is_empty() {
        out.push(String::new());
    }
    out.push(format!("{} {}", p.method, p.path));
    out.push(format!("Content-Type: {}", p.content_type));
    out.extend(p.body.lines().map(str::to_owned));
    out.push(String::new());
    out.push(p.effect.clone());
    if let Some((text, _)) = dry_run_line(dialog) {
        // A plan (the Kafka reset's) is several lines.
        out.extend(text.lines().map(str::to_owned));
    }
    out
}

/// The dry run's line in the dialog, and whether it is a refusal.
pub fn dry_run_line(dialog: &ConfirmDialog) -> Option<(String, bool)> {
    use super::state::DryRun;
    match &dialog.dry_run {
        DryRun::NotAsked => None,
        DryRun::Asking => Some(("server dry run: asking…".into(), false)),
        DryRun::Done(Ok(m)) => Some((format!("server dry run ✔ {m}"), false)),
        DryRun::Done(Err(e)) => Some((format!("server dry run ✖ {e}"), true)),
        DryRun::Unavailable(why) => Some((format!("dry run: {why}"), false)),
    }
}

/// Rows below the body: the reason and typed-name inputs (a label and a boxed field
/// each), and the footer.
pub fn input_rows(dialog: &ConfirmDialog) -> u16 {
    let one = 4;
    u16::from(dialog.reason.is_some()) * one + u16::from(dialog.typed.is_some()) * one
}

/// The dialog's full height at `width`, borders included.
pub fn needed_rows(dialog: &ConfirmDialog, width: u16) -> u16 {
    let body = body_lines(dialog);
    wrapped_rows(body.iter().map(String::as_str), width)
        .saturating_add(input_rows(dialog))
        .saturating_add(4)
}
