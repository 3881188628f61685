//! What the simulated Argo CD keeps in the state directory (`DIR/argocd`, every file
//! 0600): its signature key and the admin and viewer API keys it printed, so the argocd
//! config written before (its token) still works after a restart, as argocd-server keeps
//! `server.secretkey` and its accounts' tokens in a Secret.

use std::path::Path;

use jiff::Timestamp;

use super::session::{Sessions, new_key};
use crate::api::pki::KeepError;
use crate::keep::{make_private, private_dir, write_private};

/// The sessions, signed with the kept key, and the (admin, viewer) API keys: the kept
/// ones, or new ones, kept for the next start.
pub fn sessions(
    state_dir: &Path,
    password: &str,
    now: Timestamp,
) -> Result<(Sessions, String, String), KeepError> {
    let dir = state_dir.join("argocd");
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| KeepError::Io { path, source }
    };
    private_dir(&dir).map_err(io(&dir))?;
    let key_file = dir.join("server.secretkey");
    if !key_file.exists() {
        // Published whole or not at all: a simulator starting beside this one on the
        // same directory reads either no key or the complete one.
        let staging = dir.join(format!(".key-{}-{}", std::process::id(), fastrand::u64(..)));
        write_private(&staging, &new_key()).map_err(io(&staging))?;
        let published = std::fs::hard_link(&staging, &key_file);
        let _ = std::fs::remove_file(&staging);
        match published {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                return Err(io(&key_file)(e));
            }
            _ => {}
        }
    }
    make_private(&key_file).map_err(io(&key_file))?;
    let key = std::fs::read(&key_file).map_err(io(&key_file))?;
    let sessions = Sessions::with_key(password, key);
    let mut tokens = Vec::new();
    for account in ["admin", "viewer"] {
        let path = dir.join(format!("{account}.token"));
        let kept = std::fs::read_to_string(&path)
            .ok()
            .map(|t| t.trim().to_owned())
            .filter(|t| sessions.adopt(t));
        let token = match kept {
            Some(t) => t,
            None => {
                let t = sessions.api_key(account, now);
                write_private(&path, t.as_bytes()).map_err(io(&path))?;
                t
            }
        };
        tokens.push(token);
    }
    let viewer = tokens.pop().unwrap_or_default();
    let admin = tokens.pop().unwrap_or_default();
    Ok((sessions, admin, viewer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restart_on_the_state_dir_takes_its_tokens_back() {
        let dir = tempfile::tempdir().unwrap();
        let now: Timestamp = "2026-11-26T10:00:00Z".parse().unwrap();
        let (_, admin, viewer) = sessions(dir.path(), "pw", now).unwrap();
        let (again, admin2, viewer2) = sessions(dir.path(), "pw", now).unwrap();
        assert_eq!((&admin, &viewer), (&admin2, &viewer2));
        assert!(again.verify(&admin, now).unwrap().admin);
        assert!(!again.verify(&viewer, now).unwrap().admin);
        // A token signed with another key is not taken back: a new one is made.
        let other = tempfile::tempdir().unwrap();
        let (_, foreign, _) = sessions(other.path(), "pw", now).unwrap();
        std::fs::write(dir.path().join("argocd/admin.token"), &foreign).unwrap();
        let (third, admin3, _) = sessions(dir.path(), "pw", now).unwrap();
        assert_ne!(admin3, foreign);
        assert!(third.verify(&foreign, now).is_err());
        assert!(third.verify(&admin3, now).is_ok());
    }
}
