//! The user's own git, run in their clone of the GitOps repository: a watcher that reads
//! the remote (branch tip, tags, the overlays at the tip) every few seconds for the
//! runbook's checks, and the commands the runbook's tag and image steps send.
//!
//! git never prompts here (no terminal to prompt on: the TUI owns it); a remote that wants
//! a password fails with git's own message instead of hanging.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::Gitops;
use crate::domain::gitops::{Commit, GitState};

/// How often the remote is read.
pub const READ_EVERY: Duration = Duration::from_secs(10);
/// How long one git command may take (a push to a slow remote included).
const GIT_TIMEOUT: Duration = Duration::from_secs(60);

/// A read of one environment's remote.
#[derive(Debug)]
pub struct GitItem {
    /// Index of the environment in the config.
    pub env: usize,
    pub state: GitState,
}

/// Why a git command did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum GitFailure {
    #[error("cannot run git: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("`git {args}` took longer than {}s", GIT_TIMEOUT.as_secs())]
    Timeout { args: String },
    #[error("`git {args}` failed: {stderr}")]
    Failed { args: String, stderr: String },
    #[error("{0} is not a git checkout")]
    NotACheckout(PathBuf),
}

/// Runs `git -C dir ARGS` (with `input` on stdin), returning its stdout.
pub async fn git(dir: &Path, args: &[&str], input: Option<&[u8]>) -> Result<String, GitFailure> {
    git_with(dir, args, input, &[]).await
}

