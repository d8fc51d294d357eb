//! From two hellos to the terms of a session, or the typed reason there are none
//! (`protocol-spec/04-transport-and-handshake.md` sections 4.3.2 and 4.3.5). A pure function:
//! both sides compute the same terms from the same two hellos, which the transcript binds.

use crate::dst;
use crate::error::{Error, Incompatible, Mismatch, PeerMisbehaved, Result};
use crate::oprf::Suite;
use crate::protocol::Role;
use crate::tagged_hash::sha3_tagged;

use super::choice::{auto_protocol, Protocol, SessionMode};
use super::hello::{role_code, Hello, HELLO_VERSION};
use super::resume::Resumption;
use super::shard::Shard;

/// The largest difference between the two hellos' clocks, in seconds.
pub const MAX_CLOCK_SKEW: i64 = 300;

/// What both sides agreed to, as seen by one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Terms {
    /// Our role.
    pub role: Role,
    /// The protocol that runs.
    pub protocol: Protocol,
    /// What the parties learn.
    pub mode: SessionMode,
    /// The OPRF suite (OPRF-PSI only; both hellos named it).
    pub oprf_suite: Suite,
    /// Entries per message.
    pub chunk_size: usize,
    /// `β`: the smaller of the two hellos' `max_bucket` (section 4.3.1); a bucketed session's
    /// buckets hold about `2^β` items ([`Terms::buckets`]).
    pub bucket_log2: u8,
    /// The agreed policy's digest.
    pub policy_digest: [u8; 32],
    /// Elements the initiator sends (its hello's `set_size`).
    pub initiator_count: u64,
    /// Elements the responder sends.
    pub responder_count: u64,
    /// The identifier kinds of the keys (equal on both sides).
    pub key_kinds: Vec<String>,
    /// The share of a logical session this session runs (equal on both sides;
    /// [`Shard::WHOLE`] for an ordinary session).
    pub shard: Shard,
    /// The logical session this attempt resumes, with the first bucket it runs: both hellos
    /// named the same logical session, and `buckets_done` is the smaller of their counts
    /// (`protocol-spec/09-buckets.md` section 9.12). `None`: a first attempt, whose session
    /// id is the logical session's.
    pub resume: Option<Resumption>,
}

impl Terms {
    /// The number of buckets the body runs in (`protocol-spec/09-buckets.md` section 9.4):
    /// `max(1, ceil(max(n_I, n_R) / 2^β))` for DH-PSI in `intersection` or `mutual` mode and
    /// for VOLE-PSI; 1 (the unbucketed protocol) for OPRF-PSI, whose receiver set is small,
    /// and for `cardinality`, where buckets would reveal a count per bucket (9.9).
    pub fn buckets(&self) -> u32 {
        let bucketable = match self.protocol {
            Protocol::Dh => self.mode != SessionMode::Cardinality,
            Protocol::Vole => true,
            Protocol::Oprf => false,
        };
        if !bucketable {
            return 1;
        }
        let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        crate::protocol::bucket::bucket_count(
            count(self.initiator_count),
            count(self.responder_count),
            self.bucket_log2,
        )
    }

    /// Elements we send.
    pub fn own_count(&self) -> u64 {
        match self.role {
            Role::Initiator => self.initiator_count,
            Role::Responder => self.responder_count,
        }
    }

    /// Elements the peer sends.
    pub fn peer_count(&self) -> u64 {
        match self.role {
            Role::Initiator => self.responder_count,
            Role::Responder => self.initiator_count,
        }
    }
}

/// SHA3-256 over the terms a resumption must share with the attempts before it (section
/// 9.12): the hello version (a checkpoint of another version, whose buckets may be assigned
/// otherwise, is refused), role, protocol, mode, OPRF suite, chunk size, `β`, policy digest,
/// both counts, key kinds, shard, and the number of buckets. Local: kept in our checkpoint,
/// never sent.
pub fn terms_digest(terms: &Terms) -> [u8; 32] {
    terms_digest_at(HELLO_VERSION, terms)
}

