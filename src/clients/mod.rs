//! Clients of the outside world. Each returns values or emits events; none touches
//! app state.

pub mod argocd;
pub mod kube;
pub mod migrations;
pub mod rollouts;
pub mod watch;
