//! Values quoted in messages: at most a short prefix and the length, so that a 10 MB field
//! is never echoed whole on stderr or in a rejects file's reason.

use std::fmt;

/// Values up to this many bytes are shown whole.
const WHOLE: usize = 64;
/// Longer values show their first characters, up to this many bytes.
const PREFIX: usize = 40;

/// A value as shown in a message: whole if short, otherwise its first characters, `…` and its
/// length in bytes (`AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA… (10485760 bytes)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Excerpt<'a>(&'a str);

/// The value `s` as shown in a message ([`Excerpt`]).
pub fn excerpt(s: &str) -> Excerpt<'_> {
    Excerpt(s)
}

impl fmt::Display for Excerpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        if s.len() <= WHOLE {
            return f.write_str(s);
        }
        let mut end = PREFIX;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        write!(f, "{}… ({} bytes)", &s[..end], s.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_show_a_prefix_and_their_length() {
        assert_eq!(excerpt("9321483").to_string(), "9321483");
        let long = "é".repeat(5_000_000);
        let shown = excerpt(&long).to_string();
        assert!(shown.len() < 80, "{shown}");
        assert!(shown.ends_with("… (10000000 bytes)"), "{shown}");
        assert!(shown.starts_with("éé"));
    }
}
