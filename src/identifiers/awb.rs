//! IATA air waybill numbers.

use super::{compact_upper, invalid, placeholder};
use crate::error::Result;

const KIND: &str = "air waybill number";

/// An IATA air waybill number: the airline's 3-digit prefix, a 7-digit serial number and a
/// check digit equal to the serial modulo 7; canonically the 11 digits (`17612345675`).
///
/// Parsing removes white space, `-`, `.` and `/` (`176-1234567 5`). The check digit detects
/// every change of the check digit but not a change of a serial digit by 7 (a property of
/// modulo 7); prefix digits are not covered by it at all.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AirWaybill(String);

impl AirWaybill {
    /// Parses an air waybill number.
    ///
    /// # Errors
    /// [`Error::Input`](crate::Error::Input) with
    /// [`InputReason::Value`](crate::error::InputReason::Value) if it is not 11 digits, the prefix is `000`, or
    /// the check digit is wrong.
    pub fn parse(input: &str) -> Result<Self> {
        let shown = crate::error::excerpt(input);
        let s = compact_upper(input);
        if s.len() != 11 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                KIND,
                format!("`{shown}` is not 11 digits (3-digit prefix, 7-digit serial, check digit)"),
            ));
        }
        if &s[..3] == "000" {
            return Err(invalid(
                KIND,
                format!("`{shown}`: airline prefix 000 does not exist"),
            ));
        }
        let serial: u32 = s[3..10]
            .parse()
            .map_err(|_| invalid(KIND, format!("`{shown}`: bad serial")))?;
        let given = u32::from(s.as_bytes()[10] - b'0');
        if serial % 7 != given {
            return Err(invalid(
                KIND,
                format!("`{shown}`: check digit is {given}, expected {}", serial % 7),
            ));
        }
        if serial == 0 {
            return Err(placeholder(
                KIND,
                format!("`{shown}`: serial number 0000000"),
            ));
        }
        Ok(AirWaybill(s))
    }

    /// The canonical 11 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The airline's 3-digit prefix.
    pub fn prefix(&self) -> &str {
        &self.0[..3]
    }
}

text_impls!(AirWaybill);