/// [`terms_digest`] as hello version `version` would compute it.
fn terms_digest_at(version: u16, terms: &Terms) -> [u8; 32] {
    let mut enc: Vec<u8> = Vec::with_capacity(256);
    let mut field = |bytes: &[u8]| {
        enc.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        enc.extend_from_slice(bytes);
    };
    field(&version.to_be_bytes());
    field(&[role_code(terms.role)]);
    field(terms.protocol.as_str().as_bytes());
    field(terms.mode.as_str().as_bytes());
    field(&[terms.oprf_suite.code()]);
    field(&(terms.chunk_size as u64).to_be_bytes());
    field(&[terms.bucket_log2]);
    field(&terms.policy_digest);
    field(&terms.initiator_count.to_be_bytes());
    field(&terms.responder_count.to_be_bytes());
    field(&(terms.key_kinds.len() as u32).to_be_bytes());
    for k in &terms.key_kinds {
        field(k.as_bytes());
    }
    field(&terms.shard.index().to_be_bytes());
    field(&terms.shard.count().to_be_bytes());
    field(terms.shard.key());
    field(&terms.buckets().to_be_bytes());
    sha3_tagged(dst::RESUME_TERMS, &[&enc])
}

/// The protocol both hellos give, or why they give none (section 4.3.5): two explicit
/// protocols must be equal; `auto` takes the other's; two `auto`s follow
/// [`auto_protocol`].
fn pick(ours: &Hello, theirs: &Hello) -> std::result::Result<Protocol, Mismatch> {
    match (ours.protocol.explicit(), theirs.protocol.explicit()) {
        (Some(a), Some(b)) if a != b => Err(Mismatch::Protocol {
            ours: ours.protocol.to_string(),
            theirs: theirs.protocol.to_string(),
        }),
        (Some(p), _) | (None, Some(p)) => Ok(p),
        (None, None) => Ok(auto_protocol(ours.mode, ours.set_size, theirs.set_size)),
    }
}

/// The resumption two hellos agree on (section 9.12): both name the same logical session,
/// and the buckets both finished are skipped; otherwise the session starts over (a side that
/// kept no checkpoint, or one of another logical session, resumes nothing).
fn resumption(ours: Option<Resumption>, theirs: Option<Resumption>) -> Option<Resumption> {
    match (ours, theirs) {
        (Some(a), Some(b)) if a.logical_session == b.logical_session => Some(Resumption {
            logical_session: a.logical_session,
            buckets_done: a.buckets_done.min(b.buckets_done),
        }),
        _ => None,
    }
}

