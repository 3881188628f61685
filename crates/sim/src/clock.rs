//! The simulated clock: `start + real_elapsed * speed`, plus the time formats the API server uses.
//!
//! Every timestamp the simulator writes (creation, conditions, events, deletion grace) comes
//! from here, and controllers compare against it, so a speed factor makes whole rollouts fast.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};

#[derive(Debug)]
struct Anchor {
    real: Instant,
    sim: Timestamp,
}

/// A clock that runs `speed` times faster than real time from an anchor point.
#[derive(Debug)]
pub struct SimClock {
    speed: f64,
    anchor: Mutex<Anchor>,
}

impl SimClock {
    /// A clock that starts at the real current time.
    pub fn new(speed: f64) -> Self {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        SimClock {
            speed,
            anchor: Mutex::new(Anchor {
                real: Instant::now(),
                sim: Timestamp::now(),
            }),
        }
    }

    /// The speed factor.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// The current simulated time.
    pub fn now(&self) -> Timestamp {
        let a = self.anchor.lock().unwrap_or_else(|e| e.into_inner());
        let elapsed = a.real.elapsed().as_secs_f64() * self.speed;
        let d = SignedDuration::try_from_secs_f64(elapsed).unwrap_or(SignedDuration::ZERO);
        a.sim.checked_add(d).unwrap_or(a.sim)
    }

    /// Jumps the clock to `ts` (used while a scenario builds its past).
    pub fn set(&self, ts: Timestamp) {
        let mut a = self.anchor.lock().unwrap_or_else(|e| e.into_inner());
        a.real = Instant::now();
        a.sim = ts;
    }

    /// Moves the clock forward by `d` simulated time.
    pub fn advance(&self, d: SignedDuration) {
        let mut a = self.anchor.lock().unwrap_or_else(|e| e.into_inner());
        a.sim = a.sim.checked_add(d).unwrap_or(a.sim);
    }

    /// Converts a simulated duration into the real duration it takes at this speed.
    pub fn real_duration(&self, sim: Duration) -> Duration {
        Duration::from_secs_f64(sim.as_secs_f64() / self.speed)
    }
}

/// RFC 3339 with whole seconds, as Kubernetes `metav1.Time` serializes.
pub fn fmt_time(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// RFC 3339 with microseconds, as `metav1.MicroTime` serializes.
pub fn fmt_micro(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S.%6fZ").to_string()
}

/// Parses an RFC 3339 timestamp.
pub fn parse_time(s: &str) -> Option<Timestamp> {
    s.parse().ok()
}

/// The API server's age format (`k8s.io/apimachinery/pkg/util/duration.HumanDuration`).
pub fn human_duration(d: SignedDuration) -> String {
    let seconds = d.as_secs();
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{}h", hours / 24, h)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{}d", hours / 24 / 365, dy)
        };
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_match_apimachinery() {
        let s = SignedDuration::from_secs;
        assert_eq!(human_duration(s(5)), "5s");
        assert_eq!(human_duration(s(119)), "119s");
        assert_eq!(human_duration(s(150)), "2m30s");
        assert_eq!(human_duration(s(600)), "10m");
        assert_eq!(human_duration(s(3 * 3600 + 120)), "3h2m");
        assert_eq!(human_duration(s(10 * 3600)), "10h");
        assert_eq!(human_duration(s(3 * 86400)), "3d");
        assert_eq!(human_duration(s(3 * 86400 + 7200)), "3d2h");
        assert_eq!(human_duration(s(-5)), "<invalid>");
    }

    #[test]
    fn clock_runs_at_speed_and_formats() {
        let c = SimClock::new(1000.0);
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        c.set(t0);
        std::thread::sleep(Duration::from_millis(20));
        let d = c.now().duration_since(t0);
        assert!(d.as_secs() >= 10, "{d:?}");
        assert_eq!(fmt_time(t0), "2026-01-01T00:00:00Z");
        assert_eq!(fmt_micro(t0), "2026-01-01T00:00:00.000000Z");
    }
}
