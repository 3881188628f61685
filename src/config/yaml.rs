//! Thin layer over serde-saphyr: parse a file's text into a raw struct and turn parser
//! errors into `ConfigError`s that read `file:line:column: what was expected`, plus the
//! small deserialize helpers the raw structs share (ordered maps, one-or-many lists).

use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::{MessageFormatter, Spanned};

use super::error::{At, ConfigError};

/// Parses one YAML document from `text`, read from `file`.
pub(crate) fn parse<T: DeserializeOwned>(file: &Path, text: &str) -> Result<T, ConfigError> {
    serde_saphyr::from_str(text).map_err(|err| from_saphyr(file, &err))
}

/// Like `parse`, but a file with nothing in it (or only comments) means "no changes".
pub(crate) fn parse_or_default<T: DeserializeOwned + Default>(
    file: &Path,
    text: &str,
) -> Result<T, ConfigError> {
    let blank = text.lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#') || line == "---" || line == "..."
    });
    if blank {
        Ok(T::default())
    } else {
        parse(file, text)
    }
}

fn from_saphyr(file: &Path, err: &serde_saphyr::Error) -> ConfigError {
    let mut inner = err;
    while let serde_saphyr::Error::AliasError { error, .. }
    | serde_saphyr::Error::WithSnippet { error, .. } = inner
    {
        inner = error;
    }
    let message = match inner {
        serde_saphyr::Error::Budget { breach, .. } => budget_words(breach).to_owned(),
        _ => serde_saphyr::DefaultMessageFormatter
            .format_message(inner)
            .into_owned(),
    };
    let at = match err.location() {
        Some(location) => At::from_location(location, ""),
        None => At::File,
    };
    ConfigError::invalid(file, at, sanitize(&plain_words(&message)))
}

/// The parser's resource limits (250,000 values, nesting depth, aliases) stop a file
/// well under the size limit that is built to exhaust memory; it says so with a Rust
/// debug dump, so say what it means.
fn budget_words(breach: &BudgetBreach) -> &'static str {
    match breach {
        BudgetBreach::Events { .. } | BudgetBreach::Nodes { .. } => {
            "too many values for a config file; the YAML parser stopped reading here"
        }
        BudgetBreach::Depth { .. } | BudgetBreach::InclusionDepth { .. } => {
            "nested too deeply for a config file; the YAML parser stopped reading here"
        }
        BudgetBreach::ScalarBytes { .. } | BudgetBreach::InputBytes { .. } => {
            "too much text for a config file; the YAML parser stopped reading here"
        }
        BudgetBreach::Documents { .. } => {
            "too many YAML documents for a config file; the parser stopped reading here"
        }
        _ => "too many aliases or anchors for a config file; the YAML parser stopped reading here",
    }
}

/// The parser speaks to developers ("expected sequence start"); rollcall's users edit
/// YAML by hand, so say the same thing in their words.
fn plain_words(message: &str) -> String {
    const PLAIN: &[(&str, &str)] = &[
        ("expected sequence start", "expected a list"),
        (
            "expected mapping start",
            "expected a mapping of `key: value` lines",
        ),
        ("expected string scalar", "expected a string"),
        (", set DuplicateKeyPolicy in Options if acceptable", ""),
        ("unit value", "null (an empty value)"),
    ];
    let mut text = message.to_owned();
    for (from, to) in PLAIN {
        text = text.replace(from, to);
    }
    if text == "invalid boolean" {
        text.push_str(", expected true or false");
    }
    // serde-saphyr names the Rust type ("invalid u32"); say what number fits.
    for (ty, expected) in [
        ("u8", "a whole number from 0 to 255"),
        ("u16", "a whole number from 0 to 65535"),
        ("u32", "a whole number from 0 to 4294967295"),
        ("u64", "a whole number of 0 or more"),
        ("i32", "a whole number"),
        ("i64", "a whole number"),
        ("f64", "a number"),
    ] {
        if text == format!("invalid {ty}") {
            text = format!("not a valid number here, expected {expected}");
        }
    }
    text
}

/// Keeps control characters from user files off the terminal.
pub(crate) fn sanitize(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_debug().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// A YAML mapping kept in file order, so errors and help follow the user's order and
/// keys can carry their own locations.
#[derive(Debug)]
pub(crate) struct Ordered<K, V>(pub Vec<(K, V)>);

impl<K, V> Default for Ordered<K, V> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for Ordered<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor<K, V>(PhantomData<(K, V)>);

        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for OrderedVisitor<K, V> {
            type Value = Ordered<K, V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Ordered(entries))
            }

            /// `bindings:` with everything under it commented out.
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Ordered::default())
            }

            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Ordered::default())
            }
        }

        deserializer.deserialize_any(OrderedVisitor(PhantomData))
    }
}

/// A list of strings that may also be written as a single string: `[q, ctrl-c]` or `q`.
#[derive(Debug)]
pub(crate) struct OneOrMany {
    pub items: Vec<Spanned<String>>,
    /// Where the whole node is, for errors about the list itself.
    pub at: serde_saphyr::Location,
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Spanned<T> only spans T's node: for the single-string form, give the string
        // the span of the whole node.
        let spanned = Spanned::<List>::deserialize(deserializer)?;
        let items = match spanned.value {
            List::Many(items) => items,
            List::One(value) => vec![Spanned {
                value,
                referenced: spanned.referenced,
                defined: spanned.defined,
            }],
        };
        Ok(OneOrMany {
            items,
            at: spanned.referenced,
        })
    }
}

enum List {
    One(String),
    Many(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for List {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor;

        impl<'de> Visitor<'de> for ListVisitor {
            type Value = List;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<List, E> {
                Ok(List::One(v.to_owned()))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<List, E> {
                Ok(List::One(v.to_string()))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<List, E> {
                Ok(List::One(v.to_string()))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<String>>()? {
                    items.push(item);
                }
                Ok(List::Many(items))
            }
        }

        deserializer.deserialize_any(ListVisitor)
    }
}
