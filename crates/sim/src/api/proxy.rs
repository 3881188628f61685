//! The API server's proxy subresource: `pods/{[scheme:]name[:port]}/proxy/{path}` answers as
//! the simulated application would (`/health/live`, `/health/ready` follow the pod's health),
//! and `services/{name}/proxy/{path}` forwards to a ready endpoint pod of the Service.

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use crate::Shared;
use crate::resources::{PODS, ResourceDef, SERVICES, def};
use crate::status::ApiError;
use crate::store::Entry;
use crate::store::selector::LabelSelector;

/// `[scheme:]name[:port]` → name.
fn bare_name(s: &str) -> &str {
    let s = s
        .strip_prefix("https:")
        .or_else(|| s.strip_prefix("http:"))
        .unwrap_or(s);
    s.split(':').next().unwrap_or(s)
}

fn unavailable(msg: String) -> ApiError {
    ApiError::new(503, "ServiceUnavailable", msg)
}

fn raw(code: u16, ctype: &str, body: String) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::OK))
        .header(header::CONTENT_TYPE, ctype)
        .body(Body::from(body))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// What the simulated application in `pod` answers on `path`.
fn app_answer(shared: &Shared, pod: &Entry, path: &str) -> Response {
    let v = pod.value();
    let broken = shared.unhealthy.pod(&v);
    let json_ct = "application/json";
    match path.trim_end_matches('/') {
        "/health/live" if broken => raw(
            503,
            json_ct,
            json!({"status": "DOWN", "checks": [{"name": "process", "status": "DOWN"}]})
                .to_string(),
        ),
        "/health/live" => raw(200, json_ct, json!({"status": "UP"}).to_string()),
        "/health/ready" if pod.meta.ready => raw(
            200,
            json_ct,
            json!({"status": "UP", "checks": [{"name": "database", "status": "UP"}]}).to_string(),
        ),
        "/health/ready" => raw(
            503,
            json_ct,
            json!({"status": "DOWN", "checks": [{"name": "database", "status": "DOWN",
                "error": "dependency metadata-db unreachable"}]})
            .to_string(),
        ),
        "" => {
            let app = v
                .pointer("/metadata/labels/app")
                .and_then(Value::as_str)
                .unwrap_or("app");
            raw(
                200,
                "text/plain; charset=utf-8",
                format!("{app} is running\n"),
            )
        }
        _ => raw(
            404,
            "text/plain; charset=utf-8",
            "404 page not found\n".into(),
        ),
    }
}

fn running(pod: &Entry) -> bool {
    !pod.meta.deleting
        && pod.meta.field("status.phase") == "Running"
        && !pod.meta.field("status.podIP").is_empty()
}

/// Serves a proxy request.
pub fn serve(
    shared: &Shared,
    d: &'static ResourceDef,
    ns: &str,
    name: &str,
    path: &str,
    _query: Option<&str>,
) -> Result<Response, ApiError> {
    let name = bare_name(name);
    if d.id == PODS {
        let pod = shared
            .store
            .get(def(PODS), ns, name)
            .ok_or_else(|| ApiError::not_found(d, name))?;
        if !running(&pod) {
            return Err(unavailable(format!(
                "error trying to reach service: pod {name} is not running"
            )));
        }
        return Ok(app_answer(shared, &pod, path));
    }
    if d.id != SERVICES {
        return Err(ApiError::method_not_allowed());
    }
    let svc = shared
        .store
        .get(def(SERVICES), ns, name)
        .ok_or_else(|| ApiError::not_found(d, name))?
        .value();
    let selector = svc
        .pointer("/spec/selector")
        .map(|m| LabelSelector::from_object(&json!({"matchLabels": m})))
        .and_then(Result::ok)
        .filter(|s| !s.is_empty());
    let endpoints: Vec<Entry> = match selector {
        Some(sel) => {
            shared
                .store
                .list(def(PODS), Some(ns), |m| {
                    m.ready && !m.deleting && sel.matches(m)
                })
                .1
        }
        None => Vec::new(),
    };
    if endpoints.is_empty() {
        return Err(unavailable(format!(
            "no endpoints available for service \"{name}\""
        )));
    }
    let pick = &endpoints[fastrand::usize(..endpoints.len())];
    Ok(app_answer(shared, pick, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_scheme_and_port() {
        assert_eq!(bare_name("web-1"), "web-1");
        assert_eq!(bare_name("web-1:8080"), "web-1");
        assert_eq!(bare_name("https:web:"), "web");
        assert_eq!(bare_name("http:web:http"), "web");
    }
}
