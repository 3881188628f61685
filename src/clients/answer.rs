//! Answers that are not the API's: an empty body, an HTML page (a proxy, an SSO login,
//! an ingress with no route), plain text. kube-rs shows them as "Failed to parse error
//! data" or as the raw HTML, the Argo CD client as the raw body; here they become one
//! sentence saying what was reached and what was expected. Both clients describe them
//! with [`describe`]: the Kubernetes client through [`ExplainLayer`] on its HTTP stack,
//! so every request (watchers, the link probe, the bus) gets it once.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Which API the client expected to reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    Kubernetes,
    ArgoCd,
}

/// What came back instead of the API's JSON.
enum Shape {
    Empty,
    Html(String),
    Text { content_type: String, start: String },
}

/// How much of an unexpected text answer is quoted.
const QUOTED_CHARS: usize = 120;
/// How much of an answer is read to describe it; the API's errors are far smaller.
const READ_LIMIT: usize = 1 << 20;

fn shape(content_type: Option<&str>, body: &[u8]) -> Option<Shape> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let content_type = content_type.unwrap_or("").trim().to_ascii_lowercase();
    if text.is_empty() {
        return Some(Shape::Empty);
    }
    let head = text
        .chars()
        .take(16)
        .collect::<String>()
        .to_ascii_lowercase();
    if content_type.contains("html") || head.starts_with("<!doctype") || head.starts_with("<html") {
        let named = if content_type.is_empty() {
            "no content type".to_owned()
        } else {
            content_type
        };
        return Some(Shape::Html(named));
    }
    if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
        return None;
    }
    let start: String = text.chars().take(QUOTED_CHARS).collect();
    let start = start.split_whitespace().collect::<Vec<_>>().join(" ");
    let more = if text.chars().count() > QUOTED_CHARS {
        "…"
    } else {
        ""
    };
    Some(Shape::Text {
        content_type: if content_type.is_empty() {
            "no content type".into()
        } else {
            content_type
        },
        start: format!("{start}{more}"),
    })
}

/// What may be missing when a Kubernetes path of an extension's group is not found.
fn installed_hint(url: &str) -> Option<&'static str> {
    let path = url.split_once("/apis/").map(|(_, p)| p)?;
    let group = path.split('/').next()?;
    let rollouts = [
        "/rollouts",
        "/analysisruns",
        "/analysistemplates",
        "/experiments",
    ];
    match group {
        "argoproj.io" if rollouts.iter().any(|r| path.contains(r)) => Some("Argo Rollouts"),
        "argoproj.io" => Some("Argo CD"),
        "postgresql.cnpg.io" => Some("CloudNativePG"),
        "aquasecurity.github.io" => Some("the Trivy operator"),
        _ => None,
    }
}

/// The sentence for an answer from `url` that is not what `expected` answers with, or
/// None when it is (JSON: the API's own error, or a value).
pub fn describe(
    expected: Expected,
    url: &str,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Option<String> {
    let (api, server) = match expected {
        Expected::Kubernetes => ("the Kubernetes API", "a Kubernetes API server"),
        Expected::ArgoCd => ("Argo CD's API", "Argo CD's API server"),
    };
    let question = match (expected, status, installed_hint(url)) {
        (Expected::Kubernetes, 404, Some(what)) => {
            format!("is this {server} (and is {what} installed)?")
        }
        // A gateway error that is not the API's own comes from whatever is in front.
        (_, 500.., _) => format!("is this {server}, or a proxy in front of it?"),
        _ => format!("is this {server}?"),
    };
    Some(match shape(content_type, body)? {
        Shape::Empty => format!("{url} answered {status} with an empty body: {question}"),
        Shape::Html(content_type) => format!(
            "{url} answered {status} with an HTML page ({content_type}), not {api}: a proxy or login page?"
        ),
        Shape::Text {
            content_type,
            start,
        } => format!(
            "{url} answered {status} with {content_type} \"{start}\", not {api}'s JSON: {question}"
        ),
    })
}

/// A layer for kube's HTTP stack that turns answers which are not the API's into a
/// Kubernetes `Status` carrying [`describe`]'s sentence, so every error kube-rs makes of
/// them reads well. An error status keeps its code (a 404 is still not found); an HTML
/// page, whatever its status, becomes 502: it came from something in between, never
/// from an API server. Logs (plain text) and the proxy subresource (any content) pass.
#[derive(Clone)]
pub struct ExplainLayer {
    /// The cluster's URL, which the requests' paths are relative to at this layer.
    base: Arc<str>,
}

impl ExplainLayer {
    pub fn new(cluster_url: &http::Uri) -> Self {
        ExplainLayer {
            base: cluster_url.to_string().trim_end_matches('/').into(),
        }
    }
}

impl<S> tower::Layer<S> for ExplainLayer {
    type Service = Explain<S>;

    fn layer(&self, inner: S) -> Explain<S> {
        Explain {
            inner,
            base: Arc::clone(&self.base),
        }
    }
}

#[derive(Clone)]
pub struct Explain<S> {
    inner: S,
    base: Arc<str>,
}

type Answer = Response<UnsyncBoxBody<Bytes, BoxError>>;

impl<S, ReqBody, B> tower::Service<Request<ReqBody>> for Explain<S>
where
    S: tower::Service<Request<ReqBody>, Response = Response<B>>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Answer;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Answer, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let path = request.uri().path();
        let passes = path.contains("/proxy");
        let url = format!("{}{path}", self.base);
        let answer = self.inner.call(request);
        Box::pin(async move {
            let response = answer.await.map_err(Into::into)?;
            if passes {
                return Ok(response.map(|b| b.map_err(Into::into).boxed_unsync()));
            }
            explain(response, &url).await
        })
    }
}

