//! Render tests: what `ui::render` draws from a state, as insta snapshots at 80×24 and
//! 160×48 and as checks on the screen text. No I/O.

mod canary_render;
mod checklist_render;
mod kafka_render;
mod link_header;
mod logs_render;
mod migrate_render;
mod readable_text;
mod release_render;
mod render_snapshots;
mod runbook_render;
