//! The link to an environment's API server as the header tells it, computed from what
//! the watchers and the connection's probe report (`clients::link`) and from the clock,
//! never from a single stream's last event:
//! - live: the last request answered (the probe's, or a watcher's list or watch);
//! - degraded: requests fail and are retried, with the last error; open watches may
//!   still deliver, but a change made now may not arrive;
//! - down: nothing came through for `DOWN_AFTER_SECS`, not even on an open watch.
//!
//! Any answer makes it live again at once; data alone does not, as it may have been on
//! the wire since before the failure. A watch that expired (410) re-lists, which is
//! routine: the watchers do not report it, so it never shows here.

use jiff::Timestamp;

use crate::domain::feed::{EnvUpdate, LinkProbe, Stream};

/// Failing this long with nothing coming through is down, not degraded.
pub const DOWN_AFTER_SECS: i64 = 30;

/// The connection of an environment as the header shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Nothing has answered yet.
    Connecting,
    Live,
    /// Requests fail since `since` and are being retried; `message` is the last error.
    Degraded {
        since: Timestamp,
        message: String,
    },
    /// Nothing came through since `since`: the data shown is as of then.
    Down {
        since: Timestamp,
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Failing {
    since: Timestamp,
    message: String,
}

impl Failing {
    /// Failing at `now`: the first failure's time is kept, the last message shown.
    fn record(slot: &mut Option<Failing>, now: Timestamp, message: &str) {
        match slot {
            Some(f) => message.clone_into(&mut f.message),
            None => {
                *slot = Some(Failing {
                    since: now,
                    message: message.to_owned(),
                })
            }
        }
    }
}

/// What is known of one environment's link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Link {
    /// Something has answered, or delivered, since start.
    answered: bool,
    /// Requests failing (no answer, 5xx, 429) since the last answer.
    failing: Option<Failing>,
    /// Streams the server refuses (401, 403, …) until they deliver: the server is up, so
    /// this is never down, and an answer elsewhere does not clear it.
    refused: [Option<Failing>; Stream::ALL.len()],
    /// The last watch event: open streams deliver while new requests fail.
    last_event: Option<Timestamp>,
    /// Failing with nothing through for `DOWN_AFTER_SECS` (decided on each event and tick).
    down: bool,
}

impl Link {
    pub fn connection(&self) -> Connection {
        if let Some(Failing { since, message }) = self.failing.clone() {
            return if self.down {
                Connection::Down { since, message }
            } else {
                Connection::Degraded { since, message }
            };
        }
        if let Some(f) = self.refused.iter().flatten().min_by_key(|f| f.since) {
            return Connection::Degraded {
                since: f.since,
                message: f.message.clone(),
            };
        }
        if self.answered {
            Connection::Live
        } else {
            Connection::Connecting
        }
    }

    /// A watch update arrived at `now`; whether the connection changed.
    pub fn on_watch(&mut self, now: Timestamp, update: &EnvUpdate) -> bool {
        let before = self.connection();
        let slot = update.stream().index();
        match update {
            EnvUpdate::WatchError {
                message, refused, ..
            } => {
                let at = match refused {
                    true => &mut self.refused[slot],
                    false => &mut self.failing,
                };
                Failing::record(at, now, message);
            }
            // Data: this stream is served, and the link is no longer connecting; an
            // open stream delivering says nothing of new requests, so a failure stays
            // until something answers.
            other if other.delivers() => {
                self.refused[slot] = None;
                self.last_event = Some(now);
                self.answered = true;
            }
            _ => {}
        }
        self.tick(now);
        before != self.connection()
    }

    /// The connection's probe answered or failed at `now`; whether the connection changed.
    pub fn on_probe(&mut self, now: Timestamp, probe: &LinkProbe) -> bool {
        let before = self.connection();
        match probe {
            LinkProbe::Answered => self.answer(),
            LinkProbe::Failed(message) => Failing::record(&mut self.failing, now, message),
        }
        self.tick(now);
        before != self.connection()
    }

    /// The clock moved to `now`; whether the link went down.
    pub fn tick(&mut self, now: Timestamp) -> bool {
        let was = self.down;
        self.down = self.failing.as_ref().is_some_and(|f| {
            let through = self.last_event.map_or(f.since, |e| e.max(f.since));
            now.duration_since(through).as_secs() >= DOWN_AFTER_SECS
        });
        was != self.down
    }

    fn answer(&mut self) {
        self.answered = true;
        self.failing = None;
        self.down = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::WatchUpdate;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn error(stream: Stream, message: &str, refused: bool) -> EnvUpdate {
        EnvUpdate::WatchError {
            stream,
            message: message.into(),
            refused,
        }
    }

    #[test]
    fn a_paged_lists_init_is_nothing_but_its_data_is() {
        let mut l = Link::default();
        l.on_watch(at(0), &EnvUpdate::Pods(WatchUpdate::Init));
        assert_eq!(l.connection(), Connection::Connecting);
        l.on_watch(at(0), &EnvUpdate::Pods(WatchUpdate::InitDone));
        assert_eq!(l.connection(), Connection::Live);
    }

    #[test]
    fn failures_degrade_then_go_down_unless_a_watch_still_delivers() {
        let mut l = Link::default();
        l.on_probe(at(0), &LinkProbe::Answered);
        l.on_probe(at(1), &LinkProbe::Failed("503".into()));
        l.on_probe(at(2), &LinkProbe::Failed("refused".into()));
        let degraded = Connection::Degraded {
            since: at(1),
            message: "refused".into(),
        };
        assert_eq!(l.connection(), degraded);
        // An open watch delivering keeps it degraded, not live and not down.
        l.on_watch(at(20), &EnvUpdate::Pods(WatchUpdate::Apply(pod())));
        assert!(!l.tick(at(45)));
        assert_eq!(l.connection(), degraded);
        assert!(l.tick(at(50)));
        assert!(matches!(l.connection(), Connection::Down { since, .. } if since == at(1)));
        // Any answer is live again at once.
        assert!(l.on_probe(at(51), &LinkProbe::Answered));
        assert_eq!(l.connection(), Connection::Live);
    }

    #[test]
    fn a_refused_stream_stays_degraded_until_it_delivers() {
        let mut l = Link::default();
        l.on_probe(at(0), &LinkProbe::Answered);
        l.on_watch(at(1), &error(Stream::Events, "forbidden", true));
        l.on_probe(at(2), &LinkProbe::Answered);
        l.tick(at(100));
        assert!(
            matches!(l.connection(), Connection::Degraded { ref message, .. } if message == "forbidden")
        );
        l.on_watch(at(101), &EnvUpdate::Events(WatchUpdate::InitDone));
        assert_eq!(l.connection(), Connection::Live);
    }

    fn pod() -> crate::domain::PodRow {
        serde_json::from_value::<crate::domain::WatchedPod>(serde_json::json!({
            "metadata": {"name": "p", "namespace": "n", "uid": "u"}
        }))
        .map(|w| w.row)
        .unwrap_or_else(|e| panic!("pod: {e}"))
    }
}
