//! The Argo CD REST API (argocd-server's grpc-gateway) on its own listener: the fault plan
//! (`argocd-down`, latency), the Content-Type check (415 `Invalid content type`), routing,
//! token authentication (Bearer JWT, else the `argocd.token` cookie), RBAC (admin may do
//! anything, viewer only `get`), error bodies `{"error","code","message","details"}` with
//! grpc-gateway's code → HTTP mapping. Session and account endpoints live in
//! `account.rs`, reads and updates in `apps.rs`.
//! Operations live in `actions.rs`, the watch stream in `stream.rs`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::{Value, json};

use crate::Shared;
use crate::api::Query;
use crate::api::admission::finish_update;
use crate::argocd::apps::{get, list, patch, update, update_spec};
use crate::argocd::session::{Claims, Sessions, looks_like_jwt};
use crate::argocd::state::NAMESPACE;
use crate::argocd::{account, actions, stream};
use crate::controllers::events::Recorder;
use crate::resources::{APPLICATIONS, def};
use crate::store::WriteMode;

/// The server's state.
pub struct ArgoServer {
    pub shared: Arc<Shared>,
    pub sessions: Sessions,
    /// Serves HTTPS (login cookies get `Secure`).
    pub tls: bool,
    /// Records the API's own events (`admin initiated rollback to 1`).
    pub recorder: Mutex<Recorder>,
}

/// A gRPC status as grpc-gateway writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct GrpcError {
    pub code: u16,
    pub message: String,
}

pub const INVALID_ARGUMENT: u16 = 3;
pub const NOT_FOUND: u16 = 5;
pub const PERMISSION_DENIED: u16 = 7;
pub const FAILED_PRECONDITION: u16 = 9;
pub const UNKNOWN: u16 = 2;
pub const UNAVAILABLE: u16 = 14;
pub const UNAUTHENTICATED: u16 = 16;

impl GrpcError {
    pub fn new(code: u16, message: impl Into<String>) -> Self {
        GrpcError {
            code,
            message: message.into(),
        }
    }

    /// grpc-gateway v1 `HTTPStatusFromCode`.
    pub fn http_status(&self) -> u16 {
        match self.code {
            0 => 200,
            1 => 408,
            3 | 9 | 11 => 400,
            4 => 504,
            5 => 404,
            6 | 10 => 409,
            7 => 403,
            8 => 429,
            12 => 501,
            14 => 503,
            16 => 401,
            _ => 500,
        }
    }

    /// The body in grpc-gateway's field order: error, code, message, details.
    pub fn response(&self) -> Response {
        let msg = serde_json::to_string(&self.message).unwrap_or_default();
        let body = format!(
            "{{\"error\":{msg},\"code\":{},\"message\":{msg},\"details\":[]}}",
            self.code
        );
        Response::builder()
            .status(
                StatusCode::from_u16(self.http_status())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            )
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap_or_else(|_| Response::new(Body::empty()))
    }
}

pub type ApiResult = Result<Response, GrpcError>;

pub fn json_response(code: u16, v: &Value) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(serde_json::to_vec(v).unwrap_or_default()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// Go's `http.Error`: plain text with a newline.
fn plain(code: StatusCode, text: &str) -> Response {
    Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header("X-Content-Type-Options", "nosniff")
        .body(Body::from(format!("{text}\n")))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// One request after parsing.
pub struct Req {
    pub method: Method,
    pub query: Query,
    /// The raw query string (for repeatable parameters).
    pub raw_query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Req {
    /// The JSON body (an empty body is `{}`), or InvalidArgument as the gateway's decoder says.
    pub fn json(&self) -> Result<Value, GrpcError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(json!({}));
        }
        serde_json::from_slice::<Value>(&self.body)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| GrpcError::new(INVALID_ARGUMENT, "unexpected EOF"))
    }

    /// All values of a repeatable query parameter.
    pub fn all(&self, k: &str) -> Vec<String> {
        form_urlencoded::parse(self.raw_query.as_bytes())
            .filter(|(x, _)| x == k)
            .map(|(_, v)| v.into_owned())
            .filter(|v| !v.is_empty())
            .collect()
    }
}

