//! Clients of the outside world. Each returns values or emits events; none touches
//! app state.

pub mod answer;
pub mod argocd;
pub mod checklist;
pub mod git;
pub mod kafka;
pub mod kube;
pub mod link;
pub mod logs;
pub mod metrics;
pub mod migrations;
pub mod prometheus;
pub mod rollouts;
pub mod watch;

/// The innermost cause of an error ("Connection refused", "invalid peer certificate"),
/// which is what an operator can act on.
pub fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg = s.to_string();
        source = s.source();
    }
    msg
}
