//! Which protocol a session runs (`protocol-spec/04-transport-and-handshake.md` section 4.3.5).
//!
//! Each hello names `dh`, `oprf` or `auto`. Two explicit names must be equal; `auto` meets an
//! explicit name by taking it; two `auto`s pick by the announced set sizes and the mode, the
//! same way on both sides: OPRF-PSI in mode `labeled`, or in mode `intersection` when one
//! set size is more than [`AUTO_RATIO`] times the other; DH-PSI otherwise. Nothing extra is
//! sent: both sides compute the choice from the two hellos, which the transcript binds.

use std::fmt;
use std::str::FromStr;

use super::handshake::Hello;
use crate::dst;
use crate::error::{Error, Result};

/// `auto` picks OPRF-PSI when one set is more than this many times the other.
pub const AUTO_RATIO: u64 = 8;

/// The mode name of labeled OPRF-PSI (the receiver also learns each match's payload).
pub const LABELED_MODE: &str = "labeled";

/// A protocol a session runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// DH-PSI (`protocol-spec/03-dh-psi.md`).
    Dh,
    /// OPRF-PSI (`protocol-spec/07-oprf-psi.md`): the initiator is the receiver.
    Oprf,
}

impl Protocol {
    /// `dh` or `oprf`, as in the hello and the `--json` summary.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Dh => "dh",
            Protocol::Oprf => "oprf",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a side asks for: one protocol, or `auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ProtocolChoice {
    /// Only DH-PSI.
    Dh,
    /// Only OPRF-PSI.
    Oprf,
    /// Decided from the two hellos (module docs).
    #[default]
    Auto,
}

impl ProtocolChoice {
    /// `dh`, `oprf` or `auto`, as in the hello.
    pub fn as_str(self) -> &'static str {
        match self {
            ProtocolChoice::Dh => "dh",
            ProtocolChoice::Oprf => "oprf",
            ProtocolChoice::Auto => "auto",
        }
    }

    fn explicit(self) -> Option<Protocol> {
        match self {
            ProtocolChoice::Dh => Some(Protocol::Dh),
            ProtocolChoice::Oprf => Some(Protocol::Oprf),
            ProtocolChoice::Auto => None,
        }
    }
}

impl fmt::Display for ProtocolChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProtocolChoice {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "dh" => Ok(ProtocolChoice::Dh),
            "oprf" => Ok(ProtocolChoice::Oprf),
            "auto" => Ok(ProtocolChoice::Auto),
            _ => Err(Error::LegacyInput(format!(
                "unknown protocol `{s}`: expected dh, oprf or auto"
            ))),
        }
    }
}

/// The DH-PSI suite name a hello carries.
pub fn dh_suite() -> String {
    String::from_utf8_lossy(dst::DH_PSI_HASH_TO_GROUP).into_owned()
}

/// The `auto` rule on two announced set sizes and the mode.
pub fn auto_rule(mode: &str, a: u64, b: u64) -> Protocol {
    let (small, big) = (a.min(b), a.max(b));
    match mode {
        LABELED_MODE => Protocol::Oprf,
        "intersection" if big > small.saturating_mul(AUTO_RATIO) => Protocol::Oprf,
        _ => Protocol::Dh,
    }
}

/// The suite a hello stands for once the protocol is known: an `auto` hello carries the
/// OPRF suite, and stands for the (single) DH-PSI suite when DH-PSI is picked.
fn effective_suite(h: &Hello, p: Protocol) -> String {
    if p == Protocol::Dh && h.protocol == ProtocolChoice::Auto.as_str() {
        dh_suite()
    } else {
        h.suite.clone()
    }
}

/// The protocol of a session from both hellos, or every difference that prevents one (the
/// protocol, the suite, or a mode the protocol does not have), as `what: ours .., peer's ..`.
///
/// # Errors
/// The list of differences, for [`super::handshake::check_compatible`].
pub fn resolve(ours: &Hello, theirs: &Hello) -> std::result::Result<Protocol, Vec<String>> {
    let mismatch = || {
        vec![format!(
            "protocol: ours `{}`, peer's `{}`",
            ours.protocol, theirs.protocol
        )]
    };
    let a: ProtocolChoice = ours.protocol.parse().map_err(|_| mismatch())?;
    let b: ProtocolChoice = theirs.protocol.parse().map_err(|_| mismatch())?;
    let protocol = match (a.explicit(), b.explicit()) {
        (Some(x), Some(y)) if x != y => return Err(mismatch()),
        (Some(x), _) | (None, Some(x)) => x,
        (None, None) => auto_rule(&ours.mode, ours.set_size, theirs.set_size),
    };
    let mut diffs = Vec::new();
    let (s_ours, s_theirs) = (
        effective_suite(ours, protocol),
        effective_suite(theirs, protocol),
    );
    if s_ours != s_theirs {
        diffs.push(format!("suite: ours `{s_ours}`, peer's `{s_theirs}`"));
    }
    let mode_ok = match protocol {
        Protocol::Dh => ours.mode != LABELED_MODE,
        Protocol::Oprf => ours.mode == "intersection" || ours.mode == LABELED_MODE,
    };
    if !mode_ok {
        diffs.push(format!(
            "mode `{}` cannot run over {} (OPRF-PSI has modes intersection and labeled; \
             DH-PSI has intersection, mutual and cardinality)",
            ours.mode,
            match protocol {
                Protocol::Dh => "DH-PSI",
                Protocol::Oprf => "OPRF-PSI",
            }
        ));
    }
    if diffs.is_empty() {
        Ok(protocol)
    } else {
        Err(diffs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::handshake::Side;

    fn hello(side: Side, protocol: &str, mode: &str, size: u64) -> Hello {
        let suite = if protocol == "dh" {
            dh_suite()
        } else {
            "ristretto255-SHAKE256-blindmatch-v1".into()
        };
        Hello::new(side, &suite, protocol, mode, 64, [0; 32], size)
    }

    #[test]
    fn explicit_choices_must_agree_and_auto_follows() {
        let i = |p, n| hello(Side::Initiator, p, "intersection", n);
        let r = |p, n| hello(Side::Responder, p, "intersection", n);
        assert_eq!(resolve(&i("dh", 10), &r("dh", 10)), Ok(Protocol::Dh));
        assert!(resolve(&i("dh", 10), &r("oprf", 10)).is_err());
        assert_eq!(resolve(&i("auto", 10), &r("oprf", 10)), Ok(Protocol::Oprf));
        assert_eq!(resolve(&i("auto", 10), &r("dh", 1000)), Ok(Protocol::Dh));
        assert_eq!(resolve(&i("auto", 10), &r("auto", 80)), Ok(Protocol::Dh));
        assert_eq!(resolve(&i("auto", 10), &r("auto", 81)), Ok(Protocol::Oprf));
        assert_eq!(resolve(&r("auto", 81), &i("auto", 10)), Ok(Protocol::Oprf));
        assert_eq!(
            resolve(&i("auto", 810), &r("auto", 100)),
            Ok(Protocol::Oprf)
        );
        assert!(resolve(&i("nope", 1), &r("auto", 1)).is_err());
    }

    #[test]
    fn modes_pick_and_limit_the_protocol() {
        let m = |p, mode, n| hello(Side::Initiator, p, mode, n);
        let s = |p, mode, n| hello(Side::Responder, p, mode, n);
        assert_eq!(
            resolve(&m("auto", "mutual", 1), &s("auto", "mutual", 1000)),
            Ok(Protocol::Dh)
        );
        assert_eq!(
            resolve(&m("auto", "labeled", 10), &s("auto", "labeled", 10)),
            Ok(Protocol::Oprf)
        );
        assert!(resolve(&m("oprf", "mutual", 1), &s("oprf", "mutual", 1)).is_err());
        assert!(resolve(&m("dh", "labeled", 1), &s("auto", "labeled", 1)).is_err());
    }
}
