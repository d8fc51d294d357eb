//! Both parties of a bucketed session (`protocol-spec/09-buckets.md`) in one process, at
//! once: the entry point of the bucketed sessions' integration tests, until the session
//! envelope runs them.

use rand::rngs::SysRng;
use rand_core::UnwrapErr;

use crate::error::Result;
use crate::protocol::bucket::{
    bucket_count, BucketStart, BucketedSession, SubSession, DEFAULT_BUCKET_LOG2,
};
use crate::protocol::dh::{DhOutput, DhParams, DhSession};
use crate::protocol::memory::run_concurrently;
use crate::protocol::vole_psi::VolePsiSession;
use crate::protocol::{Interrupt, ItemSet, Mode, Role, SansIo};

pub use crate::protocol::bucket::BucketedProtocol;

/// Runs a whole bucketed session of `protocol` in `mode` between `initiator` and `responder`
/// items with OS randomness, both parties at once ([`run_concurrently`]). Each side announces
/// its distinct items; `buckets` overrides the number of buckets the spec derives from the
/// announced counts ([`bucket_count`]: 1 below 2^20 items).
///
/// # Errors
/// [`crate::Error::Config`] for `buckets` outside `1..=MAX_BUCKETS`;
/// [`crate::Error::Internal`] for VOLE-PSI in `cardinality` mode; any protocol error.
pub fn run_bucketed(
    protocol: BucketedProtocol,
    mode: Mode,
    initiator: ItemSet,
    responder: ItemSet,
    buckets: Option<u32>,
) -> Result<(DhOutput, DhOutput)> {
    let mut rng = UnwrapErr(SysRng);
    let params = super::fresh_params(mode, &initiator, &responder, None, &mut rng);
    let buckets = buckets
        .unwrap_or_else(|| bucket_count(initiator.len(), responder.len(), DEFAULT_BUCKET_LOG2));
    match protocol {
        BucketedProtocol::Dh => run::<DhSession>(params, buckets, initiator, responder),
        BucketedProtocol::Vole => run::<VolePsiSession>(params, buckets, initiator, responder),
    }
}

fn run<S: SubSession + Send>(
    params: DhParams,
    buckets: u32,
    initiator: ItemSet,
    responder: ItemSet,
) -> Result<(DhOutput, DhOutput)>
where
    S::Message: Send,
{
    let mut rng = UnwrapErr(SysRng);
    let stop = Interrupt::new();
    let mut a = BucketedSession::<S>::new(
        Role::Initiator,
        params.clone(),
        buckets,
        initiator,
        BucketStart::fresh(params.session_id),
        &mut rng,
        stop.clone(),
    )?;
    let start = BucketStart::fresh(params.session_id);
    let mut b = BucketedSession::<S>::new(
        Role::Responder,
        params,
        buckets,
        responder,
        start,
        &mut rng,
        stop,
    )?;
    run_concurrently(&mut a, &mut b)?;
    Ok((a.into_output()?, b.into_output()?))
}
