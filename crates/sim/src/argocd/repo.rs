//! The simulated GitOps repository: a real git repository on disk (a bare remote, as the
//! repo server clones it, and a working clone for the person at the keyboard), so what a
//! user commits and pushes is what a sync deploys. Each app's path is a kustomize overlay:
//! a workload manifest whose images are bare names (`customer-adapter`) and a
//! `kustomization.yaml` whose `images:` set them (`newName`, `newTag`), as the seed's
//! `kustomize edit set image` writes them. Argo CD resolves revisions with `git rev-parse`
//! and renders a path by applying the overlay's `images:` to the workloads under it.
//!
//! The git CLI does the work, as Argo CD's repo server does; results for a commit never
//! change, so they are cached, and `HEAD` is read again at most once a second.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::kustomize;

/// The demo's repository (the seed edits `infrastructure/k8s/overlays/<env>` in it).
pub const REPO_URL: &str = "https://github.com/controle-digital/dictamesh.git";
/// The branch Argo CD's `HEAD` follows.
pub const BRANCH: &str = "main";
/// Who wrote the demo's history.
const BOT: &str = "release-bot <release@dictamesh.io>";
/// How long a resolved `HEAD` is trusted before asking git again.
const HEAD_TTL: Duration = Duration::from_secs(1);

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

/// The workloads of an app's path at a commit, with their images.
pub type Rendered = Vec<(WorkloadKey, Images)>;

/// One workload's new images under an app's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The directory of the app's manifests (its `spec.source.path`).
    pub path: String,
    pub key: WorkloadKey,
    pub images: Images,
}

/// A commit of the history the repository starts with.
#[derive(Debug, Clone)]
pub struct NewCommit {
    pub at: Timestamp,
    pub message: String,
    pub changes: Vec<Change>,
}

/// Why the repository could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run git (the demo's GitOps repository needs git on PATH): {0}")]
    Spawn(#[source] std::io::Error),
    #[error("`git {args}` failed: {stderr}")]
    Failed { args: String, stderr: String },
    #[error("cannot write the GitOps repository: {0}")]
    Io(#[from] std::io::Error),
}

/// A workload as the overlay's manifest declares it: its containers' bare image names.
#[derive(Debug, Clone)]
struct Base {
    path: String,
    key: WorkloadKey,
    /// (container, image name in the manifest, e.g. `customer-adapter`).
    containers: Vec<(String, String)>,
}

struct Backing {
    remote: PathBuf,
    checkout: PathBuf,
    /// Holds a temporary home (unit tests) until the simulator is dropped.
    _temp: Option<tempfile::TempDir>,
    bases: Vec<Base>,
    rendered: Mutex<HashMap<(String, String), Option<Rendered>>>,
    infos: Mutex<HashMap<String, Option<(Timestamp, String)>>>,
    head: Mutex<Option<(Instant, Option<String>)>>,
}

/// The repository; empty until `create`.
#[derive(Default)]
pub struct GitRepo {
    backing: OnceLock<Backing>,
}

impl std::fmt::Debug for GitRepo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitRepo")
            .field("remote", &self.backing.get().map(|b| &b.remote))
            .finish()
    }
}

/// Whether `s` looks like a full commit SHA (Argo CD's `git.IsCommitSHA`).
pub fn is_commit_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `ghcr.io/org/name:tag` → (`ghcr.io/org/name`, `name`, `tag`).
fn split_image(image: &str) -> (&str, &str, &str) {
    let (repo, tag) = match image.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r, t),
        _ => (image, "latest"),
    };
    let short = repo.rsplit('/').next().unwrap_or(repo);
    (repo, short, tag)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs git with `args`, returning stdout; `input` is written to its stdin.
