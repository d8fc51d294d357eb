//! What to read and which columns to match on.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;

use crate::error::{ConfigError, ConfigReason, Error, InputReason, Result, Setting};
use crate::identifiers::{extract, IdentifierKind};

use super::read::ReadOptions;
use super::{source, Delimiter, Encoding};

/// How the input file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum InputFormat {
    /// `.csv` files are CSV, `.tsv` files tab-separated CSV (also compressed: `.csv.gz`),
    /// anything else, standard input included, [`InputFormat::Lines`] (a key naming a column other than `value` then fails with the
    /// list of columns, so a CSV file with another extension is never misread silently).
    #[default]
    Auto,
    /// CSV with a header row (RFC 4180, comma-separated; tab-separated for `.tsv`).
    Csv,
    /// Plain text, one value per line, in a single column named `value`; blank lines are
    /// skipped.
    Lines,
}

impl FromStr for InputFormat {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(InputFormat::Auto),
            "csv" => Ok(InputFormat::Csv),
            "lines" | "text" => Ok(InputFormat::Lines),
            _ => Err(Error::input(
                InputReason::Argument,
                format!("unknown input format `{s}`; use auto, csv or lines"),
            )),
        }
    }
}

/// One column of a key: the column's name, the kind its values are parsed as, and whether
/// identifiers are extracted from free text in it ([`crate::identifiers::extract`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPart {
    /// Column name, as in the header (`value` for [`InputFormat::Lines`]).
    pub column: String,
    /// Kind of the values.
    pub kind: IdentifierKind,
    /// Extract every identifier of `kind` found in the column's free text.
    pub extract: bool,
}

/// A key: one column (`imo:imo_ship`), a composite of several (`name:person_name+dob:date_of_birth`,
/// whose item is the encoding of all parts together), or free text to extract from
/// (`remarks:imo_ship:extract`, one item per identifier found). A record may have several keys
/// and matches on any of them.
///
/// Syntax: parts joined by `+`, each `column[:kind[:extract]]`; a column without a kind is
/// `raw`. Column names therefore cannot contain `:` or `+`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    parts: Vec<KeyPart>,
}

impl KeySpec {
    /// A key from its parts.
    ///
    /// # Errors
    /// [`Error::Config`] with [`ConfigReason::Keys`] if there are no parts or more than 16, if
    /// a composite key has an extracting part, or if a part extracts a kind that has no
    /// extractor.
    pub fn new(parts: Vec<KeyPart>) -> Result<Self> {
        if parts.is_empty() || parts.len() > 16 {
            return Err(Error::config(
                ConfigReason::Keys,
                "a key has 1 to 16 columns",
            ));
        }
        if parts.len() > 1 && parts.iter().any(|p| p.extract) {
            return Err(Error::config(
                ConfigReason::Keys,
                "a composite key cannot extract from free text; extract in a key of its own",
            ));
        }
        for p in &parts {
            if p.extract && !extract::supports(p.kind) {
                // Produce the descriptive error.
                extract::extract(p.kind, "")?;
            }
        }
        Ok(KeySpec { parts })
    }

    /// The key's parts, in order.
    pub fn parts(&self) -> &[KeyPart] {
        &self.parts
    }

    /// The key as written (`name:person_name+dob:date_of_birth`); used in reports.
    pub fn label(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.parts.iter().enumerate() {
            if i > 0 {
                f.write_str("+")?;
            }
            write!(f, "{}:{}", p.column, p.kind)?;
            if p.extract {
                f.write_str(":extract")?;
            }
        }
        Ok(())
    }
}

