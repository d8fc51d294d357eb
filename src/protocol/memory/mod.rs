//! Running both parties of a session in one process, for tests, benchmarks and the test
//! vectors. The very same state machines run over the network.
//!
//! Two drivers pass the messages: [`run_concurrently`] runs the parties on two threads at
//! once, as over the network (the default); [`pump`] runs them in turn on one thread, so a
//! recorded [`Transcript`] lists the messages in an order that never changes.

mod bucketed;
mod concurrent;
mod in_turn;

#[doc(hidden)]
pub use bucketed::{run_bucketed, BucketedProtocol};
pub use concurrent::run_concurrently;
pub use in_turn::pump;

use rand::rngs::SysRng;
use rand_core::{CryptoRng, UnwrapErr};

use crate::error::Result;
use crate::protocol::dh::{DhOutput, DhParams, DhSession};
use crate::protocol::{Interrupt, ItemSet, Mode, Role, SansIo};

/// Every message that crossed between the parties, as encoded bytes, in order.
#[derive(Debug, Default, Clone)]
pub struct Transcript {
    /// `(sender, message bytes)` in the order sent.
    pub messages: Vec<(Role, Vec<u8>)>,
}

impl Transcript {
    /// Total bytes each way: `(initiator to responder, responder to initiator)`.
    pub fn bytes(&self) -> (usize, usize) {
        self.messages
            .iter()
            .fold((0, 0), |(i, r), (who, m)| match who {
                Role::Initiator => (i + m.len(), r),
                Role::Responder => (i, r + m.len()),
            })
    }
}

/// Runs a whole DH-PSI session between `initiator` and `responder` items with OS randomness.
/// `padding` gives the element counts each side sends (each at least its distinct items);
/// `None` sends exactly the distinct items.
///
/// # Errors
/// [`crate::Error::Input`] when a padding bound is below a side's distinct items.
///
/// # Examples
///
/// ```
/// use blindmatch::protocol::memory::run_dh_psi;
/// use blindmatch::protocol::{ItemSet, Mode};
///
/// # fn main() -> blindmatch::Result<()> {
/// let ours = ItemSet::new(["IMO9187629", "IMO9321483"]);
/// let theirs = ItemSet::new(["IMO9321483", "IMO9999999", "IMO9074729"]);
/// // Both send 8 elements, so neither learns the other's true set size.
/// let (initiator, responder) = run_dh_psi(Mode::Cardinality, ours, theirs, Some((8, 8)))?;
/// assert_eq!(initiator.match_count(), Some(1));
/// assert_eq!(responder.peer_sent, 8);
/// # Ok(()) }
/// ```
pub fn run_dh_psi(
    mode: Mode,
    initiator: ItemSet,
    responder: ItemSet,
    padding: Option<(usize, usize)>,
) -> Result<(DhOutput, DhOutput)> {
    let mut rng = UnwrapErr(SysRng);
    let params = fresh_params(mode, &initiator, &responder, padding, &mut rng);
    let (out, _) = run_dh_psi_with(params, initiator, responder, &mut rng, false)?;
    Ok(out)
}

/// The parameters of an in-memory session: a random session id, and the counts `padding`
/// gives (each side's distinct items without it).
fn fresh_params<R: CryptoRng + ?Sized>(
    mode: Mode,
    initiator: &ItemSet,
    responder: &ItemSet,
    padding: Option<(usize, usize)>,
    rng: &mut R,
) -> DhParams {
    let mut session_id = [0u8; 32];
    rng.fill_bytes(&mut session_id);
    let counts = padding.unwrap_or((initiator.len(), responder.len()));
    DhParams::new(mode, session_id, counts.0, counts.1)
}