pub(crate) fn git(dir: &Path, args: &[&str], input: Option<&[u8]>) -> Result<String, GitError> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args(args)
        // Never prompt, never read the user's hooks or signing setup into the demo.
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(GitError::Spawn)?;
    if let (Some(data), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin.write_all(data)?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(GitError::Failed {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The `fast-import` stream of the starting history, and each commit's mark.
fn import_stream(bases: &[Base], history: &[NewCommit]) -> Vec<u8> {
    let mut out = Vec::new();
    let data = |out: &mut Vec<u8>, text: &str| {
        out.extend_from_slice(format!("data {}\n", text.len()).as_bytes());
        out.extend_from_slice(text.as_bytes());
        out.push(b'\n');
    };
    // path → workload images, as of the commit being written.
    let mut current: HashMap<&str, Vec<(&WorkloadKey, &Images)>> = HashMap::new();
    for (i, c) in history.iter().enumerate() {
        let when = format!("{} +0000", c.at.as_second());
        out.extend_from_slice(
            format!(
                "commit refs/heads/{BRANCH}\nmark :{}\nauthor {BOT} {when}\ncommitter {BOT} {when}\n",
                i + 1
            )
            .as_bytes(),
        );
        data(&mut out, &c.message);
        let mut touched: Vec<&str> = Vec::new();
        for ch in &c.changes {
            let slot = current.entry(ch.path.as_str()).or_default();
            if slot.is_empty() {
                // A new overlay: its workload manifests, written once.
                for b in bases.iter().filter(|b| b.path == ch.path) {
                    let file = format!("{}/{}.yaml", b.path, b.key.kind.to_ascii_lowercase());
                    out.extend_from_slice(format!("M 100644 inline {file}\n").as_bytes());
                    data(
                        &mut out,
                        &kustomize::workload_manifest(&b.key, &b.containers),
                    );
                }
            }
            match slot.iter_mut().find(|(k, _)| **k == ch.key) {
                Some(s) => s.1 = &ch.images,
                None => slot.push((&ch.key, &ch.images)),
            }
            if !touched.contains(&ch.path.as_str()) {
                touched.push(&ch.path);
            }
        }
        for path in touched {
            let workloads = &current[path];
            let namespace = workloads
                .first()
                .map(|(k, _)| k.namespace.as_str())
                .unwrap_or("");
            let kinds: Vec<String> = bases
                .iter()
                .filter(|b| b.path == path)
                .map(|b| format!("{}.yaml", b.key.kind.to_ascii_lowercase()))
                .collect();
            let mut images: Vec<kustomize::ImageEntry> = Vec::new();
            for (key, imgs) in workloads {
                let base = bases.iter().find(|b| b.path == path && &b.key == *key);
                for (container, image) in imgs.iter() {
                    let (repo, short, tag) = split_image(image);
                    let name = base
                        .and_then(|b| b.containers.iter().find(|(c, _)| c == container))
                        .map_or(short, |(_, n)| n.as_str());
                    if !images.iter().any(|e| e.name == name) {
                        images.push(kustomize::ImageEntry {
                            name: name.to_owned(),
                            new_name: Some(repo.to_owned()),
                            new_tag: Some(tag.to_owned()),
                            digest: None,
                        });
                    }
                }
            }
            out.extend_from_slice(
                format!("M 100644 inline {path}/kustomization.yaml\n").as_bytes(),
            );
            data(
                &mut out,
                &kustomize::kustomization(namespace, &kinds, &images),
            );
        }
        out.push(b'\n');
    }
    out.extend_from_slice(b"done\n");
    out
}

impl GitRepo {
    /// Creates the bare remote at `dir/gitops.git` (replacing what was there) with
    /// `history`, and a working clone at `dir/gitops`; returns each commit's SHA. Without
    /// `dir`, both live in a temporary directory removed with the simulator.
    pub fn create(
        &self,
        dir: Option<&Path>,
        history: &[NewCommit],
    ) -> Result<Vec<String>, GitError> {
        let (root, temp) = match dir {
            Some(d) => (d.to_path_buf(), None),
            None => {
                let t = tempfile::tempdir()?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        std::fs::create_dir_all(&root)?;
        let remote = root.join("gitops.git");
        let checkout = root.join("gitops");
        for old in [&remote, &checkout] {
            if old.exists() {
                std::fs::remove_dir_all(old)?;
            }
        }
        let bases = bases_of(history);
        let root_s = root.to_string_lossy().into_owned();
        git(
            &root,
            &["init", "-q", "--bare", "-b", BRANCH, "gitops.git"],
            None,
        )?;
        let marks = root.join("gitops.git/import-marks");
        let marks_arg = format!("--export-marks={}", marks.display());
        git(
            &remote,
            &["fast-import", "--quiet", &marks_arg],
            Some(&import_stream(&bases, history)),
        )?;
        let marks_text = std::fs::read_to_string(&marks)?;
        let _ = std::fs::remove_file(&marks);
        let mut shas = vec![String::new(); history.len()];
        for line in marks_text.lines() {
            if let Some((mark, sha)) = line.trim_start_matches(':').split_once(' ')
                && let Ok(i) = mark.parse::<usize>()
                && (1..=shas.len()).contains(&i)
            {
                shas[i - 1] = sha.to_owned();
            }
        }
        git(&root, &["clone", "-q", "gitops.git", "gitops"], None)?;
        // Commits need an author: the user's own when git has one, else the demo's.
        if git(&checkout, &["config", "user.email"], None).is_err() {
            git(
                &checkout,
                &["config", "user.email", "oncall@dictamesh.io"],
                None,
            )?;
            git(
                &checkout,
                &["config", "user.name", "DictaMesh on-call"],
                None,
            )?;
        }
        tracing::info!(remote = %remote.display(), dir = %root_s, "gitops repository created");
        let _ = self.backing.set(Backing {
            remote,
            checkout,
            _temp: temp,
            bases,
            rendered: Mutex::default(),
            infos: Mutex::default(),
            head: Mutex::default(),
        });
        Ok(shas)
    }

    /// The bare repository Argo CD reads (what `git push` in the clone updates).
    pub fn remote(&self) -> Option<&Path> {
        self.backing.get().map(|b| b.remote.as_path())
    }

    /// The working clone made at start, for the person at the keyboard.
    pub fn checkout(&self) -> Option<&Path> {
        self.backing.get().map(|b| b.checkout.as_path())
    }

    /// Drops the cached `HEAD`, so the next resolve asks git (a refresh).
    pub fn forget_head(&self) {
        if let Some(b) = self.backing.get() {
            *lock(&b.head) = None;
        }
    }

    /// The newest commit of the default branch.
    pub fn head(&self) -> Option<String> {
        self.resolve("HEAD")
    }

    /// Resolves a revision as the repo server does: `HEAD` or empty → the default
    /// branch's newest commit; a branch or tag → its commit; a full SHA or a unique prefix
    /// of at least 7 hex digits → that commit.
    pub fn resolve(&self, rev: &str) -> Option<String> {
        let b = self.backing.get()?;
        let rev = if rev.is_empty() { "HEAD" } else { rev };
        // Only names a ref or a SHA can have: nothing git would read as an option or a
        // revision expression (`HEAD~1`, `a..b`, `:/text`).
        let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-');
        if rev.starts_with('-') || rev.contains("..") || !rev.chars().all(ok) {
            return None;
        }
        if rev == "HEAD" {
            let mut h = lock(&b.head);
            if let Some((at, sha)) = h.as_ref()
                && at.elapsed() < HEAD_TTL
            {
                return sha.clone();
            }
            let sha = rev_parse(&b.remote, "HEAD");
            *h = Some((Instant::now(), sha.clone()));
            return sha;
        }
        let hex = rev.bytes().all(|c| c.is_ascii_hexdigit());
        if hex && rev.len() < 7 && rev_parse(&b.remote, &format!("refs/tags/{rev}")).is_none() {
            return None;
        }
        rev_parse(&b.remote, rev)
    }

    /// The workloads under `path` at a commit, with the images its overlay gives them
    /// (None when the commit is unknown; empty when the path is not there).
    pub fn manifests_at(&self, sha: &str, path: &str) -> Option<Vec<(WorkloadKey, Images)>> {
        let b = self.backing.get()?;
        if !is_commit_sha(sha) {
            return None;
        }
        let key = (sha.to_owned(), path.to_owned());
        if let Some(hit) = lock(&b.rendered).get(&key) {
            return hit.clone();
        }
        let rendered = self.render(b, sha, path);
        lock(&b.rendered).insert(key, rendered.clone());
        rendered
    }

    fn render(&self, b: &Backing, sha: &str, path: &str) -> Option<Vec<(WorkloadKey, Images)>> {
        rev_parse(&b.remote, sha)?;
        let spec = format!("{sha}:{path}/kustomization.yaml");
        let Ok(text) = git(&b.remote, &["show", &spec], None) else {
            return Some(Vec::new());
        };
        let images = match kustomize::images(&text) {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(%path, %sha, "unreadable kustomization: {e}");
                return Some(Vec::new());
            }
        };
        let mut out: Vec<(WorkloadKey, Images)> = b
            .bases
            .iter()
            .filter(|base| base.path == path)
            .map(|base| {
                let imgs = base
                    .containers
                    .iter()
                    .map(|(c, name)| (c.clone(), kustomize::apply(name, &images)))
                    .collect();
                (base.key.clone(), imgs)
            })
            .collect();
        out.sort();
        Some(out)
    }

    /// A commit's time and message.
    pub fn info(&self, sha: &str) -> Option<(Timestamp, String)> {
        let b = self.backing.get()?;
        if let Some(hit) = lock(&b.infos).get(sha) {
            return hit.clone();
        }
        let info = if is_commit_sha(sha) {
            git(&b.remote, &["show", "-s", "--format=%ct%n%B", sha], None)
                .ok()
                .and_then(|out| {
                    let (secs, msg) = out.split_once('\n')?;
                    let at = Timestamp::from_second(secs.trim().parse().ok()?).ok()?;
                    Some((at, msg.trim_end().to_owned()))
                })
        } else {
            None
        };
        lock(&b.infos).insert(sha.to_owned(), info.clone());
        info
    }
}

fn rev_parse(remote: &Path, rev: &str) -> Option<String> {
    let spec = format!("{rev}^{{commit}}");
    git(remote, &["rev-parse", "--verify", "-q", &spec], None)
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| is_commit_sha(s))
}

/// Each workload's containers and bare image names, from its first change. Two
/// workloads of one overlay that run the same image (a blue/green pair) get names of
/// their own (`graphql-gateway-blue`), so the overlay can set each one's tag, as a
/// kustomize blue/green overlay does.
fn bases_of(history: &[NewCommit]) -> Vec<Base> {
    let mut bases = first_seen(history);
    let shared: Vec<(String, String)> = bases
        .iter()
        .flat_map(|b| {
            b.containers
                .iter()
                .map(move |(_, n)| (b.path.clone(), n.clone()))
        })
        .filter(|(p, n)| {
            bases
                .iter()
                .filter(|b| &b.path == p && b.containers.iter().any(|(_, m)| m == n))
                .count()
                > 1
        })
        .collect();
    for b in &mut bases {
        let path = b.path.clone();
        let name = b.key.name.clone();
        for (_, n) in &mut b.containers {
            if shared.contains(&(path.clone(), n.clone())) && *n != name {
                *n = name.clone();
            }
        }
    }
    bases
}

fn first_seen(history: &[NewCommit]) -> Vec<Base> {
    let mut bases: Vec<Base> = Vec::new();
    for ch in history.iter().flat_map(|c| &c.changes) {
        if bases.iter().any(|b| b.path == ch.path && b.key == ch.key) {
            continue;
        }
        bases.push(Base {
            path: ch.path.clone(),
            key: ch.key.clone(),
            containers: ch
                .images
                .iter()
                .map(|(c, image)| (c.clone(), split_image(image).1.to_owned()))
                .collect(),
        });
    }
    bases
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn key(name: &str) -> WorkloadKey {
        WorkloadKey {
            kind: "Deployment".into(),
            namespace: "dictamesh-prod".into(),
            name: name.into(),
        }
    }

    fn img(name: &str, tag: &str) -> Images {
        vec![(name.into(), format!("ghcr.io/x/{name}:{tag}"))]
    }

    fn ch(name: &str, tag: &str) -> Change {
        Change {
            path: format!("overlays/prod/{name}"),
            key: key(name),
            images: img(name, tag),
        }
    }

    #[test]
    fn revisions_resolve_and_overlays_render_images() {
        let r = GitRepo::default();
        let t: Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
        let later = t + jiff::SignedDuration::from_hours(1);
        let shas = r
            .create(
                None,
                &[
                    NewCommit {
                        at: t,
                        message: "deploy: a v1, b v1".into(),
                        changes: vec![ch("a", "v1"), ch("b", "v1")],
                    },
                    NewCommit {
                        at: later,
                        message: "deploy: a v2".into(),
                        changes: vec![ch("a", "v2")],
                    },
                ],
            )
            .unwrap();
        let (a, b) = (shas[0].clone(), shas[1].clone());
        assert!(is_commit_sha(&a) && is_commit_sha(&b) && a != b);
        assert_eq!(r.resolve("HEAD"), Some(b.clone()));
        assert_eq!(r.resolve("main"), Some(b.clone()));
        assert_eq!(r.resolve(&a[..8]), Some(a.clone()));
        for bad in ["abc", "HEAD~1", "-q", "a..b", ":/deploy", ""] {
            if !bad.is_empty() {
                assert_eq!(r.resolve(bad), None, "{bad}");
            }
        }
        assert_eq!(
            r.manifests_at(&a, "overlays/prod/a"),
            Some(vec![(key("a"), img("a", "v1"))])
        );
        assert_eq!(
            r.manifests_at(&b, "overlays/prod/a"),
            Some(vec![(key("a"), img("a", "v2"))])
        );
        // b did not change in the second commit: its overlay carries forward.
        assert_eq!(
            r.manifests_at(&b, "overlays/prod/b"),
            Some(vec![(key("b"), img("b", "v1"))])
        );
        assert_eq!(r.manifests_at(&b, "other"), Some(vec![]));
        assert_eq!(r.manifests_at(&"0".repeat(40), "overlays/prod/a"), None);
        assert_eq!(r.info(&b).map(|i| i.1), Some("deploy: a v2".to_string()));
        assert_eq!(r.info(&a).map(|i| i.0), Some(t));

        // A push to the remote from the clone is what HEAD resolves to next.
        let co = r.checkout().unwrap().to_path_buf();
        let file = co.join("overlays/prod/b/kustomization.yaml");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains("newTag: v1"), "{text}");
        std::fs::write(&file, text.replace("newTag: v1", "newTag: v3")).unwrap();
        git(&co, &["commit", "-qam", "deploy: b v3"], None).unwrap();
        git(&co, &["tag", "-a", "v3", "-m", "Release v3"], None).unwrap();
        git(&co, &["push", "-q", "origin", "main", "v3"], None).unwrap();
        std::thread::sleep(HEAD_TTL);
        let c = r.resolve("HEAD").unwrap();
        assert_ne!(c, b);
        assert_eq!(r.resolve("v3"), Some(c.clone()));
        assert_eq!(
            r.manifests_at(&c, "overlays/prod/b"),
            Some(vec![(key("b"), img("b", "v3"))])
        );
    }
}
