//! One DH-PSI session over an authenticated connection: the handshake, the parameters it
//! fixes, then the driver (`protocol-spec/04-transport-and-handshake.md` sections 2 and 3).

use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite};

use super::client::Connected;
use super::driver::{drive, DriveLimits, DriveStats};
use super::framing::MAX_FRAME_LEN;
use super::handshake::{exchange, Agreed, Hello, Side};
use super::progress::Progress;
use super::timeouts::{deadline, Timeouts};
use crate::dst;
use crate::error::{Error, Result};
use crate::identity::Fingerprint;
use crate::protocol::dh::{DhMessage, DhOutput, DhParams, DhSession};
use crate::protocol::{ItemSet, Mode, Role};

/// The protocol name carried in the hello.
pub const PROTOCOL_DH: &str = "dh";

/// What one side brings to a session.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// What the parties learn.
    pub mode: Mode,
    /// Digest of the loaded policy (must equal the peer's).
    pub policy_digest: [u8; 32],
    /// Elements per message (must equal the peer's).
    pub chunk_size: usize,
    /// Send this many elements instead of the true number of distinct items (padding bound).
    pub padded_count: Option<usize>,
    /// Deadlines.
    pub timeouts: Timeouts,
    /// No progress bars.
    pub quiet: bool,
}

/// The outcome of a session, for the summary, the output file and the audit log.
#[derive(Debug, Clone)]
pub struct SessionReport {
    /// Session id (from the transcript).
    pub session_id: [u8; 32],
    /// Transcript hash.
    pub transcript: [u8; 32],
    /// The peer's certificate fingerprint.
    pub peer_fingerprint: Fingerprint,
    /// The handshake as agreed.
    pub agreed: Agreed,
    /// What this side learned.
    pub output: DhOutput,
    /// Bytes each way.
    pub stats: DriveStats,
    /// Wall time from the session handshake to the end.
    pub elapsed: Duration,
}

/// The bytes the peer may send in a whole session: both sets once each, in frames.
fn max_received(params: &DhParams, role: Role) -> u64 {
    let frames = |n: usize| params.chunk_lengths(n).count() as u64;
    let (own, peer) = match role {
        Role::Initiator => (params.initiator_count, params.responder_count),
        Role::Responder => (params.responder_count, params.initiator_count),
    };
    32 * (own as u64 + peer as u64) + 10 * (frames(own) + frames(peer)) + 1024
}

/// Runs the handshake and a DH-PSI session as `role` on an authenticated connection, under
/// the handshake and session deadlines.
///
/// # Errors
/// [`Error::Input`] if the padding bound is below the distinct items; any handshake error
/// (mismatches are [`Error::Incompatible`]), protocol error, or transport error. The peer is
/// told only that the session failed.
pub async fn run_dh<S>(
    conn: Connected<S>,
    role: Role,
    config: &SessionConfig,
    items: ItemSet,
) -> Result<SessionReport>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let start = Instant::now();
    let own_count = match config.padded_count {
        Some(p) if p < items.len() => {
            return Err(Error::Input(format!(
                "the padding bound {p} is below the {} distinct items to send",
                items.len()
            )))
        }
        Some(p) => p,
        None => items.len(),
    };
    let side = match role {
        Role::Initiator => Side::Initiator,
        Role::Responder => Side::Responder,
    };
    let chunk = u32::try_from(config.chunk_size)
        .map_err(|_| Error::Config(format!("chunk size {} is too large", config.chunk_size)))?;
    let hello = Hello::new(
        side,
        &String::from_utf8_lossy(dst::DH_PSI_HASH_TO_GROUP),
        PROTOCOL_DH,
        config.mode.as_str(),
        chunk,
        config.policy_digest,
        own_count as u64,
    );
    let Connected {
        mut stream,
        exporter,
        peer_fingerprint,
    } = conn;
    let t = config.timeouts;
    let agreed = deadline(
        t.handshake,
        "the session handshake",
        exchange(&mut stream, hello, &exporter, &t),
    )
    .await?;
    let peer_count = usize::try_from(agreed.theirs.set_size)
        .map_err(|_| Error::PeerMisbehaved("the peer announced an impossible set size".into()))?;
    let (initiator_count, responder_count) = match role {
        Role::Initiator => (own_count, peer_count),
        Role::Responder => (peer_count, own_count),
    };
    let params = DhParams {
        mode: config.mode,
        session_id: agreed.session_id,
        initiator_count,
        responder_count,
        chunk_size: config.chunk_size,
    };
    params.validate()?;
    let limits = DriveLimits {
        max_frame: (DhMessage::encoded_len(config.chunk_size) + 1).min(MAX_FRAME_LEN),
        max_received: max_received(&params, role),
        timeouts: t,
    };
    let mut rng = rand_core::UnwrapErr(rand::rngs::SysRng);
    let (sent_total, recv_total) = (
        32 * (own_count
            + if role == Role::Initiator {
                peer_count
            } else {
                0
            }) as u64,
        32 * (peer_count
            + if role == Role::Responder {
                0
            } else {
                own_count
            }) as u64,
    );
    let session = DhSession::new(role, params, items, &mut rng)?;
    let progress = Progress::new(config.quiet, role.as_str(), sent_total, recv_total);
    let remaining = t.session.saturating_sub(start.elapsed());
    let (output, stats) = deadline(
        remaining,
        "the whole session",
        drive(stream, session, limits, progress),
    )
    .await?;
    Ok(SessionReport {
        session_id: agreed.session_id,
        transcript: agreed.transcript,
        peer_fingerprint,
        agreed,
        output,
        stats,
        elapsed: start.elapsed(),
    })
}
