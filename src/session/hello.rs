//! The hello each side sends first (`protocol-spec/04-transport-and-handshake.md` section
//! 4.3.1): typed once, at decode, so nothing downstream handles a mode, protocol or suite as a
//! string.
//!
//! ```text
//! hello = version (2) || role (1) || protocol (1) || mode (1) || oprf_suite (1)
//!      || chunk_size (4) || max_bucket (1) || shard (4) || shard_count (4) || shard_key (32)
//!      || resume_session (32) || resume_done (4) || policy_digest (32) || set_size (8)
//!      || own_fingerprint (32) || peer_fingerprint (32) || time (8, signed)
//!      || key_count (1) || key_count * (len (1) || key kinds, ASCII)
//!      || nonce (32)
//! ```
//! Integers are big-endian. The decoder reads the version first: a hello of another version is
//! an incompatibility ([`Mismatch::Version`]), not a malformed message, so a peer of another
//! version is told apart from a broken one.

use crate::dst;
use crate::error::{Error, Incompatible, Malformed, Mismatch, PeerMisbehaved, Result};
use crate::identity::Fingerprint;
use crate::oprf::Suite;
use crate::protocol::bucket::{BUCKET_LOG2_RANGE, MAX_BUCKETS};
use crate::protocol::Role;

use super::choice::{ProtocolChoice, SessionMode};
use super::resume::Resumption;
use super::shard::Shard;

/// The version a hello carries (`protocol-spec/04-transport-and-handshake.md` 4.3.1).
pub const HELLO_VERSION: u16 = dst::PROTOCOL_VERSION;

/// Most keys a hello may name.
pub const MAX_KEYS: usize = 16;

/// Longest key description (its identifier kinds joined with `+`).
pub const MAX_KEY_LEN: usize = 64;

/// One side's hello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    /// The sender's role.
    pub role: Role,
    /// The protocol the sender asks for.
    pub protocol: ProtocolChoice,
    /// What the parties learn.
    pub mode: SessionMode,
    /// The OPRF suite the sender uses if OPRF-PSI runs (DH-PSI has one suite per version).
    pub oprf_suite: Suite,
    /// Entries per message (both sides must use the same).
    pub chunk_size: u32,
    /// `β`, log2 of the largest bucket the sender takes part in (10 to 20): a DH-PSI or
    /// VOLE-PSI session whose larger count exceeds `2^β` of the smaller of the two hellos'
    /// `β` runs in buckets (`protocol-spec/09-buckets.md` section 9.4).
    pub max_bucket_log2: u8,
    /// The share of a logical session the sender runs ([`Shard::WHOLE`] for an ordinary
    /// session; `protocol-spec/09-buckets.md` section 9.11): both sides must name the same.
    pub shard: Shard,
    /// The logical session the sender resumes and how many of its buckets it finished
    /// (`protocol-spec/09-buckets.md` section 9.12); `None` for a first attempt. Encoded as
    /// 32 zero bytes and 0 when `None`.
    pub resume: Option<Resumption>,
    /// Digest of the policy the sender loaded.
    pub policy_digest: [u8; 32],
    /// Elements the sender will send (its padded count where padding is on).
    pub set_size: u64,
    /// The fingerprint of the sender's own certificate.
    pub own_fingerprint: Fingerprint,
    /// The fingerprint of the certificate the sender's peer presented in this connection.
    pub peer_fingerprint: Fingerprint,
    /// The sender's clock, Unix seconds.
    pub time: i64,
    /// The identifier kinds of the sender's keys, one entry per key (a composite key's kinds
    /// joined with `+`, for example `person_name+date_of_birth`), sorted and distinct.
    pub key_kinds: Vec<String>,
    /// Fresh random bytes from the operating system.
    pub nonce: [u8; 32],
}

fn malformed(problem: Malformed) -> Error {
    PeerMisbehaved::MalformedMessage {
        message: "hello",
        problem,
    }
    .into()
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= MAX_KEY_LEN
        && k.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'+')
}

