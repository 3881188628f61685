//! The session endpoints (login with a password, logout, userinfo) and
//! `GET /api/v1/account/can-i/{resource}/{action}/{subresource=**}` (argocd-server's
//! AccountService.CanI): the subresource is the rest of the path, slashes included
//! (`default/customer-adapter-prod`). Unknown resources or actions are InvalidArgument
//! with Go's `%v` of the list; `rollback` is checked as `sync`, as the server does while
//! `server.rbac.rollback.enforce.enable` is off (its default).

use axum::http::header;
use axum::response::Response;
use serde_json::json;

use crate::argocd::api::{
    ApiResult, ArgoServer, GrpcError, INVALID_ARGUMENT, Req, UNAUTHENTICATED, json_response, token,
};
use crate::argocd::session::Claims;

/// `rbac.Resources`, in the server's order (it appears in the error message).
const RESOURCES: [&str; 12] = [
    "clusters",
    "projects",
    "applications",
    "applicationsets",
    "repositories",
    "write-repositories",
    "certificates",
    "accounts",
    "gpgkeys",
    "logs",
    "exec",
    "extensions",
];

/// `rbac.Actions`, in the server's order.
const ACTIONS: [&str; 9] = [
    "get", "create", "update", "delete", "sync", "rollback", "override", "action", "invoke",
];

fn not_in(list: &[&str], what: &str) -> GrpcError {
    GrpcError::new(
        INVALID_ARGUMENT,
        format!("[{}] does not contain {what}", list.join(" ")),
    )
}

pub fn can_i(
    _srv: &ArgoServer,
    who: &Claims,
    resource: &str,
    action: &str,
    _subresource: &str,
) -> ApiResult {
    if !ACTIONS.contains(&action) {
        return Err(not_in(&ACTIONS, action));
    }
    if !RESOURCES.contains(&resource) {
        return Err(not_in(&RESOURCES, resource));
    }
    // The same policy `ArgoServer::enforce` applies: admin everything, the read-only
    // role only `get`.
    let allowed = who.admin || action == "get";
    Ok(json_response(
        200,
        &json!({"value": if allowed { "yes" } else { "no" }}),
    ))
}

pub fn login(srv: &ArgoServer, req: &Req) -> ApiResult {
    let b = req.json()?;
    let s = |k: &str| b[k].as_str().unwrap_or("").to_string();
    if !s("token").is_empty() {
        return Err(GrpcError::new(
            UNAUTHENTICATED,
            "token-based session creation no longer supported. please upgrade argocd cli to v0.7+",
        ));
    }
    let token = srv
        .sessions
        .login(&s("username"), &s("password"), jiff::Timestamp::now())
        .map_err(|e| GrpcError::new(UNAUTHENTICATED, e.to_string()))?;
    let secure = if srv.tls { "; Secure" } else { "" };
    let mut r = json_response(200, &json!({"token": token}));
    if let Ok(v) = header::HeaderValue::from_str(&format!(
        "argocd.token={token}; path=/; SameSite=lax; httpOnly{secure}"
    )) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

pub fn logout(srv: &ArgoServer, req: &Req) -> ApiResult {
    if let Some(t) = token(&req.headers) {
        srv.sessions.revoke(&t);
    }
    // SessionResponse{Token: ""} with `omitempty`: an empty object.
    Ok(json_response(200, &json!({})))
}

pub fn userinfo(srv: &ArgoServer, req: &Req) -> Response {
    // AuthFuncOverride: no token is not an error here, just not logged in.
    match srv.authenticate(&req.headers) {
        Ok(c) => json_response(
            200,
            &json!({"loggedIn": true, "username": c.sub, "iss": "argocd"}),
        ),
        Err(_) => json_response(200, &json!({})),
    }
}
