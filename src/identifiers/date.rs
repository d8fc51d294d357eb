//! Dates of birth.

use chrono::{Datelike, NaiveDate};

use super::invalid;
use crate::error::Result;

const KIND: &str = "date of birth";

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

/// A date of birth, canonically ISO 8601 `YYYY-MM-DD`.
///
/// Accepted inputs (separators — white space, `-`, `/`, `.` and `,` — are interchangeable;
/// a numeric month or day has 1 or 2 digits, a year 4):
/// - year first: `1957-03-11`, `1957/3/11`, `19570311`;
/// - day first, as in the ICAO and European conventions: `11.03.1957`, `11/03/1957`
///   (US month-first numeric dates are **not** recognised: `03/11/1957` is 3 November);
/// - a month name or its first three letters, in any position: `11 Mar 1957`,
///   `11-MAR-1957`, `March 11, 1957`, `1957 Mar 11`.
///
/// Years must have four digits (1850 to 2100). A year alone (`DOB 1957`), a range or `circa`
/// is rejected: it cannot be matched against a full date.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DateOfBirth(String);

fn month_of(word: &str) -> Option<u32> {
    let w = word.to_ascii_uppercase();
    if w.len() < 3 {
        return None;
    }
    let m = MONTHS.iter().position(|m| w.starts_with(m))?;
    // Full names must be spelled right ("MARCH"), abbreviations are 3 letters ("MAR") or
    // "SEPT".
    const FULL: [&str; 12] = [
        "JANUARY",
        "FEBRUARY",
        "MARCH",
        "APRIL",
        "MAY",
        "JUNE",
        "JULY",
        "AUGUST",
        "SEPTEMBER",
        "OCTOBER",
        "NOVEMBER",
        "DECEMBER",
    ];
    (w.len() == 3 || w == FULL[m] || w == "SEPT").then_some(m as u32 + 1)
}

impl DateOfBirth {
    /// Parses a date of birth.
    ///
    /// # Errors
    /// [`Error::Input`](crate::Error::Input) with
    /// [`InputReason::Value`](crate::error::InputReason::Value) if the format is not one of the above, the date
    /// does not exist (`31 Feb`), or the year is out of range.
    pub fn parse(input: &str) -> Result<Self> {
        let shown = crate::error::excerpt(input);
        let parts: Vec<&str> = input
            .split(|c: char| c.is_whitespace() || matches!(c, '-' | '/' | '.' | ','))
            .filter(|p| !p.is_empty())
            .collect();
        let num = |s: &str| -> Option<u32> {
            s.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| s.parse().ok())
                .flatten()
        };
        // A numeric month or day: 1 or 2 digits.
        let short =
            |s: &str| -> Option<u32> { (1..=2).contains(&s.len()).then(|| num(s)).flatten() };
        let bad = || {
            invalid(
                KIND,
                format!("`{shown}` is not a full date (use YYYY-MM-DD, DD.MM.YYYY or 11 Mar 1957)"),
            )
        };
        let (y, m, d) = match parts.as_slice() {
            [one] if one.len() == 8 && num(one).is_some() => (
                num(&one[..4]).ok_or_else(bad)?,
                num(&one[4..6]).ok_or_else(bad)?,
                num(&one[6..]).ok_or_else(bad)?,
            ),
            [a, b, c] => {
                let words: Vec<usize> = [a, b, c]
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| num(s).is_none())
                    .map(|(i, _)| i)
                    .collect();
                let all = [*a, *b, *c];
                match words.as_slice() {
                    [] if a.len() == 4 => (
                        num(a).ok_or_else(bad)?,
                        short(b).ok_or_else(bad)?,
                        short(c).ok_or_else(bad)?,
                    ),
                    [] if c.len() == 4 => (
                        num(c).ok_or_else(bad)?,
                        short(b).ok_or_else(bad)?,
                        short(a).ok_or_else(bad)?,
                    ),
                    [w] => {
                        let m = month_of(all[*w]).ok_or_else(bad)?;
                        let rest: Vec<&str> = (0..3).filter(|i| i != w).map(|i| all[i]).collect();
                        let (ys, ds) = match (rest[0].len(), rest[1].len()) {
                            (4, 1 | 2) => (rest[0], rest[1]),
                            (1 | 2, 4) => (rest[1], rest[0]),
                            _ => return Err(bad()),
                        };
                        (num(ys).ok_or_else(bad)?, m, num(ds).ok_or_else(bad)?)
                    }
                    _ => return Err(bad()),
                }
            }
            _ => return Err(bad()),
        };
        if !(1850..=2100).contains(&y) {
            return Err(invalid(
                KIND,
                format!("`{shown}`: year {y} is out of range"),
            ));
        }
        let date = NaiveDate::from_ymd_opt(y as i32, m, d)
            .ok_or_else(|| invalid(KIND, format!("`{shown}`: no such date")))?;
        Ok(DateOfBirth(format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            date.month(),
            date.day()
        )))
    }

    /// The canonical `YYYY-MM-DD`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_impls!(DateOfBirth);

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Option<String> {
        DateOfBirth::parse(s).map(|d| d.0).ok()
    }

    #[test]
    fn formats() {
        let want = Some("1957-03-11".to_string());
        for s in [
            "1957-03-11",
            "1957/3/11",
            "19570311",
            "11.03.1957",
            "11/03/1957",
            "11 Mar 1957",
            "11-MAR-1957",
            "March 11, 1957",
            "1957 Mar 11",
            "11 march 1957",
        ] {
            assert_eq!(d(s), want, "{s}");
        }
        for s in [
            "1957",
            "circa 1957",
            "31 Feb 1957",
            "11 Mrz 1957",
            "11/03/57",
            "1957 to 1959",
            "1957-003-11",
            "011.03.1957",
            "",
        ] {
            assert_eq!(d(s), None, "{s}");
        }
    }
}
