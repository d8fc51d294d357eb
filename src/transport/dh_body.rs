//! The DH-PSI body of a networked session (`protocol-spec/04-transport-and-handshake.md`
//! section 4.4 and `protocol-spec/03-dh-psi.md`): the parameters the handshake fixed, then the
//! driver. The envelope around it is [`super::session::run_session`].

use std::future::Future;

use tokio::io::{AsyncRead, AsyncWrite};

use super::client::Connected;
use super::driver::{drive, DriveLimits, DriveStats};
use super::framing::MAX_FRAME_LEN;
use super::progress::{
    Direction::{Received, Sent},
    Phase, Progress,
};
use super::session::{run_session, BodyContext, ProtocolBody, SessionConfig, SessionReport};
use crate::audit::Learned;
use crate::dst;
use crate::error::Result;
use crate::protocol::dh::{DhMessage, DhOutput, DhParams, DhSession};
use crate::protocol::{ItemSet, Mode, Role};

/// The protocol name carried in the hello.
pub const PROTOCOL_DH: &str = "dh";

/// DH-PSI as a [`ProtocolBody`]: our items.
#[derive(Debug, Clone)]
pub struct DhBody {
    items: ItemSet,
}

impl DhBody {
    /// The body that matches `items`.
    pub fn new(items: ItemSet) -> Self {
        DhBody { items }
    }
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

async fn run_body<IO>(
    items: ItemSet,
    stream: IO,
    ctx: BodyContext,
) -> Result<(DhOutput, DriveStats, IO)>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let BodyContext {
        role,
        agreed,
        own_count,
        peer_count,
        config,
    } = ctx;
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
        timeouts: config.timeouts,
    };
    let mut rng = rand_core::UnwrapErr(rand::rngs::SysRng);
    let session = DhSession::new(role, params, items, &mut rng)?;
    let progress = Progress::new(
        config.quiet,
        role.as_str(),
        &phases(role, config.mode, own_count, peer_count),
    );
    drive(stream, session, limits, progress).await
}

/// The phases of a DH-PSI session as `role` sees them (`protocol-spec/03-dh-psi.md`): the
/// responder always re-blinds the initiator's set; the initiator re-blinds the responder's set
/// only in mutual mode.
fn phases(role: Role, mode: Mode, own: usize, peer: usize) -> Vec<Phase> {
    let (own, peer) = (own as u64, peer as u64);
    let ours_out = Phase::new(Sent, DhMessage::BLINDED, "our set, hashed and blinded", own);
    let ours_back = Phase::new(
        Received,
        DhMessage::REBLINDED,
        "our set, re-blinded by the peer",
        own,
    );
    let theirs_in = Phase::new(Received, DhMessage::BLINDED, "the peer's blinded set", peer);
    let theirs_back = Phase::new(
        Sent,
        DhMessage::REBLINDED,
        "the peer's set, re-blinded",
        peer,
    );
    match (role, mode) {
        (Role::Initiator, Mode::Mutual) => vec![ours_out, ours_back, theirs_in, theirs_back],
        (Role::Initiator, _) => vec![ours_out, ours_back, theirs_in],
        (Role::Responder, Mode::Mutual) => vec![theirs_in, theirs_back, ours_out, ours_back],
        (Role::Responder, _) => vec![theirs_in, theirs_back, ours_out],
    }
}

impl ProtocolBody for DhBody {
    type Output = DhOutput;

    fn protocol(&self) -> &'static str {
        PROTOCOL_DH
    }

    fn suite(&self) -> String {
        String::from_utf8_lossy(dst::DH_PSI_HASH_TO_GROUP).into_owned()
    }

    fn own_unique(&self) -> usize {
        self.items.len()
    }

    fn run<IO>(
        self,
        stream: IO,
        ctx: BodyContext,
    ) -> impl Future<Output = Result<(DhOutput, DriveStats, IO)>> + Send
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        run_body(self.items, stream, ctx)
    }

    fn learned(output: &DhOutput) -> (Learned, Learned) {
        let own = Learned::from_dh(&output.learned);
        let peer = match (output.mode, output.role) {
            // Both learn the same intersection.
            (Mode::Mutual, _) => own,
            (Mode::Intersection | Mode::Cardinality, Role::Initiator) => Learned::Nothing,
            (Mode::Intersection | Mode::Cardinality, Role::Responder) => Learned::Undisclosed,
        };
        (own, peer)
    }
}

/// Runs a DH-PSI session as `role` in the envelope ([`run_session`]) and writes no output
/// file (use [`run_session`] with a `finish` that writes one).
///
/// # Errors
/// As [`run_session`].
pub async fn run_dh<S>(
    conn: Connected<S>,
    role: Role,
    config: &SessionConfig,
    items: ItemSet,
) -> Result<SessionReport>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    run_session(conn, role, config, DhBody::new(items), |_, _| Ok(None)).await
}
