//! The labeled-mode payload encoding of the command line, in the library so a service that
//! serves or queries labeled sessions interoperates with `blindmatch serve` and `match`
//! (`protocol-spec/07-oprf-psi.md` section 7.6.1).
//!
//! A payload is the compact JSON object of the chosen columns of an item's first row: one
//! member per column, named as the column, with the field's text as a string (`""` when empty
//! or missing), members in bytewise order of their names (a `BTreeMap`), minimal escaping.
//!
//! ```
//! use blindmatch::records::payload;
//! let p = payload::encode_row(&[("voyage", "W12"), ("flag", "PA")]);
//! assert_eq!(p, br#"{"flag":"PA","voyage":"W12"}"#);
//! let values = payload::decode(&p, &["voyage".to_owned(), "owner".to_owned()]);
//! assert_eq!(values, ["W12", ""]);
//! ```

use std::collections::BTreeMap;

use super::Records;
use crate::error::{Error, InputReason, Result};

/// The payload of one row: `(column, value)` pairs as the compact, name-ordered JSON object.
pub fn encode_row(fields: &[(&str, &str)]) -> Vec<u8> {
    let obj: BTreeMap<&str, &str> = fields.iter().copied().collect();
    // A map of strings always serialises.
    serde_json::to_vec(&obj).unwrap_or_default()
}

/// Each item's payload: the `columns` of its first row (one payload per item of
/// [`Records::items`], in order), from a second reading of the input.
///
/// # Errors
/// As [`Records::for_each_row`];
/// [`Error::Input`] with [`InputReason::Payload`] naming a column the records do not have;
/// [`Error::Internal`] if an item has no row (a bug).
pub fn encode(recs: &Records, columns: &[String]) -> Result<Vec<Vec<u8>>> {
    let cols = columns
        .iter()
        .map(|c| {
            recs.header().iter().position(|h| h == c).ok_or_else(|| {
                Error::input(
                    InputReason::Payload,
                    format!(
                        "{}: no column `{c}` among the payload columns asked for (columns: {})",
                        recs.path(),
                        recs.header().join(", ")
                    ),
                )
            })
        })
        .collect::<Result<Vec<usize>>>()?;
    // (first row, item) of every item, by row: the rows are read again one at a time.
    let mut firsts: Vec<(usize, usize)> = (0..recs.items().len())
        .map(|i| {
            recs.origins(i)
                .next()
                .map(|o| (o.row, i))
                .ok_or_else(|| Error::internal(format!("item {i} has no row")))
        })
        .collect::<Result<_>>()?;
    firsts.sort_unstable();
    let mut payloads = vec![Vec::new(); recs.items().len()];
    let mut pending = firsts.into_iter().peekable();
    recs.for_each_row(|index, row| {
        while let Some((_, i)) = pending.next_if(|&(r, _)| r == index) {
            let fields: Vec<(&str, &str)> = cols
                .iter()
                .map(|&c| (recs.header()[c].as_str(), row.field(c).unwrap_or_default()))
                .collect();
            payloads[i] = encode_row(&fields);
        }
        Ok(())
    })?;
    Ok(payloads)
}

/// The values of `columns` in a payload, in that order: a JSON string as its text, another
/// JSON value as its JSON text, an absent member (or a payload that is not a JSON object) as
/// the empty string.
pub fn decode(payload: &[u8], columns: &[String]) -> Vec<String> {
    let obj: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(payload).unwrap_or_default();
    columns
        .iter()
        .map(|c| match obj.get(c) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => String::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_name_ordered_escaped_and_decode_back() {
        let p = encode_row(&[("b", "x\"y"), ("a", "\n"), ("c", "")]);
        assert_eq!(p, br#"{"a":"\n","b":"x\"y","c":""}"#.to_vec());
        let cols = ["b".to_owned(), "a".to_owned(), "zz".to_owned()];
        assert_eq!(decode(&p, &cols), ["x\"y", "\n", ""]);
        assert_eq!(decode(b"[1]", &cols), ["", "", ""]);
        assert_eq!(decode(br#"{"b":7}"#, &cols)[0], "7");
    }
}