impl FromStr for KeySpec {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let mut parts = Vec::new();
        for part in s.split('+') {
            let fields: Vec<&str> = part.split(':').map(str::trim).collect();
            let bad = || {
                Error::config(
                    ConfigReason::Keys,
                    format!(
                        "key `{s}`: `{part}` is not `column`, `column:kind` or `column:kind:extract`"
                    ),
                )
            };
            let (column, kind, extract) = match fields.as_slice() {
                [c] => (*c, IdentifierKind::Raw, false),
                [c, k] => (*c, k.parse().map_err(|e| key_err(s, e))?, false),
                [c, k, "extract"] => (*c, k.parse().map_err(|e| key_err(s, e))?, true),
                _ => return Err(bad()),
            };
            if column.is_empty() {
                return Err(bad());
            }
            parts.push(KeyPart {
                column: column.to_string(),
                kind,
                extract,
            });
        }
        KeySpec::new(parts)
    }
}

fn key_err(spec: &str, e: Error) -> Error {
    match e {
        Error::Input(e) => Error::config(ConfigReason::Keys, format!("key `{spec}`: {}", e.detail)),
        other => other,
    }
}

/// A mapping file: which columns hold which kinds. TOML, for example:
///
/// ```toml
/// # each entry in the syntax of --key
/// keys = ["imo:imo_ship", "remarks:imo_ship:extract", "name:person_name+dob:date_of_birth"]
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// The keys, in order.
    pub keys: Vec<KeySpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    keys: Vec<String>,
}

impl Mapping {
    /// Parses a mapping from TOML text; `origin` names it in errors.
    ///
    /// # Errors
    /// [`Error::Config`] with [`ConfigReason::Keys`] if the TOML is malformed, has other fields
    /// than `keys`, or a key is invalid.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let file: MappingFile = toml::from_str(text)
            .map_err(|e| Error::config(ConfigReason::Keys, format!("{origin}: {e}")))?;
        let keys = file
            .keys
            .iter()
            .map(|k| {
                k.parse().map_err(|e: Error| match e {
                    Error::Config(c) => Error::config(c.reason, format!("{origin}: {}", c.detail)),
                    other => other,
                })
            })
            .collect::<Result<Vec<KeySpec>>>()?;
        if keys.is_empty() {
            return Err(Error::config(
                ConfigReason::Keys,
                format!("{origin}: `keys` is empty"),
            ));
        }
        Ok(Mapping { keys })
    }

    /// Reads and parses a mapping file.
    ///
    /// # Errors
    /// [`Error::Io`] if it cannot be read, otherwise as [`Mapping::parse`].
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("reading mapping file {}", path.display()), e))?;
        Self::parse(&text, &path.display().to_string())
    }
}

/// What to read and how to turn it into items.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InputSpec {
    /// The file (`-` for standard input; gzip-compressed data is decompressed).
    pub path: PathBuf,
    /// Its layout.
    pub format: InputFormat,
    /// Its text encoding.
    pub encoding: Encoding,
    /// The CSV field delimiter (default: tab for `.tsv`, otherwise comma).
    pub delimiter: Option<Delimiter>,
    /// The first CSV row names the columns. Without a header row the columns are named by
    /// number, `1` for the first, and keys name them so (`--key 12:passport:extract`).
    pub header: bool,
    /// Shorthand for a `raw` key on this column (`--column`), added before `keys`.
    pub column: Option<String>,
    /// The keys to match on (match on any).
    pub keys: Vec<KeySpec>,
    /// Fail on the first invalid value or unreadable row instead of collecting rejects.
    pub strict: bool,
    /// Where temporary files go (a copy of standard input, read again to write the matched
    /// rows); `None`: the system's temporary directory.
    pub temp_dir: Option<PathBuf>,
}

impl InputSpec {
    /// A spec reading `path` (format auto-detected) with the given keys, not strict.
    pub fn new(path: impl Into<PathBuf>, keys: Vec<KeySpec>) -> Self {
        InputSpec {
            path: path.into(),
            format: InputFormat::Auto,
            encoding: Encoding::Utf8,
            delimiter: None,
            header: true,
            column: None,
            keys,
            strict: false,
            temp_dir: None,
        }
    }

    /// The format, with [`InputFormat::Auto`] resolved from the file name.
    pub fn resolved_format(&self) -> InputFormat {
        match self.format {
            InputFormat::Auto => match source::layout_extension(&self.path).as_deref() {
                Some("csv" | "tsv") => InputFormat::Csv,
                _ => InputFormat::Lines,
            },
            f => f,
        }
    }

