//! The session handshake (`protocol-spec/04-transport-and-handshake.md` section 2).
//!
//! After TLS, before any element: the responder sends its [`Hello`], the initiator answers with
//! its own (always, so both sides see both hellos and both can say what did not match), each
//! side checks the peer's hello against its own, then both send a `Confirm` frame carrying the
//! transcript hash and check the peer's. The transcript binds both hellos and the TLS exporter
//! (RFC 8446 section 7.5), so a hello replayed into another session or relayed between two
//! connections yields a different transcript and the confirmation fails. The session id is
//! derived from the transcript.

use sha3::{Digest, Sha3_256};
use tokio::io::{AsyncRead, AsyncWrite};

use super::framing::{write_frame, Frame, FrameKind, MAX_FRAME_LEN};
use super::timeouts::{read_frame_timed, Timeouts};
use crate::dst;
use crate::error::{Error, Result};

/// Length of a nonce, a transcript hash and a session id.
pub const HASH_LEN: usize = 32;

/// Longest name (suite, protocol, mode) a hello may carry.
const MAX_NAME_LEN: usize = 64;

/// Which side of the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Connects (`blindmatch match`).
    Initiator,
    /// Accepts (`blindmatch serve`).
    Responder,
}

impl Side {
    fn code(self) -> u8 {
        match self {
            Side::Initiator => 0,
            Side::Responder => 1,
        }
    }
}

/// What each side announces before any element is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    /// Protocol version, [`dst::PROTOCOL_VERSION`].
    pub version: u16,
    /// Sender's role.
    pub side: Side,
    /// Cipher suite name (for DH-PSI the hash-to-group tag).
    pub suite: String,
    /// `dh` or `oprf`.
    pub protocol: String,
    /// `intersection`, `mutual` or `cardinality`.
    pub mode: String,
    /// Elements per chunk (both must use the same).
    pub chunk_size: u32,
    /// Digest of the policy the sender loaded.
    pub policy_digest: [u8; HASH_LEN],
    /// Number of elements the sender will send (its padded count where padding is on).
    pub set_size: u64,
    /// Fresh random nonce.
    pub nonce: [u8; HASH_LEN],
}

