//! Bill of lading numbers (opaque).

use super::{invalid, placeholder};
use crate::error::Result;

/// A bill of lading number. There is no international format, so it is opaque: canonically
/// upper-case ASCII letters and digits, everything else (spaces, punctuation) removed; 1 to 35
/// characters remain (the UN/EDIFACT limit for a document reference).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BillOfLading(String);

impl BillOfLading {
    /// Parses a bill of lading number.
    ///
    /// # Errors
    /// [`Error::Input`](crate::Error::Input) with
    /// [`InputReason::Value`](crate::error::InputReason::Value) if it holds a non-ASCII letter or digit, or if
    /// 0 or more than 35 letters and digits remain.
    pub fn parse(input: &str) -> Result<Self> {
        let shown = crate::error::excerpt(input);
        const KIND: &str = "bill of lading number";
        if let Some(c) = input.chars().find(|c| c.is_alphanumeric() && !c.is_ascii()) {
            return Err(invalid(
                KIND,
                format!("`{shown}`: `{c}` is not an ASCII letter or digit"),
            ));
        }
        let s: String = input
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if s.is_empty() || s.len() > 35 {
            return Err(invalid(
                KIND,
                format!("`{shown}` must have 1 to 35 letters and digits"),
            ));
        }
        if s.bytes().all(|b| b == b'0') {
            return Err(placeholder(KIND, format!("`{shown}`: only zeros")));
        }
        Ok(BillOfLading(s))
    }

    /// The canonical form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_impls!(BillOfLading);
