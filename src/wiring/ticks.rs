//! The local file of checklist ticks the cluster does not have yet, so nothing typed is
//! lost when the cluster refuses a write or rollcall exits before it could send one.
//! Written whole to a temporary file and renamed over the old one; read at start.

use std::path::{Path, PathBuf};

use crate::app::panes::checklist::Unsynced;

/// The ticks kept in `path`; a missing file is none. A file that does not parse is
/// moved aside (never overwritten) and said in the returned warning.
pub fn load(path: &Path) -> (Vec<Unsynced>, Option<String>) {
    let text = match rollcall_files::read_text(path, rollcall_files::Kind::Config) {
        Ok(t) => t,
        Err(e) if e.is_not_found() => return (Vec::new(), None),
        Err(e) => return (Vec::new(), Some(format!("cannot read unsynced ticks {e}"))),
    };
    match serde_json::from_str(&text) {
        Ok(ticks) => (ticks, None),
        Err(e) => {
            let aside = aside(path);
            let moved = std::fs::rename(path, &aside).is_ok();
            let note = if moved {
                format!("moved to {}", aside.display())
            } else {
                "left in place".to_owned()
            };
            (
                Vec::new(),
                Some(format!(
                    "unsynced ticks {} unreadable ({e}); {note}",
                    path.display()
                )),
            )
        }
    }
}

fn aside(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".unreadable");
    path.with_file_name(name)
}

/// Replaces the file with `ticks`.
pub fn save(path: &Path, ticks: &[Unsynced]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_string_pretty(ticks).map_err(std::io::Error::other)?;
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::checklist::Mark;
    use crate::domain::checklist::shared::Change;

    #[test]
    fn ticks_round_trip_and_a_bad_file_is_moved_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ticks.json");
        assert!(load(&path).0.is_empty());
        let tick = Unsynced {
            env: "prod".into(),
            release: "customer-adapter@v1.2.0".into(),
            title: "Load testing completed".into(),
            change: Change {
                item: "load-test".into(),
                mark: Mark {
                    done: true,
                    by: "alice".into(),
                    at: "2026-12-04T10:00:00Z".parse().unwrap(),
                    note: "k6 run 4411".into(),
                    skipped: false,
                },
            },
            error: Some("forbidden".into()),
            op: None,
            last_try: None,
            sent: false,
        };
        save(&path, std::slice::from_ref(&tick)).unwrap();
        let (back, warning) = load(&path);
        assert_eq!(back, vec![tick]);
        assert!(warning.is_none());

        std::fs::write(&path, "{not json").unwrap();
        let (back, warning) = load(&path);
        assert!(back.is_empty());
        assert!(warning.unwrap().contains("unreadable"));
        assert!(dir.path().join("ticks.json.unreadable").exists());
    }
}
