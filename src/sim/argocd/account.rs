//! `GET /api/v1/account/can-i/{resource}/{action}/{subresource=**}` (argocd-server's
//! AccountService.CanI): the subresource is the rest of the path, slashes included
//! (`default/customer-adapter-prod`). Unknown resources or actions are InvalidArgument
//! with Go's `%v` of the list; `rollback` is checked as `sync`, as the server does while
//! `server.rbac.rollback.enforce.enable` is off (its default).

use serde_json::json;

use super::api::{ApiResult, ArgoServer, GrpcError, INVALID_ARGUMENT, json_response};
use super::session::Claims;

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
