//! The two time inputs of `--reset-offsets`, parsed as the JVM parses them:
//! `--to-datetime` by Kafka's `Utils.getDateTime` (a `T` required; `Z` appended when the
//! time part has no `+`, `-` or `Z`; then a strict `SimpleDateFormat`
//! `yyyy-MM-dd'T'HH:mm:ss.SSSXXX`, falling back to `…SSSX`), and `--by-duration` by
//! `java.time.Duration.parse` (`PnDTnHnMn.nS`). Errors are the exceptions' messages.

/// `Utils.getDateTime`: epoch milliseconds, or the `ParseException` (class and message).
pub fn get_date_time(value: &str) -> Result<i64, String> {
    // Java's split drops trailing empty strings.
    let mut parts: Vec<&str> = value.split('T').collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    if parts.len() < 2 {
        return Err("java.text.ParseException: Error parsing timestamp. It does not contain a 'T' according to ISO8601 format".into());
    }
    let mut value = value.to_string();
    if !parts[1].contains(['+', '-', 'Z']) {
        value.push('Z');
    }
    parse_pattern(&value, true)
        .or_else(|| parse_pattern(&value, false))
        .ok_or_else(|| format!("java.text.ParseException: Unparseable date: \"{value}\""))
}

/// Reads a run of ASCII digits (SimpleDateFormat takes as many as there are).
fn number(s: &mut &str) -> Option<i64> {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 || n > 12 {
        return None;
    }
    let v = s[..n].parse().ok()?;
    *s = &s[n..];
    Some(v)
}

fn literal(s: &mut &str, c: char) -> Option<()> {
    *s = s.strip_prefix(c)?;
    Some(())
}

fn two_digits(s: &mut &str) -> Option<i64> {
    let d = s
        .get(..2)
        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?;
    *s = &s[2..];
    d.parse().ok()
}

/// The zone: `Z`, or `±hh:mm` (XXX) / `±hh` (X); what follows is ignored, as
/// `DateFormat.parse` ignores trailing text. Minutes east of UTC.
fn zone(s: &mut &str, colon_form: bool) -> Option<i64> {
    if literal(s, 'Z').is_some() {
        return Some(0);
    }
    let sign = match s.chars().next()? {
        '+' => 1,
        '-' => -1,
        _ => return None,
    };
    *s = &s[1..];
    let h = two_digits(s)?;
    let m = if colon_form {
        literal(s, ':')?;
        two_digits(s)?
    } else {
        0
    };
    (h <= 23 && m <= 59).then_some(sign * (h * 60 + m))
}

