//! The Argo CD client against a small axum server that answers as argocd-server does
//! (shared/reference/03): bearer auth with Argo CD's error bodies, list, the SSE stream,
//! rollback refused while auto-sync is on, auto-sync off by PATCH, dry runs that run as
//! operations; plus a server that is down, and one that is slow.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use rollcall::clients::argocd::{
    ArgoClient, ArgoError, Endpoint, Timeouts, Token, WatchItem, spawn_watch,
};
use rollcall::domain::WatchUpdate;
use serde_json::{Value, json};

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.test.sig";

#[derive(Default)]
struct Mock {
    app: Mutex<Value>,
    calls: Mutex<Vec<String>>,
    /// Delay before answering anything.
    delay: Mutex<Duration>,
}

fn app(automated: bool) -> Value {
    let mut v = json!({
        "metadata": {"name": "customer-adapter-prod", "namespace": "argocd"},
        "spec": {"project": "dictamesh", "destination": {"namespace": "dictamesh-prod"},
                 "syncPolicy": {}},
        "status": {
            "sync": {"status": "Synced", "revision": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
            "health": {"status": "Healthy"},
            "summary": {"images": ["ghcr.io/controle-digital/customer-adapter:v1.2.0"]},
            "history": [
                {"id": 0, "revision": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                 "deployedAt": "2026-11-20T10:00:00Z", "initiatedBy": {"username": "ci"}},
                {"id": 1, "revision": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                 "deployedAt": "2026-11-25T10:00:00Z", "initiatedBy": {"automated": true}}
            ]
        }
    });
    if automated {
        v["spec"]["syncPolicy"]["automated"] = json!({"prune": true, "selfHeal": true});
    }
    v
}

fn error(status: StatusCode, code: i64, msg: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        json!({"error": msg, "code": code, "message": msg, "details": []}).to_string(),
    )
        .into_response()
}

async fn guard(m: &Mock, headers: &HeaderMap, what: String) -> Option<Response> {
    let delay = *m.delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    m.calls.lock().unwrap().push(what);
    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        None => Some(error(
            StatusCode::UNAUTHORIZED,
            16,
            "no session information",
        )),
        Some(v) if v != format!("Bearer {TOKEN}") => Some(error(
            StatusCode::UNAUTHORIZED,
            16,
            "invalid session: token signature is invalid",
        )),
        _ => None,
    }
}

fn json_content(headers: &HeaderMap) -> bool {
    headers.get("content-type").and_then(|v| v.to_str().ok()) == Some("application/json")
}

async fn list(State(m): State<Arc<Mock>>, headers: HeaderMap) -> Response {
    if let Some(r) = guard(&m, &headers, "GET list".into()).await {
        return r;
    }
    let app = m.app.lock().unwrap().clone();
    axum::Json(json!({"metadata": {"resourceVersion": "7"}, "items": [app]})).into_response()
}

async fn get_app(
    State(m): State<Arc<Mock>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    if let Some(r) = guard(&m, &headers, format!("GET {name}")).await {
        return r;
    }
    let app = m.app.lock().unwrap().clone();
    if name != app["metadata"]["name"] {
        return error(StatusCode::FORBIDDEN, 7, "permission denied");
    }
    axum::Json(app).into_response()
}

async fn rollback(
    State(m): State<Arc<Mock>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: String,
) -> Response {
    if let Some(r) = guard(&m, &headers, format!("POST {name}/rollback {body}")).await {
        return r;
    }
    if !json_content(&headers) {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "Invalid content type").into_response();
    }
    let req: Value = serde_json::from_str(&body).unwrap();
    let mut app = m.app.lock().unwrap();
    if !app["spec"]["syncPolicy"]["automated"].is_null() {
        return error(
            StatusCode::BAD_REQUEST,
            9,
            "rollback cannot be initiated when auto-sync is enabled",
        );
    }
    let id = req["id"].as_i64().unwrap();
    let Some(entry) = app["status"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == id)
        .cloned()
    else {
        return error(
            StatusCode::BAD_REQUEST,
            3,
            &format!("application argocd/{name} does not have deployment with id {id}"),
        );
    };
    // The controller runs the operation at once here: it ends Succeeded.
    app["status"]["operationState"] = json!({
        "phase": "Succeeded", "message": "successfully synced",
        "operation": {"sync": {"revision": entry["revision"], "dryRun": req["dryRun"]}},
        "syncResult": {"revision": entry["revision"]},
        "startedAt": "2026-11-26T14:00:00Z", "finishedAt": "2026-11-26T14:00:01Z"
    });
    axum::Json(app.clone()).into_response()
}

