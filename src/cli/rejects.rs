//! What the input's rejected values come to, said once: counts per kind of problem and the
//! first few examples with their lines (the whole list goes to `--rejects FILE`), and the
//! refusal of an input of which every value was rejected.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{excerpt, Error, InputReason, Result};
use crate::records::Records;

/// Examples shown on stderr; `--rejects FILE` has them all.
pub const EXAMPLES: usize = 5;

/// The summary of `recs`' rejects, a few lines (`None` if nothing was rejected). `written`
/// is the `--rejects` file they were written to, if any.
pub fn summary(recs: &Records, written: Option<&Path>) -> Option<String> {
    let rejects = recs.rejects();
    if rejects.is_empty() {
        return None;
    }
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for r in rejects {
        *counts.entry(r.kind.as_str()).or_default() += 1;
    }
    let counts = counts
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut text = format!(
        "blindmatch: {}: {} values rejected ({counts}); ",
        recs.path(),
        rejects.len()
    );
    text.push_str(&match rejects.len() {
        n if n <= EXAMPLES => "they are:".to_string(),
        _ => format!("the first {EXAMPLES}:"),
    });
    for r in rejects.iter().take(EXAMPLES) {
        let column = if r.column.is_empty() {
            "the row".to_string()
        } else {
            format!("column `{}`", excerpt(&r.column))
        };
        // Parse errors already quote the value.
        let value = excerpt(&r.value).to_string();
        let shown = if r.reason.contains(&value) {
            String::new()
        } else {
            format!(" `{value}`:")
        };
        text.push_str(&format!(
            "\n  line {}, {column}:{shown} {}",
            r.line, r.reason
        ));
    }
    text.push('\n');
    text.push_str(&match written {
        Some(p) => format!("  all {} are in {}", rejects.len(), p.display()),
        None => "  add --rejects FILE to write each with its line and reason".to_string(),
    });
    Some(text)
}

/// Refuses an input with nothing to match.
///
/// # Errors
/// [`Error::Input`] with [`InputReason::Empty`] when no item was read: "every value was
/// rejected" when there were values, or that the input holds none.
pub fn require_items(recs: &Records) -> Result<()> {
    if !recs.items().is_empty() {
        return Ok(());
    }
    let n = recs.rejects().len();
    let detail = if n > 0 {
        format!(
            "{}: every value was rejected ({n} values); nothing to match (the summary above \
             says why; --rejects FILE lists them all)",
            recs.path()
        )
    } else {
        format!(
            "{}: no values to match (the key columns are empty)",
            recs.path()
        )
    };
    Err(Error::input(InputReason::Empty, detail))
}