/// `git` with extra environment variables.
pub async fn git_with(
    dir: &Path,
    args: &[&str],
    input: Option<&[u8]>,
    env: &[(&str, &str)],
) -> Result<String, GitFailure> {
    use tokio::io::AsyncWriteExt;
    use tokio::process::Command;
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args(args)
        .envs(env.iter().copied())
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        .stdin(if input.is_some() {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(GitFailure::Spawn)?;
    if let (Some(data), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin.write_all(data).await.map_err(GitFailure::Spawn)?;
    }
    let out = tokio::time::timeout(GIT_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| GitFailure::Timeout {
            args: args.join(" "),
        })?
        .map_err(GitFailure::Spawn)?;
    if !out.status.success() {
        return Err(GitFailure::Failed {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `ls-remote` output → (branch tip, tags with the commits they point to).
fn parse_ls_remote(text: &str, branch: &str) -> (Option<String>, Vec<(String, String)>) {
    let head = format!("refs/heads/{branch}");
    let mut tip = None;
    let mut tags: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let Some((sha, name)) = line.split_once('\t') else {
            continue;
        };
        if name == head {
            tip = Some(sha.to_owned());
        } else if let Some(tag) = name.strip_prefix("refs/tags/") {
            // An annotated tag is listed twice: its object, then `^{}` with the commit.
            let (tag, peeled) = match tag.strip_suffix("^{}") {
                Some(t) => (t, true),
                None => (tag, false),
            };
            match tags.iter_mut().find(|(t, _)| t == tag) {
                Some(slot) if peeled => slot.1 = sha.to_owned(),
                Some(_) => {}
                None => tags.push((tag.to_owned(), sha.to_owned())),
            }
        }
    }
    (tip, tags)
}

/// Reads the remote: its tip and tags, then (when the tip moved) the tip's overlays.
pub async fn read(
    gitops: &Gitops,
    files: &[String],
    last: Option<&GitState>,
    now: Timestamp,
) -> GitState {
    let mut st = last.cloned().unwrap_or_else(|| GitState {
        read_at: now,
        remote: gitops.remote.clone(),
        branch: gitops.branch.clone(),
        tip: None,
        tags: Vec::new(),
        files: Vec::new(),
        error: None,
    });
    st.read_at = now;
    match read_into(gitops, files, &mut st).await {
        Ok(()) => st.error = None,
        Err(e) => st.error = Some(e.to_string()),
    }
    st
}

async fn read_into(gitops: &Gitops, files: &[String], st: &mut GitState) -> Result<(), GitFailure> {
    let dir = &gitops.checkout;
    if !dir.join(".git").exists() && git(dir, &["rev-parse", "--git-dir"], None).await.is_err() {
        return Err(GitFailure::NotACheckout(dir.clone()));
    }
    let head = format!("refs/heads/{}", gitops.branch);
    let listed = git(
        dir,
        &["ls-remote", "--", &gitops.remote, &head, "refs/tags/*"],
        None,
    )
    .await?;
    let (tip, tags) = parse_ls_remote(&listed, &gitops.branch);
    st.tags = tags;
    let Some(tip) = tip else {
        st.tip = None;
        st.files.clear();
        return Err(GitFailure::Failed {
            args: format!("ls-remote {} {head}", gitops.remote),
            stderr: format!("no branch {} on {}", gitops.branch, gitops.remote),
        });
    };
    let moved = st.tip.as_ref().is_none_or(|t| t.sha != tip);
    let missing = files.iter().any(|f| st.file(f).is_none());
    if !moved && !missing {
        return Ok(());
    }
    if moved {
        let refspec = format!("+{head}:refs/remotes/{}/{}", gitops.remote, gitops.branch);
        git(
            dir,
            &["fetch", "-q", "--no-tags", "--", &gitops.remote, &refspec],
            None,
        )
        .await?;
    }
    let subject = git(dir, &["log", "-1", "--format=%s", &tip], None).await?;
    let mut read = Vec::with_capacity(files.len());
    for f in files {
        let spec = format!("{tip}:{f}");
        let text = git(dir, &["show", &spec], None).await.map_err(|e| match e {
            GitFailure::Failed { stderr, .. } => stderr,
            other => other.to_string(),
        });
        read.push((f.clone(), text));
    }
    st.files = read;
    st.tip = Some(Commit {
        sha: tip,
        subject: subject.trim().to_owned(),
    });
    Ok(())
}

/// What to read: environments sharing one checkout, remote and branch are read once.
pub fn plan_reads(
    environments: &[crate::config::Environment],
) -> Vec<(Vec<usize>, Gitops, Vec<String>)> {
    let mut reads: Vec<(Vec<usize>, Gitops, Vec<String>)> = Vec::new();
    for (i, e) in environments.iter().enumerate() {
        let Some(g) = &e.gitops else { continue };
        let files = e.services.iter().map(|s| g.kustomization(&e.name, &s.name));
        let same = |r: &&mut (Vec<usize>, Gitops, Vec<String>)| {
            r.1.checkout == g.checkout && r.1.remote == g.remote && r.1.branch == g.branch
        };
        match reads.iter_mut().find(same) {
            Some(r) => {
                r.0.push(i);
                r.2.extend(files.filter(|f| !r.2.contains(f)).collect::<Vec<_>>());
            }
            None => reads.push((vec![i], g.clone(), files.collect())),
        }
    }
    reads
}

/// Reads each checkout's remote now and every `READ_EVERY`.
pub fn spawn_watcher<E: From<GitItem> + Send + 'static>(
    checkouts: Vec<(Vec<usize>, Gitops, Vec<String>)>,
    clock: crate::domain::Clock,
    tx: mpsc::Sender<E>,
) -> Option<JoinHandle<()>> {
    if checkouts.is_empty() {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut last: Vec<Option<GitState>> = vec![None; checkouts.len()];
        let mut ticker = tokio::time::interval(READ_EVERY);
        loop {
            ticker.tick().await;
            for (i, (envs, gitops, files)) in checkouts.iter().enumerate() {
                let state = read(gitops, files, last[i].as_ref(), clock()).await;
                last[i] = Some(state.clone());
                for env in envs {
                    let item = GitItem {
                        env: *env,
                        state: state.clone(),
                    };
                    if tx.send(item.into()).await.is_err() {
                        return;
                    }
                }
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ls_remote_peels_annotated_tags() {
        let text = "aaa\trefs/heads/main\nbbb\trefs/heads/other\nccc\trefs/tags/v1\nddd\trefs/tags/v1^{}\neee\trefs/tags/light\n";
        let (tip, tags) = parse_ls_remote(text, "main");
        assert_eq!(tip.as_deref(), Some("aaa"));
        assert_eq!(
            tags,
            vec![("v1".into(), "ddd".into()), ("light".into(), "eee".into())]
        );
    }
}
