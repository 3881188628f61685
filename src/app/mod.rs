//! The app: state, the events that change it, and `update()`, the only place it
//! changes. Everything here is pure and synchronous.

pub mod action;
pub mod bluegreen;
pub mod canary;
pub mod event;
pub mod filter;
pub mod layout;
pub mod migrations;
mod release_commands;
pub mod release_images;
mod release_wait;
pub mod releases;
pub mod sort;
pub mod state;
pub mod update;
mod visibility;

pub use action::Action;

/// The key map of the app's actions.
pub type KeyMap = crate::config::KeyMap<Action>;
/// Config with the app's key map.
pub type Config = crate::config::Config<Action>;
pub use crate::domain::feed::{ArgoUpdate, EnvUpdate, Stream};
pub use event::Event;
pub use state::{Connection, EnvState, Mode, Pane, State, StreamState, TableCursor};
pub use update::{Effect, update};
