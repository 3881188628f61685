//! The simulator's own admin API (outside `/api` and `/apis`, admin token only):
//! `GET|POST /_sim/faults` reads or replaces the fault plan, `GET|POST /_sim/unhealthy`
//! reads or replaces the image tags that run an unhealthy version (`{"images": [TAG…]}`),
//! and the task that fires the plan's periodic faults (watch drops, forced 410s).

use std::sync::Arc;
use std::time::Duration;

use axum::http::Method;
use axum::response::Response;
use tokio::sync::watch;

use crate::Shared;
use crate::api::auth::User;
use crate::api::faults::FaultPlan;
use crate::api::{error_response, value_response};
use crate::status::ApiError;

/// Serves `/_sim/...`.
pub fn handle(shared: &Shared, user: &User, method: &Method, path: &str, body: &[u8]) -> Response {
    if !user.admin {
        return error_response(&ApiError::new(
            403,
            "Forbidden",
            format!("User \"{}\" cannot use the simulator admin API", user.name),
        ));
    }
    let plan_json = |p: &FaultPlan| serde_json::to_value(p).unwrap_or_default();
    match (method, path.trim_end_matches('/')) {
        (&Method::GET, "/_sim/faults") => value_response(200, &plan_json(&shared.faults.plan())),
        (&Method::POST | &Method::PUT, "/_sim/faults") => {
            match serde_json::from_slice::<FaultPlan>(body) {
                Ok(p)
                    if (0.0..=1.0).contains(&p.error_rate)
                        && p.deny_tokens.values().all(|c| matches!(c, 401 | 403)) =>
                {
                    shared.faults.set(p.clone());
                    tracing::info!("simulator fault plan replaced");
                    value_response(200, &plan_json(&p))
                }
                Ok(_) => error_response(&ApiError::bad_request(
                    "errorRate must be within 0..1 and denyTokens codes 401 or 403",
                )),
                Err(e) => error_response(&ApiError::bad_request(format!(
                    "error decoding fault plan: {e}"
                ))),
            }
        }
        (&Method::GET, "/_sim/unhealthy") => {
            value_response(200, &serde_json::json!({"images": shared.unhealthy.list()}))
        }
        (&Method::POST | &Method::PUT, "/_sim/unhealthy") => {
            #[derive(serde::Deserialize)]
            struct Body {
                images: Vec<String>,
            }
            match serde_json::from_slice::<Body>(body) {
                Ok(b) if b.images.iter().all(|t| !t.trim().is_empty()) => {
                    shared.unhealthy.set(b.images.clone());
                    shared.unhealthy_changed.send_modify(|n| *n += 1);
                    tracing::info!(images = ?b.images, "simulator unhealthy images replaced");
                    value_response(200, &serde_json::json!({"images": b.images}))
                }
                Ok(_) => error_response(&ApiError::bad_request("image tags must not be empty")),
                Err(e) => error_response(&ApiError::bad_request(format!(
                    "error decoding unhealthy images: {e}"
                ))),
            }
        }
        _ => error_response(&ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )),
    }
}

/// Fires the plan's periodic faults until shutdown.
pub async fn run_faults(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let mut every = tokio::time::interval(Duration::from_millis(50));
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            _ = every.tick() => {
                let due = shared.faults.due();
                if due.drop {
                    shared.faults.drop_watches.send_modify(|n| *n += 1);
                }
                if due.expire {
                    shared.store.compact();
                    shared.expire.send_modify(|n| *n += 1);
                }
            }
        }
    }
}
