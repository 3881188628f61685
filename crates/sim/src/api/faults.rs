//! Fault injection: a plan (drop watches every N s, a share of 5xx answers, added latency,
//! forced 410 on watches every N s, refused connections for a window, 401/403 for chosen
//! tokens, something else answering in the API's place) set from the command line or at
//! run time through `POST /_sim/faults`, and the clock that fires the periodic faults.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// What to break. Every field defaults to "no fault".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultPlan {
    /// End every open watch stream (a clean close) this often.
    pub drop_watches_every_secs: Option<f64>,
    /// Share (0..=1) of API requests answered with a 5xx Status (500 or 503).
    pub error_rate: f64,
    /// Added to every API request before it is served.
    pub latency_ms: u64,
    /// End every open watch with an in-stream 410 Expired (and compact history) this often.
    pub expire_watches_every_secs: Option<f64>,
    /// Refuse connections (and end watches) for this long, starting when the plan is set.
    pub outage_secs: Option<f64>,
    /// Tokens answered with this status (401 or 403) whatever they ask.
    pub deny_tokens: BTreeMap<String, u16>,
    /// The Argo CD API refuses connections (and answers 503 on open ones) for this long,
    /// starting when the plan is set.
    pub argocd_down_secs: Option<f64>,
    /// Streaming lists (`sendInitialEvents`) are refused with 422, as by a server whose
    /// WatchList feature gate is off (the default on Kubernetes 1.33).
    pub watch_list_off: bool,
    /// Writes sent as a server-side dry run (`dryRun=All`) are refused, as when an
    /// admission webhook that is not declared free of side effects intercepts them; Argo
    /// CD's dry-run operations fail the same way.
    pub refuse_dry_runs: bool,
    /// Something that is not the API answers every API request (Kubernetes and Argo CD)
    /// in its place: what a wrong URL, a proxy or an SSO gateway look like to a client.
    pub impostor: Option<Impostor>,
}

/// What answers in the API's place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Impostor {
    /// 404 with no body at all: a server that is not the API (or a path it does not
    /// serve).
    Empty404,
    /// 404 with an HTML error page, as a proxy or ingress with no route answers.
    Html,
    /// 200 with an HTML sign-in page, as an SSO gateway in front of the API answers.
    LoginPage,
}

impl Impostor {
    /// Its answer, whatever was asked.
    pub fn response(self) -> axum::response::Response {
        let (code, content_type, body) = self.answer();
        let mut r = axum::response::Response::builder().status(code);
        if let Some(ct) = content_type {
            r = r.header(axum::http::header::CONTENT_TYPE, ct);
        }
        r.body(axum::body::Body::from(body))
            .unwrap_or_else(|_| axum::response::Response::new(axum::body::Body::empty()))
    }

    /// The status, content type and body it answers with.
    pub fn answer(self) -> (u16, Option<&'static str>, &'static str) {
        match self {
            Impostor::Empty404 => (404, None, ""),
            Impostor::Html => (
                404,
                Some("text/html"),
                "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n</body></html>\n",
            ),
            Impostor::LoginPage => (
                200,
                Some("text/html; charset=utf-8"),
                "<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>\n<form method=\"post\" action=\"/oauth2/start\"><button>Sign in with SSO</button></form>\n</body></html>\n",
            ),
        }
    }
}

/// The ranges `--fault` values must fall in. Periods are what `secs` clamps to anyway (a
/// watch dropped more than 20 times a second, or less than once a day, is no test of
/// anything); a latency over a minute is past every client's timeout.
const PERIOD_SECS: (f64, f64) = (0.05, 86_400.0);
const WINDOW_SECS: (f64, f64) = (0.0, 86_400.0);
const SHARE: (f64, f64) = (0.0, 1.0);
const LATENCY_MS: (f64, f64) = (0.0, 60_000.0);

/// What the API server says when a webhook cannot take a dry run.
pub const DRY_RUN_REFUSED: &str =
    "admission webhook \"policy.dictamesh.io\" does not support dry run";

