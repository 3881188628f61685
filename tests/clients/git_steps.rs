//! The runbook's git steps through the pipeline, against the simulator's GitOps
//! repository (a real bare remote and clone): the image commit changes one line of the
//! overlay and nothing else, leaves the user's uncommitted work alone, is what the
//! simulated Argo CD then renders, is not sent twice, and is refused when the file moved
//! on the remote since the preview; the tag lands on the remote once. Each is audited.

use rollcall::bus::Command;
use rollcall::bus::git::GitAction;
use rollcall::bus::runbook::StepAction;
use rollcall::config::Gitops;
use rollcall::domain::gitops::{diff, set_image};
use rollcall_sim::{self as sim, SimOptions};
use rollcall_testkit::bus::BusSetup;
use rollcall_testkit::tools::git;

const FILE: &str = "infrastructure/k8s/overlays/prod/metadata-catalog/kustomization.yaml";

fn step(action: GitAction) -> Command {
    Command::RunbookStep {
        env: "prod".into(),
        step: "set-image".into(),
        action: StepAction::Git(Box::new(action)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_image_commit_and_the_tag_reach_the_remote_once() {
    let sim = sim::start(SimOptions::default())
        .await
        .expect("simulator starts");
    let checkout = sim.gitops_checkout().expect("a clone").to_path_buf();
    let remote = sim.gitops_remote().expect("a remote").to_path_buf();
    let gitops = Gitops {
        checkout: checkout.clone(),
        remote: "origin".into(),
        branch: "main".into(),
        overlay: "infrastructure/k8s/overlays/{environment}/{service}".into(),
    };
    let mut bus = BusSetup::admin(&sim).build().await;

    // What the watcher reads is what the runbook plans from.
    let files = vec![FILE.to_owned()];
    let read = rollcall::clients::git::read(&gitops, &files, None, jiff::Timestamp::now()).await;
    assert_eq!(read.error, None);
    let tip = read.tip.clone().expect("the branch tip");
    let before = read
        .file(FILE)
        .cloned()
        .expect("read")
        .expect("the overlay");
    assert!(before.contains("newTag: v1.1.4"), "{before}");
    let after = set_image(&before, "metadata-catalog", None, "v1.2.0")
        .unwrap()
        .unwrap();
    let action = GitAction::SetImage {
        checkout: checkout.clone(),
        remote: "origin".into(),
        branch: "main".into(),
        file: FILE.into(),
        image: "metadata-catalog".into(),
        new_tag: "v1.2.0".into(),
        message: "deploy: metadata-catalog v1.2.0 to prod".into(),
        base: tip.sha.clone(),
        diff: diff(&before, &after),
        before: before.clone(),
        after: after.clone(),
    };
    // Someone's work in progress in the clone stays as it is.
    std::fs::write(checkout.join("NOTES.md"), "wip\n").unwrap();
    git(&checkout, &["add", "NOTES.md"]);

    let outcome = bus.run(1, step(action.clone())).await;
    let message = outcome.expect("pushed");
    assert!(message.contains("pushed to origin/main"), "{message}");
    assert!(message.contains("left as it was"), "{message}");
    assert_eq!(git(&checkout, &["status", "--porcelain"]), "A  NOTES.md\n");
    let pushed = git(&remote, &["show", &format!("main:{FILE}")]);
    assert_eq!(pushed, after);
    let stat = git(&remote, &["show", "--format=%s%n%P", "--numstat", "main"]);
    assert_eq!(
        stat,
        format!(
            "deploy: metadata-catalog v1.2.0 to prod\n{}\n\n1\t1\t{FILE}\n",
            tip.sha
        )
    );

    // Sent once: the remote already has it.
    let again = bus.run(2, step(action.clone())).await.expect("no-op");
    assert!(again.contains("already has this change"), "{again}");

    // A teammate changes the same file: the old plan is refused, nothing pushed.
    let other = tempfile::tempdir().unwrap();
    git(
        other.path(),
        &["clone", "-q", &remote.to_string_lossy(), "c"],
    );
    let c = other.path().join("c");
    let theirs = after.replace("v1.2.0", "v1.3.0");
    std::fs::write(c.join(FILE), &theirs).unwrap();
    git(
        &c,
        &[
            "-c",
            "user.email=t@x",
            "-c",
            "user.name=t",
            "commit",
            "-qam",
            "theirs",
        ],
    );
    git(&c, &["push", "-q", "origin", "main"]);
    let head_before = git(&remote, &["rev-parse", "main"]);
    let mut stale = action.clone();
    if let GitAction::SetImage { after, .. } = &mut stale {
        *after = after.replace("v1.2.0", "v1.2.1");
    }
    let refused = bus.run(3, step(stale)).await.expect_err("refused");
    assert!(
        refused.contains("changed on origin/main since the preview"),
        "{refused}"
    );
    assert_eq!(git(&remote, &["rev-parse", "main"]), head_before);

    // The tag, once.
    let tag = GitAction::Tag {
        checkout: checkout.clone(),
        remote: "origin".into(),
        tag: "v1.2.0".into(),
        message: "Release v1.2.0".into(),
        commit: tip.sha.clone(),
        subject: tip.subject.clone(),
    };
    let tagged = bus.run(4, step(tag.clone())).await.expect("tagged");
    assert!(tagged.contains("pushed to origin"), "{tagged}");
    assert_eq!(
        git(&remote, &["rev-parse", "v1.2.0^{commit}"]).trim(),
        tip.sha
    );
    assert_eq!(git(&remote, &["cat-file", "-t", "v1.2.0"]).trim(), "tag");
    let again = bus.run(5, step(tag)).await.expect("no-op");
    assert!(again.contains("already on origin"), "{again}");

    let audit = bus.audit_lines();
    let results: Vec<(&str, &str)> = audit
        .iter()
        .map(|r| {
            (
                r["action"]["git"].as_str().unwrap_or(""),
                r["result"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        results,
        [
            ("set-image", "ok"),
            ("set-image", "ok"),
            ("set-image", "error"),
            ("tag", "ok"),
            ("tag", "ok")
        ]
    );
    assert!(
        audit[0]["action"]["diff"]
            .as_str()
            .is_some_and(|d| d.contains("+  newTag: v1.2.0")),
        "{}",
        audit[0]
    );
}
