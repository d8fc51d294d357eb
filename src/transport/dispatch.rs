//! The protocol body the command line runs inside the session envelope
//! ([`super::session::run_session`]): it announces the protocol this side asks for (`dh`,
//! `oprf` or `auto`), and once the handshake has picked one (section 4.3.5 of
//! `protocol-spec/04-transport-and-handshake.md`) runs the DH-PSI body
//! ([`super::dh_body::DhBody`]) or the OPRF-PSI body ([`super::oprf_body`]).

use std::collections::BTreeSet;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};

use super::client::Connected;
use super::dh_body::DhBody;
use super::driver::DriveStats;
use super::framing::{write_frame, Frame, FrameKind};
use super::negotiate::{dh_suite, Protocol, ProtocolChoice, LABELED_MODE};
use super::oprf_body::{self, BodyOptions, OprfOutcome, OprfParty, SenderSet};
use super::session::{run_session, BodyContext, ProtocolBody, SessionConfig, SessionReport};
use crate::audit::Learned;
use crate::error::{Error, Result};
use crate::oprf::{OprfKey, Suite};
use crate::protocol::dh::DhOutput;
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

impl Outcome {
    /// The protocol that ran.
    pub fn protocol(&self) -> Protocol {
        match self {
            Outcome::Dh(_) => Protocol::Dh,
            Outcome::Oprf(_) => Protocol::Oprf,
        }
    }
}

/// The report of a session of either protocol.
pub type Report = SessionReport<Outcome>;

/// DH-PSI or OPRF-PSI, as the handshake picks, as a [`ProtocolBody`].
#[derive(Debug, Clone)]
pub struct PsiBody {
    setup: Arc<ProtocolSetup>,
    items: ItemSet,
}

impl PsiBody {
    /// The body of a side with these settings and items (a responder serving an index
    /// brings no items).
    pub fn new(setup: Arc<ProtocolSetup>, items: ItemSet) -> Self {
        PsiBody { setup, items }
    }

    fn index(&self) -> Option<SenderSet> {
        match &self.setup.sender {
            Some(SenderSource::Index { set, columns }) => Some(SenderSet {
                set: set.clone(),
                columns: columns.clone(),
            }),
            _ => None,
        }
    }
}

async fn abort<S: AsyncWrite + Unpin>(stream: &mut S) {
    let _ = write_frame(stream, &Frame::new(FrameKind::Abort, Vec::new())).await;
}

async fn run_body<IO>(
    body: PsiBody,
    mut stream: IO,
    ctx: BodyContext,
) -> Result<(Outcome, DriveStats, IO)>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let protocol = match ctx.agreed.protocol() {
        Ok(p) => p,
        Err(e) => {
            abort(&mut stream).await;
            return Err(e);
        }
    };
    let index = body.index();
    match protocol {
        Protocol::Dh => {
            if index.is_some() {
                abort(&mut stream).await;
                return Err(Error::LegacyConfig(
                    "DH-PSI was picked, but this side serves a precomputed index, which only \
                     OPRF-PSI can use"
                        .into(),
                ));
            }
            let (out, stats, stream) = DhBody::new(body.items).run(stream, ctx).await?;
            Ok((Outcome::Dh(out), stats, stream))
        }
        Protocol::Oprf => {
            let party = match (ctx.role, index) {
                (Role::Initiator, _) => OprfParty::Receiver(body.items),
                (Role::Responder, Some(s)) => OprfParty::Sender(s),
                (Role::Responder, None) => match fresh_sender(&body.setup, body.items).await {
                    Ok(s) => OprfParty::Sender(s),
                    Err(e) => {
                        abort(&mut stream).await;
                        return Err(e);
                    }
                },
            };
            let opts = BodyOptions {
                suite: body.setup.suite,
                revealable_columns: body.setup.revealable_columns.clone(),
                timeouts: ctx.config.timeouts,
                quiet: ctx.config.quiet,
            };
            let (out, stats, stream) = oprf_body::run(stream, &ctx.agreed, party, &opts).await?;
            Ok((Outcome::Oprf(out), stats, stream))
        }
    }
}

impl ProtocolBody for PsiBody {
    type Output = Outcome;

    fn protocol(&self) -> &'static str {
        self.setup.choice.as_str()
    }

    fn suite(&self) -> String {
        match self.setup.choice {
            ProtocolChoice::Dh => dh_suite(),
            _ => self.setup.suite.to_string(),
        }
    }

    fn mode(&self, config: &SessionConfig) -> String {
        if self.setup.labeled {
            LABELED_MODE.to_owned()
        } else {
            config.mode.as_str().to_owned()
        }
    }

    fn own_unique(&self) -> usize {
        self.index().map_or(self.items.len(), |s| s.set.len())
    }

    fn run<IO>(
        self,
        stream: IO,
        ctx: BodyContext,
    ) -> impl Future<Output = Result<(Outcome, DriveStats, IO)>> + Send
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        run_body(self, stream, ctx)
    }

    fn learned(output: &Outcome) -> (Learned, Learned) {
        match output {
            Outcome::Dh(o) => DhBody::learned(o),
            // The sender learns only the receiver's (padded) set size.
            Outcome::Oprf(OprfOutcome::Receiver { output, .. }) => (
                Learned::Matches(output.matches.len() as u64),
                Learned::Nothing,
            ),
            Outcome::Oprf(OprfOutcome::Sender(_)) => (Learned::Nothing, Learned::Undisclosed),
        }
    }
}

/// Runs a session of the protocol both sides agree on, as `role`, in the session envelope;
/// `finish` writes the output file (see [`run_session`]). The responder announces its index's
/// size when it serves one; OPRF-PSI runs with the initiator as receiver.
///
/// # Errors
/// As [`run_session`]: handshake mismatches ([`Error::Incompatible`], naming the protocol,
/// suite or mode), refusals, [`Error::Config`] when DH-PSI is picked but the responder only
/// has an index, any protocol or transport error. The peer is told only that the session
/// failed.
pub async fn run_psi<S, F>(
    conn: Connected<S>,
    role: Role,
    config: &SessionConfig,
    setup: Arc<ProtocolSetup>,
    items: ItemSet,
    finish: F,
) -> Result<Report>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    F: FnOnce(&Outcome, &[u8; 32]) -> Result<Option<PathBuf>> + Send,
{
    run_session(conn, role, config, PsiBody::new(setup, items), finish).await
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
    .map_err(|e| Error::LegacyConfig(format!("evaluating the set failed: {e}")))??;
    Ok(SenderSet {
        set: Arc::new(set),
        columns,
    })
}
