//! The session envelope: everything a networked session does around its protocol body
//! (`protocol-spec/04-transport-and-handshake.md` sections 4.3 and 4.4, and
//! `protocol-spec/06-policy-and-audit.md`).
//!
//! In order:
//! 1. the handshake ([`super::handshake`]), which fixes the session id and both set sizes;
//! 2. the gate, before any element: the caller's [`SessionGate`], then the policy and the
//!    per-peer budget ([`Compliance::admit`]; a refusal is logged), and the admission
//!    exchange ([`super::admission`]): both verdicts cross, so a refusal on either side ends
//!    the session on both, naming the rule;
//! 3. the `session_started` audit entry;
//! 4. the protocol body ([`ProtocolBody`]: DH-PSI is [`super::dh_body::DhBody`]; the command
//!    line runs [`super::dispatch::PsiBody`], DH-PSI or OPRF-PSI as the handshake picked),
//!    driven over the connection until both sides sent `Done`;
//! 5. the receipt exchange ([`super::receipts`]): signed [`SessionReceipt`]s both ways, the
//!    peer's checked against its certificate's key and logged;
//! 6. the caller's `finish` (writing the output file), then the `session_ended` entry.
//!
//! Any error after step 3 is logged as `session_aborted` with our local reason; the peer is
//! told only that the session failed. Without [`SessionConfig::compliance`] steps 2 (policy
//! part), 3, 5 and 6's entry are skipped: both sides must then run without it (the command
//! line always runs with it).

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::admission;
use super::client::Connected;
use super::compliance::{now, Compliance};
use super::driver::DriveStats;
use super::framing::{write_frame, Frame, FrameKind};
use super::handshake::{exchange, Agreed, Hello, Side};
use super::receipts;
use super::timeouts::{deadline, Timeouts};
use crate::audit::{self, Learned, Outcome, ReceiptRole, SessionInfo, SessionReceipt};
use crate::error::{Error, Result};
use crate::identity::{cert_common_name, Fingerprint};
use crate::protocol::dh::DhOutput;
use crate::protocol::{Mode, Role};

pub use super::dh_body::{run_dh, DhBody, PROTOCOL_DH};

/// A check run after the handshake and before any element is sent (for example the policy's
/// `check_session` on the agreed mode and the peer's set size). An error refuses the session:
/// the peer receives `Abort`.
#[derive(Clone)]
pub struct SessionGate(pub Arc<GateFn>);

/// The function behind a [`SessionGate`]: the agreed handshake and the peer's fingerprint.
pub type GateFn = dyn Fn(&Agreed, &Fingerprint) -> Result<()> + Send + Sync;

impl std::fmt::Debug for SessionGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionGate(..)")
    }
}

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
    /// Run after the handshake, before any element (extra local checks).
    pub gate: Option<SessionGate>,
    /// Policy, budget, audit log and receipts (see the module docs).
    pub compliance: Option<Arc<Compliance>>,
}

/// What the envelope tells a protocol body about the agreed session.
#[derive(Debug, Clone)]
pub struct BodyContext {
    /// Our role.
    pub role: Role,
    /// The handshake as agreed (session id, both hellos).
    pub agreed: Agreed,
    /// Elements we announced (our padded count).
    pub own_count: usize,
    /// Elements the peer announced (its padded count).
    pub peer_count: usize,
    /// Our configuration.
    pub config: SessionConfig,
}

/// A protocol run inside the session envelope: what it announces in the hello, and how it
/// runs over the connection once the envelope has admitted the session.
pub trait ProtocolBody: Send + 'static {
    /// What this side learns.
    type Output: Send + 'static;

    /// The hello's `protocol` field (`dh`, `oprf`).
    fn protocol(&self) -> &'static str;

    /// The hello's `suite` field.
    fn suite(&self) -> String;

    /// The hello's `mode` field: by default the configured DH-PSI mode (OPRF-PSI adds
    /// `labeled`). The envelope logs and checks the agreed mode.
    fn mode(&self, config: &SessionConfig) -> String {
        config.mode.as_str().to_owned()
    }

    /// Our number of distinct real items (our true size: it stays local).
    fn own_unique(&self) -> usize;

    /// Runs the protocol over `stream` until both sides sent `Done` (section 4.4), returning
    /// the output, the byte counts and the stream (with nothing after the peer's `Done` read).
    /// The envelope applies the whole-session deadline around it.
    fn run<IO>(
        self,
        stream: IO,
        ctx: BodyContext,
    ) -> impl Future<Output = Result<(Self::Output, DriveStats, IO)>> + Send
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// What we and the peer learned, as the audit log records it (counts only).
    fn learned(output: &Self::Output) -> (Learned, Learned);
}

