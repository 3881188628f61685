//! The app: state, the events that change it, and `update()`, the only place it
//! changes. Everything here is pure and synchronous.

pub mod action;
pub mod advisor;
pub mod confirm;
pub mod drill;
pub mod event;
pub mod layout;
pub mod link;
pub mod panes;
pub mod reverts;
pub mod state;
pub mod update;

pub use action::Action;

/// The key map of the app's actions.
pub type KeyMap = crate::config::KeyMap<Action>;
/// Config with the app's key map.
pub type Config = crate::config::Config<Action>;

/// Loads the config with the app's key map. Not generic, so the config parsing is
/// compiled once, here, and not again in every crate that loads it.
pub fn load_config(
    opts: &crate::config::LoadOptions,
) -> Result<Config, crate::config::ConfigError> {
    crate::config::load::<Action>(opts)
}
pub use crate::domain::feed::{ArgoUpdate, EnvUpdate, Stream};
pub use event::Event;
pub use state::{Connection, EnvState, Mode, Pane, State, StreamState, TableCursor};
pub use update::{Effect, update};
