//! One session of either protocol over an authenticated connection: the hello (with the
//! protocol this side asks for), the handshake, the local gate, then the DH-PSI or the
//! OPRF-PSI body (`protocol-spec/04-transport-and-handshake.md` sections 4.3 and 4.4).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite};

use super::client::Connected;
use super::driver::{drive, DriveLimits, DriveStats};
use super::framing::{write_frame, Frame, FrameKind, MAX_FRAME_LEN};
use super::handshake::{exchange, Agreed, Hello, Side};
use super::negotiate::{dh_suite, Protocol, ProtocolChoice, LABELED_MODE};
use super::oprf_body::{self, BodyOptions, OprfOutcome, OprfParty, SenderSet};
use super::progress::Progress;
use super::session::SessionConfig;
use super::timeouts::deadline;
use crate::error::{Error, Result};
use crate::identity::Fingerprint;
use crate::oprf::{OprfKey, Suite};
use crate::protocol::dh::{DhMessage, DhOutput, DhParams, DhSession};
use crate::protocol::oprf_psi::PreparedSender;
use crate::protocol::{ItemSet, Role};

/// Where a responder's OPRF-PSI set comes from.
#[derive(Debug, Clone)]
pub enum SenderSource {
    /// A precomputed index (`blindmatch index`): every session uses its key (a policy
    /// matter: `allow_key_reuse`, checked by the caller).
    Index {
        /// The evaluated set.
        set: Arc<PreparedSender>,
        /// Payload column names (labeled index).
        columns: Vec<String>,
    },
    /// The session's own items under a fresh random key, with one payload per input item in
    /// labeled mode.
    Fresh {
        /// Payloads, aligned with the input items.
        payloads: Option<Arc<Vec<Vec<u8>>>>,
        /// Payload column names.
        columns: Vec<String>,
    },
}

/// What a side brings beyond [`SessionConfig`]: the protocol it asks for and its OPRF-PSI
/// settings.
#[derive(Debug, Clone)]
pub struct ProtocolSetup {
    /// `dh`, `oprf` or `auto`.
    pub choice: ProtocolChoice,
    /// Labeled OPRF-PSI (mode `labeled`).
    pub labeled: bool,
    /// The OPRF suite.
    pub suite: Suite,
    /// The columns the policy lets a labeled session reveal.
    pub revealable_columns: BTreeSet<String>,
    /// The responder's OPRF-PSI set (`None`: its items, a fresh key, no payloads).
    pub sender: Option<SenderSource>,
}

impl Default for ProtocolSetup {
    fn default() -> Self {
        ProtocolSetup {
            choice: ProtocolChoice::Auto,
            labeled: false,
            suite: Suite::default(),
            revealable_columns: BTreeSet::new(),
            sender: None,
        }
    }
}

/// What one side learned.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A DH-PSI session.
    Dh(DhOutput),
    /// An OPRF-PSI session.
    Oprf(OprfOutcome),
}

/// The outcome of a session of either protocol.
#[derive(Debug, Clone)]
pub struct Report {
    /// Session id (from the transcript).
    pub session_id: [u8; 32],
    /// Transcript hash.
    pub transcript: [u8; 32],
    /// The peer's certificate fingerprint.
    pub peer_fingerprint: Fingerprint,
    /// The handshake as agreed.
    pub agreed: Agreed,
    /// The protocol that ran.
    pub protocol: Protocol,
    /// What this side learned.
    pub outcome: Outcome,
    /// Bytes each way.
    pub stats: DriveStats,
    /// Wall time from the session handshake to the end.
    pub elapsed: Duration,
}

async fn abort<S: AsyncWrite + Unpin>(stream: &mut S) {
    let _ = write_frame(stream, &Frame::new(FrameKind::Abort, Vec::new())).await;
}

