//! The HTTP front: one axum fallback handler that authenticates the bearer token, parses
//! Kubernetes URL paths (`/api/v1/...`, `/apis/{g}/{v}/...`) and query strings, and dispatches
//! to discovery, the verb handlers or watch.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::Value;

use super::Shared;
use super::discovery;
use super::handlers;
use super::resources::{self, ResourceDef};
use super::status::ApiError;

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
    Api(
        &'static ResourceDef,
        Option<String>,
        Option<String>,
        Option<String>,
    ),
}

fn route(path: &str) -> Result<Route, ApiError> {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let not_found = || {
        ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    };
    let (group, version, rest) = match segs.as_slice() {
        ["version"] => return Ok(Route::Discovery(value_response(200, &discovery::version()))),
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

/// Authentication. A bearer token must be the configured one (else 401). A request with no
/// credentials at all is accepted only from a loopback peer, like the API server's old
/// localhost "insecure port": kubectl (client-go) never sends a bearer token over plain HTTP,
/// so this is what makes `kubectl --kubeconfig` work against the simulator's http:// address.
fn authorized(shared: &Shared, headers: &HeaderMap, peer: SocketAddr) -> bool {
    match headers.get(header::AUTHORIZATION) {
        None => peer.ip().is_loopback(),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| t.trim() == shared.token),
    }
}

/// The single entry point for every request.
pub async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorized(&shared, &headers, peer) {
        return error_response(&ApiError::unauthorized());
    }
    let (def, ns, name, sub) = match route(uri.path()) {
        Ok(Route::Discovery(r)) if method == Method::GET => return r,
        Ok(Route::Discovery(_)) => return error_response(&ApiError::method_not_allowed()),
        Ok(Route::Api(d, ns, n, s)) => (d, ns, n, s),
        Err(e) => return error_response(&e),
    };
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let query = Query::parse(uri.query());
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
    let result = match (&method, req.name.is_some()) {
        (&Method::GET, true) => handlers::get(&shared, &req),
        (&Method::GET, false) if req.query.flag("watch") => {
            return super::watch::watch(shared.clone(), &req);
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
mod tests {
    use super::*;

    fn api(p: &str) -> (String, Option<String>, Option<String>, Option<String>) {
        match route(p) {
            Ok(Route::Api(d, ns, n, s)) => (d.plural.to_string(), ns, n, s),
            Ok(Route::Discovery(_)) => ("discovery".into(), None, None, None),
            Err(e) => (format!("err {}", e.code), None, None, None),
        }
    }

    #[test]
    fn paths() {
        let s = |x: &str| Some(x.to_string());
        assert_eq!(api("/api/v1/pods"), ("pods".into(), None, None, None));
        assert_eq!(
            api("/api/v1/namespaces/a/pods/p/status"),
            ("pods".into(), s("a"), s("p"), s("status"))
        );
        assert_eq!(
            api("/api/v1/namespaces/a"),
            ("namespaces".into(), None, s("a"), None)
        );
        assert_eq!(
            api("/api/v1/namespaces/a/status"),
            ("namespaces".into(), None, s("a"), s("status"))
        );
        assert_eq!(
            api("/apis/apps/v1/namespaces/x/deployments/d/scale").3,
            s("scale")
        );
        assert_eq!(api("/apis/apps/v1").0, "discovery");
        assert_eq!(api("/apis/apps/v1/namespaces/x/pods").0, "err 404");
        assert_eq!(api("/api/v1/pods/x").0, "err 404");
        assert_eq!(api("/api/v1/namespaces/a/pods/p/bogus").0, "err 404");
        assert_eq!(api("/nope").0, "err 404");
        let q = Query::parse(Some("&watch=true&&labelSelector=a%3Db,c"));
        assert!(q.flag("watch"));
        assert_eq!(q.get("labelSelector"), Some("a=b,c"));
    }
}
