//! Files the simulator writes that hold secrets (keys, tokens, kubeconfigs): created
//! readable by their owner only (0600, directories 0700), wherever they are written.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path`, replacing its contents, readable by the owner only (an
/// existing file's wider permissions are narrowed too).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    make_private(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Narrows `path`'s permissions to its owner's reading and writing.
pub fn make_private(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Creates `dir` (and its parents) if missing; the directories made are the owner's only.
/// An existing directory's permissions are left alone: it may be shared (`/tmp`).
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).map_or(0, |m| m.permissions().mode() & 0o777)
    }

    #[test]
    fn private_files_are_0600_even_when_they_existed_wider() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let fresh = dir.path().join("a/b/token");
        private_dir(fresh.parent().unwrap_or(dir.path()))?;
        write_private(&fresh, b"secret")?;
        assert_eq!(mode(&fresh), 0o600);
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        let old = dir.path().join("kubeconfig");
        std::fs::write(&old, "old")?;
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644))?;
        write_private(&old, b"new")?;
        assert_eq!(mode(&old), 0o600);
        assert_eq!(std::fs::read_to_string(&old)?, "new");
        Ok(())
    }
}