fn leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// One strict `SimpleDateFormat` attempt.
fn parse_pattern(value: &str, colon_zone: bool) -> Option<i64> {
    let mut s = value;
    let year = number(&mut s)?;
    literal(&mut s, '-')?;
    let month = number(&mut s)?;
    literal(&mut s, '-')?;
    let day = number(&mut s)?;
    literal(&mut s, 'T')?;
    let hour = number(&mut s)?;
    literal(&mut s, ':')?;
    let minute = number(&mut s)?;
    literal(&mut s, ':')?;
    let second = number(&mut s)?;
    literal(&mut s, '.')?;
    let millis = number(&mut s)?;
    let offset_min = zone(&mut s, colon_zone)?;
    let valid = year >= 1
        && (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour <= 23
        && minute <= 59
        && second <= 59
        && millis <= 999;
    if !valid {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let local = days
        .checked_mul(86_400_000)?
        .checked_add(((hour * 60 + minute) * 60 + second) * 1_000 + millis)?;
    local.checked_sub(offset_min * 60_000)
}

/// `java.time.Duration.parse`, in milliseconds (sub-millisecond digits dropped).
pub fn parse_duration(text: &str) -> Result<i64, String> {
    parse_duration_ms(text).ok_or_else(|| "Text cannot be parsed to a Duration".to_string())
}

fn signed(s: &mut &str) -> Option<(i64, bool)> {
    let neg = match s.chars().next()? {
        '-' => true,
        '+' => false,
        _ => return number(s).map(|n| (n, false)),
    };
    *s = &s[1..];
    number(s).map(|n| (if neg { -n } else { n }, neg))
}

fn parse_duration_ms(text: &str) -> Option<i64> {
    let upper = text.to_ascii_uppercase();
    let mut s = upper.as_str();
    let negate = match s.chars().next()? {
        '-' => {
            s = &s[1..];
            true
        }
        '+' => {
            s = &s[1..];
            false
        }
        _ => false,
    };
    literal(&mut s, 'P')?;
    let mut total: i64 = 0;
    let mut any = false;
    // A component is digits then its letter; try each in order.
    let component = |s: &mut &str, unit: char| -> Option<Option<(i64, bool)>> {
        let save = *s;
        match signed(s) {
            Some(v) if literal(s, unit).is_some() => Some(Some(v)),
            _ => {
                *s = save;
                Some(None)
            }
        }
    };
    if let Some((d, _)) = component(&mut s, 'D')? {
        total = total.checked_add(d.checked_mul(86_400_000)?)?;
        any = true;
    }
    if literal(&mut s, 'T').is_some() {
        let mut in_time = false;
        for (unit, ms) in [('H', 3_600_000), ('M', 60_000)] {
            if let Some((v, _)) = component(&mut s, unit)? {
                total = total.checked_add(v.checked_mul(ms)?)?;
                in_time = true;
            }
        }
        let save = s;
        if let Some((secs, neg)) = signed(&mut s) {
            let mut frac_ms = 0;
            if literal(&mut s, '.').is_some() || literal(&mut s, ',').is_some() {
                let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
                if digits.len() > 9 {
                    return None;
                }
                s = &s[digits.len()..];
                let padded = format!("{digits:0<3}");
                frac_ms = padded[..3].parse::<i64>().ok()?;
            }
            if literal(&mut s, 'S').is_some() {
                let frac = if neg { -frac_ms } else { frac_ms };
                total = total.checked_add(secs.checked_mul(1_000)?.checked_add(frac)?)?;
                in_time = true;
            } else {
                s = save;
            }
        }
        if !in_time {
            return None;
        }
        any = true;
    }
    if !any || !s.is_empty() {
        return None;
    }
    Some(if negate { total.checked_neg()? } else { total })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOON: i64 = 1_718_366_400_000; // 2024-06-14T12:00:00Z

    #[test]
    fn datetimes_as_kafka_reads_them() {
        assert_eq!(
            get_date_time("2024-06-14T12:00:00.000"),
            Ok(NOON),
            "UTC without a zone"
        );
        assert_eq!(get_date_time("2024-06-14T12:00:00.000Z"), Ok(NOON));
        assert_eq!(get_date_time("2024-06-14T14:00:00.000+02:00"), Ok(NOON));
        assert_eq!(
            get_date_time("2024-06-14T09:00:00.250-03:00"),
            Ok(NOON + 250)
        );
        assert_eq!(
            get_date_time("2024-06-14T14:00:00.000+02"),
            Ok(NOON),
            "X fallback"
        );
        // X reads two digits and ignores the rest: +0230 is +02.
        assert_eq!(get_date_time("2024-06-14T14:00:00.000+0230"), Ok(NOON));
        assert_eq!(
            get_date_time("2024-6-4T2:0:0.5Z"),
            Ok(NOON - 10 * 86_400_000 - 10 * 3_600_000 + 5)
        );
        assert_eq!(
            get_date_time("2024-06-14T12:00:00.000Zjunk"),
            Ok(NOON),
            "trailing text ignored"
        );
    }

    #[test]
    fn unparseable_datetimes_carry_the_java_message() {
        let no_t = "java.text.ParseException: Error parsing timestamp. It does not contain a 'T' according to ISO8601 format";
        assert_eq!(get_date_time("2024-06-14 12:00:00.000").unwrap_err(), no_t);
        assert_eq!(get_date_time("2024-06-14T").unwrap_err(), no_t);
        assert_eq!(
            get_date_time("2024-06-14T12:00:00").unwrap_err(),
            "java.text.ParseException: Unparseable date: \"2024-06-14T12:00:00Z\"",
            "milliseconds are required"
        );
        for bad in [
            "2024-13-01T00:00:00.000Z",
            "2024-02-30T00:00:00.000Z",
            "2024-06-14T24:00:00.000Z",
            "2024-06-14T12:60:00.000Z",
            "2024-06-14T12:00:60.000Z",
            "2024-06-14T12:00:00.1000Z",
            "2024-06-14T12:00:00.000+25:00",
            "yesterdayT12",
        ] {
            assert!(
                get_date_time(bad).unwrap_err().contains("Unparseable date"),
                "{bad}"
            );
        }
    }

    #[test]
    fn durations_as_java_reads_them() {
        assert_eq!(parse_duration("PT1H"), Ok(3_600_000));
        assert_eq!(parse_duration("P1DT2H3M4.5S"), Ok(93_784_500));
        assert_eq!(parse_duration("pt30m"), Ok(1_800_000));
        assert_eq!(parse_duration("-PT1M"), Ok(-60_000));
        assert_eq!(parse_duration("PT-1.5S"), Ok(-1_500));
        assert_eq!(parse_duration("P2D"), Ok(172_800_000));
        for bad in [
            "",
            "P",
            "PT",
            "1H",
            "PT1H30",
            "P1H",
            "PT1.1234567891S",
            "P1DT",
        ] {
            assert_eq!(
                parse_duration(bad),
                Err("Text cannot be parsed to a Duration".into()),
                "{bad}"
            );
        }
    }
}