/// Why a `--fault` flag does not parse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaultFlagError {
    #[error("fault {0:?}: expected NAME=VALUE")]
    NoValue(String),
    #[error("fault {name}: {value:?} is not a number between {min} and {max}")]
    OutOfRange {
        name: String,
        value: String,
        min: f64,
        max: f64,
    },
    #[error("fault watch-list: {0:?} is not on or off")]
    WatchList(String),
    #[error("fault dry-run: {0:?} is not refuse or allow")]
    DryRun(String),
    #[error("fault impostor: {0:?} is not empty-404, html or login-page")]
    Impostor(String),
    #[error("fault deny: expected TOKEN:401 or TOKEN:403")]
    DenyShape,
    #[error("fault deny: {0:?} is not 401 or 403")]
    DenyCode(String),
    #[error("unknown fault {0:?}")]
    Unknown(String),
}

impl FaultPlan {
    /// Parses `--fault` flags: `drop-watches=5`, `errors=0.1`, `latency-ms=50`,
    /// `expire-watches=10`, `outage=3`, `deny=TOKEN:403`, `argocd-down=SECS`, `watch-list=off`,
    /// `dry-run=refuse`, `impostor=empty-404|html|login-page`. A number out of its range
    /// is refused, not clamped: the flag would not do what it says.
    pub fn apply_flag(&mut self, flag: &str) -> Result<(), FaultFlagError> {
        let (k, v) = flag
            .split_once('=')
            .ok_or_else(|| FaultFlagError::NoValue(flag.to_owned()))?;
        let num = |v: &str, (min, max): (f64, f64)| {
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| (min..=max).contains(x))
                .ok_or_else(|| FaultFlagError::OutOfRange {
                    name: k.to_owned(),
                    value: v.to_owned(),
                    min,
                    max,
                })
        };
        match k {
            "drop-watches" => self.drop_watches_every_secs = Some(num(v, PERIOD_SECS)?),
            "errors" => self.error_rate = num(v, SHARE)?,
            "latency-ms" => self.latency_ms = num(v, LATENCY_MS)? as u64,
            "expire-watches" => self.expire_watches_every_secs = Some(num(v, PERIOD_SECS)?),
            "outage" => self.outage_secs = Some(num(v, WINDOW_SECS)?),
            "argocd-down" => self.argocd_down_secs = Some(num(v, WINDOW_SECS)?),
            "impostor" => {
                self.impostor = Some(match v {
                    "empty-404" => Impostor::Empty404,
                    "html" => Impostor::Html,
                    "login-page" => Impostor::LoginPage,
                    _ => return Err(FaultFlagError::Impostor(v.to_owned())),
                })
            }
            "watch-list" => {
                self.watch_list_off = match v {
                    "off" => true,
                    "on" => false,
                    _ => return Err(FaultFlagError::WatchList(v.to_owned())),
                }
            }
            "dry-run" => {
                self.refuse_dry_runs = match v {
                    "refuse" => true,
                    "allow" => false,
                    _ => return Err(FaultFlagError::DryRun(v.to_owned())),
                }
            }
            "deny" => {
                let (t, c) = v.rsplit_once(':').ok_or(FaultFlagError::DenyShape)?;
                let code = match c {
                    "401" => 401,
                    "403" => 403,
                    _ => return Err(FaultFlagError::DenyCode(c.to_owned())),
                };
                self.deny_tokens.insert(t.to_string(), code);
            }
            _ => return Err(FaultFlagError::Unknown(k.to_owned())),
        }
        Ok(())
    }
}

struct State {
    plan: FaultPlan,
    outage_until: Option<Instant>,
    argocd_down_until: Option<Instant>,
    next_drop: Option<Instant>,
    next_expire: Option<Instant>,
}

/// The live fault state.
pub struct Faults {
    state: Mutex<State>,
    /// Bumped to end every open watch cleanly.
    pub drop_watches: watch::Sender<u64>,
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.clamp(0.05, 86_400.0))
}

/// What the periodic check asks the simulator to do.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Due {
    pub drop: bool,
    pub expire: bool,
}