/// Runs the handshake and a session of the protocol both sides agree on, as `role`.
///
/// The responder announces its index's size when it serves one; otherwise both announce
/// their distinct items (or the padding bound). OPRF-PSI runs with the initiator as receiver.
///
/// # Errors
/// [`Error::Input`] if the padding bound is below the distinct items; handshake mismatches
/// ([`Error::Incompatible`], naming the protocol, suite or mode); the gate's refusal;
/// [`Error::Config`] when DH-PSI is picked but the responder only has an index; any
/// protocol or transport error. The peer is told only that the session failed.
pub async fn run_session<S>(
    conn: Connected<S>,
    role: Role,
    config: &SessionConfig,
    setup: &ProtocolSetup,
    items: ItemSet,
) -> Result<Report>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let start = Instant::now();
    let index = match (&setup.sender, role) {
        (Some(SenderSource::Index { set, columns }), Role::Responder) => Some(SenderSet {
            set: set.clone(),
            columns: columns.clone(),
        }),
        _ => None,
    };
    let real = index.as_ref().map_or(items.len(), |s| s.set.len());
    let own_count = match config.padded_count {
        Some(p) if p < real => {
            return Err(Error::Input(format!(
                "the padding bound {p} is below the {real} distinct items to send"
            )))
        }
        Some(p) => p,
        None => real,
    };
    let side = match role {
        Role::Initiator => Side::Initiator,
        Role::Responder => Side::Responder,
    };
    let chunk = u32::try_from(config.chunk_size)
        .map_err(|_| Error::Config(format!("chunk size {} is too large", config.chunk_size)))?;
    let suite = match setup.choice {
        ProtocolChoice::Dh => dh_suite(),
        _ => setup.suite.to_string(),
    };
    let mode = if setup.labeled {
        LABELED_MODE
    } else {
        config.mode.as_str()
    };
    let hello = Hello::new(
        side,
        &suite,
        setup.choice.as_str(),
        mode,
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
    let protocol = match agreed.protocol() {
        Ok(p) => p,
        Err(e) => {
            abort(&mut stream).await;
            return Err(e);
        }
    };
    if let Some(gate) = &config.gate {
        if let Err(e) = (gate.0)(&agreed, &peer_fingerprint) {
            abort(&mut stream).await;
            return Err(e);
        }
    }
    let remaining = t.session.saturating_sub(start.elapsed());
    let (outcome, stats) = match protocol {
        Protocol::Dh => {
            if index.is_some() {
                abort(&mut stream).await;
                return Err(Error::Config(
                    "DH-PSI was picked, but this side serves a precomputed index, which only \
                     OPRF-PSI can use"
                        .into(),
                ));
            }
            let body = dh_body(stream, role, config, &agreed, own_count, items);
            let (out, stats) = deadline(remaining, "the whole session", body).await?;
            (Outcome::Dh(out), stats)
        }
        Protocol::Oprf => {
            let party = match (role, index) {
                (Role::Initiator, _) => OprfParty::Receiver(items),
                (Role::Responder, Some(s)) => OprfParty::Sender(s),
                (Role::Responder, None) => match fresh_sender(setup, items).await {
                    Ok(s) => OprfParty::Sender(s),
                    Err(e) => {
                        abort(&mut stream).await;
                        return Err(e);
                    }
                },
            };
            let opts = BodyOptions {
                suite: setup.suite,
                revealable_columns: setup.revealable_columns.clone(),
                timeouts: t,
                quiet: config.quiet,
            };
            let body = oprf_body::run(stream, &agreed, party, &opts);
            let (out, stats) = deadline(remaining, "the whole session", body).await?;
            (Outcome::Oprf(out), stats)
        }
    };
    Ok(Report {
        session_id: agreed.session_id,
        transcript: agreed.transcript,
        peer_fingerprint,
        agreed,
        protocol,
        outcome,
        stats,
        elapsed: start.elapsed(),
    })
}

/// Evaluates the responder's items under a fresh key for this session only.
async fn fresh_sender(setup: &ProtocolSetup, items: ItemSet) -> Result<SenderSet> {
    let (payloads, columns) = match &setup.sender {
        Some(SenderSource::Fresh { payloads, columns }) => (payloads.clone(), columns.clone()),
        _ => (None, Vec::new()),
    };
    let suite = setup.suite;
    let set = tokio::task::spawn_blocking(move || {
        let key = OprfKey::random(&mut rand_core::UnwrapErr(rand::rngs::SysRng));
        PreparedSender::new(suite, key, &items, payloads.as_deref().map(Vec::as_slice))
    })
    .await
    .map_err(|e| Error::Config(format!("evaluating the set failed: {e}")))??;
    Ok(SenderSet {
        set: Arc::new(set),
        columns,
    })
}

/// The bytes the peer may send in a whole DH-PSI session: both sets once each, in frames.
fn dh_max_received(params: &DhParams, role: Role) -> u64 {
    let frames = |n: usize| params.chunk_lengths(n).count() as u64;
    let (own, peer) = match role {
        Role::Initiator => (params.initiator_count, params.responder_count),
        Role::Responder => (params.responder_count, params.initiator_count),
    };
    32 * (own as u64 + peer as u64) + 10 * (frames(own) + frames(peer)) + 1024
}

/// The DH-PSI body after the handshake (as [`super::session::run_dh`]).
async fn dh_body<S>(
    stream: S,
    role: Role,
    config: &SessionConfig,
    agreed: &Agreed,
    own_count: usize,
    items: ItemSet,
) -> Result<(DhOutput, DriveStats)>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
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
        max_received: dh_max_received(&params, role),
        timeouts: config.timeouts,
    };
    let mut rng = rand_core::UnwrapErr(rand::rngs::SysRng);
    let both = 32 * (own_count + peer_count) as u64;
    let session = DhSession::new(role, params, items, &mut rng)?;
    let progress = Progress::new(config.quiet, role.as_str(), both, both);
    drive(stream, session, limits, progress).await
}