/// The terms of a session from our hello and the peer's.
///
/// # Errors
/// [`PeerMisbehaved::SameRole`], [`PeerMisbehaved::EchoedNonce`] or
/// [`PeerMisbehaved::WrongIdentity`] (its hello names certificates other than the two of this
/// connection); otherwise [`Error::Incompatible`] listing every field that differs, in the
/// hello's order: mode, protocol, suite, mode not in the protocol, policy digest, chunk size,
/// key kinds, shard, clocks. The peer computes the same list.
pub fn agree(ours: &Hello, theirs: &Hello) -> Result<Terms> {
    if theirs.role == ours.role {
        return Err(PeerMisbehaved::SameRole.into());
    }
    if theirs.nonce == ours.nonce {
        return Err(PeerMisbehaved::EchoedNonce.into());
    }
    if !theirs.own_fingerprint.ct_eq(&ours.peer_fingerprint)
        || !theirs.peer_fingerprint.ct_eq(&ours.own_fingerprint)
    {
        return Err(PeerMisbehaved::WrongIdentity.into());
    }
    let mut diffs = Vec::new();
    if ours.mode != theirs.mode {
        diffs.push(Mismatch::Mode {
            ours: ours.mode.to_string(),
            theirs: theirs.mode.to_string(),
        });
    }
    let protocol = match pick(ours, theirs) {
        Ok(p) => Some(p),
        Err(m) => {
            diffs.push(m);
            None
        }
    };
    if let Some(p) = protocol {
        if p == Protocol::Oprf && ours.oprf_suite != theirs.oprf_suite {
            diffs.push(Mismatch::Suite {
                ours: ours.oprf_suite.to_string(),
                theirs: theirs.oprf_suite.to_string(),
            });
        }
        if !ours.mode.runs_over(p) {
            diffs.push(Mismatch::ModeNotInProtocol {
                mode: ours.mode.to_string(),
                protocol: p.title().to_owned(),
            });
        }
    }
    if ours.policy_digest != theirs.policy_digest {
        diffs.push(Mismatch::PolicyDigest {
            ours: hex::encode(ours.policy_digest),
            theirs: hex::encode(theirs.policy_digest),
        });
    }
    if ours.chunk_size != theirs.chunk_size {
        diffs.push(Mismatch::ChunkSize {
            ours: ours.chunk_size,
            theirs: theirs.chunk_size,
        });
    }
    if ours.key_kinds != theirs.key_kinds {
        diffs.push(Mismatch::KeyKinds {
            ours: ours.key_kinds.join(","),
            theirs: theirs.key_kinds.join(","),
        });
    }
    if ours.shard != theirs.shard {
        diffs.push(Mismatch::Shard {
            ours: format!("{:?}", ours.shard),
            theirs: format!("{:?}", theirs.shard),
        });
    }
    let skew = ours.time.saturating_sub(theirs.time).saturating_abs();
    if skew > MAX_CLOCK_SKEW {
        diffs.push(Mismatch::ClockSkew {
            seconds: skew,
            max: MAX_CLOCK_SKEW,
        });
    }
    match protocol {
        Some(protocol) if diffs.is_empty() => {
            let (init, resp) = match ours.role {
                Role::Initiator => (ours, theirs),
                Role::Responder => (theirs, ours),
            };
            Ok(Terms {
                role: ours.role,
                protocol,
                mode: ours.mode,
                oprf_suite: ours.oprf_suite,
                chunk_size: ours.chunk_size as usize,
                bucket_log2: ours.max_bucket_log2.min(theirs.max_bucket_log2),
                policy_digest: ours.policy_digest,
                initiator_count: init.set_size,
                responder_count: resp.set_size,
                key_kinds: ours.key_kinds.clone(),
                shard: ours.shard,
                resume: resumption(ours.resume, theirs.resume),
            })
        }
        _ => Err(Error::Incompatible(Incompatible { mismatches: diffs })),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::identity::Fingerprint;
    use crate::session::choice::ProtocolChoice;
    use crate::session::hello::tests::sample;

    fn pair() -> (Hello, Hello) {
        let a = sample(Role::Initiator);
        let mut b = sample(Role::Responder);
        b.own_fingerprint = a.peer_fingerprint;
        b.peer_fingerprint = a.own_fingerprint;
        b.nonce = [8; 32];
        (a, b)
    }

    fn mismatches(e: Error) -> Vec<&'static str> {
        match e {
            Error::Incompatible(i) => i.mismatches.iter().map(Mismatch::code).collect(),
            other => panic!("not an incompatibility: {other}"),
        }
    }

    #[test]
    fn matching_hellos_give_the_same_terms_on_both_sides() {
        let (a, b) = pair();
        let ta = agree(&a, &b).unwrap();
        let tb = agree(&b, &a).unwrap();
        assert_eq!(ta.protocol, Protocol::Dh);
        assert_eq!((ta.initiator_count, ta.responder_count), (1000, 1000));
        assert_eq!(tb.role, Role::Responder);
        assert_eq!(
            (ta.protocol, ta.mode, ta.initiator_count),
            (tb.protocol, tb.mode, tb.initiator_count)
        );
    }

    /// A checkpoint written under another hello version (whose buckets may be assigned
    /// otherwise: version 7 moved the assignment to SHA-256) has another terms digest, so a
    /// resumption refuses it (spec 9.12); any change of a term changes it too.
    #[test]
    fn the_terms_digest_covers_the_version_and_the_terms() {
        let (a, b) = pair();
        let terms = agree(&a, &b).unwrap();
        let ours = terms_digest(&terms);
        assert_eq!(ours, terms_digest_at(HELLO_VERSION, &terms));
        assert_ne!(ours, terms_digest_at(HELLO_VERSION - 1, &terms));
        let mut other = terms.clone();
        other.responder_count += 1;
        assert_ne!(ours, terms_digest(&other));
        assert_ne!(
            ours,
            terms_digest(&agree(&b, &a).unwrap()),
            "the role counts"
        );
    }

    #[test]
    fn every_difference_is_listed_on_both_sides() {
        let (a, mut b) = pair();
        b.mode = SessionMode::Cardinality;
        b.policy_digest = [0; 32];
        b.chunk_size = 16;
        b.key_kinds = vec!["raw".into()];
        b.time += MAX_CLOCK_SKEW + 1;
        let expected = [
            "mode",
            "policy_digest",
            "chunk_size",
            "key_kinds",
            "clock_skew",
        ];
        assert_eq!(mismatches(agree(&a, &b).unwrap_err()), expected);
        let mut a2 = a.clone();
        a2.mode = SessionMode::Mutual;
        assert_eq!(mismatches(agree(&b, &a2).unwrap_err()), expected);
    }

    #[test]
    fn protocol_selection() {
        let (mut a, mut b) = pair();
        a.mode = SessionMode::Intersection;
        b.mode = SessionMode::Intersection;
        a.protocol = ProtocolChoice::Dh;
        b.protocol = ProtocolChoice::Oprf;
        assert_eq!(mismatches(agree(&a, &b).unwrap_err()), ["protocol"]);
        a.protocol = ProtocolChoice::Auto;
        assert_eq!(agree(&a, &b).unwrap().protocol, Protocol::Oprf);
        b.oprf_suite = Suite::Ristretto255Sha512;
        assert_eq!(mismatches(agree(&a, &b).unwrap_err()), ["suite"]);
        // A DH-PSI session ignores the OPRF suites.
        a.protocol = ProtocolChoice::Dh;
        b.protocol = ProtocolChoice::Auto;
        assert_eq!(agree(&a, &b).unwrap().protocol, Protocol::Dh);
        a.mode = SessionMode::Labeled;
        b.mode = SessionMode::Labeled;
        assert_eq!(
            mismatches(agree(&a, &b).unwrap_err()),
            ["mode_not_in_protocol"]
        );
        a.protocol = ProtocolChoice::Auto;
        b.oprf_suite = a.oprf_suite;
        assert_eq!(agree(&a, &b).unwrap().protocol, Protocol::Oprf);
    }

    #[test]
    fn role_nonce_and_identity_are_the_peers_fault() {
        let (a, b) = pair();
        let mut same = b.clone();
        same.role = Role::Initiator;
        assert!(matches!(
            agree(&a, &same),
            Err(Error::PeerMisbehaved(PeerMisbehaved::SameRole))
        ));
        let mut echo = b.clone();
        echo.nonce = a.nonce;
        assert!(matches!(
            agree(&a, &echo),
            Err(Error::PeerMisbehaved(PeerMisbehaved::EchoedNonce))
        ));
        let mut other = b.clone();
        other.own_fingerprint = Fingerprint([0xee; 32]);
        assert!(matches!(
            agree(&a, &other),
            Err(Error::PeerMisbehaved(PeerMisbehaved::WrongIdentity))
        ));
    }

    #[test]
    fn the_smaller_bucket_size_is_agreed_and_only_bucketable_sessions_are_bucketed() {
        let (mut a, mut b) = pair();
        (a.max_bucket_log2, b.max_bucket_log2) = (12, 10);
        (a.set_size, b.set_size) = (5000, 3000);
        a.protocol = ProtocolChoice::Dh;
        b.protocol = ProtocolChoice::Dh;
        let (ta, tb) = (agree(&a, &b).unwrap(), agree(&b, &a).unwrap());
        assert_eq!((ta.bucket_log2, tb.bucket_log2), (10, 10));
        // ceil(5000 / 2^10) on both sides.
        assert_eq!((ta.buckets(), tb.buckets()), (5, 5));
        b.max_bucket_log2 = 20;
        assert_eq!(agree(&a, &b).unwrap().buckets(), 2);
        for (protocol, mode, buckets) in [
            (ProtocolChoice::Dh, SessionMode::Intersection, 2),
            (ProtocolChoice::Vole, SessionMode::Mutual, 2),
            (ProtocolChoice::Dh, SessionMode::Cardinality, 1),
            (ProtocolChoice::Oprf, SessionMode::Intersection, 1),
        ] {
            (a.protocol, b.protocol, a.mode, b.mode) = (protocol, protocol, mode, mode);
            assert_eq!(
                agree(&a, &b).unwrap().buckets(),
                buckets,
                "{protocol:?} {mode}"
            );
        }
    }

    #[test]
    fn a_resumption_needs_the_same_logical_session_on_both_sides() {
        let (mut a, mut b) = pair();
        let offer = |id: u8, done: u32| {
            Some(Resumption {
                logical_session: [id; 32],
                buckets_done: done,
            })
        };
        (a.resume, b.resume) = (offer(1, 7), offer(1, 5));
        let (ta, tb) = (agree(&a, &b).unwrap(), agree(&b, &a).unwrap());
        assert_eq!(ta.resume, offer(1, 5));
        assert_eq!(tb.resume, offer(1, 5));
        for (x, y) in [
            (offer(1, 7), offer(2, 7)),
            (offer(1, 7), None),
            (None, None),
        ] {
            (a.resume, b.resume) = (x, y);
            assert_eq!(agree(&a, &b).unwrap().resume, None);
            assert_eq!(agree(&b, &a).unwrap().resume, None);
        }
    }
}
