//! The ristretto255 group layer: hash-to-group, session keys, wire encoding and the batched
//! engine every protocol runs on.
//!
//! * [`expand`]: RFC 9380 `expand_message_xof` / `expand_message_xmd`.
//! * [`hash_to_group`]: RFC 9380 `hash_to_ristretto255`.
//! * [`key`]: per-session secret scalars.
//! * [`element`]: 32-byte wire encodings, validated on decode.
//! * [`batch`]: the same operations over slices, parallel and chunked.

pub mod batch;
pub mod element;
pub mod expand;
pub mod hash_to_group;
pub mod key;

pub use element::{WireElement, ELEMENT_LEN};
pub use key::SessionKey;

/// The curve25519-dalek types of this module's API.
pub use curve25519_dalek::ristretto::RistrettoPoint;
/// The curve25519-dalek scalar of [`SessionKey::from_scalar`].
pub use curve25519_dalek::scalar::Scalar;

/// Which curve25519-dalek backend runs scalar multiplication on this CPU: `"avx512ifma"`,
/// `"avx2"` or `"serial"`. The crate is built with the AVX-512 IFMA backend compiled in
/// (`.cargo/config.toml`); dalek picks it at run time only where the CPU has IFMA.
pub fn backend() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512ifma")
            && std::arch::is_x86_feature_detected!("avx512vl")
        {
            return "avx512ifma";
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            return "avx2";
        }
    }
    "serial"
}
