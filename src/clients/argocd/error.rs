//! Typed errors of the Argo CD client, carrying Argo CD's own message.
//!
//! The REST API answers `{"error","code","message","details"}` with the gRPC code; two
//! very different refusals share HTTP 400 (InvalidArgument 3 and FailedPrecondition 9),
//! so the code in the body decides, the HTTP status only when the body has none.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgoError {
    /// 401 / Unauthenticated: no token, a bad or expired one.
    #[error("Argo CD: unauthorized: {message}")]
    Unauthorized { message: String },
    /// 403 / PermissionDenied: RBAC, sync windows, or an app that does not exist
    /// (Argo CD answers so without `project`, so existence is not leaked).
    #[error("Argo CD: permission denied: {message}")]
    PermissionDenied { message: String },
    #[error("Argo CD: not found: {message}")]
    NotFound { message: String },
    /// FailedPrecondition (9): e.g. `rollback cannot be initiated when auto-sync is
    /// enabled`, `another operation is already in progress`.
    #[error("Argo CD refused: {message}")]
    FailedPrecondition { message: String },
    /// InvalidArgument (3): e.g. a history id the app does not have.
    #[error("Argo CD: invalid request: {message}")]
    InvalidArgument { message: String },
    /// Any other answer that is not a success.
    #[error("Argo CD: HTTP {status}: {message}")]
    Api {
        status: u16,
        code: Option<i64>,
        message: String,
    },
    /// No answer within the request's deadline.
    #[error("Argo CD did not answer within {}s", .after.as_secs_f32())]
    Timeout { after: Duration },
    /// Connection refused, DNS, TLS handshake, reset: the server cannot be reached.
    #[error("Argo CD unreachable: {message}")]
    Unreachable { message: String },
    /// A 2xx answer that is not what the API documents.
    #[error("Argo CD: unreadable answer: {message}")]
    Decode { message: String },
    /// The client cannot be built (bad CA file, bad URL) or has no token.
    #[error("Argo CD client: {message}")]
    Config { message: String },
}

impl ArgoError {
    /// The server is down or slow, as opposed to refusing the request.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            ArgoError::Timeout { .. } | ArgoError::Unreachable { .. }
        ) || matches!(self, ArgoError::Api { status, .. } if *status == 502 || *status == 503 || *status == 504)
    }

    /// Argo CD's error for an HTTP status and body.
    pub fn from_response(status: u16, body: &[u8]) -> ArgoError {
        #[derive(serde::Deserialize, Default)]
        #[serde(default)]
        struct Body {
            error: Option<String>,
            message: Option<String>,
            code: Option<i64>,
        }
        let parsed: Option<Body> = serde_json::from_slice(body).ok();
        let (code, message) = match parsed {
            Some(b) => (b.code, b.message.or(b.error)),
            None => (None, None),
        };
        let message = message.filter(|m| !m.trim().is_empty()).unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body).trim().to_owned();
            if text.is_empty() {
                format!("HTTP {status}")
            } else {
                crate::domain::format::truncate(&text, 300)
            }
        });
        ArgoError::classify(code, status, message)
    }

    /// The error for an answer from `url`: Argo CD's own when it is its JSON, else a
    /// sentence saying what answered instead (an empty body, an HTML page), kept under
    /// the status's kind so a 401 is still unauthorized and a 503 still unavailable.
    pub fn from_answer(
        url: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> ArgoError {
        use crate::clients::answer::{Expected, describe};
        match describe(Expected::ArgoCd, url, status, content_type, body) {
            Some(message) => ArgoError::classify(None, status, message),
            None => ArgoError::from_response(status, body),
        }
    }

    fn classify(code: Option<i64>, status: u16, message: String) -> ArgoError {
        match (code, status) {
            (Some(16), _) | (None, 401) => ArgoError::Unauthorized { message },
            (Some(7), _) | (None, 403) => ArgoError::PermissionDenied { message },
            (Some(5), _) | (None, 404) => ArgoError::NotFound { message },
            (Some(9), _) => ArgoError::FailedPrecondition { message },
            (Some(3), _) => ArgoError::InvalidArgument { message },
            // A 400 without a code: Argo CD's refusals are preconditions more often than not,
            // but without the code it cannot be told, so keep it generic.
            _ => ArgoError::Api {
                status,
                code,
                message,
            },
        }
    }

    pub(super) fn from_reqwest(e: &reqwest::Error, timeout: Duration) -> ArgoError {
        if e.is_timeout() {
            return ArgoError::Timeout { after: timeout };
        }
        if e.is_decode() {
            return ArgoError::Decode {
                message: crate::clients::innermost(e),
            };
        }
        if e.is_builder() {
            return ArgoError::Config {
                message: crate::clients::innermost(e),
            };
        }
        ArgoError::Unreachable {
            message: crate::clients::innermost(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_decide_over_statuses() {
        let body = br#"{"error":"rollback cannot be initiated when auto-sync is enabled","code":9,"message":"rollback cannot be initiated when auto-sync is enabled","details":[]}"#;
        assert_eq!(
            ArgoError::from_response(400, body),
            ArgoError::FailedPrecondition {
                message: "rollback cannot be initiated when auto-sync is enabled".into()
            }
        );
        let bad_id = br#"{"error":"x","code":3,"message":"application argocd/a does not have deployment with id 9","details":[]}"#;
        assert!(matches!(
            ArgoError::from_response(400, bad_id),
            ArgoError::InvalidArgument { .. }
        ));
        assert!(matches!(
            ArgoError::from_response(401, b"{\"error\":\"no session information\",\"code\":16,\"message\":\"no session information\"}"),
            ArgoError::Unauthorized { message } if message == "no session information"
        ));
        assert!(matches!(
            ArgoError::from_response(415, b"Invalid content type"),
            ArgoError::Api { status: 415, message, .. } if message == "Invalid content type"
        ));
        assert!(ArgoError::from_response(503, b"").is_unavailable());
    }
}
