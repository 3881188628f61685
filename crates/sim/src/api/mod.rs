//! The HTTP front: one axum fallback handler that applies the fault plan, authenticates the
//! bearer token, authorizes the request (RBAC attributes), parses Kubernetes URL paths
//! (`/api/v1/...`, `/apis/{g}/{v}/...`) and query strings, and dispatches to discovery, the
//! access reviews, logs, proxy, the verb handlers or watch; `/_sim/...` is the admin API.

pub mod admin;
pub mod admission;
pub mod auth;
pub mod discovery;
pub mod events_v1;
pub mod exec;
pub mod faults;
pub mod fieldcheck;
pub mod handlers;
pub mod kinds;
pub mod logs;
pub mod openapi;
pub mod paging;
pub mod pki;
pub mod proxy;
pub mod table;
pub mod tls;
pub mod watch;

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::Value;

use crate::Shared;
use crate::api::auth::{Attributes, User};
use crate::api::tls::Peer;
use crate::resources::{self, ResourceDef};
use crate::status::ApiError;

/// A parsed query string; empty pairs (kube-rs sends `?&a=b`) are ignored.
#[derive(Debug, Default, Clone)]
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(q: Option<&str>) -> Self {
        let pairs = form_urlencoded::parse(q.unwrap_or("").as_bytes())
            .filter(|(k, _)| !k.is_empty())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Query(pairs)
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(x, _)| x == k)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated parameter (`command=a&command=b`), in order.
    pub fn all(&self, k: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(x, _)| x == k)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some("true" | "1"))
    }
}

/// A resource request after path parsing.
#[derive(Debug)]
pub struct ApiRequest {
    pub def: &'static ResourceDef,
    pub ns: Option<String>,
    pub name: Option<String>,
    pub sub: Option<String>,
    pub query: Query,
    /// The client asked for `as=Table`.
    pub table: bool,
    pub content_type: String,
    pub body: Bytes,
}

impl ApiRequest {
    pub fn dry_run(&self) -> Result<bool, ApiError> {
        match self.query.get("dryRun") {
            None | Some("") => Ok(false),
            Some("All") => Ok(true),
            Some(v) => Err(ApiError::bad_request(format!(
                "Invalid dry run value: {v:?}; only \"All\" is supported"
            ))),
        }
    }
}

/// Builds a JSON response with the given status code.
pub fn json_response(code: u16, body: impl Into<Body>) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

pub fn value_response(code: u16, v: &Value) -> Response {
    json_response(code, serde_json::to_vec(v).unwrap_or_default())
}

pub fn error_response(e: &ApiError) -> Response {
    value_response(e.code, &e.to_status())
}