/// The token from `Authorization: Bearer` (when it parses as a JWT) or the cookie.
pub(super) fn token(headers: &HeaderMap) -> Option<String> {
    for v in headers.get_all(header::AUTHORIZATION) {
        if let Some(t) = v.to_str().ok().and_then(|v| v.strip_prefix("Bearer "))
            && looks_like_jwt(t)
        {
            return Some(t.to_string());
        }
    }
    let mut parts: Vec<(String, String)> = Vec::new();
    for v in headers.get_all(header::COOKIE) {
        for c in v.to_str().unwrap_or("").split(';') {
            if let Some((k, val)) = c.trim().split_once('=')
                && k.starts_with("argocd.token")
            {
                parts.push((k.to_string(), val.to_string()));
            }
        }
    }
    let first = parts.iter().find(|(k, _)| k == "argocd.token")?.1.clone();
    // Long tokens are split: `argocd.token=<n>:<part>`, then `argocd.token-1`, ….
    let joined = match first.split_once(':') {
        Some((n, head)) if n.parse::<usize>().is_ok() => {
            let n: usize = n.parse().unwrap_or(1);
            let mut t = head.to_string();
            for i in 1..n {
                let key = format!("argocd.token-{i}");
                t.push_str(&parts.iter().find(|(k, _)| *k == key)?.1);
            }
            t
        }
        _ => first,
    };
    looks_like_jwt(&joined).then_some(joined)
}

impl ArgoServer {
    /// The caller, or the 401 argocd-server answers.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Claims, GrpcError> {
        let t = token(headers)
            .ok_or_else(|| GrpcError::new(UNAUTHENTICATED, "no session information"))?;
        self.sessions
            .verify(&t, jiff::Timestamp::now())
            .map_err(|e| GrpcError::new(UNAUTHENTICATED, format!("invalid session: {e}")))
    }

    /// RBAC: `permission denied: applications, <action>, <project>/<name>, sub: …, iat: …`.
    pub fn enforce(&self, who: &Claims, action: &str, app: &Value) -> Result<(), GrpcError> {
        if who.admin || action == "get" {
            return Ok(());
        }
        Err(GrpcError::new(
            PERMISSION_DENIED,
            format!(
                "permission denied: applications, {action}, {}, sub: {}, iat: {}",
                rbac_name(app),
                who.sub,
                who.iat_rfc3339()
            ),
        ))
    }

    /// `getAppEnforceRBAC`: a missing app is 403 `permission denied` unless `project` was
    /// given (then 404), so existence does not leak.
    pub fn get_app(
        &self,
        who: &Claims,
        action: &str,
        name: &str,
        project: Option<&str>,
    ) -> Result<Value, GrpcError> {
        let not_found = || {
            GrpcError::new(
                NOT_FOUND,
                format!("applications.argoproj.io \"{name}\" not found"),
            )
        };
        let Some(e) = self.shared.store.get(def(APPLICATIONS), NAMESPACE, name) else {
            return Err(match project {
                Some(_) => not_found(),
                None => GrpcError::new(PERMISSION_DENIED, "permission denied"),
            });
        };
        let app = e.value();
        if let Err(err) = self.enforce(who, action, &app) {
            return Err(if project.is_some() { not_found() } else { err });
        }
        let actual = app["spec"]["project"]
            .as_str()
            .filter(|p| !p.is_empty())
            .unwrap_or("default");
        if project.is_some_and(|p| p != actual) {
            return Err(not_found());
        }
        Ok(app)
    }

    /// Writes an app changed from `stored` (server-owned fields kept, generation bumped).
    pub fn write_app(&self, stored: &Value, new: Value) -> Result<Value, GrpcError> {
        let d = def(APPLICATIONS);
        let rv = stored["metadata"]["resourceVersion"]
            .as_str()
            .and_then(|s| s.parse().ok());
        let mut new = finish_update(d, None, stored, new)
            .map_err(|e| GrpcError::new(INVALID_ARGUMENT, e.message))?;
        self.shared
            .store
            .write(d, &mut new, WriteMode::Update(rv))
            .map(|e| e.value())
            .map_err(|e| GrpcError::new(if e.code == 409 { 10 } else { 13 }, e.message))
    }

    pub fn event(&self, app: &Value, reason: &str, message: String) {
        let mut rec = self.recorder.lock().unwrap_or_else(|e| e.into_inner());
        rec.record(
            &self.shared,
            crate::controllers::events::NewEvent {
                obj: app,
                field_path: None,
                reason,
                message,
                warning: false,
                source: crate::controllers::events::Source {
                    component: "argocd-server",
                    host: None,
                },
            },
        );
    }
}