impl Hello {
    /// A hello with a fresh nonce from the operating system.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        side: Side,
        suite: &str,
        protocol: &str,
        mode: &str,
        chunk_size: u32,
        policy_digest: [u8; HASH_LEN],
        set_size: u64,
    ) -> Self {
        use rand_core::Rng;
        let mut nonce = [0u8; HASH_LEN];
        rand_core::UnwrapErr(rand::rngs::SysRng).fill_bytes(&mut nonce);
        Hello {
            version: dst::PROTOCOL_VERSION,
            side,
            suite: suite.to_string(),
            protocol: protocol.to_string(),
            mode: mode.to_string(),
            chunk_size,
            policy_digest,
            set_size,
            nonce,
        }
    }

    /// The encoding (section 2.1): `version u16 || side u8 || suite || protocol || mode ||
    /// chunk_size u32 || policy_digest [32] || set_size u64 || nonce [32]`, names as
    /// `u8 length || bytes`, integers big-endian.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(&self.version.to_be_bytes());
        out.push(self.side.code());
        for name in [&self.suite, &self.protocol, &self.mode] {
            let b = name.as_bytes();
            let len = b.len().min(MAX_NAME_LEN);
            out.push(len as u8);
            out.extend_from_slice(&b[..len]);
        }
        out.extend_from_slice(&self.chunk_size.to_be_bytes());
        out.extend_from_slice(&self.policy_digest);
        out.extend_from_slice(&self.set_size.to_be_bytes());
        out.extend_from_slice(&self.nonce);
        out
    }

    /// Decodes a hello; never panics.
    ///
    /// # Errors
    /// [`Error::PeerMisbehaved`] if the bytes are not a hello.
    pub fn decode(bytes: &[u8]) -> Result<Hello> {
        let bad =
            |what: &str| Error::LegacyPeerMisbehaved(format!("malformed handshake hello: {what}"));
        let mut r = Reader(bytes);
        let version = u16::from_be_bytes(r.array().ok_or_else(|| bad("version"))?);
        let side = match r.take(1).ok_or_else(|| bad("role"))?[0] {
            0 => Side::Initiator,
            1 => Side::Responder,
            _ => return Err(bad("role")),
        };
        let mut names = Vec::with_capacity(3);
        for what in ["suite", "protocol", "mode"] {
            let len = r.take(1).ok_or_else(|| bad(what))?[0] as usize;
            if len > MAX_NAME_LEN {
                return Err(bad(what));
            }
            let b = r.take(len).ok_or_else(|| bad(what))?;
            names.push(String::from_utf8(b.to_vec()).map_err(|_| bad(what))?);
        }
        let chunk_size = u32::from_be_bytes(r.array().ok_or_else(|| bad("chunk size"))?);
        let policy_digest = r.array().ok_or_else(|| bad("policy digest"))?;
        let set_size = u64::from_be_bytes(r.array().ok_or_else(|| bad("set size"))?);
        let nonce = r.array().ok_or_else(|| bad("nonce"))?;
        if !r.0.is_empty() {
            return Err(bad("trailing bytes"));
        }
        let mode = names.pop().unwrap_or_default();
        let protocol = names.pop().unwrap_or_default();
        let suite = names.pop().unwrap_or_default();
        Ok(Hello {
            version,
            side,
            suite,
            protocol,
            mode,
            chunk_size,
            policy_digest,
            set_size,
            nonce,
        })
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

/// Checks that the peer's hello can run a session with ours; the error names every mismatch.
///
/// # Errors
/// [`Error::Incompatible`] naming what differs (ours vs theirs), or
/// [`Error::PeerMisbehaved`] for a peer claiming our role or echoing our nonce.
pub fn check_compatible(ours: &Hello, theirs: &Hello) -> Result<()> {
    if theirs.side == ours.side {
        return Err(Error::LegacyPeerMisbehaved(format!(
            "the peer claims the same role as us ({:?})",
            ours.side
        )));
    }
    if theirs.nonce == ours.nonce {
        return Err(Error::LegacyPeerMisbehaved(
            "the peer echoed our handshake nonce".into(),
        ));
    }
    let mut diffs = Vec::new();
    if ours.version != theirs.version {
        diffs.push(format!(
            "protocol version: ours {}, peer's {}",
            ours.version, theirs.version
        ));
    }
    // Protocol and suite (section 4.3.5): `auto` meets an explicit protocol, and the suite
    // compared is the one of the protocol picked.
    if let Err(d) = super::negotiate::resolve(ours, theirs) {
        diffs.extend(d);
    }
    if ours.mode != theirs.mode {
        diffs.push(format!(
            "mode: ours `{}`, peer's `{}`",
            ours.mode, theirs.mode
        ));
    }
    if ours.policy_digest != theirs.policy_digest {
        diffs.push(format!(
            "policy digest: ours {}, peer's {} (both agencies must load the same policy)",
            hex::encode(ours.policy_digest),
            hex::encode(theirs.policy_digest)
        ));
    }
    if ours.chunk_size != theirs.chunk_size {
        diffs.push(format!(
            "chunk size: ours {}, peer's {}",
            ours.chunk_size, theirs.chunk_size
        ));
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(Error::LegacyIncompatible(format!(
            "the handshake did not match: {}",
            diffs.join("; ")
        )))
    }
}

fn put(h: &mut Sha3_256, part: &[u8]) {
    h.update((part.len() as u32).to_be_bytes());
    h.update(part);
}

/// The transcript hash (section 2.2): SHA3-256 over `TRANSCRIPT`, the exporter value, the
/// initiator's hello and the responder's hello, each prefixed by its u32 big-endian length.
pub fn transcript_hash(
    exporter: &[u8; HASH_LEN],
    initiator: &[u8],
    responder: &[u8],
) -> [u8; HASH_LEN] {
    let mut h = Sha3_256::new();
    put(&mut h, dst::TRANSCRIPT);
    put(&mut h, exporter);
    put(&mut h, initiator);
    put(&mut h, responder);
    h.finalize().into()
}

/// The session id (section 2.3): SHA3-256 over `SESSION_ID` and the transcript hash, each
/// length-prefixed.
pub fn session_id(transcript: &[u8; HASH_LEN]) -> [u8; HASH_LEN] {
    let mut h = Sha3_256::new();
    put(&mut h, dst::SESSION_ID);
    put(&mut h, transcript);
    h.finalize().into()
}

/// The TLS exporter value of a connection (RFC 8446 section 7.5, label
/// [`dst::TLS_EXPORTER_LABEL`], no context, 32 bytes).
///
/// # Errors
/// [`Error::Tls`] if the connection cannot export (handshake not complete).
pub fn exporter<D>(conn: &rustls::ConnectionCommon<D>) -> Result<[u8; HASH_LEN]> {
    conn.export_keying_material([0u8; HASH_LEN], dst::TLS_EXPORTER_LABEL, None)
        .map_err(|e| Error::LegacyTls(format!("TLS exporter: {e}")))
}

/// The outcome of a successful handshake.
#[derive(Debug, Clone)]
pub struct Agreed {
    /// Our hello.
    pub ours: Hello,
    /// The peer's hello.
    pub theirs: Hello,
    /// The transcript hash.
    pub transcript: [u8; HASH_LEN],
    /// The session id derived from it.
    pub session_id: [u8; HASH_LEN],
}

impl Agreed {
    /// The protocol both sides run (section 4.3.5), computed from the two hellos.
    ///
    /// # Errors
    /// [`Error::Incompatible`] if the hellos do not agree on one (never after a successful
    /// [`exchange`], which checks it).
    pub fn protocol(&self) -> Result<super::negotiate::Protocol> {
        super::negotiate::resolve(&self.ours, &self.theirs).map_err(|d| {
            Error::LegacyIncompatible(format!("the handshake did not match: {}", d.join("; ")))
        })
    }
}

/// Reads the next frame, which must be of `kind`.
async fn expect<S: AsyncRead + Unpin>(s: &mut S, kind: FrameKind, t: &Timeouts) -> Result<Vec<u8>> {
    match read_frame_timed(s, MAX_FRAME_LEN, t).await? {
        Some(f) if f.kind == kind => Ok(f.payload),
        Some(f) if f.kind == FrameKind::Abort => Err(Error::LegacyPeerMisbehaved(
            "the peer ended the session during the handshake (it reported a failure; its log says why)".into(),
        )),
        Some(f) => Err(Error::LegacyPeerMisbehaved(format!(
            "expected a {kind:?} frame in the handshake, got {:?}",
            f.kind
        ))),
        None => Err(Error::LegacyPeerMisbehaved(
            "the peer closed the connection during the handshake".into(),
        )),
    }
}

/// Runs the handshake on an established TLS stream (the caller applies the handshake
/// deadline). `exporter` is the connection's [`exporter`] value.
///
/// # Errors
/// [`Error::Incompatible`] on a mismatch (the peer sees the same mismatch),
/// [`Error::PeerMisbehaved`] for a malformed or unexpected frame or a wrong confirmation,
/// [`Error::Timeout`] or [`Error::Io`] from the connection.
pub async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    ours: Hello,
    exporter: &[u8; HASH_LEN],
    t: &Timeouts,
) -> Result<Agreed> {
    let our_bytes = ours.encode();
    let their_bytes = match ours.side {
        Side::Responder => {
            write_frame(stream, &Frame::new(FrameKind::Hello, our_bytes.clone())).await?;
            expect(stream, FrameKind::Hello, t).await?
        }
        Side::Initiator => {
            let theirs = expect(stream, FrameKind::Hello, t).await?;
            // Always answer, so the responder can name the mismatch too.
            write_frame(stream, &Frame::new(FrameKind::Hello, our_bytes.clone())).await?;
            theirs
        }
    };
    let theirs = Hello::decode(&their_bytes)?;
    if let Err(e) = check_compatible(&ours, &theirs) {
        let _ = write_frame(stream, &Frame::new(FrameKind::Abort, Vec::new())).await;
        return Err(e);
    }
    let transcript = match ours.side {
        Side::Initiator => transcript_hash(exporter, &our_bytes, &their_bytes),
        Side::Responder => transcript_hash(exporter, &their_bytes, &our_bytes),
    };
    write_frame(stream, &Frame::new(FrameKind::Confirm, transcript.to_vec())).await?;
    let confirm = expect(stream, FrameKind::Confirm, t).await?;
    let equal: bool = subtle::ConstantTimeEq::ct_eq(&confirm[..], &transcript[..]).into();
    if !equal {
        return Err(Error::LegacyPeerMisbehaved(
            "the handshake transcripts differ (a replayed or relayed handshake?)".into(),
        ));
    }
    Ok(Agreed {
        session_id: session_id(&transcript),
        ours,
        theirs,
        transcript,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hello(side: Side, mode: &str, policy: u8) -> Hello {
        Hello::new(side, "suite-x", "dh", mode, 4096, [policy; 32], 1000)
    }

    fn run_pair(
        a: Hello,
        b: Hello,
        ea: [u8; 32],
        eb: [u8; 32],
    ) -> (Result<Agreed>, Result<Agreed>) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async move {
            let (mut x, mut y) = tokio::io::duplex(1 << 16);
            let t = Timeouts::default().with_read_secs(5);
            let fa = exchange(&mut x, a, &ea, &t);
            let fb = exchange(&mut y, b, &eb, &t);
            tokio::join!(fa, fb)
        })
    }

    #[test]
    fn hello_round_trip() {
        let h = hello(Side::Initiator, "mutual", 3);
        assert_eq!(Hello::decode(&h.encode()).unwrap(), h);
        let enc = h.encode();
        for cut in 0..enc.len() {
            assert!(Hello::decode(&enc[..cut]).is_err());
        }
    }

    #[test]
    fn matching_hellos_agree_on_session_id() {
        let (a, b) = run_pair(
            hello(Side::Initiator, "mutual", 1),
            hello(Side::Responder, "mutual", 1),
            [9; 32],
            [9; 32],
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.session_id, b.session_id);
        assert_eq!(a.transcript, b.transcript);
        assert_eq!(a.theirs, b.ours);
    }

    #[test]
    fn mode_and_policy_mismatch_refused_on_both_sides() {
        let (a, b) = run_pair(
            hello(Side::Initiator, "mutual", 1),
            hello(Side::Responder, "cardinality", 2),
            [9; 32],
            [9; 32],
        );
        for e in [a.unwrap_err(), b.unwrap_err()] {
            let s = e.to_string();
            assert!(s.contains("mode: ours"), "{s}");
            assert!(s.contains("policy digest"), "{s}");
        }
    }

    #[test]
    fn different_exporters_fail_confirmation() {
        // As if the hellos were relayed between two TLS connections.
        let (a, b) = run_pair(
            hello(Side::Initiator, "mutual", 1),
            hello(Side::Responder, "mutual", 1),
            [1; 32],
            [2; 32],
        );
        assert!(a.unwrap_err().to_string().contains("transcripts differ"));
        assert!(b.unwrap_err().to_string().contains("transcripts differ"));
    }

    #[test]
    fn same_role_refused() {
        let (a, b) = run_pair(
            hello(Side::Responder, "mutual", 1),
            hello(Side::Responder, "mutual", 1),
            [1; 32],
            [1; 32],
        );
        // Both responders send first, then each sees the other claims its role.
        assert!(a.unwrap_err().to_string().contains("same role"));
        assert!(b.unwrap_err().to_string().contains("same role"));
    }

    #[test]
    fn transcript_binds_every_part() {
        let base = transcript_hash(&[0; 32], b"i", b"r");
        assert_ne!(base, transcript_hash(&[1; 32], b"i", b"r"));
        assert_ne!(base, transcript_hash(&[0; 32], b"r", b"i"));
        assert_ne!(base, transcript_hash(&[0; 32], b"ir", b""));
        assert_ne!(session_id(&base), base);
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Hello::decode(&bytes);
        }
    }
}
