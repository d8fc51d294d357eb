//! Text encodings of input files (`--encoding`): UTF-8, the default, and the legacy encodings
//! of older exports, decoded with `encoding_rs`.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::error::{Error, InputReason, Result};

/// How the bytes of an input file are turned into text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Encoding {
    /// UTF-8 (a leading byte-order mark is skipped). A cell that is not valid UTF-8 is read
    /// with U+FFFD for each invalid sequence and marked unreadable: as a key cell it is
    /// rejected, any other cell is kept as read.
    #[default]
    Utf8,
    /// ISO 8859-1 (Latin-1): every byte is the code point of the same value.
    Latin1,
    /// Windows-1252 (the WHATWG mapping: ISO 8859-1 with typographic characters in
    /// 0x80-0x9F).
    Windows1252,
}

impl Encoding {
    /// The name as written in `--encoding`.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Latin1 => "latin1",
            Encoding::Windows1252 => "windows-1252",
        }
    }

    /// Decodes `bytes`; the flag is true when they were not valid in this encoding (only
    /// UTF-8 can be invalid) and the text holds U+FFFD for what could not be read.
    pub fn decode(self, bytes: &[u8]) -> (Cow<'_, str>, bool) {
        match self {
            Encoding::Utf8 => match std::str::from_utf8(bytes) {
                Ok(s) => (Cow::Borrowed(s), false),
                Err(_) => (String::from_utf8_lossy(bytes), true),
            },
            Encoding::Latin1 => (encoding_rs::mem::decode_latin1(bytes), false),
            Encoding::Windows1252 => {
                let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
                (text, false)
            }
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Encoding {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "latin1" | "latin-1" | "iso-8859-1" | "iso8859-1" => Ok(Encoding::Latin1),
            "windows-1252" | "cp1252" | "windows1252" => Ok(Encoding::Windows1252),
            _ => Err(Error::input(
                InputReason::Argument,
                format!("unknown encoding `{s}`; use utf-8, latin1 (iso-8859-1) or windows-1252"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_bytes_decode() {
        assert_eq!(Encoding::Latin1.decode(b"M\xFCller").0, "Müller");
        assert_eq!(
            Encoding::Windows1252.decode(b"M\xFCller \x80").0,
            "Müller €"
        );
        assert_eq!(Encoding::Latin1.decode(b"\x80").0, "\u{80}");
        let (text, bad) = Encoding::Utf8.decode(b"M\xFCller");
        assert!(bad);
        assert_eq!(text, "M\u{FFFD}ller");
        assert_eq!(
            Encoding::Utf8.decode("Müller".as_bytes()),
            ("Müller".into(), false)
        );
        assert_eq!(
            "ISO-8859-1".parse::<Encoding>().ok(),
            Some(Encoding::Latin1)
        );
        assert!(matches!(
            "ebcdic".parse::<Encoding>(),
            Err(Error::Input(e)) if e.reason == InputReason::Argument
        ));
    }
}