async fn patch_app(
    State(m): State<Arc<Mock>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: String,
) -> Response {
    if let Some(r) = guard(&m, &headers, format!("PATCH {name} {body}")).await {
        return r;
    }
    let req: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(req["patchType"], "merge");
    let patch: Value = serde_json::from_str(req["patch"].as_str().unwrap()).unwrap();
    let mut app = m.app.lock().unwrap();
    json_patch::merge(&mut app, &patch);
    axum::Json(app.clone()).into_response()
}

async fn stream(State(m): State<Arc<Mock>>, headers: HeaderMap) -> Response {
    if let Some(r) = guard(&m, &headers, "GET stream".into()).await {
        return r;
    }
    assert_eq!(headers["accept"], "text/event-stream");
    let app = m.app.lock().unwrap().clone();
    let mut modified = app.clone();
    modified["status"]["health"]["status"] = json!("Progressing");
    let body = format!(
        ":\n\ndata: {}\n\n:\n\ndata: {}\n\n",
        json!({"result": {"type": "ADDED", "application": app}}),
        json!({"result": {"type": "MODIFIED", "application": modified}}),
    );
    // Split mid-event to exercise the framing; then the stream ends (the client relists).
    let (a, b) = body.split_at(body.len() / 2);
    let chunks: Vec<Result<String, std::io::Error>> = vec![Ok(a.to_owned()), Ok(b.to_owned())];
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(futures::stream::iter(chunks)))
        .unwrap()
}

async fn serve(mock: Arc<Mock>) -> String {
    let app = Router::new()
        .route("/api/v1/applications", get(list))
        .route(
            "/api/v1/applications/{name}",
            get(get_app).merge(patch(patch_app)),
        )
        .route("/api/v1/applications/{name}/rollback", post(rollback))
        .route("/api/v1/stream/applications", get(stream))
        .with_state(mock);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{addr}")
}

fn client(server: &str, token: Option<&str>, request: Duration) -> ArgoClient {
    ArgoClient::new(
        &Endpoint {
            server: server.into(),
            insecure: false,
            ca_pem: None,
            token: token.map(Token::new),
        },
        Timeouts {
            connect: Duration::from_secs(2),
            request,
            stream_idle: Duration::from_secs(5),
        },
    )
    .unwrap()
}

fn mock(automated: bool) -> Arc<Mock> {
    let m = Mock::default();
    *m.app.lock().unwrap() = app(automated);
    Arc::new(m)
}

#[tokio::test]
async fn list_get_and_typed_refusals() {
    let m = mock(true);
    let url = serve(m.clone()).await;
    let c = client(&url, Some(TOKEN), Duration::from_secs(5));
    let list = c.list().await.unwrap();
    assert_eq!(list.resource_version.as_deref(), Some("7"));
    assert_eq!(list.items[0].name, "customer-adapter-prod");
    assert!(list.items[0].automated.is_some());
    assert_eq!(list.items[0].current_history_id(), Some(1));

    let err = c.get("nope").await.unwrap_err();
    assert!(matches!(err, ArgoError::PermissionDenied { .. }), "{err:?}");

    // Auto-sync on: Argo CD's own refusal, typed.
    let err = c
        .rollback("customer-adapter-prod", 0, false, true)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ArgoError::FailedPrecondition {
            message: "rollback cannot be initiated when auto-sync is enabled".into()
        }
    );
    let off = c.disable_auto_sync("customer-adapter-prod").await.unwrap();
    assert_eq!(off.automated, None);
    let err = c
        .rollback("customer-adapter-prod", 9, false, false)
        .await
        .unwrap_err();
    assert!(matches!(err, ArgoError::InvalidArgument { message } if message.contains("id 9")));

    // The bus's rollback: dry run, its operation ends, then the real one.
    let msg = rollcall::bus::argocd::rollback(&c, "customer-adapter-prod", 0, false)
        .await
        .unwrap();
    assert!(msg.contains("history id 0"), "{msg}");
    let calls = m.calls.lock().unwrap().clone();
    let posts: Vec<_> = calls.iter().filter(|c| c.contains("/rollback")).collect();
    assert!(
        posts[posts.len() - 2].contains("\"dryRun\":true"),
        "{posts:?}"
    );
    assert!(
        posts[posts.len() - 1].contains("\"dryRun\":false"),
        "{posts:?}"
    );
    let patch = calls.iter().find(|c| c.starts_with("PATCH")).unwrap();
    assert!(patch.contains(r#"\"automated\":null"#), "{patch}");
}

#[tokio::test]
async fn unauthorized_surfaces_argo_cds_message() {
    let url = serve(mock(false)).await;
    let err = client(&url, None, Duration::from_secs(5))
        .list()
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ArgoError::Unauthorized {
            message: "no session information".into()
        }
    );
    let err = client(&url, Some("wrong"), Duration::from_secs(5))
        .list()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("invalid session"), "{err}");
    assert!(!err.is_unavailable());
    // The token is never in a Debug of the client.
    let c = client(&url, Some(TOKEN), Duration::from_secs(5));
    assert!(!format!("{c:?}").contains("test.sig"));
}

