//! The Argo CD REST client (shared/reference/03 §2–§4): list and get Applications,
//! watch them over the server-sent event stream, sync, rollback, turn auto-sync off,
//! terminate an operation. reqwest with rustls (ring, as the rest of rollcall), TLS
//! verified unless the config says `insecure`, an optional CA (the simulator's
//! per-process CA), a bearer token that is never shown, and a deadline on every request
//! so a slow server never holds anything up.

mod auth;
mod error;
pub mod requests;
mod stream;

use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde::Deserialize;

pub use auth::{
    CliConfigError, CliServer, Token, cli_config_path, cli_current, cli_sessions, token_for,
};
pub use error::ArgoError;
pub use requests::{ApiCall, Permission};
pub use stream::{SseParser, StreamEvent, WatchItem, spawn_watch};

use crate::domain::AppRow;

/// Where an Argo CD server is and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Base URL, e.g. `https://127.0.0.1:8443`.
    pub server: String,
    pub insecure: bool,
    /// PEM of the CA to trust instead of the system's (the simulator's own CA).
    pub ca_pem: Option<String>,
    pub token: Option<Token>,
}

/// Deadlines. Every unary request has `request`; the stream has `stream_idle` between
/// two chunks (the server sends a keepalive every 15 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub request: Duration,
    pub stream_idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(15),
            stream_idle: Duration::from_secs(45),
        }
    }
}

/// A client of one Argo CD server. Cheap to clone.
#[derive(Clone)]
pub struct ArgoClient {
    http: reqwest::Client,
    base: String,
    token: Option<Token>,
    timeouts: Timeouts,
}

impl std::fmt::Debug for ArgoClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArgoClient")
            .field("base", &self.base)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

/// `GET /api/v1/applications`: the items and the list's resourceVersion.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppList {
    pub resource_version: Option<String>,
    pub items: Vec<AppRow>,
}

