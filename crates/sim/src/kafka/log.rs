//! One partition's log without its messages: arrivals follow a rate that changes every
//! hour (a few messages a minute, different per partition and hour), so each hour of the
//! log is one run of evenly spaced timestamps. A run is four numbers, which is enough to
//! answer ListOffsets exactly: the earliest offset whose timestamp is at or after a time,
//! the log-start offset (retention drops whole hours, as Kafka drops whole segments) and
//! the log-end offset. Memory is one run per retained hour, whatever the message count.

use std::collections::VecDeque;

const HOUR_MS: i64 = 3_600_000;
/// Arrival spacing bounds: between 2 and 5 messages a minute.
const MIN_INTERVAL_MS: i64 = 12_000;
const INTERVAL_SPREAD_MS: u64 = 18_000;

/// Evenly spaced messages: offset `first + i` has timestamp `first_ts + i * interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    first: u64,
    first_ts: i64,
    interval: i64,
    count: u64,
}

impl Run {
    fn last_ts(&self) -> i64 {
        self.first_ts + self.interval * (self.count.saturating_sub(1)) as i64
    }

    fn end(&self) -> u64 {
        self.first + self.count
    }
}

/// A partition's offsets and timestamps.
#[derive(Debug, Clone)]
pub struct PartitionLog {
    seed: u64,
    /// No message is older than this (the partition's creation).
    created_ms: i64,
    runs: VecDeque<Run>,
    log_start: u64,
    log_end: u64,
    /// Messages up to and including this time exist.
    generated_to: i64,
    /// Arrivals stop (a topic nobody produces to, or a test's frozen partition).
    silent: bool,
}

