//! Database migrations, compatible with golang-migrate: the same file names, the same
//! `schema_migrations` table and row semantics, the same advisory lock, so rollcall
//! and the `migrate` CLI can be used on one database side by side.
//!
//! A library with no rollcall types: the product's watcher and headless command use it,
//! it never uses them.
//!
//! - `source`: the migration files and what is wrong with them;
//! - `store`: the version table and lock over sqlx (PostgreSQL, SQLite);
//! - `ops`: up / down / goto / force as plans that are previewed, then executed;
//! - `status`: the cheap read the poller and `rollcall migrations` use;
//! - `demo`: the demo's SQLite databases, seeded from the shipped migrations.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod demo;
pub mod ops;
pub mod source;
pub mod status;
pub mod store;
pub mod url;

pub use ops::{Dirty, ExecError, Plan, PlanError, Request, Step, execute, plan};
pub use source::{Direction, Migration, NameError, Source, SourceProblem};
pub use status::DbStatus;
pub use store::{Db, DbError, Recorded};
pub use url::{DbUrl, UnsupportedUrl};
