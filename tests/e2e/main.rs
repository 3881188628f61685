//! End to end: the real `rollcall` binary (`CARGO_BIN_EXE_rollcall`, built by cargo for
//! these tests) in a pseudo-terminal, driven from the keyboard, against its demo or a
//! `rollcall sim` process, checked on screen and with the real kubectl.

mod e2e_analysis;
mod e2e_audit;
mod e2e_bluegreen;
mod e2e_canary;
mod e2e_checklist;
mod e2e_checklist_shared;
mod e2e_demo;
mod e2e_drill;
mod e2e_exit_codes;
mod e2e_flags;
mod e2e_headless_demo;
mod e2e_kafka;
mod e2e_migrations;
mod e2e_outage;
mod e2e_release;
mod e2e_runbook;
mod e2e_signals;
