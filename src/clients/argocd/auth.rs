//! Where the Argo CD token comes from: `ARGOCD_AUTH_TOKEN`, else the session that
//! `argocd login` left in the argocd CLI's own config file. The token is held in
//! `Token`, whose Debug and Display never show it.
//!
//! The CLI's config (`util/localconfig` in argo-cd) is YAML:
//! ```yaml
//! current-context: argocd.example.com
//! contexts: [{name: argocd.example.com, server: argocd.example.com, user: argocd.example.com}]
//! servers:  [{server: argocd.example.com, insecure: false, plain-text: false, grpc-web: false}]
//! users:    [{name: argocd.example.com, auth-token: <JWT>, refresh-token: <JWT>}]
//! ```
//! It lives in `$ARGOCD_CONFIG_DIR/config`; without that variable in the legacy
//! `~/.argocd/config` when that exists, else `$XDG_CONFIG_HOME/argocd/config` or
//! `~/.config/argocd/config`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A bearer token. Never printed: Debug and Display redact it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(secret: impl Into<String>) -> Self {
        Token(secret.into())
    }

    /// The secret itself, only for the Authorization header.
    pub(super) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Token(<redacted, {} bytes>)", self.0.len())
    }
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Why the argocd CLI's config file could not be used. A missing file is not an error.
#[derive(Debug, thiserror::Error)]
pub enum CliConfigError {
    /// Missing is not an error (no CLI session); anything else that stops the read is.
    #[error(transparent)]
    Read(rollcall_files::ReadError),
    /// Boxed: the parser's error is large, and this one is returned on every lookup.
    #[error("{}: {source}", .path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: Box<serde_saphyr::Error>,
    },
}

