//! `limit` / `continue` paging of lists. The continue token is, as on the real server, an
//! opaque base64 JSON `{"v":"meta.k8s.io/v1","rv":N,"start":"ns/name"}`; later pages are
//! served from the current state after that key (no MVCC snapshot), under the first page's
//! resourceVersion.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::http::ApiRequest;
use super::status::ApiError;
use super::store::Meta;

/// The page a list request asks for.
pub struct Page {
    pub limit: usize,
    pub after: Option<(String, String)>,
    /// The resourceVersion of the first page, when continuing.
    pub rv: Option<u64>,
}

fn bad_token() -> ApiError {
    ApiError::bad_request(
        "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
    )
}

impl Page {
    pub fn from_request(req: &ApiRequest) -> Result<Self, ApiError> {
        let limit = match req.query.get("limit") {
            None | Some("") | Some("0") => usize::MAX,
            Some(l) => l
                .parse::<usize>()
                .map_err(|_| ApiError::bad_request(format!("invalid limit: {l:?}")))?,
        };
        let Some(token) = req.query.get("continue").filter(|c| !c.is_empty()) else {
            return Ok(Page {
                limit,
                after: None,
                rv: None,
            });
        };
        let raw = STANDARD.decode(token).map_err(|_| bad_token())?;
        let v: Value = serde_json::from_slice(&raw).map_err(|_| bad_token())?;
        let start = v["start"].as_str().ok_or_else(bad_token)?;
        let (ns, name) = start.split_once('/').ok_or_else(bad_token)?;
        Ok(Page {
            limit,
            after: Some((ns.to_string(), name.to_string())),
            rv: v["rv"].as_u64(),
        })
    }

    /// The token that continues after `last`.
    pub fn token(&self, rv: u64, last: &Meta) -> String {
        let start = format!("{}/{}", last.namespace, last.name);
        STANDARD.encode(json!({"v": "meta.k8s.io/v1", "rv": rv, "start": start}).to_string())
    }
}
