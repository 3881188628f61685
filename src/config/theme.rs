//! Themes (themes/*.yaml): a ratatui `Style` per semantic role, so panes ask for "ok"
//! or "canary" and never name a colour. Theme files are partial: a role a file leaves
//! out keeps the style of the theme it is laid over.

use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::error::ConfigError;

/// The built-in themes, by name.
pub(crate) const BUILTIN: &[(&str, &str)] = &[
    ("default", include_str!("../../themes/default.yaml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.yaml"),
    ),
    ("light", include_str!("../../themes/light.yaml")),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    pub name: String,
    /// Healthy, ready, done.
    pub ok: Style,
    /// Degraded, pending, drifting from policy.
    pub warn: Style,
    /// Failed, not ready, dirty.
    pub error: Style,
    /// The new version's share of a rollout.
    pub canary: Style,
    /// The current version's share of a rollout.
    pub stable: Style,
    /// Border of the focused pane.
    pub focus: Style,
    /// Secondary text and unfocused borders.
    pub muted: Style,
    /// Table column headers.
    pub header: Style,
    /// The selected row.
    pub selection: Style,
    /// Pane titles and the top bar.
    pub title: Style,
    /// Everything else.
    pub text: Style,
    /// Keys in hints, highlighted names.
    pub accent: Style,
}

impl Theme {
    /// The built-in theme called `name`, laid over the built-in default.
    pub fn builtin(name: &str) -> Result<Theme, ConfigError> {
        let mut theme = Theme::blank("default");
        theme.apply(
            &builtin_file("default"),
            builtin_text("default").unwrap_or(""),
        )?;
        if name != "default" {
            let text = builtin_text(name).ok_or_else(|| ConfigError::UnknownTheme {
                name: name.to_owned(),
                available: BUILTIN.iter().map(|(n, _)| (*n).to_owned()).collect(),
            })?;
            theme.apply(&builtin_file(name), text)?;
            theme.name = name.to_owned();
        }
        Ok(theme)
    }

    fn blank(name: &str) -> Theme {
        let s = Style::default();
        Theme {
            name: name.to_owned(),
            ok: s,
            warn: s,
            error: s,
            canary: s,
            stable: s,
            focus: s,
            muted: s,
            header: s,
            selection: s,
            title: s,
            text: s,
            accent: s,
        }
    }

    /// Lays the roles a theme file names over this theme.
    pub fn apply(&mut self, file: &Path, text: &str) -> Result<(), ConfigError> {
        let raw: RawTheme = super::yaml::parse_or_default(file, text)?;
        let RawTheme {
            _description: _,
            ok,
            warn,
            error,
            canary,
            stable,
            focus,
            muted,
            header,
            selection,
            title,
            text,
            accent,
        } = raw;
        let roles = [
            ("ok", ok, &mut self.ok),
            ("warn", warn, &mut self.warn),
            ("error", error, &mut self.error),
            ("canary", canary, &mut self.canary),
            ("stable", stable, &mut self.stable),
            ("focus", focus, &mut self.focus),
            ("muted", muted, &mut self.muted),
            ("header", header, &mut self.header),
            ("selection", selection, &mut self.selection),
            ("title", title, &mut self.title),
            ("text", text, &mut self.text),
            ("accent", accent, &mut self.accent),
        ];
        for (role, raw, style) in roles {
            if let Some(raw) = raw {
                *style = raw.to_style(file, role)?;
            }
        }
        Ok(())
    }
}

impl Default for Theme {
    /// The built-in default theme. It is tested to load, so the unstyled theme this
    /// falls back to is never seen in practice.
    fn default() -> Self {
        Theme::builtin("default").unwrap_or_else(|err| {
            tracing::error!(%err, "built-in default theme does not load");
            Theme::blank("default")
        })
    }
}