/// `<project>/<name>` (apps in the control-plane namespace).
pub fn rbac_name(app: &Value) -> String {
    let p = app["spec"]["project"]
        .as_str()
        .filter(|p| !p.is_empty())
        .unwrap_or("default");
    format!("{p}/{}", app["metadata"]["name"].as_str().unwrap_or(""))
}

/// The single entry point.
pub async fn handle(
    State(srv): State<Arc<ArgoServer>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let faults = &srv.shared.faults;
    if faults.argocd_down() {
        let mut r = plain(StatusCode::SERVICE_UNAVAILABLE, "no healthy upstream");
        r.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
        return r;
    }
    if let Some(impostor) = faults.impostor() {
        return impostor.response();
    }
    let latency = faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency.min(Duration::from_secs(600))).await;
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if method != Method::GET && ct != "application/json" {
        return plain(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Invalid content type");
    }
    let req = Req {
        method,
        query: Query::parse(uri.query()),
        raw_query: uri.query().unwrap_or("").to_string(),
        headers,
        body,
    };
    let path = uri.path().trim_end_matches('/').to_string();
    let segs: Vec<&str> = path.split('/').skip(1).collect();
    let result = match (&req.method, segs.as_slice()) {
        (&Method::GET, ["api", "version"]) => Ok(json_response(
            200,
            &json!({"Version": "v3.5.1+rollcall-sim"}),
        )),
        (&Method::POST, ["api", "v1", "session"]) => account::login(&srv, &req),
        (&Method::DELETE, ["api", "v1", "session"]) => account::logout(&srv, &req),
        (&Method::GET, ["api", "v1", "session", "userinfo"]) => Ok(account::userinfo(&srv, &req)),
        (_, ["api", "v1", ..]) => match srv.authenticate(&req.headers) {
            Err(e) => Err(e),
            Ok(who) => route(&srv, &who, &req, &segs[2..]).await,
        },
        _ => Err(GrpcError::new(NOT_FOUND, "Not Found")),
    };
    result.unwrap_or_else(|e| e.response())
}

async fn route(srv: &Arc<ArgoServer>, who: &Claims, req: &Req, segs: &[&str]) -> ApiResult {
    let m = &req.method;
    match (m, segs) {
        (&Method::GET, ["applications"]) => list(srv, who, req),
        (&Method::GET, ["account", "can-i", resource, action, sub @ ..]) => {
            account::can_i(srv, who, resource, action, &sub.join("/"))
        }
        (&Method::GET, ["stream", "applications"]) => stream::watch(srv.clone(), who.clone(), req),
        (&Method::GET, ["applications", name]) => get(srv, who, req, name).await,
        (&Method::PUT, ["applications", name]) => update(srv, who, req, name),
        (&Method::PATCH, ["applications", name]) => patch(srv, who, req, name),
        (&Method::PUT, ["applications", name, "spec"]) => update_spec(srv, who, req, name),
        (&Method::POST, ["applications", name, "sync"]) => actions::sync(srv, who, req, name),
        (&Method::POST, ["applications", name, "rollback"]) => {
            actions::rollback(srv, who, req, name)
        }
        (&Method::DELETE, ["applications", name, "operation"]) => {
            actions::terminate(srv, who, req, name)
        }
        (&Method::GET, ["applications", name, "manifests"]) => {
            crate::argocd::manifests::get(srv, who, req, name)
        }
        (&Method::GET, ["applications", name, "resource-tree"]) => {
            actions::resource_tree(srv, who, req, name)
        }
        (_, ["applications", ..] | ["stream", ..]) => {
            Ok(plain(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"))
        }
        _ => Err(GrpcError::new(NOT_FOUND, "Not Found")),
    }
}
