//! A client of a Prometheus-compatible query API (Prometheus, Thanos, Mimir, the
//! simulator's monitoring port): `query` and `query_range` as GETs with url-encoded
//! parameters, answers decoded by `domain::metrics`. reqwest with rustls (ring, as the
//! rest of rollcall) and a deadline on every request, so a slow server only delays the
//! comparison that asked. Credentials (a bearer token, or `user:password@` in the base
//! URL, which reqwest sends as basic auth) never appear in errors or `Debug`.

use std::time::Duration;

use jiff::Timestamp;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};

use crate::domain::metrics::{self, DecodeError, LabelledSeries, QueryResult, Series};

/// Why a query has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromError {
    /// `bad_data`: the server refused the query or its parameters.
    #[error("Prometheus refused the query: {error}")]
    BadData { error: String },
    /// Any other error the API reports (`execution`, `timeout`, `canceled`, `internal`…).
    #[error("Prometheus: {error_type}: {error}")]
    Query { error_type: String, error: String },
    /// A non-2xx answer that is not the API's error (a proxy's 502, an auth proxy's 401).
    #[error("Prometheus: HTTP {status}: {message}")]
    Http { status: u16, message: String },
    #[error("Prometheus did not answer within {}s", .after.as_secs_f32())]
    Timeout { after: Duration },
    /// Connection refused, DNS, TLS handshake, reset.
    #[error("Prometheus unreachable: {message}")]
    Network { message: String },
    /// A 2xx answer that is not the API's JSON.
    #[error("Prometheus: unreadable answer: {message}")]
    Decode { message: String },
    /// The client cannot be built (not an http(s) URL).
    #[error("Prometheus client: {message}")]
    Config { message: String },
}

impl PromError {
    fn from_reqwest(e: reqwest::Error, after: Duration) -> PromError {
        // The URL may carry credentials; the innermost cause is what one can act on.
        let e = e.without_url();
        if e.is_timeout() {
            PromError::Timeout { after }
        } else if e.is_decode() || e.is_body() {
            PromError::Decode {
                message: super::innermost(&e),
            }
        } else {
            PromError::Network {
                message: super::innermost(&e),
            }
        }
    }
}

/// An answer's status and body, as the API's result or its error.
pub fn read_answer(status: u16, body: &[u8]) -> Result<QueryResult, PromError> {
    let ok = (200..300).contains(&status);
    match metrics::decode(body) {
        Ok(r) if ok => Ok(r),
        Err(DecodeError::Api { error_type, error }) if error_type == "bad_data" => {
            Err(PromError::BadData { error })
        }
        Err(DecodeError::Api { error_type, error }) => Err(PromError::Query { error_type, error }),
        Err(DecodeError::Malformed(message)) if ok => Err(PromError::Decode { message }),
        Ok(_) | Err(DecodeError::Malformed(_)) => {
            let text = String::from_utf8_lossy(body).trim().to_owned();
            Err(PromError::Http {
                status,
                message: if text.is_empty() {
                    "no body".into()
                } else {
                    crate::domain::format::truncate(&text, 200)
                },
            })
        }
    }
}

