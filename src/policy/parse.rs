//! Strict parsing of the policy TOML: unknown keys, wrong types, duplicates and contradictory
//! bounds are errors that name `file:line:column`.

use std::collections::BTreeSet;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::{Policy, KNOWN_MODES, POLICY_VERSION};
use crate::error::{ConfigReason, Error, Result};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    version: Spanned<u64>,
    name: Spanned<String>,
    modes: Spanned<Vec<Spanned<String>>>,
    identifier_kinds: Spanned<Vec<Spanned<String>>>,
    min_set_size: Spanned<u64>,
    max_set_size: Spanned<u64>,
    padding_bound: Option<Spanned<u64>>,
    revealable_columns: Spanned<Vec<Spanned<String>>>,
    max_sessions_per_peer_per_day: Spanned<u64>,
    cardinality_before_reveal: bool,
    output_retention_days: Spanned<u64>,
    #[serde(default)]
    allow_key_reuse: bool,
}

/// Turns byte offsets into `origin:line:column` messages.
struct Locator<'a> {
    text: &'a str,
    origin: &'a str,
}

impl Locator<'_> {
    fn at(&self, offset: usize) -> String {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_boundary(self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!("{}:{line}:{column}", self.origin)
    }

    fn error(&self, span: Range<usize>, what: &str) -> Error {
        Error::config(
            ConfigReason::Policy,
            format!(
                "{}: {what} (fix the policy file; examples/policy.toml documents every key)",
                self.at(span.start)
            ),
        )
    }
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

pub(super) fn parse(text: &str, origin: &str) -> Result<Policy> {
    let loc = Locator { text, origin };
    let raw: RawPolicy = toml::from_str(text).map_err(|e| {
        let message = e.message().trim_end().to_owned();
        match e.span() {
            Some(span) => loc.error(span, &message),
            None => Error::config(ConfigReason::Policy, format!("{origin}: {message}")),
        }
    })?;

    if *raw.version.get_ref() != POLICY_VERSION {
        return Err(loc.error(
            raw.version.span(),
            &format!(
                "policy version {} is not supported; this blindmatch reads version {POLICY_VERSION}",
                raw.version.get_ref()
            ),
        ));
    }
    let name = raw.name.get_ref().trim().to_owned();
    if name.is_empty() {
        return Err(loc.error(raw.name.span(), "`name` must not be empty"));
    }

    let modes = string_set(&loc, "modes", &raw.modes, |m| {
        KNOWN_MODES.contains(&m).then_some(()).ok_or_else(|| {
            format!(
                "unknown mode `{m}`; known modes: {}",
                KNOWN_MODES.join(", ")
            )
        })
    })?;
    if modes.is_empty() {
        return Err(loc.error(raw.modes.span(), "`modes` must allow at least one mode"));
    }
    let identifier_kinds = string_set(&loc, "identifier_kinds", &raw.identifier_kinds, token)?;
    if identifier_kinds.is_empty() {
        return Err(loc.error(
            raw.identifier_kinds.span(),
            "`identifier_kinds` must allow at least one identifier kind",
        ));
    }
    let revealable_columns =
        string_set(&loc, "revealable_columns", &raw.revealable_columns, |c| {
            (!c.trim().is_empty())
                .then_some(())
                .ok_or_else(|| "a column name must not be empty".to_owned())
        })?;

    let min = *raw.min_set_size.get_ref();
    let max = *raw.max_set_size.get_ref();
    if min == 0 {
        return Err(loc.error(raw.min_set_size.span(), "`min_set_size` must be at least 1"));
    }
    if min > max {
        return Err(loc.error(
            raw.max_set_size.span(),
            &format!("`max_set_size` ({max}) is smaller than `min_set_size` ({min})"),
        ));
    }
    let engine = crate::protocol::MAX_SET_SIZE as u64;
    if max > engine {
        return Err(loc.error(
            raw.max_set_size.span(),
            &format!(
                "`max_set_size` ({max}) is above the engine's largest set, {engine} (2^27) \
                 elements per party"
            ),
        ));
    }
    let padding_bound = match &raw.padding_bound {
        None => None,
        Some(b) => {
            let bound = *b.get_ref();
            if bound < min || bound > max {
                return Err(loc.error(
                    b.span(),
                    &format!(
                        "`padding_bound` ({bound}) must lie between `min_set_size` ({min}) and \
                         `max_set_size` ({max})"
                    ),
                ));
            }
            Some(bound)
        }
    };
    let budget = *raw.max_sessions_per_peer_per_day.get_ref();
    if budget == 0 {
        return Err(loc.error(
            raw.max_sessions_per_peer_per_day.span(),
            "`max_sessions_per_peer_per_day` must be at least 1 (remove the peer instead)",
        ));
    }
    if raw.cardinality_before_reveal && !modes.contains("cardinality") {
        return Err(loc.error(
            raw.modes.span(),
            "`cardinality_before_reveal = true` needs \"cardinality\" among `modes`",
        ));
    }

    Ok(Policy {
        name,
        modes,
        identifier_kinds,
        min_set_size: min,
        max_set_size: max,
        padding_bound,
        revealable_columns,
        max_sessions_per_peer_per_day: budget,
        cardinality_before_reveal: raw.cardinality_before_reveal,
        output_retention_days: *raw.output_retention_days.get_ref(),
        allow_key_reuse: raw.allow_key_reuse,
    })
}

/// A lowercase token: `[a-z0-9_-]+`.
fn token(value: &str) -> std::result::Result<(), String> {
    let ok = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    ok.then_some(()).ok_or_else(|| {
        format!("`{value}` is not a lowercase identifier kind (letters, digits, `_`, `-`)")
    })
}

fn string_set(
    loc: &Locator<'_>,
    key: &str,
    list: &Spanned<Vec<Spanned<String>>>,
    validate: impl Fn(&str) -> std::result::Result<(), String>,
) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for item in list.get_ref() {
        let value = item.get_ref();
        validate(value).map_err(|why| loc.error(item.span(), &format!("in `{key}`: {why}")))?;
        if !out.insert(value.clone()) {
            return Err(loc.error(item.span(), &format!("`{value}` appears twice in `{key}`")));
        }
    }
    Ok(out)
}
