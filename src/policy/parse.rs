//! Strict parsing of the policy TOML: unknown keys, wrong types, duplicates and contradictory
//! bounds are errors that name `file:line:column`.

use std::collections::BTreeSet;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::{Policy, KNOWN_MODES, POLICY_VERSION};
use crate::error::{ConfigReason, Error, Result};
use crate::identifiers::IdentifierKind;

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
    payload_len: Option<Spanned<u64>>,
    max_sessions_per_peer_per_day: Spanned<u64>,
    max_elements_per_peer: Spanned<u64>,
    element_window_days: Option<Spanned<u64>>,
    max_domain_share_percent: Option<Spanned<u64>>,
    cardinality_before_reveal: bool,
    cardinality_window_days: Option<Spanned<u64>>,
    output_retention_days: Spanned<u64>,
    #[serde(default)]
    allow_key_reuse: bool,
    index_key_lifetime_days: Option<Spanned<u64>>,
    max_evaluations_per_receiver_per_key: Option<Spanned<u64>>,
}

/// An optional positive integer with its default.
fn positive(
    loc: &Locator<'_>,
    key: &str,
    value: &Option<Spanned<u64>>,
    default: u64,
) -> Result<u64> {
    match value {
        None => Ok(default),
        Some(v) if *v.get_ref() == 0 => {
            Err(loc.error(v.span(), &format!("`{key}` must be at least 1")))
        }
        Some(v) => Ok(*v.get_ref()),
    }
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

/// Only the version, read first: a policy of another version is told so, not that it lacks
/// this version's keys.
#[derive(Deserialize)]
struct VersionOnly {
    version: Option<Spanned<u64>>,
}

pub(super) fn parse(text: &str, origin: &str) -> Result<Policy> {
    let loc = Locator { text, origin };
    if let Ok(VersionOnly { version: Some(v) }) = toml::from_str::<VersionOnly>(text) {
        check_version(&loc, &v)?;
    }
    let raw: RawPolicy = toml::from_str(text).map_err(|e| {
        let message = e.message().trim_end().to_owned();
        match e.span() {
            Some(span) => loc.error(span, &message),
            None => Error::config(ConfigReason::Policy, format!("{origin}: {message}")),
        }
    })?;

    check_version(&loc, &raw.version)?;
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
    let identifier_kinds = string_set(&loc, "identifier_kinds", &raw.identifier_kinds, kind)?;
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
    let payload_len = match &raw.payload_len {
        None if modes.contains("labeled") => {
            return Err(loc.error(
                raw.modes.span(),
                "mode \"labeled\" needs `payload_len`, the fixed payload length in bytes \
                 (every payload is padded to it, so the peer learns this bound and not the \
                 longest payload of the data)",
            ))
        }
        None => None,
        Some(v) => {
            let len = *v.get_ref();
            if len == 0 || len > crate::protocol::oprf_psi::MAX_PAYLOAD_LEN as u64 {
                return Err(loc.error(
                    v.span(),
                    &format!(
                        "`payload_len` ({len}) must lie between 1 and {} bytes",
                        crate::protocol::oprf_psi::MAX_PAYLOAD_LEN
                    ),
                ));
            }
            if !modes.contains("labeled") {
                return Err(loc.error(
                    v.span(),
                    "`payload_len` is set but mode \"labeled\" is not among `modes`",
                ));
            }
            Some(len)
        }
    };
    let elements = *raw.max_elements_per_peer.get_ref();
    if elements < max {
        return Err(loc.error(
            raw.max_elements_per_peer.span(),
            &format!(
                "`max_elements_per_peer` ({elements}) is below `max_set_size` ({max}): a peer \
                 could never run a session of the largest allowed size"
            ),
        ));
    }
    let share = positive(
        &loc,
        "max_domain_share_percent",
        &raw.max_domain_share_percent,
        super::DEFAULT_MAX_DOMAIN_SHARE_PERCENT,
    )?;
    if share > 100 {
        let span = raw
            .max_domain_share_percent
            .as_ref()
            .map_or(0..0, |v| v.span());
        return Err(loc.error(span, "`max_domain_share_percent` is a percentage: 1 to 100"));
    }
    let evaluations = positive(
        &loc,
        "max_evaluations_per_receiver_per_key",
        &raw.max_evaluations_per_receiver_per_key,
        elements,
    )?;

    for (key, value) in [
        ("element_window_days", &raw.element_window_days),
        ("cardinality_window_days", &raw.cardinality_window_days),
    ] {
        if let Some(v) = value {
            if *v.get_ref() > crate::budget::MAX_WINDOW_DAYS {
                return Err(loc.error(
                    v.span(),
                    &format!(
                        "`{key}` ({}) is above {} days, the longest window budgets keep",
                        v.get_ref(),
                        crate::budget::MAX_WINDOW_DAYS
                    ),
                ));
            }
        }
    }
    let policy = Policy {
        name,
        modes,
        identifier_kinds,
        min_set_size: min,
        max_set_size: max,
        padding_bound,
        revealable_columns,
        payload_len,
        max_sessions_per_peer_per_day: budget,
        max_elements_per_peer: elements,
        element_window_days: positive(
            &loc,
            "element_window_days",
            &raw.element_window_days,
            super::DEFAULT_ELEMENT_WINDOW_DAYS,
        )?,
        max_domain_share_percent: share,
        cardinality_before_reveal: raw.cardinality_before_reveal,
        cardinality_window_days: positive(
            &loc,
            "cardinality_window_days",
            &raw.cardinality_window_days,
            super::DEFAULT_CARDINALITY_WINDOW_DAYS,
        )?,
        output_retention_days: *raw.output_retention_days.get_ref(),
        allow_key_reuse: raw.allow_key_reuse,
        index_key_lifetime_days: positive(
            &loc,
            "index_key_lifetime_days",
            &raw.index_key_lifetime_days,
            super::DEFAULT_INDEX_KEY_LIFETIME_DAYS,
        )?,
        max_evaluations_per_receiver_per_key: evaluations,
    };
    if let Some(why) = policy.over_exposed() {
        return Err(Error::config(
            ConfigReason::DomainExposure,
            format!("{origin}: {why} (protocol-spec/06-policy-and-audit.md section 2.3)"),
        ));
    }
    Ok(policy)
}

fn check_version(loc: &Locator<'_>, version: &Spanned<u64>) -> Result<()> {
    if *version.get_ref() != POLICY_VERSION {
        let hint = if *version.get_ref() == 1 {
            " (version 2 uses the identifier kind names of key specifications, such as \
             `imo_ship`, and \
             adds the element budget `max_elements_per_peer`: see examples/policy.toml)"
        } else {
            ""
        };
        return Err(loc.error(
            version.span(),
            &format!(
                "policy version {} is not supported; this blindmatch reads version \
                 {POLICY_VERSION}{hint}",
                version.get_ref()
            ),
        ));
    }
    Ok(())
}

/// An identifier kind as a key specification names it (`imo_ship`, `person_name`, ...).
fn kind(value: &str) -> std::result::Result<(), String> {
    if value == "passport_mrz" {
        return Err(
            "`passport_mrz` canonicalises to the same item as `passport`: list `passport`".into(),
        );
    }
    let known = IdentifierKind::ALL.iter().any(|k| k.name() == value);
    if known {
        return Ok(());
    }
    let names: Vec<&str> = IdentifierKind::ALL.iter().map(|k| k.name()).collect();
    let family: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.split('_').next() == Some(value))
        .collect();
    if family.is_empty() {
        Err(format!(
            "unknown identifier kind `{value}`; the kinds are: {}",
            names.join(", ")
        ))
    } else {
        Err(format!(
            "`{value}` is not an identifier kind; did you mean {}?",
            family
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        ))
    }
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
