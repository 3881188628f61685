//! Argo CD's local accounts and session tokens: HS256 JWTs signed with the server key (per
//! process, or kept in the state directory: `argocd::kept`), with the claims argocd-server writes (`iss: argocd`, `sub`, `iat`, `nbf`, `jti`,
//! `exp` for logins), and the same verification order and messages (`invalid session: …`).
//! Accounts: `admin` (login + apiKey, full access) and `viewer` (apiKey, role:readonly).

use std::collections::BTreeSet;
use std::sync::{Mutex, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jiff::Timestamp;
use serde_json::{Value, json};

/// A login session lasts this long (`users.session.duration` default).
const SESSION_SECS: i64 = 24 * 3600;

static KEY: OnceLock<Vec<u8>> = OnceLock::new();

/// The server signature key, random per process (like `server.secretkey`).
fn key() -> &'static [u8] {
    KEY.get_or_init(new_key)
}

/// A new random server signature key.
pub fn new_key() -> Vec<u8> {
    (0..32).map(|_| fastrand::u8(..)).collect()
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// Account name (`sub` without the `:login` / `:apiKey` capability suffix).
    pub sub: String,
    pub iat: i64,
    /// May change things (admin) or only read (role:readonly).
    pub admin: bool,
}

impl Claims {
    /// `iat` as Argo CD prints it in permission errors (RFC 3339).
    pub fn iat_rfc3339(&self) -> String {
        Timestamp::from_second(self.iat)
            .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default()
    }
}

/// Why `POST /api/v1/session` refused, in argocd-server's words (Unauthenticated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LoginRefused {
    #[error("no credentials supplied")]
    NoCredentials,
    #[error("Invalid username or password")]
    BadCredentials,
}

/// Why a token is not a session: argocd-server's text after `invalid session: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSession {
    #[error("token is malformed: token contains an invalid number of segments")]
    Segments,
    #[error("token is malformed: could not base64 decode claim: {0}")]
    Base64(#[source] base64::DecodeError),
    #[error("token is malformed: could not JSON decode claim")]
    Claims,
    /// Not issued by argocd itself (an SSO token, which this server does not take).
    #[error("SSO is not configured")]
    Foreign,
    #[error("token signature is invalid: signature is invalid")]
    Signature,
    #[error("token has invalid claims: token is expired")]
    Expired,
    #[error("account viewer does not have 'login' capability")]
    ViewerLogin,
    #[error("account '{0}' does not exist")]
    NoAccount(String),
    #[error("token does not have a unique identifier (jti claim) and cannot be validated")]
    NoJti,
    #[error("token is revoked, please re-login")]
    Revoked,
    #[error("account {account} does not have token with id {jti}")]
    UnknownKey { account: String, jti: String },
}

/// Accounts, issued API keys and revoked tokens.
#[derive(Debug)]
pub struct Sessions {
    password: String,
    key: Vec<u8>,
    api_keys: Mutex<BTreeSet<String>>,
    revoked: Mutex<BTreeSet<String>>,
}

fn uuid() -> String {
    crate::objects::new_uid()
}

fn sign(key: &[u8], claims: &Value) -> String {
    let header = B64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = B64.encode(serde_json::to_vec(claims).unwrap_or_default());
    let input = format!("{header}.{payload}");
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    let sig = B64.encode(ring::hmac::sign(&k, input.as_bytes()).as_ref());
    format!("{input}.{sig}")
}

/// What a token string is, before any verification (`jwtutil.IsValid`: three parts).
pub fn looks_like_jwt(token: &str) -> bool {
    token.splitn(3, '.').count() == 3
}

impl Sessions {
    pub fn new(password: &str) -> Self {
        Self::with_key(password, key().to_vec())
    }

    /// Sessions signed with `key` (the one kept in the state directory).
    pub fn with_key(password: &str, key: Vec<u8>) -> Self {
        Sessions {
            password: password.to_string(),
            key,
            api_keys: Mutex::new(BTreeSet::new()),
            revoked: Mutex::new(BTreeSet::new()),
        }
    }

    /// Takes back an API key this server issued before a restart (signed with its key),
    /// as argocd-server keeps its issued keys in its account secret.
    pub fn adopt(&self, token: &str) -> bool {
        let Ok(claims) = decode(token) else {
            return false;
        };
        let (Some(jti), Some(sub)) = (claims["jti"].as_str(), claims["sub"].as_str()) else {
            return false;
        };
        if !sub.ends_with(":apiKey") || !self.signed(token) {
            return false;
        }
        self.api_keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(jti.to_owned());
        true
    }

