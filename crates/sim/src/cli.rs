//! The `rollcall sim` flags beyond address/speed/token: scenario (dictamesh, empty, scale
//! with --pods/--namespaces/--churn), viewer token, plain HTTP, and the fault plan
//! (`--fault drop-watches=5 --fault errors=0.1 …`), `--unhealthy-image TAG`, and where
//! the certificates are kept (`--state-dir`).

use crate::api::faults::FaultFlagError;
use crate::{FaultPlan, Scenario, SimOptions};

/// Which flag of `rollcall sim` is wrong, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FlagError {
    #[error("unknown scenario {0:?} (expected dictamesh, empty or scale)")]
    Scenario(String),
    #[error(transparent)]
    Fault(#[from] FaultFlagError),
    #[error("--unhealthy-image needs a non-empty image tag")]
    EmptyUnhealthyImage,
}

/// Extra flags of `rollcall sim` (flattened into the subcommand).
#[derive(Debug, Clone, clap::Args)]
pub struct SimFlags {
    /// World to start with: dictamesh, empty or scale.
    #[arg(long, default_value = "dictamesh")]
    pub scenario: String,
    /// scale scenario: number of pods (1 to 200000).
    // Every pod is kept whole in memory; 200000 is four times the largest size the scale
    // benchmark measures, and more than rollcall's target clusters hold.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=200_000))]
    pub pods: u32,
    /// scale scenario: namespaces the pods are spread over (1 to 10000).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub namespaces: u32,
    /// scale scenario: pod status changes per second (0 to 10000).
    // More than one simulator task writes and fans out to watchers; the scale benchmark
    // churns hundreds a second.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub churn: u32,
    /// Bearer token of the `viewer` user (reads everything, writes nothing in prod).
    #[arg(long, default_value = "rollcall-sim-viewer")]
    pub viewer_token: String,
    /// Serve plain HTTP (credential-less loopback requests act as admin) instead of HTTPS.
    #[arg(long)]
    pub plain_http: bool,
    /// A fault: drop-watches=SECS, errors=SHARE, latency-ms=MS, expire-watches=SECS,
    /// outage=SECS, deny=TOKEN:401|403, argocd-down=SECS, watch-list=off, dry-run=refuse
    /// (repeatable; change at run time with
    /// POST /_sim/faults).
    #[arg(long = "fault", value_name = "NAME=VALUE", value_parser = parse_fault)]
    pub faults: Vec<String>,
    /// Where the Argo CD API listens (its own port, as argocd-server is its own host).
    #[arg(long, default_value = "127.0.0.1:18081")]
    pub argocd_listen: std::net::SocketAddr,
    /// Password of the Argo CD `admin` account (for `POST /api/v1/session`).
    #[arg(long, default_value = "rollcall-sim")]
    pub argocd_password: String,
    /// Write the Argo CD address and admin token here, in the argocd CLI's config format.
    #[arg(long, value_name = "FILE")]
    pub argocd_config_out: Option<std::path::PathBuf>,
    /// An image tag (or whole image reference) that runs an unhealthy version: readiness
    /// fails, restarts climb, logs show errors (repeatable; tags containing "broken" always
    /// are; change at run time with POST /_sim/unhealthy).
    #[arg(long = "unhealthy-image", value_name = "TAG")]
    pub unhealthy_images: Vec<String>,
    /// Where the dictamesh scenario creates its GitOps repository (DIR/gitops.git, the
    /// remote the simulated Argo CD reads, and DIR/gitops, a clone to commit and push
    /// from), replacing what was there; a temporary directory when left out.
    #[arg(long, value_name = "DIR")]
    pub gitops_dir: Option<std::path::PathBuf>,
    /// Where the TLS certificates and key (DIR/tls) and Argo CD's signature key and API
    /// keys (DIR/argocd) are kept, 0600, and reused at the next start, so kubeconfigs and
    /// Argo CD configs written before still work with a restarted simulator [default:
    /// $XDG_STATE_HOME/rollcall/sim].
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<std::path::PathBuf>,
}

