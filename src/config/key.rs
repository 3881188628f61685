//! One key with its modifiers, as written in keys.yaml (`ctrl-c`, `G`, `shift-tab`) and
//! as crossterm reports it. Both sides are normalised the same way so a binding matches
//! however the terminal happens to encode the press (`G` with or without SHIFT,
//! `shift-tab` as BackTab).

use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// A normalised key press.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    code: KeyCode,
    modifiers: KeyModifiers,
}

/// Named keys accepted in keys.yaml, first spelling is the canonical one.
const NAMES: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("return", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("escape", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("space", KeyCode::Char(' ')),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pgup", KeyCode::PageUp),
    ("pageup", KeyCode::PageUp),
    ("page-up", KeyCode::PageUp),
    ("pgdn", KeyCode::PageDown),
    ("pagedown", KeyCode::PageDown),
    ("page-down", KeyCode::PageDown),
    ("insert", KeyCode::Insert),
    ("delete", KeyCode::Delete),
    ("del", KeyCode::Delete),
];

/// What is wrong with a key spec, without the file position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeySpecError {
    #[error("empty key")]
    Empty,
    #[error("`{spec}` needs a key after `{prefix}-`")]
    NoKeyAfter { spec: String, prefix: String },
    #[error(
        "unknown key `{key}` in `{spec}`; expected a single character or one of {}, f1..f12",
        names()
    )]
    Unknown { key: String, spec: String },
}

/// Every accepted name, for the message of an unknown one.
fn names() -> String {
    NAMES
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Key {
    pub fn new(code: KeyCode, modifiers: KeyModifiers) -> Key {
        let mut modifiers =
            modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match code {
            KeyCode::Char(c) => {
                // The character already says whether shift was held; with ctrl, legacy
                // terminals cannot report shift at all, so ctrl-C is ctrl-c.
                let shifted = modifiers.contains(KeyModifiers::SHIFT);
                modifiers.remove(KeyModifiers::SHIFT);
                if modifiers.contains(KeyModifiers::CONTROL) {
                    KeyCode::Char(c.to_ascii_lowercase())
                } else if shifted {
                    KeyCode::Char(c.to_ascii_uppercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            KeyCode::Tab if modifiers.contains(KeyModifiers::SHIFT) => {
                modifiers.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            KeyCode::BackTab => {
                modifiers.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Key { code, modifiers }
    }

    /// The key a terminal event stands for; `None` for key releases, which never
    /// trigger an action.
    pub fn from_event(event: &KeyEvent) -> Option<Key> {
        (event.kind != KeyEventKind::Release).then(|| Key::new(event.code, event.modifiers))
    }

    /// Parses a keys.yaml spec such as `q`, `G`, `?`, `ctrl-c`, `shift-tab`, `pgdn`.
    pub fn parse(spec: &str) -> Result<Key, KeySpecError> {
        if spec.is_empty() {
            return Err(KeySpecError::Empty);
        }
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = spec;
        while rest.chars().count() > 1 {
            let Some((prefix, tail)) = rest.split_once('-') else {
                break;
            };
            let modifier = match prefix.to_ascii_lowercase().as_str() {
                "ctrl" | "control" => KeyModifiers::CONTROL,
                "alt" | "meta" => KeyModifiers::ALT,
                "shift" => KeyModifiers::SHIFT,
                _ => break,
            };
            if tail.is_empty() {
                return Err(KeySpecError::NoKeyAfter {
                    spec: spec.to_owned(),
                    prefix: prefix.to_owned(),
                });
            }
            modifiers |= modifier;
            rest = tail;
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(c),
            _ => named(rest).ok_or_else(|| KeySpecError::Unknown {
                key: rest.to_owned(),
                spec: spec.to_owned(),
            })?,
        };
        Ok(Key::new(code, modifiers))
    }
}

fn named(name: &str) -> Option<KeyCode> {
    let lower = name.to_ascii_lowercase();
    if let Some(n) = lower.strip_prefix('f')
        && let Ok(n) = n.parse::<u8>()
        && (1..=24).contains(&n)
    {
        return Some(KeyCode::F(n));
    }
    NAMES
        .iter()
        .find(|(n, _)| *n == lower)
        .map(|(_, code)| *code)
}

impl fmt::Display for Key {
    /// The canonical spelling, which `Key::parse` reads back to the same key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::F(n) => write!(f, "f{n}"),
            code => match NAMES.iter().find(|(_, c)| *c == code) {
                Some((name, _)) => f.write_str(name),
                None => write!(f, "{code:?}"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(spec: &str) -> Key {
        Key::parse(spec).expect(spec)
    }

    #[test]
    fn specs_round_trip_to_canonical_spelling() {
        for (spec, shown) in [
            ("q", "q"),
            ("G", "G"),
            ("shift-g", "G"),
            ("?", "?"),
            ("-", "-"),
            ("ctrl--", "ctrl--"),
            ("Ctrl-C", "ctrl-c"),
            ("ctrl-shift-x", "ctrl-x"),
            ("shift-tab", "shift-tab"),
            ("backtab", "shift-tab"),
            ("PageDown", "pgdn"),
            ("page-up", "pgup"),
            ("alt-enter", "alt-enter"),
            ("shift-up", "shift-up"),
            ("space", "space"),
            ("F5", "f5"),
        ] {
            assert_eq!(key(spec).to_string(), shown, "{spec}");
            assert_eq!(key(shown), key(spec), "{shown} reads back");
        }
    }

    #[test]
    fn bad_specs_say_why() {
        let err = |spec| Key::parse(spec).unwrap_err().to_string();
        assert_eq!(err("ctrl-"), "`ctrl-` needs a key after `ctrl-`");
        assert_eq!(err(""), "empty key");
        assert_eq!(
            err("hyper-x"),
            "unknown key `hyper-x` in `hyper-x`; expected a single character or one of enter, \
             return, esc, escape, tab, backtab, backspace, space, up, down, left, right, home, \
             end, pgup, pageup, page-up, pgdn, pagedown, page-down, insert, delete, del, f1..f12"
        );
        assert!(err("ctrl-enterr").contains("pgdn"));
        assert!(Key::parse("f25").is_err());
    }

    #[test]
    fn events_match_however_the_terminal_encodes_them() {
        let ev = |code, mods| Key::from_event(&KeyEvent::new(code, mods));
        assert_eq!(ev(KeyCode::Char('G'), KeyModifiers::SHIFT), Some(key("G")));
        assert_eq!(ev(KeyCode::Char('G'), KeyModifiers::NONE), Some(key("G")));
        assert_eq!(ev(KeyCode::Char('g'), KeyModifiers::SHIFT), Some(key("G")));
        assert_eq!(ev(KeyCode::Char('?'), KeyModifiers::SHIFT), Some(key("?")));
        assert_eq!(
            ev(KeyCode::BackTab, KeyModifiers::SHIFT),
            Some(key("shift-tab"))
        );
        assert_eq!(
            ev(KeyCode::Tab, KeyModifiers::SHIFT),
            Some(key("shift-tab"))
        );
        assert_eq!(
            ev(KeyCode::Char('c'), KeyModifiers::CONTROL),
            Some(key("ctrl-c"))
        );
        assert_ne!(
            ev(KeyCode::Char('c'), KeyModifiers::NONE),
            Some(key("ctrl-c"))
        );
        let mut release = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(Key::from_event(&release), None);
    }
}
