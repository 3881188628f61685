//! The migrations pane's part of `update()`: applying poller events, moving the
//! selection, and turning up / down / goto / force into a confirm dialog that owns a
//! `Command::Migrate` with its plan (and so the exact SQL) fixed at preview time.

use super::{Pane, PaneSpec};
use crate::app::action::Action;
use crate::app::state::{ConfirmDialog, State};
use crate::bus::Command;
use crate::domain::migrations::{MigrationUpdate, RowState, StatusError};
use rollcall_migrate::{PlanError, Request, ops};

/// How many progress lines the pane keeps per environment.
const PROGRESS_LINES: usize = 8;

/// Why a migration key opened no confirm dialog; flashed as is.
#[derive(Debug, thiserror::Error)]
enum PlanRefusal {
    #[error("select a migration in the migrations pane (4) first")]
    NotFocused,
    #[error("no migration selected")]
    NoneSelected,
    #[error("no environment")]
    NoEnvironment,
    #[error("{0} is not pending")]
    NotPending(u64),
    #[error("{0} has no database in config")]
    NoDatabase(String),
    #[error("the migration files are still being read")]
    FilesUnread,
    #[error("database status unknown: {0}")]
    StatusUnknown(#[source] StatusError),
    #[error("the database status is still being read")]
    StatusUnread,
    #[error(transparent)]
    Plan(#[from] PlanError),
}

/// Applies a poller / executor event; returns whether anything visible changed.
pub fn on_event(state: &mut State, env: usize, update: MigrationUpdate) -> bool {
    let Some(e) = state.envs.get_mut(env) else {
        return false;
    };
    let m = &mut e.migrations;
    match update {
        MigrationUpdate::Source(snap) => m.source = Some(snap),
        MigrationUpdate::Status { at, status } => {
            m.checked = Some(at);
            m.status = Some(status);
        }
        MigrationUpdate::Progress { op, line } => {
            m.progress.push(format!("{op} {line}"));
            let extra = m.progress.len().saturating_sub(PROGRESS_LINES);
            m.progress.drain(..extra);
        }
    }
    if env == state.selected_env {
        clamp(state);
    }
    true
}

/// Rows of the selected environment's migrations.
fn row_count(state: &State) -> usize {
    state.env().map(|e| e.migrations.rows().len()).unwrap_or(0)
}

pub fn clamp(state: &mut State) {
    let len = row_count(state);
    let at = match state.migration_anchor {
        Some(version) => row_of(state, version),
        None => recorded_row(state),
    };
    if let Some(at) = at {
        state.migration_cursor.selected = at;
    }
    let page = crate::app::layout::table_rows(state, crate::app::Pane::Migrations).max(1);
    state.migration_cursor.scroll_into_view(len, page);
}

fn row_of(state: &State, version: u64) -> Option<usize> {
    let rows = state.env()?.migrations.rows();
    rows.iter().position(|r| r.version == version)
}

/// The row of the version the database records (current, dirty or without a file).
fn recorded_row(state: &State) -> Option<usize> {
    let rows = state.env()?.migrations.rows();
    rows.iter().position(|r| {
        matches!(
            r.state,
            RowState::Current | RowState::Dirty | RowState::Missing
        )
    })
}

fn move_cursor(state: &mut State, delta: isize, page: usize) {
    let len = row_count(state);
    state.migration_cursor.move_by(delta, len, page);
    state.migration_anchor = selected_row_version(state);
}

fn selected_row_version(state: &State) -> Option<u64> {
    let rows = state.env()?.migrations.rows();
    rows.get(state.migration_cursor.selected).map(|r| r.version)
}

pub const SPEC: PaneSpec = PaneSpec {
    pane: Pane::Migrations,
    title: "Migrations",
    short_title: "Mig",
    focus: Action::PaneMigrations,
    pinned: true,
    on_action: |state, action| on_action(state, action).then(Vec::new),
    move_cursor,
};

/// Handles the migration actions; returns false for any other action.
fn on_action(state: &mut State, action: Action) -> bool {
    let request = match action {
        Action::PaneMigrations => {
            state.focus = crate::app::Pane::Migrations;
            return true;
        }
        Action::MigrateToggleSql => {
            state.migration_show_down = !state.migration_show_down;
            return true;
        }
        Action::MigrateUp => Ok(Request::Up { n: None }),
        Action::MigrateDown => Ok(Request::Down { n: 1 }),
        Action::MigrateUpTo => selected_version(state).and_then(|v| up_to(state, v)),
        Action::MigrateGoto => selected_version(state).map(|version| Request::Goto { version }),
        Action::MigrateForce => {
            selected_version(state).map(|v| Request::Force { version: v as i64 })
        }
        _ => return false,
    };
    match request.and_then(|r| build(state, r)) {
        Ok(command) => open_confirm(state, command),
        Err(why) => state.flash = Some((state.now, why.to_string(), false)),
    }
    true
}

fn selected_version(state: &State) -> Result<u64, PlanRefusal> {
    if state.focus != crate::app::Pane::Migrations {
        return Err(PlanRefusal::NotFocused);
    }
    state
        .env()
        .and_then(|e| {
            e.migrations
                .rows()
                .get(state.migration_cursor.selected)
                .map(|r| r.version)
        })
        .ok_or(PlanRefusal::NoneSelected)
}

/// `up N` where N counts the pending migrations through `version`.
fn up_to(state: &State, version: u64) -> Result<Request, PlanRefusal> {
    let env = state.env().ok_or(PlanRefusal::NoEnvironment)?;
    let current = env.migrations.recorded().and_then(|r| r.applied());
    let n = env
        .migrations
        .source
        .as_ref()
        .map(|s| {
            s.source
                .migrations
                .keys()
                .filter(|v| current.is_none_or(|c| **v > c) && **v <= version)
                .count() as u64
        })
        .unwrap_or(0);
    if n == 0 {
        return Err(PlanRefusal::NotPending(version));
    }
    Ok(Request::Up { n: Some(n) })
}

fn build(state: &State, request: Request) -> Result<Command, PlanRefusal> {
    let env = state.env().ok_or(PlanRefusal::NoEnvironment)?;
    let m = &env.migrations;
    let database = m
        .database
        .clone()
        .ok_or_else(|| PlanRefusal::NoDatabase(env.config.name.clone()))?;
    let snap = m.source.as_ref().ok_or(PlanRefusal::FilesUnread)?;
    let status = match &m.status {
        Some(Ok(s)) => s,
        Some(Err(e)) => return Err(PlanRefusal::StatusUnknown(e.clone())),
        None => return Err(PlanRefusal::StatusUnread),
    };
    let plan = ops::plan(&snap.source, status.recorded(), request)?;
    Ok(Command::Migrate {
        env: env.config.name.clone(),
        database,
        plan,
    })
}

fn open_confirm(state: &mut State, command: Command) {
    let production = state.env().is_some_and(|e| e.config.production);
    let name = command.target_name().to_owned();
    crate::app::confirm::open(state, ConfirmDialog::new(command, production, name));
}