/// A server as the argocd CLI's current context names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliServer {
    /// Base URL (`https://host:port`, or `http://` for `plain-text`).
    pub url: String,
    pub insecure: bool,
    pub token: Option<Token>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LocalConfig {
    #[serde(rename = "current-context")]
    current_context: String,
    contexts: Vec<ContextRef>,
    servers: Vec<ServerWire>,
    users: Vec<UserWire>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ContextRef {
    name: String,
    server: String,
    user: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ServerWire {
    server: String,
    insecure: bool,
    #[serde(rename = "plain-text")]
    plain_text: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UserWire {
    name: String,
    #[serde(rename = "auth-token")]
    auth_token: String,
}

/// The argocd CLI's config file path, as the CLI resolves it.
pub fn cli_config_path() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = var("ARGOCD_CONFIG_DIR") {
        return Some(dir.join("config"));
    }
    let home = var("HOME")?;
    let legacy = home.join(".argocd");
    if legacy.is_dir() {
        return Some(legacy.join("config"));
    }
    let base = var("XDG_CONFIG_HOME").unwrap_or_else(|| home.join(".config"));
    Some(base.join("argocd").join("config"))
}

/// `host:port` of a server given as a URL or as the CLI writes it.
fn host_port(server: &str) -> String {
    let rest = server.split_once("://").map_or(server, |(_, r)| r);
    let host = rest.split('/').next().unwrap_or(rest);
    let default_port = if server.starts_with("http://") {
        80
    } else {
        443
    };
    if host
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        host.to_ascii_lowercase()
    } else {
        format!("{}:{default_port}", host.to_ascii_lowercase())
    }
}

impl LocalConfig {
    fn parse(text: &str) -> Result<Self, serde_saphyr::Error> {
        serde_saphyr::from_str(text)
    }

    fn resolve(&self, ctx: &ContextRef) -> CliServer {
        let server = self.servers.iter().find(|s| s.server == ctx.server);
        let plain = server.is_some_and(|s| s.plain_text);
        let url = if ctx.server.contains("://") {
            ctx.server.trim_end_matches('/').to_owned()
        } else {
            let scheme = if plain { "http" } else { "https" };
            format!("{scheme}://{}", ctx.server.trim_end_matches('/'))
        };
        let token = self
            .users
            .iter()
            .find(|u| u.name == ctx.user && !u.auth_token.is_empty())
            .map(|u| Token::new(u.auth_token.clone()));
        CliServer {
            url,
            insecure: server.is_some_and(|s| s.insecure),
            token,
        }
    }

    fn current(&self) -> Option<CliServer> {
        let ctx = self
            .contexts
            .iter()
            .find(|c| c.name == self.current_context)?;
        Some(self.resolve(ctx))
    }

    /// The session for `server`: the current context when it points there, else any
    /// context that does. A token is never offered to a different server.
    fn for_server(&self, server: &str) -> Option<CliServer> {
        let want = host_port(server);
        let matches = |c: &&ContextRef| host_port(&self.resolve(c).url) == want;
        let current = self
            .contexts
            .iter()
            .find(|c| c.name == self.current_context)
            .filter(matches);
        let ctx = current.or_else(|| self.contexts.iter().find(matches))?;
        Some(self.resolve(ctx))
    }
}

fn read_config(path: &Path) -> Result<Option<LocalConfig>, CliConfigError> {
    match rollcall_files::read_text(path, rollcall_files::Kind::Config) {
        Ok(text) => LocalConfig::parse(&text)
            .map(Some)
            .map_err(|e| CliConfigError::Parse {
                path: path.to_path_buf(),
                source: Box::new(e),
            }),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(CliConfigError::Read(e)),
    }
}

/// From the argocd CLI config `text`: the current context's server, and the session
/// for `server`. The file-free part of `cli_current` and `token_for`.
pub fn cli_sessions(
    text: &str,
    server: &str,
) -> Result<(Option<CliServer>, Option<CliServer>), serde_saphyr::Error> {
    let config = LocalConfig::parse(text)?;
    Ok((config.current(), config.for_server(server)))
}

/// The argocd CLI's current context, if it has one (used when an environment names no
/// server).
pub fn cli_current(path: Option<&Path>) -> Result<Option<CliServer>, CliConfigError> {
    let Some(path) = path.map(Path::to_path_buf).or_else(cli_config_path) else {
        return Ok(None);
    };
    Ok(read_config(&path)?.and_then(|c| c.current()))
}

/// The token for `server`: `ARGOCD_AUTH_TOKEN` when set, else the CLI session for that
/// server. `None` when neither has one.
pub fn token_for(server: &str, cli_config: Option<&Path>) -> Result<Option<Token>, CliConfigError> {
    if let Some(t) = std::env::var("ARGOCD_AUTH_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
    {
        return Ok(Some(Token::new(t.trim().to_owned())));
    }
    let Some(path) = cli_config.map(Path::to_path_buf).or_else(cli_config_path) else {
        return Ok(None);
    };
    Ok(read_config(&path)?
        .and_then(|c| c.for_server(server))
        .and_then(|s| s.token))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "contexts:\n- name: prod\n  server: argocd.example.com\n  user: prod\n- name: sim\n  server: 127.0.0.1:8443\n  user: sim\ncurrent-context: prod\nprompts-enabled: false\nservers:\n- grpc-web-root-path: \"\"\n  server: argocd.example.com\n- insecure: true\n  server: 127.0.0.1:8443\nusers:\n- auth-token: prod-secret\n  name: prod\n  refresh-token: r\n- auth-token: sim-secret\n  name: sim\n";

    #[test]
    fn resolves_contexts_and_never_crosses_servers() {
        let c = LocalConfig::parse(CONFIG).unwrap();
        let cur = c.current().unwrap();
        assert_eq!(cur.url, "https://argocd.example.com");
        assert_eq!(cur.token, Some(Token::new("prod-secret")));
        let sim = c.for_server("https://127.0.0.1:8443").unwrap();
        assert!(sim.insecure);
        assert_eq!(sim.token, Some(Token::new("sim-secret")));
        assert_eq!(
            c.for_server("https://argocd.example.com:443/")
                .unwrap()
                .token,
            Some(Token::new("prod-secret"))
        );
        assert!(c.for_server("https://other.example.com").is_none());
    }

    #[test]
    fn token_never_shows() {
        let t = Token::new("eyJhbGciOi.secret.part");
        assert!(!format!("{t:?}").contains("secret"));
        assert!(!format!("{t}").contains("secret"));
        let s = CliServer {
            url: "https://x".into(),
            insecure: false,
            token: Some(t),
        };
        assert!(!format!("{s:?}").contains("secret"));
    }

    #[test]
    fn reads_from_a_file_and_missing_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        assert_eq!(cli_current(Some(&path)).unwrap(), None);
        std::fs::write(&path, CONFIG).unwrap();
        assert_eq!(
            cli_current(Some(&path)).unwrap().unwrap().url,
            "https://argocd.example.com"
        );
        std::fs::write(&path, "contexts: {oops").unwrap();
        let err = cli_current(Some(&path)).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}: ", path.display())), "{err}");
    }
}