impl Faults {
    pub fn new(plan: FaultPlan) -> Self {
        let f = Faults {
            state: Mutex::new(State {
                plan: FaultPlan::default(),
                outage_until: None,
                argocd_down_until: None,
                next_drop: None,
                next_expire: None,
            }),
            drop_watches: watch::channel(0).0,
        };
        f.set(plan);
        f
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the plan; an outage starts now and ends open watches at once.
    pub fn set(&self, plan: FaultPlan) {
        let now = Instant::now();
        let mut g = self.lock();
        g.outage_until = plan.outage_secs.map(|s| now + secs(s));
        g.argocd_down_until = plan.argocd_down_secs.map(|s| now + secs(s));
        g.next_drop = plan.drop_watches_every_secs.map(|s| now + secs(s));
        g.next_expire = plan.expire_watches_every_secs.map(|s| now + secs(s));
        let outage = g.outage_until.is_some();
        g.plan = plan;
        drop(g);
        if outage {
            self.drop_watches.send_modify(|n| *n += 1);
        }
    }

    pub fn plan(&self) -> FaultPlan {
        self.lock().plan.clone()
    }

    /// True while connections are refused.
    pub fn refusing(&self) -> bool {
        self.lock().outage_until.is_some_and(|t| Instant::now() < t)
    }

    /// True while the Argo CD API is down.
    pub fn argocd_down(&self) -> bool {
        self.lock()
            .argocd_down_until
            .is_some_and(|t| Instant::now() < t)
    }

    pub fn watch_list_off(&self) -> bool {
        self.lock().plan.watch_list_off
    }

    pub fn refuse_dry_runs(&self) -> bool {
        self.lock().plan.refuse_dry_runs
    }

    pub fn impostor(&self) -> Option<Impostor> {
        self.lock().plan.impostor
    }

    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.lock().plan.latency_ms)
    }

    /// Whether this request gets an injected 5xx.
    pub fn inject_error(&self) -> bool {
        let rate = self.lock().plan.error_rate;
        rate > 0.0 && fastrand::f64() < rate
    }

    /// The status forced for a token, if any.
    pub fn denied(&self, token: &str) -> Option<u16> {
        self.lock().plan.deny_tokens.get(token).copied()
    }

    /// Which periodic faults are due now (and schedules their next time).
    pub fn due(&self) -> Due {
        let now = Instant::now();
        let mut g = self.lock();
        let mut due = Due::default();
        if let (Some(t), Some(every)) = (g.next_drop, g.plan.drop_watches_every_secs)
            && now >= t
        {
            due.drop = true;
            g.next_drop = Some(now + secs(every));
        }
        if let (Some(t), Some(every)) = (g.next_expire, g.plan.expire_watches_every_secs)
            && now >= t
        {
            due.expire = true;
            g.next_expire = Some(now + secs(every));
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_and_bad_ones_say_why() {
        let mut p = FaultPlan::default();
        for f in [
            "drop-watches=5",
            "errors=0.25",
            "latency-ms=40",
            "deny=abc:403",
            "argocd-down=2",
            "dry-run=refuse",
        ] {
            p.apply_flag(f).unwrap();
        }
        assert_eq!(p.drop_watches_every_secs, Some(5.0));
        assert_eq!(p.error_rate, 0.25);
        assert_eq!(p.latency_ms, 40);
        assert_eq!(p.deny_tokens.get("abc"), Some(&403));
        assert_eq!(p.argocd_down_secs, Some(2.0));
        assert!(Faults::new(p.clone()).argocd_down());
        assert!(Faults::new(p.clone()).refuse_dry_runs());
        assert!(p.apply_flag("dry-run=maybe").is_err());
        assert!(p.apply_flag("deny=abc:500").is_err());
        assert!(p.apply_flag("errors=-1").is_err());
        // Out of range is refused, with the range: `errors=2` was clamped to 1 before.
        assert_eq!(
            p.apply_flag("errors=2").unwrap_err().to_string(),
            "fault errors: \"2\" is not a number between 0 and 1"
        );
        assert!(p.apply_flag("errors=NaN").is_err());
        assert!(p.apply_flag("latency-ms=inf").is_err());
        assert!(p.apply_flag("drop-watches=0").is_err());
        p.apply_flag("impostor=html").unwrap();
        assert_eq!(p.impostor, Some(Impostor::Html));
        assert!(p.apply_flag("impostor=teapot").is_err());
        assert!(p.apply_flag("bogus=1").is_err());
        let j: FaultPlan = serde_json::from_str(r#"{"errorRate":0.5,"outageSecs":1}"#).unwrap();
        assert_eq!(j.outage_secs, Some(1.0));
        let f = Faults::new(j);
        assert!(f.refusing());
    }
}
