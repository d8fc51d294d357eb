//! A peer written by hand from the library's pieces (frames, hellos, transcript), to misbehave
//! at chosen points against a real `blindmatch` process.

use std::time::Duration;

use blindmatch::identity::Fingerprint;
use blindmatch::oprf::Suite;
use blindmatch::policy::Policy;
use blindmatch::protocol::Role;
use blindmatch::session::transcript::transcript_hash;
use blindmatch::session::{Hello, ProtocolChoice, SessionMode};
use blindmatch::transport::framing::{read_frame, write_frame, Frame, FrameKind};
use tokio::io::{AsyncRead, AsyncWrite};

/// What a hand-made hello says.
pub struct RawHello {
    pub role: Role,
    pub protocol: ProtocolChoice,
    pub mode: SessionMode,
    pub chunk_size: u32,
    pub set_size: u64,
    pub key_kinds: Vec<String>,
}

impl RawHello {
    pub fn hello(&self, own: Fingerprint, peer: Fingerprint) -> Hello {
        Hello {
            role: self.role,
            protocol: self.protocol,
            mode: self.mode,
            oprf_suite: Suite::default(),
            chunk_size: self.chunk_size,
            max_bucket_log2: 20,
            shard: blindmatch::session::Shard::WHOLE,
            resume: None,
            policy_digest: Policy::parse(super::OPEN_POLICY_TEXT, "open-policy.toml")
                .expect("the open test policy")
                .digest(),
            set_size: self.set_size,
            own_fingerprint: own,
            peer_fingerprint: peer,
            time: chrono::Utc::now().timestamp(),
            key_kinds: self.key_kinds.clone(),
            nonce: [0x5a; 32],
        }
    }
}

/// Reads one frame within 20 s.
pub async fn next<S: AsyncRead + Unpin>(s: &mut S) -> Option<Frame> {
    tokio::time::timeout(Duration::from_secs(20), read_frame(s))
        .await
        .expect("the peer answered within 20 s")
        .expect("a well-formed frame")
}

/// Runs the handshake and admission as `raw.role`; returns the peer's hello and the session
/// id.
pub async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    exporter: &[u8; 32],
    own: Fingerprint,
    peer: Fingerprint,
    raw: &RawHello,
) -> (Hello, [u8; 32]) {
    let ours = raw.hello(own, peer).encode();
    let theirs = match raw.role {
        Role::Responder => {
            write_frame(s, &Frame::new(FrameKind::Hello, ours.clone()))
                .await
                .unwrap();
            next(s).await.unwrap()
        }
        Role::Initiator => {
            let t = next(s).await.unwrap();
            write_frame(s, &Frame::new(FrameKind::Hello, ours.clone()))
                .await
                .unwrap();
            t
        }
    };
    assert_eq!(theirs.kind, FrameKind::Hello);
    let transcript = match raw.role {
        Role::Initiator => transcript_hash(exporter, &ours, &theirs.payload),
        Role::Responder => transcript_hash(exporter, &theirs.payload, &ours),
    };
    write_frame(s, &Frame::new(FrameKind::Confirm, transcript.to_vec()))
        .await
        .unwrap();
    let confirm = next(s).await.unwrap();
    assert_eq!(confirm.kind, FrameKind::Confirm, "{confirm:?}");
    assert_eq!(confirm.payload, transcript);
    write_frame(s, &Frame::empty(FrameKind::Admitted))
        .await
        .unwrap();
    let verdict = next(s).await.unwrap();
    assert_eq!(verdict.kind, FrameKind::Admitted, "{verdict:?}");
    (
        Hello::decode(&theirs.payload).unwrap(),
        blindmatch::session::transcript::session_id(&transcript),
    )
}

/// Reads until the peer aborts or closes: "abort", "closed" or "error: ..".
pub async fn until_end<S: AsyncRead + Unpin>(s: &mut S) -> String {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), read_frame(s)).await {
            Ok(Ok(Some(f))) if f.kind == FrameKind::Abort => return "abort".into(),
            Ok(Ok(Some(_))) => continue,
            Ok(Ok(None)) => return "closed".into(),
            Ok(Err(e)) => return format!("error: {e}"),
            Err(_) => return "silent".into(),
        }
    }
}
