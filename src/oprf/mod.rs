//! RFC 9497 OPRF mode (`mode = 0x00`) on ristretto255, batched and parallel, in two suites
//! sharing one code path ([`Suite`]): the RFC's `ristretto255-SHA512` and blindmatch's
//! `ristretto255-SHAKE256-blindmatch-v1` (`protocol-spec/07-oprf-psi.md` section 2).
//!
//! * [`client::blind`] → blinded elements to the server, [`client::Blinded`] kept;
//! * [`OprfKey::blind_evaluate`] on the server;
//! * [`client::Blinded::finalize`] → one 64-byte output per input.
//!
//! The server evaluates its own inputs directly with [`OprfKey::evaluate`]; for every input
//! `x`, `finalize(x) == evaluate(x)`.
//!
//! ```
//! use blindmatch::oprf::{client, OprfKey, Suite};
//! let mut rng = rand_core::UnwrapErr(rand::rngs::SysRng);
//! let suite = Suite::Ristretto255Shake256;
//! let key = OprfKey::random(&mut rng);
//! let inputs = [b"MSCU1234565".to_vec(), b"IMO9074729".to_vec()];
//! let (state, blinded) = client::blind(suite, &inputs, &mut rng)?;
//! let evaluated = key.blind_evaluate(&blinded)?;
//! let outputs = state.finalize(&inputs, &evaluated)?;
//! assert_eq!(outputs, key.evaluate(suite, &inputs)?);
//! # Ok::<(), blindmatch::Error>(())
//! ```

pub mod client;
pub mod server;
pub mod suite;

pub use server::OprfKey;
pub use suite::{OprfOutput, Suite, OUTPUT_LEN};