async fn explain<B>(response: Response<B>, url: &str) -> Result<Answer, BoxError>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let html = content_type
        .as_deref()
        .is_some_and(|ct| ct.to_ascii_lowercase().contains("html"));
    if !(status.is_client_error() || status.is_server_error() || html) {
        return Ok(response.map(|b| b.map_err(Into::into).boxed_unsync()));
    }
    let (parts, body) = response.into_parts();
    let bytes = Limited::new(body, READ_LIMIT).collect().await?.to_bytes();
    let Some(message) = describe(
        Expected::Kubernetes,
        url,
        status.as_u16(),
        content_type.as_deref(),
        &bytes,
    ) else {
        let body = Full::new(bytes)
            .map_err(|never| match never {})
            .boxed_unsync();
        return Ok(Response::from_parts(parts, body));
    };
    let was_html = message.contains("with an HTML page");
    let code = if was_html {
        StatusCode::BAD_GATEWAY
    } else {
        status
    };
    // The reason stays empty: the message is the whole story.
    let status_json = serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "code": code.as_u16(),
    });
    let body = Full::new(Bytes::from(status_json.to_string()))
        .map_err(|never| match never {})
        .boxed_unsync();
    Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://10.0.0.1:6443/apis/argoproj.io/v1alpha1/namespaces/prod/rollouts";

    #[test]
    fn the_apis_own_answers_are_left_alone() {
        let status =
            br#"{"kind":"Status","message":"rollouts.argoproj.io \"x\" not found","code":404}"#;
        assert_eq!(
            describe(
                Expected::Kubernetes,
                URL,
                404,
                Some("application/json"),
                status
            ),
            None
        );
        assert_eq!(
            describe(
                Expected::ArgoCd,
                "https://cd/api/v1/applications",
                403,
                None,
                br#"{"error":"x","code":7}"#
            ),
            None
        );
    }

    #[test]
    fn an_empty_404_asks_whether_this_is_the_api_and_what_is_installed() {
        assert_eq!(
            describe(Expected::Kubernetes, URL, 404, None, b"").as_deref(),
            Some(
                "https://10.0.0.1:6443/apis/argoproj.io/v1alpha1/namespaces/prod/rollouts answered 404 with an empty body: is this a Kubernetes API server (and is Argo Rollouts installed)?"
            )
        );
        assert_eq!(
            describe(
                Expected::Kubernetes,
                "https://h/api/v1/pods",
                503,
                None,
                b"  \n"
            )
            .as_deref(),
            Some(
                "https://h/api/v1/pods answered 503 with an empty body: is this a Kubernetes API server, or a proxy in front of it?"
            )
        );
    }

    #[test]
    fn html_says_proxy_or_login_page_and_text_is_quoted_short() {
        let page = b"<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><body>Not Found</body></html>";
        assert_eq!(
            describe(
                Expected::ArgoCd,
                "https://cd/api/v1/applications",
                404,
                Some("text/html"),
                page
            )
            .as_deref(),
            Some(
                "https://cd/api/v1/applications answered 404 with an HTML page (text/html), not Argo CD's API: a proxy or login page?"
            )
        );
        // Recognised by its first bytes when no content type says so.
        assert!(
            describe(Expected::Kubernetes, URL, 200, None, page)
                .is_some_and(|m| m.contains("HTML page (no content type)"))
        );
        let text = describe(
            Expected::Kubernetes,
            URL,
            404,
            Some("text/plain; charset=utf-8"),
            b"404 page not found\n",
        )
        .unwrap_or_default();
        assert!(
            text.ends_with("answered 404 with text/plain; charset=utf-8 \"404 page not found\", not the Kubernetes API's JSON: is this a Kubernetes API server (and is Argo Rollouts installed)?"),
            "{text}"
        );
        let long = "x".repeat(500);
        let text =
            describe(Expected::Kubernetes, URL, 500, None, long.as_bytes()).unwrap_or_default();
        assert!(
            text.contains(&format!("\"{}…\"", "x".repeat(QUOTED_CHARS))),
            "{text}"
        );
    }
}