enum Route {
    Discovery(Response),
    /// `/openapi/v2`, protobuf or JSON by the Accept header.
    OpenApiV2,
    /// `POST` of a SelfSubjectAccessReview (true) or SelfSubjectReview (false).
    Review(bool),
    /// `.../{pods|services}/{name}/proxy/{path}`.
    Proxy(&'static ResourceDef, String, String, String),
    Api(
        &'static ResourceDef,
        Option<String>,
        Option<String>,
        Option<String>,
    ),
}

fn path_ends_with_slash(p: &str) -> bool {
    p.len() > 1 && p.ends_with('/')
}

fn route(path_in: &str) -> Result<Route, ApiError> {
    let segs: Vec<&str> = path_in.trim_end_matches('/').split('/').skip(1).collect();
    let not_found = || {
        ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    };
    let (group, version, rest) = match segs.as_slice() {
        ["version"] => return Ok(Route::Discovery(value_response(200, &discovery::version()))),
        ["openapi", "v2"] => return Ok(Route::OpenApiV2),
        ["openapi", "v3"] => {
            return Ok(Route::Discovery(value_response(
                200,
                &crate::api::openapi::v3_discovery(),
            )));
        }
        ["openapi", "v3", rest @ ..] => {
            return crate::api::openapi::v3_for_path(&rest.join("/"))
                .map(|d| Route::Discovery(value_response(200, &d)))
                .ok_or_else(not_found);
        }
        ["api"] => {
            return Ok(Route::Discovery(value_response(
                200,
                &discovery::api_versions(),
            )));
        }
        ["apis"] => {
            return Ok(Route::Discovery(value_response(
                200,
                &discovery::api_groups(),
            )));
        }
        ["api", v] => {
            return discovery::resource_list("", v)
                .map(|d| Route::Discovery(value_response(200, &d)))
                .ok_or_else(not_found);
        }
        ["apis", g] => {
            return discovery::api_group(g)
                .map(|d| Route::Discovery(value_response(200, &d)))
                .ok_or_else(not_found);
        }
        ["apis", g, v] => {
            return discovery::resource_list(g, v)
                .map(|d| Route::Discovery(value_response(200, &d)))
                .ok_or_else(not_found);
        }
        [
            "apis",
            "authorization.k8s.io",
            "v1",
            "selfsubjectaccessreviews",
        ] => {
            return Ok(Route::Review(true));
        }
        ["apis", "authentication.k8s.io", "v1", "selfsubjectreviews"] => {
            return Ok(Route::Review(false));
        }
        [
            "api",
            "v1",
            "namespaces",
            ns,
            res @ ("pods" | "services"),
            name,
            "proxy",
            tail @ ..,
        ] => {
            let def = resources::find("", "v1", res).ok_or_else(not_found)?;
            let path = format!("/{}", tail.join("/"));
            let path = if path.len() > 1 && path_ends_with_slash(path_in) {
                format!("{path}/")
            } else {
                path
            };
            return Ok(Route::Proxy(def, ns.to_string(), name.to_string(), path));
        }
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Err(not_found()),
    };
    let s = |x: &str| Some(x.to_string());
    let (ns, plural, name, sub) = match rest {
        ["namespaces", ns, res, tail @ ..] if *res != "status" && *res != "finalize" => {
            match tail {
                [] => (s(ns), *res, None, None),
                [n] => (s(ns), *res, s(n), None),
                [n, sub] => (s(ns), *res, s(n), s(sub)),
                _ => return Err(not_found()),
            }
        }
        [res] => (None, *res, None, None),
        [res, n] => (None, *res, s(n), None),
        [res, n, sub] => (None, *res, s(n), s(sub)),
        _ => return Err(not_found()),
    };
    let def = resources::find(group, version, plural).ok_or_else(not_found)?;
    if def.namespaced && ns.is_none() && name.is_some() {
        return Err(not_found());
    }
    if !def.namespaced && ns.is_some() {
        return Err(not_found());
    }
    if let Some(sub) = &sub
        && !def.subresources.contains(&sub.as_str())
    {
        return Err(not_found());
    }
    Ok(Route::Api(def, ns, name, sub))
}

/// Authentication. A bearer token must be a known one (else 401). A request with no
/// credentials is accepted as the admin only over plain HTTP from a loopback peer, like the
/// API server's old localhost "insecure port": kubectl (client-go) never sends a bearer
/// token over plain HTTP. Over TLS every request needs a token, so RBAC applies to all.
fn authenticate(shared: &Shared, headers: &HeaderMap, peer: &Peer) -> Result<User, ApiError> {
    let Some(v) = headers.get(header::AUTHORIZATION) else {
        if !shared.tls && peer.0.ip().is_loopback() {
            return Ok(User::admin("rollcall-sim-admin"));
        }
        return Err(ApiError::unauthorized());
    };
    let token = v
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(ApiError::unauthorized)?;
    match shared.faults.denied(token) {
        Some(401) => return Err(ApiError::unauthorized()),
        Some(_) => {
            return Err(ApiError::new(
                403,
                "Forbidden",
                "forbidden: the fault plan denies this token",
            ));
        }
        None => {}
    }
    shared
        .users
        .iter()
        .find(|(t, _)| t == token)
        .map(|(_, u)| u.clone())
        .ok_or_else(ApiError::unauthorized)
}

fn check(shared: &Shared, user: &User, a: Attributes) -> Result<(), ApiError> {
    let _ = shared;
    auth::authorize(user, &a)
        .map(|_| ())
        .map_err(|_| auth::forbidden(user, &a))
}

/// client-go asks for the protobuf form only; other clients get JSON.
fn openapi_v2(headers: &HeaderMap) -> Response {
    use crate::api::openapi;
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("protobuf") {
        return Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, openapi::V2_PROTOBUF)
            .body(Body::from(openapi::v2_protobuf()))
            .unwrap_or_else(|_| Response::new(Body::empty()));
    }
    value_response(200, &openapi::v2_json())
}

fn closing(mut r: Response) -> Response {
    r.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    r
}

