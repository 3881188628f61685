//! The checks that read the GitOps repository's remote: the release is tagged, and the
//! service's overlay on the branch Argo CD follows sets the release's image.

use super::{Evaluation, Release, Verdict};
use crate::domain::gitops::{GitState, image_entry, short};

/// `{version}` and `{service}` of `template` filled in for `release`.
pub fn fill(template: &str, release: &Release) -> String {
    template
        .replace("{version}", &release.version)
        .replace("{service}", &release.service)
}

/// The remote as read: Err(evaluation) while it cannot say.
fn read(git: Result<Option<&GitState>, String>) -> Result<&GitState, Evaluation> {
    match git {
        Err(why) => Err(Evaluation::new(
            Verdict::CannotTell,
            format!("{why}; tick by hand"),
            None,
        )),
        Ok(None) => Err(Evaluation::new(
            Verdict::Pending,
            "reading the GitOps repository…",
            None,
        )),
        Ok(Some(st)) if st.tip.is_none() => Err(Evaluation::new(
            Verdict::CannotTell,
            format!(
                "cannot read {}/{}: {}",
                st.remote,
                st.branch,
                st.error.as_deref().unwrap_or("no such branch")
            ),
            Some(st.read_at),
        )),
        Ok(Some(st)) => Ok(st),
    }
}

/// Tag `tag` of the release is on the remote.
pub fn tagged(tag: &str, release: &Release, git: Result<Option<&GitState>, String>) -> Evaluation {
    let st = match read(git) {
        Ok(st) => st,
        Err(e) => return e,
    };
    let tag = fill(tag, release);
    let stale = st
        .error
        .as_deref()
        .map(|e| format!(" (last read; now: {e})"))
        .unwrap_or_default();
    match st.tag(&tag) {
        Some(sha) => Evaluation::new(
            Verdict::Pass,
            format!("tag {tag} on {} → {}{stale}", st.remote, short(sha)),
            Some(st.read_at),
        ),
        None => Evaluation::new(
            Verdict::Fail,
            format!("no tag {tag} on {}{stale}", st.remote),
            Some(st.read_at),
        ),
    }
}

/// The service's overlay (`file`, or None when the environment has no `gitops:`) on the
/// remote branch sets the service's image to the release's version.
pub fn image_set(
    file: Option<&str>,
    release: &Release,
    git: Result<Option<&GitState>, String>,
) -> Evaluation {
    let st = match read(git) {
        Ok(st) => st,
        Err(e) => return e,
    };
    let Some(file) = file else {
        return Evaluation::new(Verdict::CannotTell, "no gitops: in environments.yaml", None);
    };
    let at = format!(
        "{}/{} {}",
        st.remote,
        st.branch,
        st.tip.as_ref().map_or("", |t| short(&t.sha))
    );
    let text = match st.file(file) {
        None => return Evaluation::new(Verdict::Pending, format!("reading {file}…"), None),
        Some(Err(why)) => {
            return Evaluation::new(
                Verdict::Fail,
                format!("cannot read {file} at {at}: {why}"),
                Some(st.read_at),
            );
        }
        Some(Ok(text)) => text,
    };
    let service = &release.service;
    match image_entry(text, service) {
        Err(e) => Evaluation::new(
            Verdict::Fail,
            format!("{file} at {at}: {e}"),
            Some(st.read_at),
        ),
        Ok(Some(e)) if e.new_tag.as_deref() == Some(release.version.as_str()) => Evaluation::new(
            Verdict::Pass,
            format!("{at} sets {service} to {} ({file})", release.version),
            Some(st.read_at),
        ),
        Ok(entry) => Evaluation::new(
            Verdict::Fail,
            format!(
                "{at} sets {service} to {} (want {})",
                entry
                    .and_then(|e| e.new_tag.or(e.digest))
                    .unwrap_or_else(|| "nothing".into()),
                release.version
            ),
            Some(st.read_at),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::gitops::Commit;

    fn state(files: Vec<(String, Result<String, String>)>) -> GitState {
        GitState {
            read_at: "2026-12-04T10:00:00Z".parse().unwrap(),
            remote: "origin".into(),
            branch: "main".into(),
            tip: Some(Commit {
                sha: "0123456789abcdef0123456789abcdef01234567".into(),
                subject: "deploy".into(),
            }),
            tags: vec![(
                "v1.1.4".into(),
                "89abcdef0123456789abcdef0123456789abcdef".into(),
            )],
            files,
            error: None,
        }
    }

    #[test]
    fn tags_and_images_read_from_the_remote() {
        let r = Release::new("customer-adapter", "v1.1.4");
        let f = "o/kustomization.yaml";
        let text = "images:\n- name: customer-adapter\n  newTag: v1.1.4\n".to_owned();
        let st = state(vec![(f.into(), Ok(text))]);
        let t = tagged("{version}", &r, Ok(Some(&st)));
        assert_eq!(
            (t.verdict, t.evidence.as_str()),
            (Verdict::Pass, "tag v1.1.4 on origin → 89abcde")
        );
        let i = image_set(Some(f), &r, Ok(Some(&st)));
        assert_eq!(i.verdict, Verdict::Pass, "{}", i.evidence);
        assert_eq!(
            i.evidence,
            "origin/main 0123456 sets customer-adapter to v1.1.4 (o/kustomization.yaml)"
        );
        let next = Release::new("customer-adapter", "v1.2.0");
        assert_eq!(
            tagged("{version}", &next, Ok(Some(&st))).verdict,
            Verdict::Fail
        );
        let i = image_set(Some(f), &next, Ok(Some(&st)));
        assert_eq!(
            (i.verdict, i.evidence.as_str()),
            (
                Verdict::Fail,
                "origin/main 0123456 sets customer-adapter to v1.1.4 (want v1.2.0)"
            )
        );
        assert_eq!(tagged("{version}", &r, Ok(None)).verdict, Verdict::Pending);
        assert_eq!(
            tagged("{version}", &r, Err("no gitops".into())).verdict,
            Verdict::CannotTell
        );
        let mut gone = state(vec![]);
        gone.tip = None;
        gone.error = Some("fatal: could not read from remote".into());
        assert_eq!(
            image_set(Some(f), &r, Ok(Some(&gone))).verdict,
            Verdict::CannotTell
        );
    }
}