/// The simulated clock's speed factor, as `--speed` takes it.
///
/// Below 0.01 a one-minute canary pause takes more than an hour and a half of waiting;
/// above 1000 a whole canary with minute-long pauses passes between two of rollcall's
/// one-second ticks, so nothing of it could be watched. NaN, infinities and zero or
/// negative speeds have no meaning for a clock.
pub const SPEED_RANGE: (f64, f64) = (0.01, 1000.0);

/// Parses `--speed` (of `rollcall demo` and `rollcall sim`) within [`SPEED_RANGE`].
pub fn parse_speed(value: &str) -> Result<f64, String> {
    let (min, max) = SPEED_RANGE;
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| (min..=max).contains(s))
        .ok_or_else(|| format!("--speed must be a finite number between {min} and {max}"))
}

/// Checks one `--fault NAME=VALUE` when the command line is parsed, so a bad one is
/// refused as every other bad flag is (with clap's usage error and exit status 2).
fn parse_fault(value: &str) -> Result<String, FaultFlagError> {
    FaultPlan::default().apply_flag(value)?;
    Ok(value.to_owned())
}

impl SimFlags {
    /// Applies the flags to `opts`; the error says which flag is wrong.
    pub fn apply(&self, opts: &mut SimOptions) -> Result<(), FlagError> {
        opts.scenario = match self.scenario.as_str() {
            "dictamesh" => Scenario::Dictamesh,
            "empty" => Scenario::Empty,
            "scale" => Scenario::Scale {
                pods: self.pods,
                namespaces: self.namespaces.max(1),
                churn: self.churn,
            },
            other => return Err(FlagError::Scenario(other.to_owned())),
        };
        opts.viewer_token = self.viewer_token.clone();
        opts.tls = !self.plain_http;
        opts.gitops_dir = self.gitops_dir.clone();
        if let Some(dir) = &self.state_dir {
            opts.state_dir = Some(dir.clone());
        }
        let mut plan = FaultPlan::default();
        for f in &self.faults {
            plan.apply_flag(f)?;
        }
        opts.faults = plan;
        opts.argocd_listen = self.argocd_listen;
        opts.argocd_password = self.argocd_password.clone();
        if self.unhealthy_images.iter().any(|t| t.trim().is_empty()) {
            return Err(FlagError::EmptyUnhealthyImage);
        }
        opts.unhealthy_images = self.unhealthy_images.clone();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        flags: SimFlags,
    }

    #[test]
    fn unhealthy_image_flags_reach_the_options() {
        let cmd = Cmd::parse_from([
            "sim",
            "--unhealthy-image",
            "v1.2.0",
            "--unhealthy-image",
            "ghcr.io/x/app:v2",
        ]);
        let mut opts = SimOptions::default();
        cmd.flags.apply(&mut opts).unwrap();
        assert_eq!(opts.unhealthy_images, ["v1.2.0", "ghcr.io/x/app:v2"]);
        let cmd = Cmd::parse_from(["sim", "--unhealthy-image", " "]);
        assert_eq!(
            cmd.flags.apply(&mut SimOptions::default()),
            Err(FlagError::EmptyUnhealthyImage)
        );
        // A bad fault is refused as the command line is parsed.
        let err = Cmd::try_parse_from(["sim", "--fault", "deny=t:500"])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("fault deny: \"500\" is not 401 or 403"),
            "{err}"
        );
    }

    #[test]
    fn speeds_outside_the_range_are_refused_with_it() {
        assert_eq!(parse_speed("2.5"), Ok(2.5));
        assert_eq!(parse_speed("0.01"), Ok(0.01));
        assert_eq!(parse_speed("1000"), Ok(1000.0));
        for bad in ["inf", "NaN", "0", "-1", "1e18", "1000.5", "fast", ""] {
            assert_eq!(
                parse_speed(bad),
                Err("--speed must be a finite number between 0.01 and 1000".into()),
                "{bad}"
            );
        }
        assert!(Cmd::try_parse_from(["sim", "--fault", "errors=2"]).is_err());
        assert!(Cmd::try_parse_from(["sim", "--pods", "0"]).is_err());
        assert!(Cmd::try_parse_from(["sim", "--fault", "errors=0.5", "--pods", "5"]).is_ok());
    }
}