/// The single entry point for every request.
pub async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    body: Bytes,
) -> Response {
    let is_admin_path = uri.path().starts_with("/_sim/");
    if !is_admin_path {
        if shared.faults.refusing() {
            // Connections already open when an outage starts are closed too.
            return closing(error_response(&ApiError::new(
                503,
                "ServiceUnavailable",
                "the server is currently unable to handle the request",
            )));
        }
        let latency = shared.faults.latency();
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
    }
    if !is_admin_path && let Some(impostor) = shared.faults.impostor() {
        return impostor.response();
    }
    let user = match authenticate(&shared, &headers, &peer) {
        Ok(u) => u,
        Err(e) => return error_response(&e),
    };
    if is_admin_path {
        return crate::api::admin::handle(&shared, &user, &method, uri.path(), &body);
    }
    if shared.faults.inject_error() {
        let e = if fastrand::bool() {
            ApiError::internal(
                "an error on the server (\"injected fault\") has prevented the request from succeeding",
            )
        } else {
            ApiError::new(
                503,
                "ServiceUnavailable",
                "the server is currently unable to handle the request",
            )
        };
        return error_response(&e);
    }
    let (def, ns, name, sub) = match route(uri.path()) {
        Ok(Route::Discovery(r)) if method == Method::GET => return r,
        Ok(Route::Discovery(_) | Route::OpenApiV2) if method != Method::GET => {
            return error_response(&ApiError::method_not_allowed());
        }
        Ok(Route::OpenApiV2) => return openapi_v2(&headers),
        Ok(Route::Discovery(_)) => return error_response(&ApiError::method_not_allowed()),
        Ok(Route::Review(access)) => {
            if method != Method::POST {
                return error_response(&ApiError::method_not_allowed());
            }
            let r = if access {
                auth::ssar_from_body(&body).and_then(|v| auth::review(&user, v))
            } else {
                Ok(auth::whoami(&user))
            };
            return r
                .map(|v| value_response(201, &v))
                .unwrap_or_else(|e| error_response(&e));
        }
        Ok(Route::Proxy(def, ns, name, path)) => {
            let a = Attributes {
                verb: auth::verb_of(&method, true, false).into(),
                resource: def.plural.into(),
                subresource: "proxy".into(),
                namespace: ns.clone(),
                name: name.clone(),
                ..Attributes::default()
            };
            if let Err(e) = check(&shared, &user, a) {
                return error_response(&e);
            }
            return crate::api::proxy::serve(&shared, def, &ns, &name, &path, uri.query())
                .unwrap_or_else(|e| error_response(&e));
        }
        Ok(Route::Api(d, ns, n, s)) => (d, ns, n, s),
        Err(e) => return error_response(&e),
    };
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let query = Query::parse(uri.query());
    // Exec is `create pods/exec` whichever method carries it: the API server checks a
    // WebSocket upgrade's GET as create too.
    let verb = if sub.as_deref() == Some("exec") {
        "create"
    } else {
        auth::verb_of(&method, name.is_some(), query.flag("watch"))
    };
    let attrs = Attributes {
        verb: verb.into(),
        group: def.group.into(),
        resource: def.plural.into(),
        subresource: sub.clone().unwrap_or_default(),
        namespace: ns.clone().unwrap_or_default(),
        name: name.clone().unwrap_or_default(),
    };
    if let Err(e) = check(&shared, &user, attrs) {
        return error_response(&e);
    }
    let req = ApiRequest {
        def,
        ns,
        name,
        sub,
        table: accept.contains("as=Table") && accept.contains("g=meta.k8s.io"),
        content_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
        query,
        body,
    };
    if shared.faults.refuse_dry_runs()
        && method != Method::GET
        && req.query.get("dryRun") == Some("All")
    {
        return error_response(&ApiError::bad_request(faults::DRY_RUN_REFUSED));
    }
    if req.sub.as_deref() == Some("exec") {
        return match method {
            Method::GET | Method::POST => {
                crate::api::exec::serve(shared.clone(), &req, upgrade.ok())
            }
            _ => error_response(&ApiError::method_not_allowed()),
        };
    }
    if req.sub.as_deref() == Some("log") {
        return match method {
            Method::GET => crate::api::logs::serve(shared.clone(), &req),
            _ => error_response(&ApiError::method_not_allowed()),
        };
    }
    let watching = method == Method::GET && req.name.is_none() && req.query.flag("watch");
    if req.def.id == resources::EVENTS_V1 && !watching {
        return crate::api::events_v1::serve(&shared, &method, &req).await;
    }
    let result = match (&method, req.name.is_some()) {
        (&Method::GET, true) => handlers::get(&shared, &req),
        (&Method::GET, false) if req.query.flag("watch") => {
            return crate::api::watch::watch(shared.clone(), &req);
        }
        (&Method::GET, false) => handlers::list(&shared, &req),
        (&Method::POST, false) => handlers::create(&shared, &req),
        (&Method::PUT, true) => handlers::update(&shared, &req),
        (&Method::PATCH, true) => handlers::patch(&shared, &req),
        (&Method::DELETE, true) => handlers::delete(&shared, &req),
        _ => Err(ApiError::method_not_allowed()),
    };
    result.unwrap_or_else(|e| error_response(&e))
}

#[cfg(test)]
mod tests;
