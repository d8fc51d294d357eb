//! The transcript hash and the session id (`protocol-spec/04-transport-and-handshake.md`
//! section 4.3.3).
//!
//! ```text
//! enc(x)     = I2OSP(len(x), 4) || x
//! transcript = SHA3-256( enc(TRANSCRIPT) || enc(exporter)
//!                        || enc(hello_initiator) || enc(hello_responder) )
//! session_id = SHA3-256( enc(SESSION_ID) || enc(transcript) )
//! ```
//! The exporter (RFC 8446 section 7.5, label `EXPORTER-blindmatch-v1-channel-binding`) ties the transcript
//! to the TLS connection, so hellos replayed into another session or relayed between two
//! connections give different transcripts and the confirmation fails.

use sha3::{Digest, Sha3_256};

use crate::dst;

fn put(h: &mut Sha3_256, part: &[u8]) {
    h.update((part.len() as u32).to_be_bytes());
    h.update(part);
}

/// The transcript hash of the two hellos (their exact bytes) on the connection whose exporter
/// value is `exporter`.
pub fn transcript_hash(exporter: &[u8; 32], initiator: &[u8], responder: &[u8]) -> [u8; 32] {
    let mut h = Sha3_256::new();
    put(&mut h, dst::TRANSCRIPT);
    put(&mut h, exporter);
    put(&mut h, initiator);
    put(&mut h, responder);
    h.finalize().into()
}

/// The session id derived from a transcript hash.
pub fn session_id(transcript: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha3_256::new();
    put(&mut h, dst::SESSION_ID);
    put(&mut h, transcript);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcript_binds_every_part() {
        let base = transcript_hash(&[0; 32], b"i", b"r");
        assert_ne!(base, transcript_hash(&[1; 32], b"i", b"r"));
        assert_ne!(base, transcript_hash(&[0; 32], b"r", b"i"));
        assert_ne!(base, transcript_hash(&[0; 32], b"ir", b""));
        assert_ne!(session_id(&base), base);
    }
}