/// Runs a whole VOLE-PSI session (`protocol-spec/08-vole-psi.md`) between `initiator` (the
/// receiver) and `responder` (the sender) items with OS randomness, in mode `intersection` or
/// `mutual`, both parties at once. `padding` is as for [`run_dh_psi`]. The outputs have
/// DH-PSI's shape.
///
/// # Errors
/// [`crate::Error::Input`] when a padding bound is below a side's distinct items;
/// [`crate::Error::Internal`] for `cardinality`, which VOLE-PSI lacks.
///
/// # Examples
///
/// ```
/// use blindmatch::protocol::memory::run_vole_psi;
/// use blindmatch::protocol::{ItemSet, Mode};
///
/// # fn main() -> blindmatch::Result<()> {
/// let ours = ItemSet::new(["IMO9187629", "IMO9321483"]);
/// let theirs = ItemSet::new(["IMO9321483", "IMO9999999", "IMO9074729"]);
/// let (initiator, responder) = run_vole_psi(Mode::Mutual, ours, theirs, None)?;
/// assert_eq!(initiator.match_count(), Some(1));
/// assert_eq!(responder.match_count(), Some(1));
/// # Ok(()) }
/// ```
pub fn run_vole_psi(
    mode: Mode,
    initiator: ItemSet,
    responder: ItemSet,
    padding: Option<(usize, usize)>,
) -> Result<(DhOutput, DhOutput)> {
    let mut rng = UnwrapErr(SysRng);
    let params = fresh_params(mode, &initiator, &responder, padding, &mut rng);
    let (out, _) = run_vole_psi_with(params, initiator, responder, &mut rng, false)?;
    Ok(out)
}

/// As [`run_dh_psi_with`], for VOLE-PSI: a whole session with the given parameters and
/// randomness, optionally recording the transcript (then the parties run in turn).
///
/// # Errors
/// As [`run_vole_psi`].
pub fn run_vole_psi_with<R: CryptoRng + ?Sized>(
    params: DhParams,
    initiator: ItemSet,
    responder: ItemSet,
    rng: &mut R,
    record: bool,
) -> Result<((DhOutput, DhOutput), Transcript)> {
    use crate::protocol::vole_psi::VolePsiSession;
    let stop = Interrupt::new();
    let mut a = VolePsiSession::new(
        Role::Initiator,
        params.clone(),
        initiator,
        rng,
        stop.clone(),
    )?;
    let mut b = VolePsiSession::new(Role::Responder, params, responder, rng, stop)?;
    let transcript = exchange(&mut a, &mut b, record)?;
    Ok(((a.into_output()?, b.into_output()?), transcript))
}

/// Runs a whole session with the given parameters and randomness (the initiator draws first),
/// optionally recording the transcript. The generator of the published test vectors uses
/// this with a seeded RNG. Recording runs the parties in turn ([`pump`]), so the transcript's
/// order is reproducible; otherwise they run at once ([`run_concurrently`]).
///
/// # Errors
/// As [`DhSession::new`], and any protocol error (which would be a bug here).
pub fn run_dh_psi_with<R: CryptoRng + ?Sized>(
    params: DhParams,
    initiator: ItemSet,
    responder: ItemSet,
    rng: &mut R,
    record: bool,
) -> Result<((DhOutput, DhOutput), Transcript)> {
    let mut a = DhSession::new(Role::Initiator, params.clone(), initiator, rng)?;
    let mut b = DhSession::new(Role::Responder, params, responder, rng)?;
    let transcript = exchange(&mut a, &mut b, record)?;
    Ok(((a.into_output()?, b.into_output()?), transcript))
}

/// Runs two sessions against each other to the end: in turn and recorded when `record`,
/// otherwise at once (the transcript is then empty).
///
/// # Errors
/// As [`pump`] and [`run_concurrently`].
pub(crate) fn exchange<A, B>(a: &mut A, b: &mut B, record: bool) -> Result<Transcript>
where
    A: SansIo,
    B: SansIo<Message = A::Message> + Send,
{
    let mut transcript = Transcript::default();
    if record {
        pump(a, b, Some(&mut transcript))?;
    } else {
        run_concurrently(a, b)?;
    }
    Ok(transcript)
}