/// Sorts and deduplicates key descriptions, checking each is 1 to 64 bytes of `[a-z0-9_+]`
/// and that there are 1 to [`MAX_KEYS`].
///
/// # Errors
/// [`crate::Error::Config`] naming the key that cannot be announced.
pub fn canonical_key_kinds(kinds: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = kinds.to_vec();
    out.sort();
    out.dedup();
    if out.is_empty() || out.len() > MAX_KEYS {
        return Err(Error::config(
            crate::error::ConfigReason::Parameter,
            format!(
                "a session matches on 1 to {MAX_KEYS} keys; this one has {}",
                out.len()
            ),
        ));
    }
    if let Some(bad) = out.iter().find(|k| !valid_key(k)) {
        return Err(Error::config(
            crate::error::ConfigReason::Parameter,
            format!("the key kinds `{bad}` cannot be announced (1 to {MAX_KEY_LEN} of [a-z0-9_+])"),
        ));
    }
    Ok(out)
}

impl Hello {
    /// The encoding (module docs). Key kinds are written as given: build them with
    /// [`canonical_key_kinds`].
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(160);
        out.extend_from_slice(&HELLO_VERSION.to_be_bytes());
        out.push(role_code(self.role));
        out.push(self.protocol.code());
        out.push(self.mode.code());
        out.push(self.oprf_suite.code());
        out.extend_from_slice(&self.chunk_size.to_be_bytes());
        out.push(self.max_bucket_log2);
        out.extend_from_slice(&self.shard.index().to_be_bytes());
        out.extend_from_slice(&self.shard.count().to_be_bytes());
        out.extend_from_slice(self.shard.key());
        let (logical, done) = self
            .resume
            .map_or(([0; 32], 0), |r| (r.logical_session, r.buckets_done));
        out.extend_from_slice(&logical);
        out.extend_from_slice(&done.to_be_bytes());
        out.extend_from_slice(&self.policy_digest);
        out.extend_from_slice(&self.set_size.to_be_bytes());
        out.extend_from_slice(&self.own_fingerprint.0);
        out.extend_from_slice(&self.peer_fingerprint.0);
        out.extend_from_slice(&self.time.to_be_bytes());
        out.push(self.key_kinds.len().min(MAX_KEYS) as u8);
        for k in self.key_kinds.iter().take(MAX_KEYS) {
            let b = &k.as_bytes()[..k.len().min(MAX_KEY_LEN)];
            out.push(b.len() as u8);
            out.extend_from_slice(b);
        }
        out.extend_from_slice(&self.nonce);
        out
    }

    /// Decodes a hello; never panics.
    ///
    /// # Errors
    /// [`Error::Incompatible`] with [`Mismatch::Version`] for a hello of another version;
    /// [`PeerMisbehaved::MalformedMessage`] for bytes that are not a hello of ours (truncated,
    /// trailing bytes, an unknown code, key kinds that are not canonical).
    pub fn decode(bytes: &[u8]) -> Result<Hello> {
        let mut r = Reader(bytes);
        let version = u16::from_be_bytes(r.array().ok_or(malformed(Malformed::Truncated))?);
        if version != HELLO_VERSION {
            return Err(Incompatible {
                mismatches: vec![Mismatch::Version {
                    ours: HELLO_VERSION,
                    theirs: version,
                }],
            }
            .into());
        }
        let t = || malformed(Malformed::Truncated);
        let [role, protocol, mode, suite] = r.array().ok_or_else(t)?;
        let role = match role {
            0 => Role::Initiator,
            1 => Role::Responder,
            _ => return Err(malformed(Malformed::Field("role"))),
        };
        let protocol =
            ProtocolChoice::from_code(protocol).ok_or(malformed(Malformed::Field("protocol")))?;
        let mode = SessionMode::from_code(mode).ok_or(malformed(Malformed::Field("mode")))?;
        let oprf_suite =
            Suite::from_code(suite).ok_or(malformed(Malformed::Field("oprf_suite")))?;
        let chunk_size = u32::from_be_bytes(r.array().ok_or_else(t)?);
        let [max_bucket_log2] = r.array().ok_or_else(t)?;
        if !BUCKET_LOG2_RANGE.contains(&max_bucket_log2) {
            return Err(malformed(Malformed::Field("max_bucket")));
        }
        let index = u32::from_be_bytes(r.array().ok_or_else(t)?);
        let count = u32::from_be_bytes(r.array().ok_or_else(t)?);
        let shard = Shard::from_parts(index, count, r.array().ok_or_else(t)?)
            .ok_or(malformed(Malformed::Field("shard")))?;
        let logical_session: [u8; 32] = r.array().ok_or_else(t)?;
        let buckets_done = u32::from_be_bytes(r.array().ok_or_else(t)?);
        let resume = match (logical_session == [0; 32], buckets_done) {
            (true, 0) => None,
            (false, n) if n <= MAX_BUCKETS => Some(Resumption {
                logical_session,
                buckets_done,
            }),
            _ => return Err(malformed(Malformed::Field("resume"))),
        };
        let policy_digest = r.array().ok_or_else(t)?;
        let set_size = u64::from_be_bytes(r.array().ok_or_else(t)?);
        let own_fingerprint = Fingerprint(r.array().ok_or_else(t)?);
        let peer_fingerprint = Fingerprint(r.array().ok_or_else(t)?);
        let time = i64::from_be_bytes(r.array().ok_or_else(t)?);
        let [count] = r.array().ok_or_else(t)?;
        let mut key_kinds = Vec::with_capacity(usize::from(count).min(MAX_KEYS));
        for _ in 0..count {
            let [len] = r.array().ok_or_else(t)?;
            let b = r.take(usize::from(len)).ok_or_else(t)?;
            let k = std::str::from_utf8(b)
                .ok()
                .filter(|k| valid_key(k))
                .ok_or(malformed(Malformed::Field("key_kinds")))?;
            key_kinds.push(k.to_owned());
        }
        let canonical = !key_kinds.is_empty()
            && key_kinds.len() <= MAX_KEYS
            && key_kinds.windows(2).all(|w| w[0] < w[1]);
        if !canonical {
            return Err(malformed(Malformed::Field("key_kinds")));
        }
        let nonce = r.array().ok_or_else(t)?;
        if !r.0.is_empty() {
            return Err(malformed(Malformed::TrailingBytes));
        }
        Ok(Hello {
            role,
            protocol,
            mode,
            oprf_suite,
            chunk_size,
            max_bucket_log2,
            shard,
            resume,
            policy_digest,
            set_size,
            own_fingerprint,
            peer_fingerprint,
            time,
            key_kinds,
            nonce,
        })
    }
}