/// A time as the API reads it: unix seconds with milliseconds.
fn unix_secs(t: Timestamp) -> String {
    let ms = t.as_millisecond();
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

/// A client of one server. Cheap to clone.
#[derive(Clone)]
pub struct PrometheusClient {
    http: reqwest::Client,
    /// As configured, trailing `/` trimmed (`https://prometheus.example.com`).
    base: String,
    timeout: Duration,
    bearer: Option<String>,
}

impl std::fmt::Debug for PrometheusClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusClient")
            .field("base", &self.base_url())
            .field("timeout", &self.timeout)
            .field("bearer", &self.bearer.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl PrometheusClient {
    /// A client of the API under `base_url` (without `/api/v1`), every request within
    /// `timeout`.
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, PromError> {
        // reqwest is built without its own crypto provider: ring, as the rest of rollcall.
        let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
        let base = base_url.trim().trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&base).map_err(|e| PromError::Config {
            message: format!("base URL: {e}"),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(PromError::Config {
                message: format!("base URL scheme {:?} is not http(s)", parsed.scheme()),
            });
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("rollcall/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| PromError::Config {
                message: super::innermost(&e),
            })?;
        Ok(PrometheusClient {
            http,
            base,
            timeout,
            bearer: None,
        })
    }

    /// Sends `Authorization: Bearer TOKEN` with every request (a proxy in front of it).
    pub fn with_bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer = Some(token.into());
        self
    }

    /// The base URL without any credentials in it.
    pub fn base_url(&self) -> String {
        match reqwest::Url::parse(&self.base) {
            Ok(mut u) => {
                let _ = u.set_username("");
                let _ = u.set_password(None);
                u.as_str().trim_end_matches('/').to_owned()
            }
            Err(_) => String::new(),
        }
    }

    async fn get(&self, path: &str, params: &[(&str, &str)]) -> Result<QueryResult, PromError> {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        let mut req = self
            .http
            .get(format!("{}{path}?{query}", self.base))
            .header(ACCEPT, "application/json");
        if let Some(token) = &self.bearer
            && let Ok(mut value) = HeaderValue::from_str(&format!("Bearer {token}"))
        {
            value.set_sensitive(true);
            req = req.header(AUTHORIZATION, value);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| PromError::from_reqwest(e, self.timeout))?;
        let status = resp.status().as_u16();
        let body = resp
            .bytes()
            .await
            .map_err(|e| PromError::from_reqwest(e, self.timeout))?;
        read_answer(status, &body)
    }

    /// `GET /api/v1/query_range`: every series of the answer, points from `start` to
    /// `end` every `step`.
    pub async fn query_range(
        &self,
        query: &str,
        start: Timestamp,
        end: Timestamp,
        step: Duration,
    ) -> Result<Vec<LabelledSeries>, PromError> {
        let (start, end) = (unix_secs(start), unix_secs(end));
        let step = format!("{}", step.as_secs_f64());
        let params = [
            ("query", query),
            ("start", &start),
            ("end", &end),
            ("step", &step),
        ];
        Ok(self.get("/api/v1/query_range", &params).await?.series)
    }

    /// `query_range` of a query that aggregates to one series (`sum(…)`): that series,
    /// empty when the answer has none (no traffic, an unknown service).
    pub async fn query_range_series(
        &self,
        query: &str,
        start: Timestamp,
        end: Timestamp,
        step: Duration,
    ) -> Result<Series, PromError> {
        let mut all = self.query_range(query, start, end, step).await?;
        if all.len() > 1 {
            return Err(PromError::Decode {
                message: format!("{} series where the query aggregates to one", all.len()),
            });
        }
        Ok(all.pop().map(|l| l.series).unwrap_or_default())
    }

    /// `GET /api/v1/query`: the value of each series at `time` (the server's now when
    /// `None`), as series of one point.
    pub async fn query(
        &self,
        query: &str,
        time: Option<Timestamp>,
    ) -> Result<Vec<LabelledSeries>, PromError> {
        let time = time.map(unix_secs);
        let mut params = vec![("query", query)];
        if let Some(t) = &time {
            params.push(("time", t));
        }
        Ok(self.get("/api/v1/query", &params).await?.series)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_become_results_or_typed_errors() {
        let ok = br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert!(read_answer(200, ok).is_ok());
        let bad = br#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"step\": cannot parse \"x\" to a valid duration"}"#;
        let e = read_answer(400, bad).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Prometheus refused the query: invalid parameter \"step\": cannot parse \"x\" to a valid duration"
        );
        let exec = br#"{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory"}"#;
        assert!(
            matches!(read_answer(422, exec), Err(PromError::Query { error_type, .. }) if error_type == "execution")
        );
        assert_eq!(
            read_answer(502, b"<html>Bad Gateway</html>"),
            Err(PromError::Http {
                status: 502,
                message: "<html>Bad Gateway</html>".into()
            })
        );
        assert!(matches!(
            read_answer(200, b"not json"),
            Err(PromError::Decode { .. })
        ));
        assert!(
            matches!(read_answer(401, b""), Err(PromError::Http { status: 401, message }) if message == "no body")
        );
    }

    #[test]
    fn times_are_unix_seconds_with_milliseconds() {
        assert_eq!(
            unix_secs(Timestamp::from_millisecond(1_435_781_451_781).unwrap()),
            "1435781451.781"
        );
        assert_eq!(
            unix_secs(Timestamp::from_millisecond(-1_500).unwrap()),
            "-2.500"
        );
        assert_eq!(unix_secs(Timestamp::from_millisecond(5).unwrap()), "0.005");
    }

    #[test]
    fn credentials_stay_out_of_sight() {
        let c = PrometheusClient::new(
            "https://alice:s3cret@prometheus.example.com/",
            Duration::from_secs(5),
        )
        .unwrap()
        .with_bearer_token("tok3n");
        assert_eq!(c.base_url(), "https://prometheus.example.com");
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("s3cret") && !debug.contains("tok3n"),
            "{debug}"
        );
        assert!(matches!(
            PrometheusClient::new("prometheus:9090", Duration::from_secs(1)),
            Err(PromError::Config { .. })
        ));
    }
}