#[tokio::test]
async fn server_down_is_an_error_not_a_hang() {
    // A port that was just free: connection refused.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    drop(l);
    let started = Instant::now();
    let err = client(&url, Some(TOKEN), Duration::from_secs(5))
        .list()
        .await
        .unwrap_err();
    assert!(matches!(err, ArgoError::Unreachable { .. }), "{err:?}");
    assert!(err.is_unavailable());
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn slow_server_times_out_at_the_deadline() {
    let m = mock(false);
    *m.delay.lock().unwrap() = Duration::from_secs(10);
    let url = serve(m).await;
    let started = Instant::now();
    let err = client(&url, Some(TOKEN), Duration::from_millis(300))
        .get("customer-adapter-prod")
        .await
        .unwrap_err();
    assert!(matches!(err, ArgoError::Timeout { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn watch_lists_streams_and_relists_after_the_stream_ends() {
    let url = serve(mock(false)).await;
    let (task, mut rx) = spawn_watch(client(&url, Some(TOKEN), Duration::from_secs(5)));
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    // Two cycles: list + stream, then (stream closed) list again.
    while seen
        .iter()
        .filter(|i| matches!(i, WatchItem::Update(WatchUpdate::Init)))
        .count()
        < 2
    {
        assert!(Instant::now() < deadline, "{seen:?}");
        let item = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .unwrap();
        seen.push(item);
    }
    task.abort();
    assert!(
        matches!(&seen[1], WatchItem::Update(WatchUpdate::InitApply(a)) if a.name == "customer-adapter-prod")
    );
    assert!(matches!(seen[2], WatchItem::Update(WatchUpdate::InitDone)));
    let modified = seen.iter().find_map(|i| match i {
        WatchItem::Update(WatchUpdate::Apply(a)) if a.health == "Progressing" => Some(a),
        _ => None,
    });
    assert!(modified.is_some(), "{seen:?}");
}

#[tokio::test]
async fn watch_reports_down_and_recovers() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    let (task, mut rx) = spawn_watch(client(
        &format!("http://{addr}"),
        Some(TOKEN),
        Duration::from_secs(2),
    ));
    let first = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(first, WatchItem::Down(ArgoError::Unreachable { .. })),
        "{first:?}"
    );
    task.abort();
}

#[tokio::test]
async fn https_with_the_simulators_ca_and_insecure() {
    // The simulator's per-process CA and its TLS listener.
    let pki = rollcall_sim::api::tls::pki().unwrap();
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = tcp.local_addr().unwrap();
    let faults = Arc::new(rollcall_sim::api::faults::Faults::new(Default::default()));
    let tls = rollcall_sim::api::tls::TlsListener::new(tcp, faults, &pki).unwrap();
    let router = Router::new()
        .route("/api/v1/applications", get(list))
        .with_state(mock(false));
    tokio::spawn(async move {
        axum::serve(tls, router).await.unwrap();
    });
    let url = format!("https://{addr}");
    let with_ca = ArgoClient::new(
        &Endpoint {
            server: url.clone(),
            insecure: false,
            ca_pem: Some(pki.ca_pem.clone()),
            token: Some(Token::new(TOKEN)),
        },
        Timeouts::default(),
    )
    .unwrap();
    assert_eq!(with_ca.list().await.unwrap().items.len(), 1);
    let insecure = ArgoClient::new(
        &Endpoint {
            server: url.clone(),
            insecure: true,
            ca_pem: None,
            token: Some(Token::new(TOKEN)),
        },
        Timeouts::default(),
    )
    .unwrap();
    assert_eq!(insecure.list().await.unwrap().items.len(), 1);
    // A CA that did not sign it: refused, as TLS verification must.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let wrong = ArgoClient::new(
        &Endpoint {
            server: url,
            insecure: false,
            ca_pem: Some(other.cert.pem()),
            token: Some(Token::new(TOKEN)),
        },
        Timeouts::default(),
    )
    .unwrap();
    let err = wrong.list().await.unwrap_err();
    assert!(matches!(err, ArgoError::Unreachable { .. }), "{err:?}");
}
