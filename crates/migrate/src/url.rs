//! Database URLs: which driver a URL names, and its display form with the password
//! replaced, so a URL can be shown, logged and audited without leaking a secret.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Postgres,
    Sqlite,
}

/// A database URL. `Debug` and `Display` both redact; only `expose()` gives the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct DbUrl {
    raw: String,
}

/// A URL whose scheme names no driver rollcall has. Holds the redacted form only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unsupported database URL `{shown}`: expected postgres://, postgresql://, sqlite:// or sqlite3://"
)]
pub struct UnsupportedUrl {
    shown: String,
}

impl DbUrl {
    pub fn parse(raw: &str) -> Result<DbUrl, UnsupportedUrl> {
        let url = DbUrl {
            raw: raw.trim().to_owned(),
        };
        match url.kind() {
            Some(_) => Ok(url),
            None => Err(UnsupportedUrl {
                shown: url.to_string(),
            }),
        }
    }

    pub fn kind(&self) -> Option<DbKind> {
        let scheme = self
            .raw
            .split_once(':')
            .map(|(s, _)| s.to_ascii_lowercase())?;
        match scheme.as_str() {
            "postgres" | "postgresql" => Some(DbKind::Postgres),
            "sqlite" | "sqlite3" => Some(DbKind::Sqlite),
            _ => None,
        }
    }

    /// The URL with its password; only for the driver.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// For SQLite: the database file path (golang-migrate strips `sqlite3://` and keeps
    /// the rest, query string excluded).
    pub fn sqlite_path(&self) -> Option<String> {
        let rest = self
            .raw
            .strip_prefix("sqlite3://")
            .or_else(|| self.raw.strip_prefix("sqlite://"))
            .or_else(|| self.raw.strip_prefix("sqlite:"))?;
        let path = rest.split('?').next().unwrap_or(rest);
        Some(path.to_owned())
    }
}

impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.raw))
    }
}

impl fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DbUrl({})", redact(&self.raw))
    }
}

/// Replaces the password of `scheme://user:password@host` and any `password=` query
/// parameter with `***`. Text that is not a URL comes back unchanged.
pub fn redact(raw: &str) -> String {
    let mut out = raw.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let auth_start = scheme_end + 3;
        let auth_end = out[auth_start..]
            .find(['/', '?'])
            .map(|i| auth_start + i)
            .unwrap_or(out.len());
        // The last `@` of the authority: passwords may contain `@` unescaped.
        if let Some(at) = out[auth_start..auth_end].rfind('@').map(|i| auth_start + i)
            && let Some(colon) = out[auth_start..at].find(':').map(|i| auth_start + i)
        {
            out.replace_range(colon + 1..at, "***");
        }
    }
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let redacted: Vec<String> = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => kv.to_owned(),
            })
            .collect();
        out = format!("{head}{}", redacted.join("&"));
    }
    out
}

/// Removes every occurrence of the URL's password from a message (driver errors
/// sometimes echo the connection string).
pub fn scrub(message: &str, url: &DbUrl) -> String {
    let mut out = message.replace(url.expose(), &url.to_string());
    if let Some(pw) = password(url.expose())
        && pw.len() >= 3
    {
        out = out.replace(&pw, "***");
    }
    out
}

fn password(raw: &str) -> Option<String> {
    let start = raw.find("://")? + 3;
    let end = raw[start..]
        .find(['/', '?'])
        .map(|i| start + i)
        .unwrap_or(raw.len());
    let at = raw[start..end].rfind('@')? + start;
    let colon = raw[start..at].find(':')? + start;
    Some(raw[colon + 1..at].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        let u = DbUrl::parse("postgresql://user:s3cr@t@db:5432/app?sslmode=disable").unwrap();
        assert_eq!(
            u.to_string(),
            "postgresql://user:***@db:5432/app?sslmode=disable"
        );
        assert!(!format!("{u:?}").contains("s3cr"));
        assert_eq!(
            redact("postgres://db/app?user=x&password=hunter2"),
            "postgres://db/app?user=x&password=***"
        );
        assert_eq!(redact("postgres://u@db/app"), "postgres://u@db/app");
        assert_eq!(
            scrub(
                "failed: postgresql://user:s3cr@t@db:5432/app?sslmode=disable",
                &u
            ),
            "failed: postgresql://user:***@db:5432/app?sslmode=disable"
        );
        assert_eq!(scrub("pw s3cr@t", &u), "pw ***");
    }

    #[test]
    fn kinds() {
        assert_eq!(
            DbUrl::parse("sqlite3:///tmp/a.db").unwrap().kind(),
            Some(DbKind::Sqlite)
        );
        assert_eq!(
            DbUrl::parse("sqlite:///tmp/a.db?mode=rwc")
                .unwrap()
                .sqlite_path()
                .as_deref(),
            Some("/tmp/a.db")
        );
        assert!(DbUrl::parse("mysql://x").is_err());
    }
}
