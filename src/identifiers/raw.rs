//! Opaque values, for `--column` without a kind.

use super::{invalid, invalid_as};
use crate::error::{InputReason, Result};

/// An opaque value: leading and trailing white space removed, otherwise kept byte for byte.
/// Use a specific kind whenever one fits: raw values match only if typed identically.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RawValue(String);

impl RawValue {
    /// The longest raw value accepted, in bytes.
    pub const MAX_LEN: usize = 4096;

    /// Trims `input`.
    ///
    /// # Errors
    /// [`Error::Input`](crate::Error::Input) with
    /// [`InputReason::Value`](crate::error::InputReason::Value) if nothing remains, with
    /// [`InputReason::TooLarge`](crate::error::InputReason::TooLarge) if it is longer than
    /// [`RawValue::MAX_LEN`] bytes.
    pub fn parse(input: &str) -> Result<Self> {
        let s = input.trim();
        if s.is_empty() {
            return Err(invalid("value", "it is empty"));
        }
        if s.len() > Self::MAX_LEN {
            return Err(invalid_as(
                InputReason::TooLarge,
                "value",
                format!("longer than {} bytes", Self::MAX_LEN),
            ));
        }
        Ok(RawValue(s.to_string()))
    }

    /// The value.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_impls!(RawValue);
