//! Change windows: the weekly hours in which a `manual+window` environment may be
//! deployed, evaluated in the window's own time zone so "Tue 10:00 Europe/Berlin" means
//! what the release owner meant, across DST and day boundaries.

use std::fmt;
use std::path::Path;

use jiff::Timestamp;
use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::error::ConfigError;
use super::yaml::OneOrMany;

/// A weekly window. When `end` is not after `start` the window runs past midnight into
/// the next day (`22:00`–`02:00`), and `start == end` means 24 hours from `start`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeWindow {
    /// The days the window opens on.
    pub days: Vec<Weekday>,
    pub start: Time,
    pub end: Time,
    /// IANA time zone name, `UTC` by default; validated at load.
    pub timezone: String,
}

impl ChangeWindow {
    /// Whether `now` falls inside the window. A time zone that cannot be found (only
    /// possible for a window built by hand) counts as closed.
    pub fn contains(&self, now: Timestamp) -> bool {
        let Some(tz) = time_zone(&self.timezone) else {
            return false;
        };
        let local = now.to_zoned(tz);
        let (day, time) = (local.weekday(), local.time());
        if self.start < self.end {
            self.days.contains(&day) && self.start <= time && time < self.end
        } else {
            (self.days.contains(&day) && time >= self.start)
                || (self.days.contains(&day.previous()) && time < self.end)
        }
    }
}

impl ChangeWindow {
    /// When the window next opens after `now`, within the coming week.
    pub fn next_open(&self, now: Timestamp) -> Option<Timestamp> {
        let tz = time_zone(&self.timezone)?;
        let today = now.to_zoned(tz.clone()).date();
        (0..=7)
            .filter_map(|offset| today.checked_add(jiff::Span::new().days(offset)).ok())
            .filter(|day| self.days.contains(&day.weekday()))
            .filter_map(|day| day.to_datetime(self.start).to_zoned(tz.clone()).ok())
            .map(|zoned| zoned.timestamp())
            .find(|start| *start > now)
    }
}

impl fmt::Display for ChangeWindow {
    /// `Tue Wed Thu 10:00-16:00 UTC`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for day in &self.days {
            write!(f, "{} ", day_label(*day))?;
        }
        write!(
            f,
            "{}-{} {}",
            self.start.strftime("%H:%M"),
            self.end.strftime("%H:%M"),
            self.timezone
        )
    }
}

fn day_label(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "Mon",
        Weekday::Tuesday => "Tue",
        Weekday::Wednesday => "Wed",
        Weekday::Thursday => "Thu",
        Weekday::Friday => "Fri",
        Weekday::Saturday => "Sat",
        Weekday::Sunday => "Sun",
    }
}

impl ChangeWindow {
    /// A window from its parts as a config file writes them (`mon-fri`, `10:00`,
    /// `16:00`, `Europe/Berlin`), or `None` when one does not parse; the loader's
    /// checks, without its messages.
    pub fn from_parts(days: &[&str], start: &str, end: &str, timezone: &str) -> Option<Self> {
        let mut parsed = Vec::new();
        for spec in days {
            parsed.extend(parse_days(spec)?);
        }
        parsed.sort_by_key(|d| d.to_monday_zero_offset());
        parsed.dedup();
        time_zone(timezone)?;
        Some(ChangeWindow {
            days: parsed,
            start: parse_time(start, false)?,
            end: parse_time(end, true)?,
            timezone: timezone.to_owned(),
        })
    }
}