    /// How to read the file: the resolved format, the delimiter, the header, the encoding.
    pub fn read_options(&self) -> ReadOptions {
        let tsv = source::layout_extension(&self.path).as_deref() == Some("tsv");
        let delimiter = self.delimiter.unwrap_or(if tsv {
            Delimiter::TAB
        } else {
            Delimiter::COMMA
        });
        ReadOptions {
            format: self.resolved_format(),
            delimiter: delimiter.byte(),
            header: self.header,
            encoding: self.encoding,
        }
    }

    /// How the file is named in messages (`<stdin>` for `-`).
    pub fn display_name(&self) -> String {
        source::display_name(&self.path)
    }

    /// All keys: the `column` shorthand first, then `keys`; for a plain-text file with no key
    /// at all, a `raw` key on its `value` column.
    ///
    /// # Errors
    /// [`Error::Config`] with [`ConfigReason::Keys`] if no key is given for a CSV file.
    pub fn effective_keys(&self) -> Result<Vec<KeySpec>> {
        let mut keys = Vec::new();
        if let Some(c) = &self.column {
            keys.push(KeySpec::new(vec![KeyPart {
                column: c.clone(),
                kind: IdentifierKind::Raw,
                extract: false,
            }])?);
        }
        keys.extend(self.keys.iter().cloned());
        if keys.is_empty() {
            if self.resolved_format() == InputFormat::Lines {
                keys.push(KeySpec::new(vec![KeyPart {
                    column: "value".into(),
                    kind: IdentifierKind::Raw,
                    extract: false,
                }])?);
            } else {
                return Err(Error::Config(
                    ConfigError::new(
                        ConfigReason::Keys,
                        format!(
                            "{}: say which column(s) to match on: a key such as `imo:imo_ship` \
                             (or a `column` of opaque values)",
                            self.display_name()
                        ),
                    )
                    .about(Setting::Keys),
                ));
            }
        }
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ConfigError;

    fn keys_error<T>(r: Result<T>) -> bool {
        matches!(
            r,
            Err(Error::Config(ConfigError {
                reason: ConfigReason::Keys,
                ..
            }))
        )
    }

    #[test]
    fn key_syntax() {
        let k: KeySpec = "name:person_name + dob:date_of_birth"
            .parse()
            .expect("valid");
        assert_eq!(k.parts().len(), 2);
        assert_eq!(k.label(), "name:person_name+dob:date_of_birth");
        let k: KeySpec = "remarks:imo_ship:extract".parse().expect("valid");
        assert!(k.parts()[0].extract);
        assert_eq!(
            "id".parse::<KeySpec>().map(|k| k.parts()[0].kind).ok(),
            Some(IdentifierKind::Raw)
        );
        assert!(keys_error("a:container:extract".parse::<KeySpec>()));
        assert!(keys_error("a:imo_ship:extract+b:lei".parse::<KeySpec>()));
        assert!(keys_error("a:nonsense".parse::<KeySpec>()));
        assert!(keys_error(":lei".parse::<KeySpec>()));
        assert!(matches!(
            "xml".parse::<InputFormat>(),
            Err(Error::Input(crate::error::InputError {
                reason: InputReason::Argument,
                ..
            }))
        ));
    }

    #[test]
    fn mapping_toml() {
        let m = Mapping::parse(
            "keys = [\"imo:imo_ship\", \"n:person_name+d:date_of_birth\"]",
            "m.toml",
        );
        assert_eq!(m.map(|m| m.keys.len()).ok(), Some(2));
        assert!(keys_error(Mapping::parse(
            "keys = [\"imo:imo_ship\"]\nother = 1",
            "m.toml"
        )));
        assert!(keys_error(Mapping::parse("keys = []", "m.toml")));
        assert!(keys_error(Mapping::parse(
            "keys = [\"a:nonsense\"]",
            "m.toml"
        )));
    }
}
