//! Small text formatting shared by the domain views and the panes: ages and durations as kubectl
//! prints them, cut text.

use jiff::Timestamp;

/// An age the way kubectl prints it: 45s, 3m12s, 17m, 5h12m, 3d.
pub fn age(now: Timestamp, then: Option<Timestamp>) -> String {
    let Some(then) = then else {
        return "-".into();
    };
    let secs = now.duration_since(then).as_secs().max(0);
    duration(secs)
}

pub fn duration(secs: i64) -> String {
    let (m, h, d) = (secs / 60, secs / 3600, secs / 86400);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 600 => format!("{m}m{}s", s % 60),
        s if s < 3 * 3600 => format!("{m}m"),
        s if s < 8 * 3600 => format!("{h}h{}m", m % 60),
        s if s < 2 * 86400 => format!("{h}h"),
        _ => format!("{d}d"),
    }
}

/// Cuts `s` to `width` characters, marking the cut.
pub fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectl() {
        assert_eq!(duration(5), "5s");
        assert_eq!(duration(119), "119s");
        assert_eq!(duration(192), "3m12s");
        assert_eq!(duration(17 * 60), "17m");
        assert_eq!(duration(5 * 3600 + 12 * 60), "5h12m");
        assert_eq!(duration(20 * 3600), "20h");
        assert_eq!(duration(3 * 86400 + 5), "3d");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
