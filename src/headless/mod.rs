//! Commands that print and exit, without the terminal UI: what a script or an incident
//! channel reads.

pub mod advise;
pub mod checklist;
pub mod migrations;
pub mod status;
