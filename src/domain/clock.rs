//! Where "now" comes from: the wall clock, or the simulator's faster clock in the demo.
//! Watchers stamp what they read with it and the app's one-second tick reads it.

use std::sync::Arc;
use std::time::Instant;

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
    Arc::new(move || {
        let elapsed = wall_start.elapsed().mul_f64(speed.max(0.0));
        start
            .checked_add(SignedDuration::try_from(elapsed).unwrap_or_default())
            .unwrap_or(start)
    })
}
