//! Where "now" comes from: the wall clock, or the simulator's faster clock in the demo.
//! Watchers stamp what they read with it and the app's one-second tick reads it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};

pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The wall clock.
pub fn wall() -> Clock {
    Arc::new(Timestamp::now)
}

/// A clock that starts at `start` and runs `speed` times faster than the wall clock
/// (the simulator's), so ages and countdowns match what the simulated cluster says.
pub fn scaled(start: Timestamp, speed: f64) -> Clock {
    let wall_start = Instant::now();
    Arc::new(move || advanced(start, wall_start.elapsed(), speed))
}

/// `start` moved on by `elapsed × speed`. The command line refuses odd speeds, but a
/// clock is no place to panic: a speed that is not a positive number leaves the clock at
/// `start`, and one that runs past the last representable instant stays there.
pub fn advanced(start: Timestamp, elapsed: Duration, speed: f64) -> Timestamp {
    let secs = elapsed.as_secs_f64() * speed;
    if secs.is_nan() || secs <= 0.0 {
        return start;
    }
    SignedDuration::try_from_secs_f64(secs)
        .ok()
        .and_then(|d| start.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_speed_panics_the_clock() {
        let start = Timestamp::from_second(1_700_000_000).unwrap();
        let a_minute = Duration::from_secs(60);
        assert_eq!(
            advanced(start, a_minute, 2.0),
            start.checked_add(SignedDuration::from_secs(120)).unwrap()
        );
        for stopped in [0.0, -1.0, f64::NAN, f64::NEG_INFINITY] {
            assert_eq!(advanced(start, a_minute, stopped), start, "{stopped}");
        }
        // 20 s at ×1e18 is past u64 seconds: this panicked in `Duration::mul_f64`.
        for huge in [1e18, 1e300, f64::INFINITY, f64::MAX] {
            assert_eq!(
                advanced(start, Duration::from_secs(20), huge),
                Timestamp::MAX,
                "{huge}"
            );
        }
        // The running clock itself, at once and later.
        let clock = scaled(start, f64::INFINITY);
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(clock(), Timestamp::MAX);
        assert_eq!(scaled(start, f64::NAN)(), start);
    }
}