    fn signed(&self, token: &str) -> bool {
        let mut parts = token.rsplitn(2, '.');
        let (sig, input) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.key);
        let sig = B64.decode(sig).unwrap_or_default();
        ring::hmac::verify(&k, input.as_bytes(), &sig).is_ok()
    }

    /// Issues a non-expiring API key for `admin` or `viewer` (`argocd account generate-token`).
    pub fn api_key(&self, account: &str, now: Timestamp) -> String {
        let jti = uuid();
        self.api_keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(jti.clone());
        let t = now.as_second();
        sign(
            &self.key,
            &json!({"iss": "argocd", "sub": format!("{account}:apiKey"), "nbf": t, "iat": t, "jti": jti}),
        )
    }

    /// `POST /api/v1/session`: a 24 h login token, or the server's Unauthenticated message.
    pub fn login(
        &self,
        username: &str,
        password: &str,
        now: Timestamp,
    ) -> Result<String, LoginRefused> {
        if username.is_empty() || password.is_empty() {
            return Err(LoginRefused::NoCredentials);
        }
        if username != "admin" || password != self.password {
            return Err(LoginRefused::BadCredentials);
        }
        let t = now.as_second();
        Ok(sign(
            &self.key,
            &json!({
                "iss": "argocd", "sub": "admin:login", "nbf": t, "iat": t,
                "exp": t + SESSION_SECS, "jti": uuid(),
            }),
        ))
    }

    /// Revokes a token by its `jti` (as `/auth/logout` does).
    pub fn revoke(&self, token: &str) {
        if let Some(c) = decode(token)
            .ok()
            .and_then(|c| c["jti"].as_str().map(String::from))
        {
            self.revoked
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(c);
        }
    }

    /// Verifies a token.
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<Claims, InvalidSession> {
        let claims = decode(token)?;
        if claims["iss"] != "argocd" {
            return Err(InvalidSession::Foreign);
        }
        if !self.signed(token) {
            return Err(InvalidSession::Signature);
        }
        let t = now.as_second();
        if claims["exp"].as_i64().is_some_and(|exp| t >= exp) {
            return Err(InvalidSession::Expired);
        }
        let sub = claims["sub"].as_str().unwrap_or("");
        let (account, capability) = match sub.split_once(':') {
            Some((a, c)) => (a, c),
            None => (sub, "apiKey"),
        };
        let admin = match account {
            "admin" => true,
            "viewer" if capability == "apiKey" => false,
            "viewer" => return Err(InvalidSession::ViewerLogin),
            other => return Err(InvalidSession::NoAccount(other.to_owned())),
        };
        let Some(jti) = claims["jti"].as_str() else {
            return Err(InvalidSession::NoJti);
        };
        if self
            .revoked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(jti)
        {
            return Err(InvalidSession::Revoked);
        }
        if capability == "apiKey"
            && !self
                .api_keys
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(jti)
        {
            return Err(InvalidSession::UnknownKey {
                account: account.to_owned(),
                jti: jti.to_owned(),
            });
        }
        Ok(Claims {
            sub: account.to_string(),
            iat: claims["iat"].as_i64().unwrap_or(0),
            admin,
        })
    }
}

/// The claims of a token, unverified (the error is jwt-go's wording).
fn decode(token: &str) -> Result<Value, InvalidSession> {
    let payload = token.split('.').nth(1).ok_or(InvalidSession::Segments)?;
    let bytes = B64
        .decode(payload.trim_end_matches('='))
        .map_err(InvalidSession::Base64)?;
    serde_json::from_slice::<Value>(&bytes)
        .ok()
        .filter(Value::is_object)
        .ok_or(InvalidSession::Claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_like_argocd_server() {
        let now: Timestamp = "2026-11-26T10:00:00Z".parse().unwrap();
        let s = Sessions::new("pw");
        let admin = s.api_key("admin", now);
        assert!(looks_like_jwt(&admin));
        let c = s.verify(&admin, now).unwrap();
        assert_eq!((c.sub.as_str(), c.admin), ("admin", true));
        assert_eq!(c.iat_rfc3339(), "2026-11-26T10:00:00Z");
        let viewer = s.api_key("viewer", now);
        assert!(!s.verify(&viewer, now).unwrap().admin);
        assert_eq!(
            s.login("admin", "nope", now).unwrap_err().to_string(),
            "Invalid username or password"
        );
        assert_eq!(
            s.login("", "", now).unwrap_err().to_string(),
            "no credentials supplied"
        );
        let login = s.login("admin", "pw", now).unwrap();
        assert_eq!(s.verify(&login, now).unwrap().sub, "admin");
        let later = now + jiff::SignedDuration::from_hours(25);
        assert_eq!(
            s.verify(&login, later).unwrap_err().to_string(),
            "token has invalid claims: token is expired"
        );
        // A tampered signature, a foreign issuer, a revoked token.
        let mut bad = admin.clone();
        bad.push('x');
        assert!(
            s.verify(&bad, now)
                .unwrap_err()
                .to_string()
                .starts_with("token signature is invalid")
        );
        let foreign = format!(
            "{}.{}.sig",
            B64.encode("{}"),
            B64.encode(r#"{"iss":"dex"}"#)
        );
        assert_eq!(
            s.verify(&foreign, now).unwrap_err().to_string(),
            "SSO is not configured"
        );
        s.revoke(&login);
        assert_eq!(
            s.verify(&login, now).unwrap_err().to_string(),
            "token is revoked, please re-login"
        );
        // An API key this server never issued.
        let other = Sessions::new("pw").api_key("admin", now);
        assert!(
            s.verify(&other, now)
                .unwrap_err()
                .to_string()
                .contains("does not have token with id")
        );
    }
}
