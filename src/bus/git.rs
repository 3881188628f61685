//! The runbook's git steps, sent with the user's own git in their clone of the GitOps
//! repository: the seed's `git tag -a VERSION` + `git push origin VERSION`, and its
//! `kustomize edit set image` + commit + push. Both are planned at preview time from what
//! the watcher read of the remote, re-checked against the remote before anything is
//! written, tried with `git push --dry-run`, then pushed.
//!
//! The image commit is made with git's plumbing on top of the remote branch (a temporary
//! index, `commit-tree`), never in the user's working tree: whatever they have checked
//! out or half edited at 3 a.m. is left alone, and the commit carries their identity.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Preview;
use crate::clients::git::{GitFailure, git, git_with};
use crate::domain::gitops::short;

/// What a git step sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "git", rename_all = "kebab-case")]
pub enum GitAction {
    /// An annotated tag on `commit` (the remote branch's tip when planned), pushed.
    Tag {
        checkout: PathBuf,
        remote: String,
        tag: String,
        message: String,
        commit: String,
        /// The commit's subject, for the preview.
        subject: String,
    },
    /// `file` changed from `before` to `after` (its `images:` entry), committed on top of
    /// `base` and pushed to `branch`.
    SetImage {
        checkout: PathBuf,
        remote: String,
        branch: String,
        file: String,
        image: String,
        new_tag: String,
        message: String,
        base: String,
        #[serde(skip)]
        before: String,
        #[serde(skip)]
        after: String,
        /// The changed lines, as recorded.
        diff: String,
    },
}

/// Why a git step did not go through; each says what was left as it was.
#[derive(Debug, thiserror::Error)]
pub enum GitStepError {
    #[error(transparent)]
    Git(#[from] GitFailure),
    #[error(
        "a local tag {tag} points to {local}, not the planned {planned}; nothing was pushed \
         (delete it with git tag -d {tag}, or push it yourself)"
    )]
    LocalTagDiffers {
        tag: String,
        local: String,
        planned: String,
    },
    #[error(
        "{file} changed on {remote}/{branch} since the preview (now at {now}); nothing was \
         pushed — look again and retry"
    )]
    Moved {
        file: String,
        remote: String,
        branch: String,
        now: String,
    },
    #[error("no branch {branch} on {remote}")]
    NoBranch { remote: String, branch: String },
    #[error("server-side dry run refused: {0}")]
    DryRun(GitFailure),
}

impl GitAction {
    pub fn target(&self) -> &str {
        match self {
            GitAction::Tag { tag, .. } => tag,
            GitAction::SetImage { image, .. } => image,
        }
    }

    pub fn summary(&self) -> String {
        match self {
            GitAction::Tag { remote, tag, .. } => format!("git tag {tag} and push it to {remote}"),
            GitAction::SetImage {
                remote,
                branch,
                image,
                new_tag,
                ..
            } => format!("set {image} to {new_tag} in git and push to {remote}/{branch}"),
        }
    }

    pub fn preview(&self) -> Preview {
        match self {
            GitAction::Tag {
                checkout,
                remote,
                tag,
                message,
                commit,
                subject,
            } => Preview {
                title: format!("Tag the release {tag}"),
                method: "GIT",
                path: format!("push {remote} refs/tags/{tag}"),
                content_type: "text/plain",
                body: format!(
                    "git tag -a {tag} -m {message:?} {}\n  {} {subject}\ngit push {remote} refs/tags/{tag}",
                    short(commit),
                    short(commit),
                ),
                effect: format!(
                    "An annotated tag on {remote}'s {} (as read from the remote), made in {} with \
                     your git; git push --dry-run first. Nothing is sent when {remote} has the tag \
                     already.",
                    short(commit),
                    checkout.display()
                ),
            },
            GitAction::SetImage {
                checkout,
                remote,
                branch,
                file,
                message,
                base,
                diff,
                ..
            } => Preview {
                title: format!("Commit and push: {message}"),
                method: "GIT",
                path: format!("push {remote} <the new commit>:refs/heads/{branch}"),
                content_type: "text/x-diff",
                body: format!("--- a/{file}\n+++ b/{file}\n{diff}"),
                effect: format!(
                    "A commit on top of {remote}/{branch} {} with only this change (the rest of \
                     the file byte for byte), made with your git and identity in {} without \
                     touching your working tree; git push --dry-run first. Argo CD deploys it at \
                     the next sync.",
                    short(base),
                    checkout.display()
                ),
            },
        }
    }
}

/// Sends the step: its outcome in words.
pub(super) async fn execute(action: &GitAction) -> Result<String, GitStepError> {
    match action {
        GitAction::Tag {
            checkout,
            remote,
            tag,
            message,
            commit,
            ..
        } => push_tag(checkout, remote, tag, message, commit).await,
        GitAction::SetImage {
            checkout,
            remote,
            branch,
            file,
            message,
            base,
            before,
            after,
            ..
        } => {
            let plan = ImageCommit {
                dir: checkout,
                remote,
                branch,
                file,
                message,
                base,
                before,
                after,
            };
            plan.send().await
        }
    }
}