/// FNV-1a, for stable per-partition arrival patterns.
pub fn stable_hash(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in *p {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl PartitionLog {
    /// An empty partition of `topic` created at `created_ms`.
    pub fn new(topic: &str, partition: u32, created_ms: i64) -> Self {
        PartitionLog {
            seed: stable_hash(&[topic.as_bytes(), &partition.to_be_bytes()]),
            created_ms,
            runs: VecDeque::new(),
            log_start: 0,
            log_end: 0,
            generated_to: created_ms - 1,
            silent: false,
        }
    }

    /// A partition that receives no messages.
    pub fn silent(mut self) -> Self {
        self.silent = true;
        self
    }

    /// (spacing, first arrival after the hour starts) in hour `hour`.
    fn pattern(&self, hour: i64) -> (i64, i64) {
        let h = stable_hash(&[&self.seed.to_be_bytes(), &hour.to_be_bytes()]);
        let interval = MIN_INTERVAL_MS + (h % INTERVAL_SPREAD_MS) as i64;
        let phase = ((h >> 32) % interval as u64) as i64;
        (interval, phase)
    }

    /// Adds every message that arrived up to `now_ms`.
    pub fn advance(&mut self, now_ms: i64) {
        if self.silent || now_ms <= self.generated_to {
            self.generated_to = self.generated_to.max(now_ms);
            return;
        }
        let from = self.generated_to + 1;
        let mut hour = from.div_euclid(HOUR_MS);
        while hour * HOUR_MS <= now_ms {
            let (interval, phase) = self.pattern(hour);
            let slot0 = hour * HOUR_MS + phase;
            let last_slot = (hour + 1) * HOUR_MS - 1;
            let lo = from.max(slot0);
            let hi = now_ms.min(last_slot);
            if lo <= hi {
                // Slots k with lo ≤ slot0 + k·interval ≤ hi.
                let k0 = (lo - slot0 + interval - 1).div_euclid(interval);
                let k1 = (hi - slot0).div_euclid(interval);
                if k1 >= k0 {
                    self.append(slot0 + k0 * interval, interval, (k1 - k0 + 1) as u64);
                }
            }
            hour += 1;
        }
        self.generated_to = now_ms;
    }

    fn append(&mut self, first_ts: i64, interval: i64, count: u64) {
        let end = self.log_end;
        match self.runs.back_mut() {
            Some(r) if r.interval == interval && r.last_ts() + interval == first_ts => {
                r.count += count;
            }
            _ => self.runs.push_back(Run {
                first: end,
                first_ts,
                interval,
                count,
            }),
        }
        self.log_end += count;
    }

    /// Retention: drops the runs (hours) whose newest message is older than `cutoff_ms`,
    /// never the newest one, as Kafka never deletes the active segment.
    pub fn retain_after(&mut self, cutoff_ms: i64) {
        while self.runs.len() > 1 && self.runs.front().is_some_and(|r| r.last_ts() < cutoff_ms) {
            self.runs.pop_front();
        }
        self.log_start = self.runs.front().map_or(self.log_end, |r| r.first);
    }

    pub fn log_start(&self) -> u64 {
        self.log_start
    }

    pub fn log_end(&self) -> u64 {
        self.log_end
    }

    pub fn created_ms(&self) -> i64 {
        self.created_ms
    }

    /// ListOffsets by timestamp: the earliest retained offset whose timestamp is at or
    /// after `ts_ms`, or None (Kafka's -1) when every message is older or there is none.
    pub fn offset_for_time(&self, ts_ms: i64) -> Option<u64> {
        let i = self.runs.partition_point(|r| r.last_ts() < ts_ms);
        let r = self.runs.get(i)?;
        if ts_ms <= r.first_ts {
            return Some(r.first);
        }
        let steps = (ts_ms - r.first_ts + r.interval - 1).div_euclid(r.interval);
        Some(r.first + steps as u64)
    }

    /// The timestamp of a retained offset.
    pub fn timestamp_of(&self, offset: u64) -> Option<i64> {
        let i = self.runs.partition_point(|r| r.end() <= offset);
        let r = self.runs.get(i)?;
        (offset >= r.first).then(|| r.first_ts + (offset - r.first) as i64 * r.interval)
    }

    /// How many runs are kept (bounded by the retained hours).
    pub fn runs(&self) -> usize {
        self.runs.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_000_000;

    fn log() -> PartitionLog {
        let mut l = PartitionLog::new("customers.entity_changed", 0, T0);
        l.advance(T0 + 24 * HOUR_MS);
        l
    }

    /// Every message's timestamp, by walking offsets (the reference for the lookups).
    fn all(l: &PartitionLog) -> Vec<i64> {
        (l.log_start()..l.log_end())
            .map(|o| l.timestamp_of(o).unwrap())
            .collect()
    }

    #[test]
    fn a_day_of_a_few_messages_a_minute_in_one_run_per_hour() {
        let l = log();
        let n = l.log_end();
        assert!((2 * 60 * 24..=5 * 60 * 24).contains(&n), "{n}");
        assert!(l.runs() <= 25, "{}", l.runs());
        let ts = all(&l);
        assert!(ts.windows(2).all(|w| w[0] < w[1]));
        assert!(ts[0] >= T0 && *ts.last().unwrap() <= T0 + 24 * HOUR_MS);
    }

    #[test]
    fn offset_for_time_is_the_earliest_at_or_after() {
        let l = log();
        let ts = all(&l);
        // Exactly at a message, just after one, just before one.
        for (i, t) in ts.iter().enumerate().step_by(97) {
            let i = i as u64;
            assert_eq!(l.offset_for_time(*t), Some(i));
            assert_eq!(l.offset_for_time(*t - 1), Some(i));
            let next = (i + 1 < l.log_end()).then_some(i + 1);
            assert_eq!(l.offset_for_time(*t + 1), next);
        }
        // Before the first message: the first offset; after the last: none.
        assert_eq!(l.offset_for_time(T0 - HOUR_MS), Some(0));
        assert_eq!(l.offset_for_time(ts[ts.len() - 1] + 1), None);
        // Brute force over a window of times around an hour boundary.
        for t in (T0 + 5 * HOUR_MS - 60_000..T0 + 5 * HOUR_MS + 60_000).step_by(777) {
            let want = ts.iter().position(|x| *x >= t).map(|p| p as u64);
            assert_eq!(l.offset_for_time(t), want, "t={t}");
        }
    }

    #[test]
    fn a_partition_with_no_messages_has_no_offset_for_any_time() {
        let mut l = PartitionLog::new("t", 2, T0).silent();
        l.advance(T0 + HOUR_MS);
        assert_eq!((l.log_start(), l.log_end()), (0, 0));
        assert_eq!(l.offset_for_time(0), None);
        assert_eq!(l.offset_for_time(T0), None);
        assert_eq!(l.timestamp_of(0), None);
    }

    #[test]
    fn advancing_in_steps_gives_the_same_log_as_at_once() {
        let whole = log();
        let mut steps = PartitionLog::new("customers.entity_changed", 0, T0);
        let mut t = T0;
        while t < T0 + 24 * HOUR_MS {
            t = (t + 7_777).min(T0 + 24 * HOUR_MS);
            steps.advance(t);
        }
        assert_eq!(steps.log_end(), whole.log_end());
        assert_eq!(all(&steps), all(&whole));
    }

    #[test]
    fn retention_drops_whole_hours_and_moves_the_log_start() {
        let mut l = log();
        let end = l.log_end();
        l.retain_after(T0 + 12 * HOUR_MS);
        assert!(l.log_start() > 0 && l.log_start() < end);
        let first = l.timestamp_of(l.log_start()).unwrap();
        assert!(
            (T0 + 11 * HOUR_MS..T0 + 13 * HOUR_MS).contains(&first),
            "{first}"
        );
        assert_eq!(l.timestamp_of(l.log_start() - 1), None);
        // Before the retained log: the log-start offset, as ListOffsets answers.
        assert_eq!(l.offset_for_time(T0), Some(l.log_start()));
        l.retain_after(T0 + 48 * HOUR_MS);
        assert_eq!(l.runs(), 1, "the active segment stays");
    }
}
