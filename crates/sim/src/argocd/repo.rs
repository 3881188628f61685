//! The simulated GitOps repository: one linear history of commits, each changing the images
//! of some workloads, so any revision says which image every workload runs there ("revision
//! → image per workload"). Argo CD resolves `targetRevision` and history revisions against
//! it; sync and rollback apply a revision's images. Commit ids are SHA-1s of a git-like
//! commit text, so they look and behave like real 40-hex revisions.

use std::sync::Mutex;

use jiff::Timestamp;

/// The demo's repository (the seed edits `infrastructure/k8s/overlays/<env>` in it).
pub const REPO_URL: &str = "https://github.com/controle-digital/dictamesh.git";

/// A workload a revision sets images for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkloadKey {
    /// `Deployment` or `Rollout`.
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

/// Container name → image.
pub type Images = Vec<(String, String)>;

/// One workload's new images under an app's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The directory of the app's manifests (its `spec.source.path`).
    pub path: String,
    pub key: WorkloadKey,
    pub images: Images,
}

/// One commit.
#[derive(Debug, Clone)]
pub struct Commit {
    pub sha: String,
    pub at: Timestamp,
    pub message: String,
    pub changes: Vec<Change>,
}

/// The repository; commits are appended in time order.
#[derive(Debug, Default)]
pub struct GitRepo {
    commits: Mutex<Vec<Commit>>,
}

fn sha1_hex(text: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, text.as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `s` looks like a full commit SHA (Argo CD's `git.IsCommitSHA`).
pub fn is_commit_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl GitRepo {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Commit>> {
        self.commits.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends a commit and returns its SHA.
    pub fn commit(&self, at: Timestamp, message: &str, changes: Vec<Change>) -> String {
        let mut g = self.lock();
        let parent = g.last().map(|c| c.sha.clone()).unwrap_or_default();
        let mut text = format!(
            "parent {parent}\nauthor release-bot <release@dictamesh.io> {}\n",
            at.as_second()
        );
        for ch in &changes {
            for (c, i) in &ch.images {
                let k = &ch.key;
                text.push_str(&format!(
                    "{}:{}/{}/{}/{c}={i}\n",
                    ch.path, k.namespace, k.kind, k.name
                ));
            }
        }
        text.push_str(message);
        let sha = sha1_hex(&text);
        g.push(Commit {
            sha: sha.clone(),
            at,
            message: message.to_string(),
            changes,
        });
        sha
    }

    /// The newest commit.
    pub fn head(&self) -> Option<String> {
        self.lock().last().map(|c| c.sha.clone())
    }

    /// Resolves a revision as the repo server does: `HEAD`, the default branch or empty → the
    /// newest commit; a full SHA or a unique prefix of at least 7 hex digits → that commit.
    pub fn resolve(&self, rev: &str) -> Option<String> {
        let g = self.lock();
        match rev {
            "" | "HEAD" | "main" | "master" => return g.last().map(|c| c.sha.clone()),
            _ => {}
        }
        let rev = rev.to_ascii_lowercase();
        if rev.len() < 7 {
            return None;
        }
        let mut found = g.iter().filter(|c| c.sha.starts_with(&rev));
        match (found.next(), found.next()) {
            (Some(c), None) => Some(c.sha.clone()),
            _ => None,
        }
    }

    /// The workloads under `path` at a revision, each with the images of its latest change
    /// at or before that commit (None when the revision is unknown).
    pub fn manifests_at(&self, sha: &str, path: &str) -> Option<Vec<(WorkloadKey, Images)>> {
        let g = self.lock();
        let end = g.iter().position(|c| c.sha == sha)?;
        let mut out: Vec<(WorkloadKey, Images)> = Vec::new();
        for ch in g[..=end]
            .iter()
            .flat_map(|c| &c.changes)
            .filter(|c| c.path == path)
        {
            match out.iter_mut().find(|(k, _)| *k == ch.key) {
                Some(slot) => slot.1 = ch.images.clone(),
                None => out.push((ch.key.clone(), ch.images.clone())),
            }
        }
        out.sort();
        Some(out)
    }

    /// A commit's time and message.
    pub fn info(&self, sha: &str) -> Option<(Timestamp, String)> {
        self.lock()
            .iter()
            .find(|c| c.sha == sha)
            .map(|c| (c.at, c.message.clone()))
    }

    /// All commits, oldest first.
    pub fn log(&self) -> Vec<Commit> {
        self.lock().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> WorkloadKey {
        WorkloadKey {
            kind: "Deployment".into(),
            namespace: "dictamesh-prod".into(),
            name: name.into(),
        }
    }

    fn img(tag: &str) -> Images {
        vec![("c".into(), format!("ghcr.io/x/c:{tag}"))]
    }

    #[test]
    fn revisions_resolve_and_carry_images_forward() {
        let r = GitRepo::default();
        let ch = |name: &str, tag: &str| Change {
            path: "p".into(),
            key: key(name),
            images: img(tag),
        };
        let t: Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
        let a = r.commit(t, "deploy: a v1", vec![ch("a", "v1"), ch("b", "v1")]);
        let later = t + jiff::SignedDuration::from_hours(1);
        let b = r.commit(later, "deploy: a v2", vec![ch("a", "v2")]);
        assert!(is_commit_sha(&a) && is_commit_sha(&b) && a != b);
        assert_eq!(r.resolve("HEAD"), Some(b.clone()));
        assert_eq!(r.resolve(&a[..8]), Some(a.clone()));
        assert_eq!(r.resolve("abc"), None);
        assert_eq!(
            r.manifests_at(&a, "p"),
            Some(vec![(key("a"), img("v1")), (key("b"), img("v1"))])
        );
        // b did not change in the second commit: its image carries forward.
        assert_eq!(
            r.manifests_at(&b, "p"),
            Some(vec![(key("a"), img("v2")), (key("b"), img("v1"))])
        );
        assert_eq!(r.manifests_at(&b, "other"), Some(vec![]));
        assert_eq!(r.manifests_at("nope", "p"), None);
        assert_eq!(r.info(&b).map(|i| i.1), Some("deploy: a v2".to_string()));
    }
}