/// The outcome of a session, for the summary, the output file and the audit log.
#[derive(Debug, Clone)]
pub struct SessionReport<O = DhOutput> {
    /// Session id (from the transcript).
    pub session_id: [u8; 32],
    /// Transcript hash.
    pub transcript: [u8; 32],
    /// The peer's certificate fingerprint.
    pub peer_fingerprint: Fingerprint,
    /// The handshake as agreed.
    pub agreed: Agreed,
    /// What this side learned.
    pub output: O,
    /// Bytes each way.
    pub stats: DriveStats,
    /// Wall time from the session handshake to the end.
    pub elapsed: Duration,
    /// The peer's checked receipt (with compliance on).
    pub peer_receipt: Option<SessionReceipt>,
    /// The file `finish` wrote, if any.
    pub output_file: Option<PathBuf>,
}

fn side(role: Role) -> Side {
    match role {
        Role::Initiator => Side::Initiator,
        Role::Responder => Side::Responder,
    }
}

/// Runs a session with `body` as `role` on an authenticated connection: handshake, gate,
/// body, receipts, then `finish` (given the output and the session id; it writes the output
/// file and returns its path) and the end entry. See the module docs.
///
/// # Errors
/// [`Error::Input`] if the padding bound is below the distinct items; any handshake error
/// (mismatches are [`Error::Incompatible`]); [`Error::PolicyRefused`] naming the rule; a
/// protocol, receipt or transport error; `finish`'s error. The peer is told only that the
/// session failed, or, for a policy refusal at admission, the name of the rule.
pub async fn run_session<S, B, F>(
    conn: Connected<S>,
    role: Role,
    config: &SessionConfig,
    body: B,
    finish: F,
) -> Result<SessionReport<B::Output>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    B: ProtocolBody,
    F: FnOnce(&B::Output, &[u8; 32]) -> Result<Option<PathBuf>> + Send,
{
    let start = Instant::now();
    let own_unique = body.own_unique();
    let own_count = match config.padded_count {
        Some(p) if p < own_unique => {
            return Err(Error::LegacyInput(format!(
                "the padding bound {p} is below the {own_unique} distinct items to send"
            )))
        }
        Some(p) => p,
        None => own_unique,
    };
    let chunk = u32::try_from(config.chunk_size).map_err(|_| {
        Error::LegacyConfig(format!("chunk size {} is too large", config.chunk_size))
    })?;
    let hello = Hello::new(
        side(role),
        &body.suite(),
        body.protocol(),
        &body.mode(config),
        chunk,
        config.policy_digest,
        own_count as u64,
    );
    let Connected {
        mut stream,
        exporter,
        peer_fingerprint,
        peer_cert,
    } = conn;
    let t = config.timeouts;
    // 1. Handshake (section 4.3).
    let agreed = deadline(
        t.handshake,
        "the session handshake",
        exchange(&mut stream, hello, &exporter, &t),
    )
    .await?;
    // 2. Gate and admission (section 4.3.4), before any element.
    let verdict = gate(config, &agreed, &peer_fingerprint, own_unique);
    let ours_refused = verdict.is_err();
    if let Err(e) = deadline(
        t.handshake,
        "the admission of the session",
        admission::exchange(&mut stream, verdict, &t),
    )
    .await
    {
        if let (Some(c), false, Error::LegacyPolicyRefused { .. }) =
            (&config.compliance, ours_refused, &e)
        {
            // The peer refused: our log records it too (we logged our own refusals already).
            c.log()
                .session_refused(&peer_fingerprint.to_string(), &agreed.ours.mode, &e)?;
        }
        return Err(e);
    }
    let peer_count = usize::try_from(agreed.theirs.set_size).map_err(|_| {
        Error::LegacyPeerMisbehaved("the peer announced an impossible set size".into())
    })?;
    let info = SessionInfo {
        session_id: hex::encode(agreed.session_id),
        transcript_hash: hex::encode(agreed.transcript),
        role: role.as_str().to_owned(),
        mode: agreed.ours.mode.clone(),
        own_agency: config
            .compliance
            .as_ref()
            .map(|c| c.own_agency().to_owned())
            .unwrap_or_default(),
        peer_agency: cert_common_name(&peer_cert).unwrap_or_default(),
        peer_fingerprint: peer_fingerprint.to_string(),
        policy_digest: hex::encode(agreed.ours.policy_digest),
        own_unique: own_unique as u64,
        own_sent: own_count as u64,
        peer_sent: peer_count as u64,
    };
    // 3. Start entry.
    if let Some(c) = &config.compliance {
        if let Err(e) = c.log().session_started(&info) {
            let _ = write_frame(&mut stream, &Frame::new(FrameKind::Abort, Vec::new())).await;
            return Err(e);
        }
    }
    let ctx = BodyContext {
        role,
        agreed: agreed.clone(),
        own_count,
        peer_count,
        config: config.clone(),
    };
    let compliance = config.compliance.clone();
    let result = async {
        // 4. Body, then 5. receipts, under the whole-session deadline.
        let remaining = t.session.saturating_sub(start.elapsed());
        let (output, stats, peer_receipt) = deadline(remaining, "the whole session", async {
            let (output, stats, mut stream) = body.run(stream, ctx).await?;
            let peer_receipt = match &compliance {
                Some(c) => match exchange_receipts(&mut stream, c, &agreed, role, &peer_cert, &t)
                    .await
                {
                    Ok(r) => Some(r),
                    Err(e) => {
                        let _ = write_frame(&mut stream, &Frame::new(FrameKind::Abort, Vec::new()))
                            .await;
                        let _ = tokio::time::timeout(t.frame, stream.shutdown()).await;
                        return Err(e);
                    }
                },
                None => None,
            };
            // close_notify; the peer may already be gone.
            let _ = tokio::time::timeout(t.frame, stream.shutdown()).await;
            Ok((output, stats, peer_receipt))
        })
        .await?;
        if let (Some(c), Some(r)) = (&compliance, &peer_receipt) {
            c.log().peer_receipt(r)?;
        }
        // 6. Output, then the end entry.
        let output_file = finish(&output, &agreed.session_id)?;
        if let Some(c) = &compliance {
            let (own_learned, peer_learned) = B::learned(&output);
            let output_sha3_256 = match &output_file {
                Some(p) => Some(audit::file_digest(p)?),
                None => None,
            };
            c.log().session_ended(
                &info,
                &Outcome {
                    own_learned,
                    peer_learned,
                    output_file: output_file.as_ref().map(|p| p.display().to_string()),
                    output_sha3_256,
                },
            )?;
            c.completed(&agreed.ours.mode, &peer_fingerprint)?;
        }
        Ok::<_, Error>((output, stats, peer_receipt, output_file))
    }
    .await;
    match result {
        Ok((output, stats, peer_receipt, output_file)) => Ok(SessionReport {
            session_id: agreed.session_id,
            transcript: agreed.transcript,
            peer_fingerprint,
            agreed,
            output,
            stats,
            elapsed: start.elapsed(),
            peer_receipt,
            output_file,
        }),
        Err(e) => {
            if let Some(c) = &config.compliance {
                // The session error matters more than a failure to log it.
                let _ = c.log().session_aborted(&info, &e.to_string());
            }
            Err(e)
        }
    }
}

/// The caller's gate, then the policy and the budget.
fn gate(
    config: &SessionConfig,
    agreed: &Agreed,
    peer: &Fingerprint,
    own_unique: usize,
) -> Result<()> {
    if let Some(g) = &config.gate {
        (g.0)(agreed, peer)?;
    }
    if let Some(c) = &config.compliance {
        c.admit(agreed, peer, own_unique)?;
    }
    Ok(())
}

async fn exchange_receipts<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    c: &Compliance,
    agreed: &Agreed,
    role: Role,
    peer_cert: &[u8],
    t: &Timeouts,
) -> Result<SessionReceipt> {
    let (receipt_role, initiator_count, responder_count) = match role {
        Role::Initiator => (
            ReceiptRole::Initiator,
            agreed.ours.set_size,
            agreed.theirs.set_size,
        ),
        Role::Responder => (
            ReceiptRole::Responder,
            agreed.theirs.set_size,
            agreed.ours.set_size,
        ),
    };
    let body = receipts::body(
        agreed.session_id,
        agreed.transcript,
        receipt_role,
        initiator_count,
        responder_count,
        now(),
    );
    let ours = c.sign_receipt(&body);
    receipts::exchange(stream, &ours, &body, peer_cert, t).await
}
