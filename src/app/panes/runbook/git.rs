//! The runbook's git steps planned from what the watcher last read of the GitOps remote:
//! the tag goes on the branch tip as read, the image edit is made on the overlay's text
//! at that tip, so the confirm dialog shows the exact diff the pipeline will push.

use crate::app::state::State;
use crate::bus::git::GitAction;
use crate::config::StepRun;
use crate::domain::checklist::Release;
use crate::domain::gitops::{diff, not_configured, set_image};
use crate::domain::runbook::fill;

/// The git action of `run` for `release` in environment `env`, or why it cannot be
/// planned now.
pub fn plan(
    state: &State,
    env: usize,
    release: &Release,
    run: &StepRun,
) -> Result<GitAction, String> {
    let configs: Vec<crate::config::Environment> =
        state.envs.iter().map(|e| e.config.clone()).collect();
    let here = configs.get(env).ok_or("no such environment")?;
    let gitops = here
        .gitops
        .as_ref()
        .ok_or_else(|| not_configured(&here.name))?;
    let git = state
        .checklist
        .envs
        .get(env)
        .and_then(|c| c.git.as_ref())
        .ok_or_else(|| format!("reading {}… try again in a moment", gitops.remote))?;
    let Some(tip) = &git.tip else {
        return Err(format!(
            "cannot read {}/{}: {}",
            git.remote,
            git.branch,
            git.error.as_deref().unwrap_or("no such branch")
        ));
    };
    let fill = |t: &str| fill(t, release, &configs, env);
    match run {
        StepRun::GitTag { tag, message } => Ok(GitAction::Tag {
            checkout: gitops.checkout.clone(),
            remote: gitops.remote.clone(),
            tag: fill(tag),
            message: fill(message),
            commit: tip.sha.clone(),
            subject: tip.subject.clone(),
        }),
        StepRun::SetImage {
            image,
            new_name,
            message,
        } => {
            let file = gitops.kustomization(&here.name, &release.service);
            let before = match git.file(&file) {
                Some(Ok(text)) => text.clone(),
                Some(Err(why)) => return Err(format!("cannot read {file}: {why}")),
                None => return Err(format!("reading {file}… try again in a moment")),
            };
            let image = fill(image);
            let new_name = new_name.as_deref().map(fill);
            let after = match set_image(&before, &image, new_name.as_deref(), &release.version) {
                Err(e) => return Err(format!("cannot edit {file}: {e}")),
                Ok(None) => {
                    return Err(format!(
                        "{}/{} already sets {image} to {} in {file}; nothing to commit",
                        git.remote, git.branch, release.version
                    ));
                }
                Ok(Some(after)) => after,
            };
            Ok(GitAction::SetImage {
                checkout: gitops.checkout.clone(),
                remote: gitops.remote.clone(),
                branch: gitops.branch.clone(),
                diff: diff(&before, &after),
                file,
                image,
                new_tag: release.version.clone(),
                message: fill(message),
                base: tip.sha.clone(),
                before,
                after,
            })
        }
        _ => Err("not a git step".into()),
    }
}