impl ArgoClient {
    pub fn new(endpoint: &Endpoint, timeouts: Timeouts) -> Result<Self, ArgoError> {
        // reqwest is built without its own crypto provider (its default, aws-lc, needs
        // cmake); use ring like kube-rs. An already installed default is fine too.
        let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
        let base = endpoint.server.trim_end_matches('/').to_owned();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(ArgoError::Config {
                message: format!("server `{base}` is not an http(s) URL"),
            });
        }
        let mut builder = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .user_agent(concat!("rollcall/", env!("CARGO_PKG_VERSION")));
        if endpoint.insecure {
            builder = builder.tls_danger_accept_invalid_certs(true);
        } else if let Some(pem) = &endpoint.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| {
                ArgoError::Config {
                    message: format!("CA certificate: {e}"),
                }
            })?;
            if certs.is_empty() {
                return Err(ArgoError::Config {
                    message: "CA certificate: no certificate in the PEM".into(),
                });
            }
            // As kubeconfig's certificate-authority-data: this CA only.
            builder = builder.tls_certs_only(certs);
        }
        let http = builder.build().map_err(|e| ArgoError::Config {
            message: e.to_string(),
        })?;
        Ok(ArgoClient {
            http,
            base,
            token: endpoint.token.clone(),
            timeouts,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token
            && let Ok(mut value) = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
        {
            value.set_sensitive(true);
            req = req.header(AUTHORIZATION, value);
        }
        req
    }

    /// Sends one planned call and decodes the answer as `T`.
    pub async fn call<T: for<'de> Deserialize<'de>>(&self, call: &ApiCall) -> Result<T, ArgoError> {
        let method =
            reqwest::Method::from_bytes(call.method.as_bytes()).map_err(|e| ArgoError::Config {
                message: e.to_string(),
            })?;
        let mut req = self
            .request(method, &call.path_and_query())
            .header(ACCEPT, "application/json")
            .timeout(self.timeouts.request);
        if call.method != "GET" {
            // Argo CD refuses any non-GET request without this, DELETE included (415).
            req = req.header(CONTENT_TYPE, "application/json");
            req = req.body(
                call.body
                    .as_ref()
                    .map(|b| b.to_string())
                    .unwrap_or_default(),
            );
        }
        let after = self.timeouts.request;
        let resp = req
            .send()
            .await
            .map_err(|e| ArgoError::from_reqwest(&e, after))?;
        let status = resp.status().as_u16();
        let (url, content_type) = answered(&resp);
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| ArgoError::from_reqwest(&e, after))?;
        if !(200..300).contains(&status) {
            return Err(ArgoError::from_answer(
                &url,
                status,
                content_type.as_deref(),
                &bytes,
            ));
        }
        serde_json::from_slice(&bytes).map_err(|e| ArgoError::Decode {
            message: crate::clients::answer::describe(
                crate::clients::answer::Expected::ArgoCd,
                &url,
                status,
                content_type.as_deref(),
                &bytes,
            )
            .unwrap_or_else(|| e.to_string()),
        })
    }

    pub async fn list(&self) -> Result<AppList, ArgoError> {
        #[derive(Deserialize, Default)]
        #[serde(default, rename_all = "camelCase")]
        struct Meta {
            resource_version: Option<String>,
        }
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct ListWire {
            metadata: Option<Meta>,
            // The server sends [] when empty; a generic encoder may send null.
            items: Option<crate::domain::wire::LenientVec<AppRow>>,
        }
        let w: ListWire = self.call(&requests::list()).await?;
        Ok(AppList {
            resource_version: w.metadata.and_then(|m| m.resource_version),
            items: w.items.map(|v| v.0).unwrap_or_default(),
        })
    }

    pub async fn get(&self, name: &str) -> Result<AppRow, ArgoError> {
        self.call(&requests::get(name)).await
    }

    /// `argocd app sync NAME [--revision R] [--prune] [--dry-run]`.
    pub async fn sync(
        &self,
        name: &str,
        revision: Option<&str>,
        prune: bool,
        dry_run: bool,
    ) -> Result<AppRow, ArgoError> {
        self.call(&requests::sync(name, revision, prune, dry_run))
            .await
    }

    /// `argocd app rollback NAME ID [--prune] [--dry-run]`.
    pub async fn rollback(
        &self,
        name: &str,
        id: i64,
        prune: bool,
        dry_run: bool,
    ) -> Result<AppRow, ArgoError> {
        self.call(&requests::rollback(name, id, prune, dry_run))
            .await
    }

    /// Turns automated sync off (`spec.syncPolicy.automated: null`), as the UI's
    /// "Disable Auto-Sync" does.
    pub async fn disable_auto_sync(&self, name: &str) -> Result<AppRow, ArgoError> {
        self.call(&requests::disable_auto_sync(name)).await
    }

    /// `argocd account can-i ACTION RESOURCE SUBRESOURCE`: whether this token may.
    pub async fn can_i(&self, permission: &Permission) -> Result<bool, ArgoError> {
        #[derive(Deserialize)]
        struct CanIResponse {
            value: String,
        }
        let answer: CanIResponse = self.call(&requests::can_i(permission)).await?;
        match answer.value.as_str() {
            "yes" => Ok(true),
            "no" => Ok(false),
            other => Err(ArgoError::Decode {
                message: format!("can-i answered {other:?}, not yes or no"),
            }),
        }
    }

    /// `argocd app manifests NAME --revision R`: what the app renders to at R.
    pub async fn manifests(
        &self,
        name: &str,
        revision: &str,
    ) -> Result<crate::domain::application::ManifestResponse, ArgoError> {
        self.call(&requests::manifests(name, revision)).await
    }

    /// `argocd app terminate-op NAME`.
    pub async fn terminate_operation(&self, name: &str) -> Result<(), ArgoError> {
        let _: serde_json::Value = self.call(&requests::terminate(name)).await?;
        Ok(())
    }

    /// Polls the app until no operation is requested or running (for a dry run, whose
    /// operation must end before the real one is accepted), up to `limit`.
    pub async fn wait_operation_done(
        &self,
        name: &str,
        limit: Duration,
        poll: Duration,
    ) -> Result<AppRow, ArgoError> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let app = self.get(name).await?;
            if !app.operation_in_flight() {
                return Ok(app);
            }
            if tokio::time::Instant::now() + poll > deadline {
                return Err(ArgoError::Timeout { after: limit });
            }
            tokio::time::sleep(poll).await;
        }
    }

    /// Opens the application event stream (SSE mode). The caller reads events with
    /// `EventStream::next`, each read bounded by the idle deadline.
    pub async fn open_stream(&self) -> Result<stream::EventStream, ArgoError> {
        let req = self
            .request(reqwest::Method::GET, requests::STREAM_PATH)
            .header(ACCEPT, "text/event-stream");
        let after = self.timeouts.request;
        let resp = match tokio::time::timeout(after, req.send()).await {
            Err(_) => return Err(ArgoError::Timeout { after }),
            Ok(r) => r.map_err(|e| ArgoError::from_reqwest(&e, after))?,
        };
        let status = resp.status().as_u16();
        let (url, content_type) = answered(&resp);
        if !(200..300).contains(&status) {
            let body = tokio::time::timeout(after, resp.bytes())
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
            return Err(ArgoError::from_answer(
                &url,
                status,
                content_type.as_deref(),
                &body,
            ));
        }
        // A sign-in page answers 200 too, and would only ever time out as a stream.
        if content_type
            .as_deref()
            .is_some_and(|ct| ct.to_ascii_lowercase().contains("html"))
        {
            let message = crate::clients::answer::describe(
                crate::clients::answer::Expected::ArgoCd,
                &url,
                status,
                content_type.as_deref(),
                b"<html>",
            )
            .unwrap_or_default();
            return Err(ArgoError::Decode { message });
        }
        Ok(stream::EventStream::new(resp, self.timeouts.stream_idle))
    }
}

/// Where an answer came from (without its query) and its content type, for errors.
fn answered(resp: &reqwest::Response) -> (String, Option<String>) {
    let mut url = resp.url().clone();
    url.set_query(None);
    let content_type = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (url.to_string(), content_type)
}