/// `UTC` always resolves, even on a machine without a time zone database.
fn time_zone(name: &str) -> Option<TimeZone> {
    if name.eq_ignore_ascii_case("utc") {
        return Some(TimeZone::UTC);
    }
    TimeZone::get(name).ok()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWindow {
    days: OneOrMany,
    start: Spanned<String>,
    end: Spanned<String>,
    #[serde(default)]
    timezone: Option<Spanned<String>>,
}

impl RawWindow {
    pub(crate) fn validate(self, file: &Path, path: &str) -> Result<ChangeWindow, ConfigError> {
        let mut days = Vec::new();
        for (i, spec) in self.days.items.iter().enumerate() {
            let here = format!("{path}.days[{i}]");
            let parsed = parse_days(&spec.value).ok_or_else(|| {
                ConfigError::at(
                    file,
                    spec.referenced,
                    &here,
                    format!(
                        "unknown day `{}`, expected mon, tue, wed, thu, fri, sat, sun, \
                         a full day name, or a range like mon-fri",
                        spec.value
                    ),
                )
            })?;
            days.extend(parsed);
        }
        if days.is_empty() {
            return Err(ConfigError::at(
                file,
                self.days.at,
                &format!("{path}.days"),
                "a change window needs at least one day",
            ));
        }
        days.sort_by_key(|d| d.to_monday_zero_offset());
        days.dedup();

        let start = parse_time(&self.start.value, false).ok_or_else(|| {
            ConfigError::at(
                file,
                self.start.referenced,
                &format!("{path}.start"),
                format!("invalid time `{}`, expected HH:MM", self.start.value),
            )
        })?;
        let end = parse_time(&self.end.value, true).ok_or_else(|| {
            ConfigError::at(
                file,
                self.end.referenced,
                &format!("{path}.end"),
                format!("invalid time `{}`, expected HH:MM", self.end.value),
            )
        })?;

        let timezone = match self.timezone {
            None => "UTC".to_owned(),
            Some(tz) => {
                if time_zone(&tz.value).is_none() {
                    return Err(ConfigError::at(
                        file,
                        tz.referenced,
                        &format!("{path}.timezone"),
                        format!(
                            "unknown time zone `{}`, expected an IANA name like UTC or \
                             Europe/Berlin",
                            tz.value
                        ),
                    ));
                }
                tz.value
            }
        };
        Ok(ChangeWindow {
            days,
            start,
            end,
            timezone,
        })
    }
}

fn parse_day(name: &str) -> Option<Weekday> {
    let lower = name.trim().to_ascii_lowercase();
    let day = match lower.as_str() {
        "mon" | "monday" => Weekday::Monday,
        "tue" | "tues" | "tuesday" => Weekday::Tuesday,
        "wed" | "wednesday" => Weekday::Wednesday,
        "thu" | "thur" | "thurs" | "thursday" => Weekday::Thursday,
        "fri" | "friday" => Weekday::Friday,
        "sat" | "saturday" => Weekday::Saturday,
        "sun" | "sunday" => Weekday::Sunday,
        _ => return None,
    };
    Some(day)
}

/// A day name or an inclusive range (`mon-fri`, `fri-mon` wraps over the weekend).
fn parse_days(spec: &str) -> Option<Vec<Weekday>> {
    match spec.split_once('-') {
        None => parse_day(spec).map(|d| vec![d]),
        Some((from, to)) => {
            let (from, to) = (parse_day(from)?, parse_day(to)?);
            let mut days = vec![from];
            let mut day = from;
            while day != to {
                day = day.next();
                days.push(day);
            }
            Some(days)
        }
    }
}

/// `HH:MM`, `H:MM` or `HH:MM:SS`; an end time may be `24:00` (midnight at the end of
/// the day, which the past-midnight rule then handles).
fn parse_time(text: &str, is_end: bool) -> Option<Time> {
    let text = text.trim();
    if is_end && (text == "24:00" || text == "24:00:00") {
        return Some(Time::midnight());
    }
    let (hour, rest) = text.split_once(':')?;
    let padded = if hour.len() == 1 {
        format!("0{hour}:{rest}")
    } else {
        text.to_owned()
    };
    padded.parse::<Time>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(days: &[Weekday], start: &str, end: &str, tz: &str) -> ChangeWindow {
        ChangeWindow {
            days: days.to_vec(),
            start: parse_time(start, false).expect("start"),
            end: parse_time(end, true).expect("end"),
            timezone: tz.to_owned(),
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    #[test]
    fn from_parts_reads_what_a_config_file_writes() {
        assert_eq!(
            ChangeWindow::from_parts(&["wed", "mon-tue"], "9:00", "24:00", "Europe/Berlin"),
            Some(window(
                &[Weekday::Monday, Weekday::Tuesday, Weekday::Wednesday],
                "09:00",
                "24:00",
                "Europe/Berlin"
            ))
        );
        assert_eq!(
            ChangeWindow::from_parts(&["mon"], "25:00", "26:00", "UTC"),
            None
        );
        assert_eq!(
            ChangeWindow::from_parts(&["mon"], "9:00", "10:00", "Mars/Olympus"),
            None
        );
    }

    #[test]
    fn ranges_wrap_and_names_are_case_insensitive() {
        assert_eq!(
            parse_days("Fri-Mon"),
            Some(vec![
                Weekday::Friday,
                Weekday::Saturday,
                Weekday::Sunday,
                Weekday::Monday
            ])
        );
        assert_eq!(parse_days("WEDNESDAY"), Some(vec![Weekday::Wednesday]));
        assert_eq!(parse_days("mon-funday"), None);
    }

    #[test]
    fn times_accept_short_hours_and_end_of_day() {
        assert_eq!(parse_time("9:30", false), Some(Time::constant(9, 30, 0, 0)));
        assert_eq!(parse_time("24:00", true), Some(Time::midnight()));
        assert_eq!(parse_time("24:00", false), None);
        assert_eq!(parse_time("25:00", false), None);
        assert_eq!(parse_time("noon", false), None);
    }

    #[test]
    fn same_day_window_is_half_open() {
        // 2026-03-03 is a Tuesday.
        let w = window(&[Weekday::Tuesday], "10:00", "16:00", "UTC");
        assert!(!w.contains(at("2026-03-03T09:59:59Z")));
        assert!(w.contains(at("2026-03-03T10:00:00Z")));
        assert!(w.contains(at("2026-03-03T15:59:59Z")));
        assert!(!w.contains(at("2026-03-03T16:00:00Z")));
        assert!(!w.contains(at("2026-03-04T12:00:00Z")));
    }

    #[test]
    fn overnight_window_belongs_to_the_day_it_opens() {
        let w = window(&[Weekday::Friday], "22:00", "02:00", "UTC");
        // 2026-03-06 is a Friday.
        assert!(w.contains(at("2026-03-06T23:00:00Z")));
        assert!(w.contains(at("2026-03-07T01:59:00Z")));
        assert!(!w.contains(at("2026-03-07T02:00:00Z")));
        assert!(!w.contains(at("2026-03-07T23:00:00Z")));
        assert!(!w.contains(at("2026-03-06T01:00:00Z")));
    }

    #[test]
    fn unknown_zone_counts_as_closed() {
        let w = window(&[Weekday::Tuesday], "00:00", "00:00", "Mars/Olympus");
        assert!(!w.contains(at("2026-03-03T12:00:00Z")));
    }

    #[test]
    fn display_is_compact() {
        let w = window(
            &[Weekday::Tuesday, Weekday::Thursday],
            "9:00",
            "17:30",
            "UTC",
        );
        assert_eq!(w.to_string(), "Tue Thu 09:00-17:30 UTC");
    }
}
