//! The layer rule of ARCHITECTURE.md, read off the source: a module uses only the
//! layers below its own. A `use crate::app` in `bus`, or `crate::ui` in `app`, fails here
//! with the file and line, before it becomes a habit.

use std::path::{Path, PathBuf};

/// The product crate's layers, top first. A layer may use any layer after it.
const LAYERS: &[&[&str]] = &[
    &["main"],
    &["wiring"],
    &["ui", "headless"],
    &["app"],
    &["bus"],
    &["clients"],
    &["domain"],
    &["config"],
];

/// Modules of the product crate that only the top may use.
const TOP_ONLY_CRATES: &[&str] = &["rollcall_sim"];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to: `src/app/update.rs` → `app`.
fn layer_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel.components().next().expect("a component");
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_owned()
}

/// Each `crate::NAME` (or `rollcall::NAME`) a line names, with the line number; comments
/// are skipped.
fn references(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        for prefix in ["crate::", "rollcall::"] {
            let mut rest = code;
            while let Some(i) = rest.find(prefix) {
                let before = rest[..i].chars().next_back();
                rest = &rest[i + prefix.len()..];
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.push((n + 1, name));
            }
        }
    }
    out
}

/// Every use of a layer above (or beside) the user's, under `src`.
fn violations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    sources(src, &mut files);
    let mut broken = Vec::new();
    for file in &files {
        let layer = layer_of(src, file);
        if layer == "lib" {
            continue;
        }
        let Some(own) = rank(&layer) else {
            broken.push(format!(
                "{}: module `{layer}` is in no layer; add it to LAYERS and ARCHITECTURE.md",
                file.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).expect("readable");
        for (line, name) in references(&text) {
            if let Some(target) = rank(&name)
                && target <= own
                && name != layer
            {
                broken.push(format!(
                    "{}:{line}: `{layer}` uses `{name}`, a layer above or beside it",
                    file.display()
                ));
            }
        }
        for krate in TOP_ONLY_CRATES {
            if own > 1 && text.contains(&format!("{krate}::")) {
                broken.push(format!(
                    "{}: `{layer}` uses `{krate}`; only the wiring may",
                    file.display()
                ));
            }
        }
    }
    broken
}

#[test]
fn no_module_uses_a_layer_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    assert!(files.len() > 50, "found only {} source files", files.len());
    let broken = violations(&src);
    assert!(
        broken.is_empty(),
        "layer rule broken:\n{}",
        broken.join("\n")
    );
}

#[test]
fn an_upward_use_is_caught() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    write(
        "domain/view.rs",
        "use crate::config::Theme;\nuse crate::app::State;\n",
    );
    write("bus/send.rs", "fn f() { crate::ui::render(); }\n");
    write("clients/sim.rs", "use rollcall_sim::SimHandle;\n");
    write(
        "app/ok.rs",
        "use crate::bus::Command;\nuse crate::domain::format;\n",
    );
    write("gadgets/new.rs", "\n");
    let mut broken = violations(dir.path());
    broken.sort();
    assert_eq!(broken.len(), 4, "{broken:#?}");
    assert!(broken[0].ends_with("bus/send.rs:1: `bus` uses `ui`, a layer above or beside it"));
    assert!(
        broken[1].ends_with("clients/sim.rs: `clients` uses `rollcall_sim`; only the wiring may")
    );
    assert!(
        broken[2].ends_with("domain/view.rs:2: `domain` uses `app`, a layer above or beside it")
    );
    assert!(broken[3].contains("module `gadgets` is in no layer"));
}

#[test]
fn the_helper_crates_never_use_the_product() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for krate in [
        "crates/sim/src",
        "crates/migrate/src",
        "crates/sqllint/src",
        "crates/files/src",
    ] {
        let mut files = Vec::new();
        sources(&root.join(krate), &mut files);
        assert!(!files.is_empty(), "{krate} has sources");
        for file in files {
            let text = std::fs::read_to_string(&file).expect("readable");
            assert!(
                !text.contains("rollcall::"),
                "{} uses the product crate",
                file.display()
            );
        }
    }
}

#[test]
fn the_reference_reader_sees_paths_not_lookalikes() {
    let text = "use crate::app::State; // crate::ui in a comment\nlet x = mycrate::bus::y;\n";
    assert_eq!(references(text), vec![(1, "app".to_owned())]);
}
