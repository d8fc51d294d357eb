//! The CSV field delimiter (`--delimiter`).

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, InputError, InputReason, Result, Setting};

/// A CSV field delimiter: one ASCII character other than `"`, a line end or a letter or
/// digit. Written as the character itself, or `tab` (also `\t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiter(u8);

impl Delimiter {
    /// The comma.
    pub const COMMA: Delimiter = Delimiter(b',');
    /// The tab, the delimiter of `.tsv` files.
    pub const TAB: Delimiter = Delimiter(b'\t');

    /// The byte.
    pub fn byte(self) -> u8 {
        self.0
    }
}

impl fmt::Display for Delimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            b'\t' => f.write_str("tab"),
            b => write!(f, "{}", char::from(b)),
        }
    }
}

impl FromStr for Delimiter {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let b = match s {
            "tab" | "\\t" | "\t" => b'\t',
            _ if s.len() == 1 => s.as_bytes()[0],
            _ => 0,
        };
        if b == 0 || !b.is_ascii() || b.is_ascii_alphanumeric() || matches!(b, b'"' | b'\r' | b'\n')
        {
            return Err(Error::Input(
                InputError::new(
                    InputReason::Argument,
                    format!(
                        "delimiter `{s}`: give one ASCII character other than a letter, a digit \
                         or `\"` (for example `;` or `|`), or `tab`"
                    ),
                )
                .about(Setting::Delimiter),
            ));
        }
        Ok(Delimiter(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_parse() {
        assert_eq!(
            ";".parse::<Delimiter>().ok().map(Delimiter::byte),
            Some(b';')
        );
        assert_eq!("tab".parse::<Delimiter>().ok(), Some(Delimiter::TAB));
        for bad in ["", ";;", "\"", "a", "\n", "é"] {
            assert!(
                matches!(bad.parse::<Delimiter>(), Err(Error::Input(e)) if e.reason == InputReason::Argument),
                "{bad:?}"
            );
        }
    }
}