pub(crate) fn builtin_text(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

pub(crate) fn builtin_file(name: &str) -> std::path::PathBuf {
    Path::new("themes").join(format!("{name}.yaml"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTheme {
    /// Shown nowhere yet; allowed so theme files can say what they are for.
    #[serde(default, rename = "description")]
    _description: Option<String>,
    #[serde(default)]
    ok: Option<RawStyle>,
    #[serde(default)]
    warn: Option<RawStyle>,
    #[serde(default)]
    error: Option<RawStyle>,
    #[serde(default)]
    canary: Option<RawStyle>,
    #[serde(default)]
    stable: Option<RawStyle>,
    #[serde(default)]
    focus: Option<RawStyle>,
    #[serde(default)]
    muted: Option<RawStyle>,
    #[serde(default)]
    header: Option<RawStyle>,
    #[serde(default)]
    selection: Option<RawStyle>,
    #[serde(default)]
    title: Option<RawStyle>,
    #[serde(default)]
    text: Option<RawStyle>,
    #[serde(default)]
    accent: Option<RawStyle>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStyle {
    #[serde(default)]
    fg: Option<Spanned<String>>,
    #[serde(default)]
    bg: Option<Spanned<String>>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    italic: bool,
    #[serde(default)]
    underline: bool,
    #[serde(default)]
    reversed: bool,
    #[serde(default)]
    dim: bool,
}

impl RawStyle {
    fn to_style(&self, file: &Path, role: &str) -> Result<Style, ConfigError> {
        let mut style = Style::default();
        if let Some(fg) = &self.fg {
            style = style.fg(colour(file, fg, &format!("{role}.fg"))?);
        }
        if let Some(bg) = &self.bg {
            style = style.bg(colour(file, bg, &format!("{role}.bg"))?);
        }
        for (on, modifier) in [
            (self.bold, Modifier::BOLD),
            (self.italic, Modifier::ITALIC),
            (self.underline, Modifier::UNDERLINED),
            (self.reversed, Modifier::REVERSED),
            (self.dim, Modifier::DIM),
        ] {
            if on {
                style = style.add_modifier(modifier);
            }
        }
        Ok(style)
    }
}

/// A colour name as ratatui spells it (`light-red`, `dark-gray`), `#rrggbb`, or a
/// 256-colour index.
fn colour(file: &Path, spec: &Spanned<String>, path: &str) -> Result<Color, ConfigError> {
    Color::from_str(spec.value.trim()).map_err(|_| {
        ConfigError::at(
            file,
            spec.referenced,
            path,
            format!(
                "unknown colour `{}`, expected black, red, green, yellow, blue, magenta, \
                 cyan, gray, dark-gray, light-red, light-green, light-yellow, light-blue, \
                 light-magenta, light-cyan, white, reset, \"#rrggbb\" or 0-255",
                spec.value
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_themes_load_and_differ() {
        let default = Theme::builtin("default").expect("default");
        assert_eq!(default, Theme::default());
        assert_eq!(default.ok.fg, Some(Color::Green));
        let hc = Theme::builtin("high-contrast").expect("high-contrast");
        assert_eq!(hc.name, "high-contrast");
        assert!(
            hc.selection
                .add_modifier
                .contains(Modifier::REVERSED | Modifier::BOLD)
        );
        assert!(hc.error.add_modifier.contains(Modifier::UNDERLINED));
        let light = Theme::builtin("light").expect("light");
        assert_eq!(light.ok.fg, Some(Color::Indexed(28)));
    }

    #[test]
    fn colours_in_every_spelling() {
        let mut theme = Theme::blank("t");
        let text = "ok: { fg: light-red, bg: \"#102030\" }\nwarn: { fg: 208, dim: true }\n";
        theme.apply(Path::new("t.yaml"), text).expect("applies");
        assert_eq!(theme.ok.fg, Some(Color::LightRed));
        assert_eq!(theme.ok.bg, Some(Color::Rgb(0x10, 0x20, 0x30)));
        assert_eq!(theme.warn.fg, Some(Color::Indexed(208)));
        assert!(theme.warn.add_modifier.contains(Modifier::DIM));
    }

    #[test]
    fn bad_colour_points_at_the_value() {
        let mut theme = Theme::blank("t");
        let err = theme
            .apply(Path::new("t.yaml"), "ok:\n  fg: chartreuse\n")
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("t.yaml:2:7: unknown colour `chartreuse`"),
            "{text}"
        );
    }

    #[test]
    fn unknown_role_lists_the_roles() {
        let mut theme = Theme::blank("t");
        let err = theme.apply(Path::new("t.yaml"), "okay: {}\n").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("t.yaml:1:1: unknown field `okay`"),
            "{text}"
        );
        assert!(text.contains("selection"), "{text}");
    }
}
