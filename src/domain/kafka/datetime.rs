//! The datetime of `--reset-offsets --to-datetime`, checked as the tool reads it:
//! `YYYY-MM-DDTHH:mm:SS.sss`, then `Z`, `±hh:mm` or `±hh`; no zone is UTC (reference 07
//! §1). The tool requires the milliseconds; a person at 3 a.m. may leave them (or the
//! seconds) out, so those are taken as zero, and what is sent is always the tool's whole
//! format with its zone: what the user confirms and what the tool reads cannot differ.
//! A time in the future is refused (every partition would fall back to its end: a reset
//! to latest in disguise).

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::Offset;

/// The format, as the prompt and the refusals say it.
pub const FORMAT: &str =
    "YYYY-MM-DDTHH:mm:SS.sss (.sss or :SS may be left out) with Z or ±hh:mm (UTC when no zone)";

/// A datetime the tool will read as the user meant it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetTime {
    /// What `--to-datetime` gets: always with its zone.
    pub tool: String,
    pub at: Timestamp,
    /// Whether the user typed no zone and UTC was taken.
    pub assumed_utc: bool,
}

impl ResetTime {
    /// The time for the dialog, its zone explicit: `… (UTC)` or `… (= … UTC)`.
    pub fn describe(&self) -> String {
        let utc = self.at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        if self.tool.ends_with('Z') {
            let assumed = if self.assumed_utc {
                ", no zone typed"
            } else {
                ""
            };
            format!("{} (UTC{assumed})", self.tool)
        } else {
            format!("{} (= {utc} UTC)", self.tool)
        }
    }
}

/// Checks `input` as the tool will read it and against `now`; the refusal says what is
/// wrong and what is expected, before anything is sent.
pub fn parse(input: &str, now: Timestamp) -> Result<ResetTime, String> {
    let time = parse_at(input)?;
    if time.at > now {
        return Err(format!(
            "{} is in the future (now is {} UTC): nothing to replay from there; a reset to \
             it would move every partition to its end",
            input.trim(),
            now.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        ));
    }
    Ok(time)
}

/// Reads `input` as the tool does, without comparing it with the clock.
pub fn parse_at(input: &str) -> Result<ResetTime, String> {
    let input = input.trim();
    let bad =
        |why: &str| format!("`{input}` is not a datetime the tool reads: {why}; expected {FORMAT}");
    let Some(t) = input.find('T') else {
        return Err(bad("no `T` between the date and the time"));
    };
    let (date, time) = (&input[..t], &input[t + 1..]);
    // The zone is what follows the milliseconds: `Z`, or a sign.
    let zone_at = time.find(['Z', 'z', '+', '-']).unwrap_or(time.len());
    let (clock, zone) = time.split_at(zone_at);
    let fields = |s: &str, sep: char, widths: &[usize]| -> Option<Vec<i32>> {
        let parts: Vec<&str> = s.split(sep).collect();
        if parts.len() != widths.len() {
            return None;
        }
        parts
            .iter()
            .zip(widths)
            .map(|(p, w)| {
                (p.len() == *w && p.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| p.parse().ok())
                    .flatten()
            })
            .collect()
    };
    let Some(ymd) = fields(date, '-', &[4, 2, 2]) else {
        return Err(bad("the date must be YYYY-MM-DD"));
    };
    let (hms, millis) = clock.split_once('.').unwrap_or((clock, "000"));
    let hms = match hms.matches(':').count() {
        1 => fields(&format!("{hms}:00"), ':', &[2, 2, 2]),
        _ => fields(hms, ':', &[2, 2, 2]),
    };
    let Some(hms) = hms else {
        return Err(bad("the time must be HH:mm:SS.sss"));
    };
    let Some(millis) = fields(millis, '.', &[3]) else {
        return Err(bad("the milliseconds must be three digits"));
    };
    let small = |v: i32| i8::try_from(v).unwrap_or(i8::MAX);
    let civil = DateTime::new(
        i16::try_from(ymd[0]).unwrap_or(i16::MAX),
        small(ymd[1]),
        small(ymd[2]),
        small(hms[0]),
        small(hms[1]),
        small(hms[2]),
        millis[0] * 1_000_000,
    )
    .map_err(|e| bad(&format!("no such date or time ({e})")))?;
    let (offset, shown, assumed_utc) = match zone {
        "" => (Offset::UTC, "Z".to_owned(), true),
        "Z" => (Offset::UTC, "Z".to_owned(), false),
        "z" => return Err(bad("the zone is an upper-case Z")),
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let (h, m) = match z[1..].split_once(':') {
                Some((h, m)) => (h, m),
                None => (&z[1..], "00"),
            };
            let hm = fields(&format!("{h}:{m}"), ':', &[2, 2])
                .filter(|hm| hm[0] <= 18 && hm[1] < 60)
                .ok_or_else(|| bad("the zone must be Z, ±hh:mm or ±hh"))?;
            let seconds = sign * (hm[0] * 3600 + hm[1] * 60);
            let offset = Offset::from_seconds(seconds)
                .map_err(|e| bad(&format!("the zone is out of range ({e})")))?;
            let text = format!("{}{h}:{m}", if sign < 0 { '-' } else { '+' });
            (offset, text, false)
        }
    };
    let at = offset
        .to_timestamp(civil)
        .map_err(|e| bad(&format!("out of range ({e})")))?;
    Ok(ResetTime {
        tool: format!("{}{shown}", civil.strftime("%Y-%m-%dT%H:%M:%S%.3f")),
        at,
        assumed_utc,
    })
}

/// What the prompt starts with: an hour before `now`, in UTC, as the tool reads it.
pub fn default_input(now: Timestamp) -> String {
    let hour_ago = now
        .checked_sub(jiff::SignedDuration::from_hours(1))
        .unwrap_or(now);
    hour_ago.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}