async fn push_tag(
    dir: &Path,
    remote: &str,
    tag: &str,
    message: &str,
    commit: &str,
) -> Result<String, GitStepError> {
    let tag_ref = format!("refs/tags/{tag}");
    let listed = git(dir, &["ls-remote", "--", remote, &tag_ref], None).await?;
    if !listed.trim().is_empty() {
        return Ok(format!(
            "tag {tag} is already on {remote}; nothing was sent"
        ));
    }
    let local = git(
        dir,
        &[
            "rev-parse",
            "-q",
            "--verify",
            &format!("{tag_ref}^{{commit}}"),
        ],
        None,
    )
    .await
    .ok()
    .map(|s| s.trim().to_owned());
    match local {
        Some(l) if l != commit => {
            return Err(GitStepError::LocalTagDiffers {
                tag: tag.to_owned(),
                local: short(&l).to_owned(),
                planned: short(commit).to_owned(),
            });
        }
        Some(_) => {}
        None => {
            ensure_commit(dir, remote, commit).await?;
            git(dir, &["tag", "-a", tag, "-m", message, commit], None).await?;
        }
    }
    git(dir, &["push", "--dry-run", "-q", remote, &tag_ref], None)
        .await
        .map_err(GitStepError::DryRun)?;
    git(dir, &["push", "-q", remote, &tag_ref], None).await?;
    Ok(format!("tag {tag} → {} pushed to {remote}", short(commit)))
}

/// The commit is in the clone (a fetch of the remote brings it when not).
async fn ensure_commit(dir: &Path, remote: &str, commit: &str) -> Result<(), GitFailure> {
    let object = format!("{commit}^{{commit}}");
    if git(dir, &["cat-file", "-e", &object], None).await.is_err() {
        git(dir, &["fetch", "-q", "--no-tags", "--", remote], None).await?;
    }
    Ok(())
}

struct ImageCommit<'a> {
    dir: &'a Path,
    remote: &'a str,
    branch: &'a str,
    file: &'a str,
    message: &'a str,
    base: &'a str,
    before: &'a str,
    after: &'a str,
}

impl ImageCommit<'_> {
    async fn send(&self) -> Result<String, GitStepError> {
        let (dir, remote, branch, file) = (self.dir, self.remote, self.branch, self.file);
        let head = format!("refs/heads/{branch}");
        let listed = git(dir, &["ls-remote", "--", remote, &head], None).await?;
        let Some(tip) = listed.split_whitespace().next().map(str::to_owned) else {
            return Err(GitStepError::NoBranch {
                remote: remote.to_owned(),
                branch: branch.to_owned(),
            });
        };
        let tracking = format!("+{head}:refs/remotes/{remote}/{branch}");
        git(
            dir,
            &["fetch", "-q", "--no-tags", "--", remote, &tracking],
            None,
        )
        .await?;
        let now = git(dir, &["show", &format!("{tip}:{file}")], None)
            .await
            .unwrap_or_default();
        if now == self.after {
            return Ok(format!(
                "{remote}/{branch} {} already has this change; nothing was sent",
                short(&tip)
            ));
        }
        // Someone else's commit since the preview is fine if it left this file alone.
        if tip != self.base && now != self.before {
            return Err(GitStepError::Moved {
                file: file.to_owned(),
                remote: remote.to_owned(),
                branch: branch.to_owned(),
                now: short(&tip).to_owned(),
            });
        }
        let commit = self.commit_on(&tip).await?;
        let refspec = format!("{commit}:{head}");
        git(dir, &["push", "--dry-run", "-q", remote, &refspec], None)
            .await
            .map_err(GitStepError::DryRun)?;
        git(dir, &["push", "-q", remote, &refspec], None).await?;
        let local = self.fast_forward(&tip, &commit).await;
        Ok(format!(
            "{} \"{}\" pushed to {remote}/{branch}{local}",
            short(&commit),
            self.message
        ))
    }

    /// A commit of `after` on top of `tip`, through a temporary index.
    async fn commit_on(&self, tip: &str) -> Result<String, GitFailure> {
        let dir = self.dir;
        let blob = git(
            dir,
            &["hash-object", "-w", "--stdin"],
            Some(self.after.as_bytes()),
        )
        .await?;
        let mode = git(dir, &["ls-tree", tip, "--", self.file], None)
            .await?
            .split_whitespace()
            .next()
            .map(str::to_owned)
            .unwrap_or_else(|| "100644".to_owned());
        // A fresh index of its own (git makes the file), so the user's is untouched.
        let scratch = tempfile::tempdir().map_err(GitFailure::Spawn)?;
        let index = scratch.path().join("index");
        let index = index.to_string_lossy();
        let env = [("GIT_INDEX_FILE", index.as_ref())];
        git_with(dir, &["read-tree", tip], None, &env).await?;
        let cacheinfo = format!("{mode},{},{}", blob.trim(), self.file);
        git_with(
            dir,
            &["update-index", "--add", "--cacheinfo", &cacheinfo],
            None,
            &env,
        )
        .await?;
        let tree = git_with(dir, &["write-tree"], None, &env).await?;
        let commit = git(
            dir,
            &["commit-tree", tree.trim(), "-p", tip, "-m", self.message],
            None,
        )
        .await?;
        Ok(commit.trim().to_owned())
    }

    /// Moves the user's branch along when it was exactly at the old tip and clean, so
    /// their clone shows the commit; otherwise says how to get it.
    async fn fast_forward(&self, tip: &str, commit: &str) -> String {
        let dir = self.dir;
        let current = git(dir, &["symbolic-ref", "-q", "--short", "HEAD"], None)
            .await
            .unwrap_or_default();
        let head = git(dir, &["rev-parse", "HEAD"], None)
            .await
            .unwrap_or_default();
        let clean = git(
            dir,
            &["status", "--porcelain", "--untracked-files=no"],
            None,
        )
        .await
        .is_ok_and(|s| s.trim().is_empty());
        if current.trim() == self.branch
            && head.trim() == tip
            && clean
            && git(dir, &["merge", "-q", "--ff-only", commit], None)
                .await
                .is_ok()
        {
            return format!("; your {} is at it", self.branch);
        }
        "; your checkout was left as it was (git pull to see it)".to_owned()
    }
}