/// The role's code in the hello and in receipts: 0 initiator, 1 responder.
pub fn role_code(role: Role) -> u8 {
    match role {
        Role::Initiator => 0,
        Role::Responder => 1,
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn sample(role: Role) -> Hello {
        Hello {
            role,
            protocol: ProtocolChoice::Auto,
            mode: SessionMode::Mutual,
            oprf_suite: Suite::default(),
            chunk_size: 4096,
            max_bucket_log2: 20,
            shard: Shard::WHOLE,
            resume: None,
            policy_digest: [7; 32],
            set_size: 1000,
            own_fingerprint: Fingerprint([1; 32]),
            peer_fingerprint: Fingerprint([2; 32]),
            time: 1_800_000_000,
            key_kinds: vec!["imo_ship".into(), "person_name+date_of_birth".into()],
            nonce: [9; 32],
        }
    }

    #[test]
    fn round_trip_and_every_truncation_refused() {
        let h = sample(Role::Initiator);
        let enc = h.encode();
        assert_eq!(Hello::decode(&enc).unwrap(), h);
        for cut in 0..enc.len() {
            assert!(
                matches!(
                    Hello::decode(&enc[..cut]),
                    Err(Error::PeerMisbehaved(
                        PeerMisbehaved::MalformedMessage { .. }
                    ))
                ),
                "cut at {cut}"
            );
        }
        let mut long = enc.clone();
        long.push(0);
        assert!(matches!(
            Hello::decode(&long),
            Err(Error::PeerMisbehaved(PeerMisbehaved::MalformedMessage {
                problem: Malformed::TrailingBytes,
                ..
            }))
        ));
    }

    #[test]
    fn another_version_is_an_incompatibility() {
        let mut enc = sample(Role::Responder).encode();
        enc[1] = 1;
        assert!(matches!(
            Hello::decode(&enc),
            Err(Error::Incompatible(i)) if i.mismatches == [Mismatch::Version { ours: HELLO_VERSION, theirs: 1 }]
        ));
    }

    #[test]
    fn unknown_codes_and_unsorted_keys_are_malformed() {
        let enc = sample(Role::Responder).encode();
        for (at, field) in [(2, "role"), (3, "protocol"), (4, "mode"), (5, "oprf_suite")] {
            let mut bad = enc.clone();
            bad[at] = 0x7f;
            assert!(
                matches!(
                    Hello::decode(&bad),
                    Err(Error::PeerMisbehaved(PeerMisbehaved::MalformedMessage {
                        problem: Malformed::Field(f),
                        ..
                    })) if f == field
                ),
                "{field}"
            );
        }
        // max_bucket (offset 10) outside 10..=20.
        for bad_log2 in [0u8, 9, 21, 0xff] {
            let mut bad = enc.clone();
            bad[10] = bad_log2;
            assert!(
                matches!(
                    Hello::decode(&bad),
                    Err(Error::PeerMisbehaved(PeerMisbehaved::MalformedMessage {
                        problem: Malformed::Field("max_bucket"),
                        ..
                    }))
                ),
                "{bad_log2}"
            );
        }
        // shard (offset 11), shard_count (15), shard_key (19): an index not below the count,
        // a count of 0 or above MAX_SHARDS, one shard with a key.
        let mut sharded = sample(Role::Responder);
        sharded.shard = Shard::new(2, 3, "ops").unwrap();
        let good = sharded.encode();
        assert_eq!(Hello::decode(&good).unwrap().shard, sharded.shard);
        let set = |at: usize, v: u32| {
            let mut b = good.clone();
            b[at..at + 4].copy_from_slice(&v.to_be_bytes());
            b
        };
        let mut keyed_whole = enc.clone();
        keyed_whole[19] = 1;
        for bad in [
            set(11, 3),
            set(15, 0),
            set(15, crate::session::MAX_SHARDS + 1),
            keyed_whole,
        ] {
            assert!(matches!(
                Hello::decode(&bad),
                Err(Error::PeerMisbehaved(PeerMisbehaved::MalformedMessage {
                    problem: Malformed::Field("shard"),
                    ..
                }))
            ));
        }
        // resume_session (offset 51) and resume_done (83): no session with a count, or a
        // count above MAX_BUCKETS.
        let mut resumed = sample(Role::Responder);
        resumed.resume = Some(Resumption {
            logical_session: [0x3c; 32],
            buckets_done: 7,
        });
        let good = resumed.encode();
        assert_eq!(Hello::decode(&good).unwrap().resume, resumed.resume);
        assert_eq!(good[51..83], [0x3c; 32]);
        assert_eq!(good[83..87], 7u32.to_be_bytes());
        let mut most = resumed.clone();
        most.resume = Some(Resumption {
            logical_session: [0x3c; 32],
            buckets_done: MAX_BUCKETS,
        });
        assert_eq!(Hello::decode(&most.encode()).unwrap(), most);
        let mut count_alone = enc.clone();
        count_alone[86] = 1;
        let mut too_many = good.clone();
        too_many[83..87].copy_from_slice(&(MAX_BUCKETS + 1).to_be_bytes());
        for bad in [count_alone, too_many] {
            assert!(matches!(
                Hello::decode(&bad),
                Err(Error::PeerMisbehaved(PeerMisbehaved::MalformedMessage {
                    problem: Malformed::Field("resume"),
                    ..
                }))
            ));
        }
        let mut h = sample(Role::Initiator);
        h.key_kinds.reverse();
        assert!(Hello::decode(&h.encode()).is_err());
        h.key_kinds.clear();
        assert!(Hello::decode(&h.encode()).is_err());
    }

    #[test]
    fn the_largest_hello_fits_its_frame() {
        let mut h = sample(Role::Initiator);
        h.key_kinds = (0..MAX_KEYS)
            .map(|i| format!("{i:02}{}", "k".repeat(MAX_KEY_LEN - 2)))
            .collect();
        let enc = h.encode();
        assert_eq!(enc.len(), 232 + MAX_KEYS * (1 + MAX_KEY_LEN));
        assert!(enc.len() < crate::transport::framing::FrameKind::Hello.max_len());
        assert_eq!(Hello::decode(&enc).unwrap(), h);
    }

    #[test]
    fn key_kinds_are_made_canonical() {
        let k = canonical_key_kinds(&["raw".into(), "imo_ship".into(), "raw".into()]).unwrap();
        assert_eq!(k, ["imo_ship", "raw"]);
        assert!(canonical_key_kinds(&[]).is_err());
        assert!(canonical_key_kinds(&["Bad Kind".into()]).is_err());
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(h) = Hello::decode(&bytes) {
                prop_assert_eq!(h.encode(), bytes);
            }
        }

        #[test]
        fn decode_never_panics_near_valid(pos in 0usize..200, byte in any::<u8>()) {
            let mut enc = sample(Role::Initiator).encode();
            let pos = pos % enc.len();
            enc[pos] = byte;
            if let Ok(h) = Hello::decode(&enc) {
                prop_assert_eq!(h.encode(), enc);
            }
        }
    }
}
