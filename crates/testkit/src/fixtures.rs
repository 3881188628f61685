//! The real upstream objects in ../shared/fixtures/real: missing beside the repository,
//! they fail the tests under CI and skip them elsewhere.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// shared/fixtures/real, beside the repository (this crate is two levels down in it).
pub fn real_root() -> Option<PathBuf> {
    existing(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/real"))
}

/// shared/fixtures/real/`sub`.
pub fn real(sub: &str) -> Option<PathBuf> {
    existing(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/fixtures/real")
            .join(sub),
    )
}

fn existing(dir: PathBuf) -> Option<PathBuf> {
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} is missing beside the repository (required under CI)",
        dir.display()
    );
    eprintln!("SKIPPED: {} not found", dir.display());
    None
}

/// Just the `kind` of an object, to sort fixtures before decoding them.
#[derive(Deserialize)]
pub struct Kind {
    #[serde(default)]
    pub kind: String,
}

/// A fixture decoded as `T`: JSON by its extension, YAML otherwise.
pub fn parse<T: for<'de> Deserialize<'de>>(path: &Path) -> T {
    let text = std::fs::read_to_string(path).unwrap();
    if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    } else {
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }
}
