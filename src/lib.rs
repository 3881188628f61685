//! rollcall: a terminal control room for deployments on Kubernetes.
//!
//! Data flows one way: watchers and executors emit `app::Event`s, `app::update`
//! is the only place state changes, `ui::render` draws state, and every mutation
//! leaves as a `bus::Command` through the command bus.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod app;
pub mod bus;
pub mod clients;
pub mod config;
pub mod domain;
pub mod headless;
pub mod ui;
pub mod wiring;
