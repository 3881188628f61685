//! The simulator's Argo CD API with the real `curl` (and `kubectl` for the printer columns):
//! list and get Applications with a token, errors in Argo CD's shape (401, 403/404, 415),
//! rollback refused while auto-sync is on (exact message), auto-sync off through PATCH, then a
//! rollback to the previous history id that moves the Rollout back to the stable image and
//! leaves the app Healthy with one more history entry; the SSE stream; self-heal of a manual
//! image change. A missing curl/kubectl fails under CI=true and is a loud skip otherwise.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rollcall_sim::{self as sim, SimHandle, SimOptions};
use rollcall_testkit::kubectl::{K, cols, kubectl_or_skip};
use rollcall_testkit::tools;
use serde_json::{Value, json};
use tokio::process::Command;

struct Curl {
    bin: PathBuf,
    ca: PathBuf,
    base: String,
    kube: String,
    kube_token: String,
    _dir: tempfile::TempDir,
}

impl Curl {
    fn new(bin: PathBuf, sim: &SimHandle) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, sim.argocd_ca_pem().expect("TLS is on")).unwrap();
        Curl {
            bin,
            ca,
            base: sim.argocd_url(),
            kube: sim.base_url(),
            kube_token: sim.token().to_string(),
            _dir: dir,
        }
    }

    /// Runs curl; returns (HTTP status, body).
    async fn run(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        ct: Option<&str>,
        body: Option<&str>,
    ) -> (u16, String) {
        let mut c = Command::new(&self.bin);
        c.args(["-sS", "--max-time", "20", "--cacert"])
            .arg(&self.ca)
            .args(["-X", method, "-w", "\n%{http_code}"]);
        if let Some(t) = token {
            c.args(["-H", &format!("Authorization: Bearer {t}")]);
        }
        if let Some(ct) = ct {
            c.args(["-H", &format!("Content-Type: {ct}")]);
        }
        if let Some(b) = body {
            c.args(["--data", b]);
        }
        let out = c.arg(url).output().await.expect("curl runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
        (code.trim().parse().unwrap_or(0), body.to_string())
    }

    async fn argo(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let b = body.map(|b| b.to_string());
        let ct = b.as_ref().map(|_| "application/json");
        let (code, text) = self.run(method, &url, token, ct, b.as_deref()).await;
        (
            code,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn kube_get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.kube);
        let (code, text) = self
            .run("GET", &url, Some(&self.kube_token), None, None)
            .await;
        assert_eq!(code, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    async fn kube_patch(&self, path: &str, patch: Value) {
        let url = format!("{}{path}", self.kube);
        let p = patch.to_string();
        let (code, text) = self
            .run(
                "PATCH",
                &url,
                Some(&self.kube_token),
                Some("application/merge-patch+json"),
                Some(&p),
            )
            .await;
        assert_eq!(code, 200, "{text}");
    }
}

async fn eventually(what: &str, secs: u64, mut check: impl AsyncFnMut() -> Option<Value>) -> Value {
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn err_body(v: &Value, code: u64, msg: &str) {
    assert_eq!(v["code"], code, "{v}");
    assert_eq!(v["error"], msg, "{v}");
    assert_eq!(v["message"], msg, "{v}");
    assert_eq!(v["details"], json!([]), "{v}");
}

const APP: &str = "/api/v1/applications/customer-adapter-prod";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn argocd_api_with_curl() {
    let Some(bin) = tools::or_skip("curl", "the Argo CD API test") else {
        return;
    };
    let sim = sim::start(SimOptions {
        speed: 4.0,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let c = Curl::new(bin, &sim);
    let t = sim.argocd_token();

    // List, filters, get.
    let (code, list) = c.argo("GET", "/api/v1/applications", Some(t), None).await;
    assert_eq!(code, 200, "{list}");
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 9, "{names:?}");
    assert!(
        names.windows(2).all(|w| w[0] < w[1]),
        "sorted by name: {names:?}"
    );
    assert!(list["metadata"]["resourceVersion"].is_string());
    let (_, prod) = c
        .argo(
            "GET",
            "/api/v1/applications?selector=environment%3Dprod",
            Some(t),
            None,
        )
        .await;
    assert_eq!(prod["items"].as_array().unwrap().len(), 3);
    let (_, none) = c
        .argo("GET", "/api/v1/applications?projects=other", Some(t), None)
        .await;
    assert_eq!(none["items"], json!([]));
    let (code, app) = c.argo("GET", APP, Some(t), None).await;
    assert_eq!(code, 200);
    assert_eq!(app["spec"]["syncPolicy"]["automated"]["selfHeal"], true);
    let history = app["status"]["history"].as_array().unwrap().clone();
    assert!(history.len() >= 2, "{history:?}");
    let last_id = history.last().unwrap()["id"].as_i64().unwrap();
    assert_eq!(history[0]["id"], 0);

    // Errors in Argo CD's shape.
    let (code, v) = c.argo("GET", "/api/v1/applications", None, None).await;
    assert_eq!(code, 401);
    err_body(&v, 16, "no session information");
    let (code, v) = c
        .argo("GET", "/api/v1/applications", Some("a.b.c"), None)
        .await;
    assert_eq!(code, 401);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .starts_with("invalid session: "),
        "{v}"
    );
    let (code, v) = c
        .argo(
            "GET",
            "/api/v1/applications/nope?project=dictamesh",
            Some(t),
            None,
        )
        .await;
    assert_eq!(code, 404);
    err_body(&v, 5, "applications.argoproj.io \"nope\" not found");
    let (code, v) = c
        .argo("GET", "/api/v1/applications/nope", Some(t), None)
        .await;
    assert_eq!(code, 403);
    err_body(&v, 7, "permission denied");
    let url = format!("{}{APP}/rollback", c.base);
    let (code, text) = c
        .run(
            "POST",
            &url,
            Some(t),
            Some("text/plain"),
            Some("{\"id\":0}"),
        )
        .await;
    assert_eq!((code, text.as_str()), (415, "Invalid content type\n"));

    // Rollback is refused while automated sync is on, and the viewer may not at all.
    let (code, v) = c
        .argo(
            "POST",
            &format!("{APP}/rollback"),
            Some(t),
            Some(json!({"id": last_id - 1})),
        )
        .await;
    assert_eq!(code, 400);
    err_body(
        &v,
        9,
        "rollback cannot be initiated when auto-sync is enabled",
    );
    let (code, v) = c
        .argo(
            "POST",
            &format!("{APP}/rollback"),
            Some(sim.argocd_viewer_token()),
            Some(json!({"id": 0})),
        )
        .await;
    assert_eq!(code, 403);
    assert!(v["error"].as_str().unwrap().starts_with("permission denied: applications, sync, dictamesh/customer-adapter-prod, sub: viewer, iat: "), "{v}");
    let (code, v) = c
        .argo(
            "DELETE",
            &format!("{APP}/operation"),
            Some(t),
            Some(json!({})),
        )
        .await;
    assert_eq!(code, 400);
    err_body(
        &v,
        3,
        "Unable to terminate operation. No operation is in progress",
    );

    // Automated sync off (a merge patch, as the API takes it), then roll back.
    let patch =
        json!({"patch": r#"{"spec":{"syncPolicy":{"automated":null}}}"#, "patchType": "merge"});
    let (code, v) = c.argo("PATCH", APP, Some(t), Some(patch)).await;
    assert_eq!(code, 200, "{v}");
    assert!(v["spec"]["syncPolicy"].get("automated").is_none(), "{v}");
    let (code, v) = c
        .argo(
            "POST",
            &format!("{APP}/rollback"),
            Some(t),
            Some(json!({"id": last_id + 7})),
        )
        .await;
    assert_eq!(code, 400);
    err_body(
        &v,
        3,
        &format!(
            "application argocd/customer-adapter-prod does not have deployment with id {}",
            last_id + 7
        ),
    );
    let (code, v) = c
        .argo(
            "POST",
            &format!("{APP}/rollback"),
            Some(t),
            Some(json!({"id": last_id - 1})),
        )
        .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(
        v["operation"]["sync"]["revision"],
        history[(last_id - 1) as usize]["revision"]
    );
    assert_eq!(v["operation"]["initiatedBy"]["username"], "admin");
    let (code, v) = c
        .argo("POST", &format!("{APP}/sync"), Some(t), Some(json!({})))
        .await;
    assert_eq!(code, 400);
    err_body(
        &v,
        9,
        "error setting app operation: another operation is already in progress",
    );

    let done = eventually("the rollback to finish Healthy", 60, async || {
        let (_, a) = c.argo("GET", APP, Some(t), None).await;
        let st = &a["status"];
        (st["operationState"]["phase"] == "Succeeded" && st["health"]["status"] == "Healthy")
            .then_some(a)
    })
    .await;
    let st = &done["status"];
    let new_history = st["history"].as_array().unwrap();
    assert_eq!(new_history.last().unwrap()["id"], last_id + 1);
    assert_eq!(
        new_history.last().unwrap()["revision"],
        history[(last_id - 1) as usize]["revision"]
    );
    // Against HEAD the app is now OutOfSync, as after a real rollback.
    assert_eq!(st["sync"]["status"], "OutOfSync");
    assert!(done.get("operation").is_none());
    let ro = c
        .kube_get("/apis/argoproj.io/v1alpha1/namespaces/dictamesh-prod/rollouts/customer-adapter")
        .await;
    assert_eq!(
        ro["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/controle-digital/customer-adapter:v1.1.4"
    );
    assert_eq!(ro["status"]["phase"], "Healthy", "{}", ro["status"]);

    // The SSE stream: every app as ADDED first.
    let url = format!(
        "{}/api/v1/stream/applications?name=customer-adapter-prod",
        c.base
    );
    let out = Command::new(&c.bin)
        .args(["-sS", "-N", "--max-time", "2", "--cacert"])
        .arg(&c.ca)
        .args([
            "-H",
            &format!("Authorization: Bearer {t}"),
            "-H",
            "Accept: text/event-stream",
            &url,
        ])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next().unwrap_or("");
    assert!(
        first.starts_with(r#"data: {"result":{"type":"ADDED","application":{"#),
        "{first}"
    );
    let ev: Value = serde_json::from_str(first.trim_start_matches("data: ").trim_end()).unwrap();
    assert_eq!(
        ev["result"]["application"]["metadata"]["name"],
        "customer-adapter-prod"
    );

    // Self-heal: a manual image change of a dev Deployment is reverted by its app.
    let dev = "/apis/apps/v1/namespaces/dictamesh-dev/deployments/metadata-catalog";
    let before =
        c.kube_get(dev).await["spec"]["template"]["spec"]["containers"][0]["image"].clone();
    c.kube_patch(dev, json!({"spec": {"template": {"spec": {"containers": [{"name": "metadata-catalog", "image": "ghcr.io/controle-digital/metadata-catalog:hotfix"}]}}}})).await;
    eventually("self-heal to revert the image", 60, async || {
        let d = c.kube_get(dev).await;
        (d["spec"]["template"]["spec"]["containers"][0]["image"] == before).then_some(d)
    })
    .await;
    let (_, devapp) = c
        .argo(
            "GET",
            "/api/v1/applications/metadata-catalog-dev",
            Some(t),
            None,
        )
        .await;
    assert_eq!(
        devapp["status"]["history"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()["initiatedBy"]["automated"],
        true
    );

    kubectl_columns(&sim).await;
    sim.shutdown().await;
}

async fn kubectl_columns(sim: &SimHandle) {
    let Some(bin) = kubectl_or_skip("kubectl conformance") else {
        return;
    };
    let k = K::new(bin, sim);
    let out = k.ok(&["get", "applications", "-n", "argocd"]).await;
    let header = out.lines().next().unwrap_or("");
    assert_eq!(
        cols(header),
        ["NAME", "SYNC", "STATUS", "HEALTH", "STATUS"],
        "{out}"
    );
    let row = out
        .lines()
        .find(|l| l.starts_with("customer-adapter-prod"))
        .unwrap();
    assert_eq!(
        cols(row),
        ["customer-adapter-prod", "OutOfSync", "Healthy"],
        "{out}"
    );
    let wide = k.ok(&["get", "apps", "-n", "argocd", "-o", "wide"]).await;
    assert!(
        wide.lines().next().unwrap_or("").contains("PROJECT"),
        "{wide}"
    );
}

/// `argocd account can-i`: the subresource `<project>/<app>` is the rest of the path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn can_i_with_curl() {
    let Some(bin) = tools::or_skip("curl", "the Argo CD API test") else {
        return;
    };
    let sim = sim::start(SimOptions::default()).await.unwrap();
    let c = Curl::new(bin, &sim);
    let (admin, viewer) = (sim.argocd_token(), sim.argocd_viewer_token());
    let ask = |action: &str| {
        format!("/api/v1/account/can-i/applications/{action}/dictamesh/customer-adapter-prod")
    };
    for action in ["get", "sync", "update", "delete", "rollback"] {
        let (code, v) = c.argo("GET", &ask(action), Some(admin), None).await;
        assert_eq!(
            (code, &v),
            (200, &json!({"value": "yes"})),
            "admin {action}"
        );
        let want = if action == "get" { "yes" } else { "no" };
        let (code, v) = c.argo("GET", &ask(action), Some(viewer), None).await;
        assert_eq!(
            (code, &v),
            (200, &json!({"value": want})),
            "viewer {action}"
        );
    }
    let (code, v) = c.argo("GET", &ask("sync"), None, None).await;
    assert_eq!(code, 401);
    err_body(&v, 16, "no session information");
    let (code, v) = c.argo("GET", &ask("deploy"), Some(admin), None).await;
    assert_eq!(code, 400);
    err_body(
        &v,
        3,
        "[get create update delete sync rollback override action invoke] does not contain deploy",
    );
    sim.shutdown().await;
}

/// GetManifests: the app rendered at an old revision carries that revision's images.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifests_at_a_revision_with_curl() {
    let Some(bin) = tools::or_skip("curl", "the Argo CD API test") else {
        return;
    };
    let sim = sim::start(SimOptions::default()).await.unwrap();
    let c = Curl::new(bin, &sim);
    let t = sim.argocd_viewer_token();
    let (_, app) = c.argo("GET", APP, Some(t), None).await;
    let history = app["status"]["history"].as_array().unwrap();
    let first = history[0]["revision"].as_str().unwrap();
    let (code, v) = c
        .argo(
            "GET",
            &format!("{APP}/manifests?revision={first}"),
            Some(t),
            None,
        )
        .await;
    assert_eq!(code, 200, "{v}");
    // argocd-server returns a ManifestResponse with only `manifests` set.
    assert_eq!(v.as_object().unwrap().len(), 1, "{v}");
    let manifests: Vec<Value> = v["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| serde_json::from_str(m.as_str().expect("each manifest is a JSON string")).unwrap())
        .collect();
    let rollout = manifests
        .iter()
        .find(|m| m["kind"] == "Rollout" && m["metadata"]["name"] == "customer-adapter")
        .unwrap_or_else(|| panic!("{manifests:?}"));
    assert_eq!(rollout["apiVersion"], "argoproj.io/v1alpha1");
    // History id 0 is v1.1.3 (the demo's oldest customer-adapter release).
    assert_eq!(
        rollout["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/controle-digital/customer-adapter:v1.1.3"
    );
    assert_eq!(
        rollout["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"],
        "customer-adapter-prod:argoproj.io/Rollout:dictamesh-prod/customer-adapter"
    );
    // Without a revision: the app's target (HEAD), the newest images.
    let (code, head) = c
        .argo("GET", &format!("{APP}/manifests"), Some(t), None)
        .await;
    assert_eq!(code, 200, "{head}");
    assert!(
        head["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m.as_str().unwrap().contains("customer-adapter:v1.2.0")),
        "{head}"
    );
    let (code, v) = c
        .argo(
            "GET",
            &format!("{APP}/manifests?revision=deadbeefcafe"),
            Some(t),
            None,
        )
        .await;
    assert_eq!(code, 500);
    err_body(
        &v,
        2,
        "error generating manifests: rpc error: code = Unknown desc = unable to resolve 'deadbeefcafe' to a commit SHA",
    );
    sim.shutdown().await;
}
