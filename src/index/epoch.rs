//! The key epoch of an index (`protocol-spec/07-oprf-psi.md` section 7.8.2): the OPRF key of
//! an index serves sessions from `created` until `not_after`, and then no more. Everything a
//! receiver accumulates under one key (section 7.9) stops growing when the epoch ends: a
//! rebuilt index has a fresh key, a fresh epoch id and fresh padding, unlinkable to the old.

use std::time::{SystemTime, UNIX_EPOCH};

use rand_core::CryptoRng;

use crate::error::{ConfigReason, Error, Result};
use crate::protocol::draw;

/// Seconds in a day, for `--lifetime-days`.
pub const DAY: u64 = 86_400;

/// The lifetime of a new index's key when none is given: 90 days.
pub const DEFAULT_LIFETIME_DAYS: u64 = 90;

/// The longest lifetime accepted: ten years (a key that lives for ever is what epochs end).
pub const MAX_LIFETIME_DAYS: u64 = 3_660;

/// One index key's epoch: a random id drawn with the key, and the Unix times (seconds) the
/// key was created and after which no session may be served with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyEpoch {
    /// 16 random bytes drawn right after the key; names the key in logs and binds the
    /// wrapped key to its epoch.
    pub id: [u8; 16],
    /// When the key was drawn (Unix seconds).
    pub created: u64,
    /// The last second at which the key may serve (Unix seconds, inclusive).
    pub not_after: u64,
}

impl KeyEpoch {
    /// A new epoch created at `now` that lasts `lifetime_days`: draws the id (`bytes(16)` of
    /// `protocol-spec/01-suite.md` section 1.6).
    ///
    /// # Errors
    /// [`Error::Config`] with [`ConfigReason::Parameter`] for a lifetime of 0 days or above
    /// [`MAX_LIFETIME_DAYS`].
    pub fn draw<R: CryptoRng + ?Sized>(now: u64, lifetime_days: u64, rng: &mut R) -> Result<Self> {
        if lifetime_days == 0 || lifetime_days > MAX_LIFETIME_DAYS {
            return Err(Error::Config(
                crate::error::ConfigError::new(
                    ConfigReason::Parameter,
                    format!(
                        "an index key lifetime of {lifetime_days} days is out of range: it \
                         must be between 1 and {MAX_LIFETIME_DAYS} days"
                    ),
                )
                .about(crate::error::Setting::KeyLifetime),
            ));
        }
        Ok(KeyEpoch {
            id: draw::array::<16, R>(rng),
            created: now,
            not_after: now.saturating_add(lifetime_days * DAY),
        })
    }

    /// The epoch id in lowercase hex.
    pub fn id_hex(&self) -> String {
        hex::encode(self.id)
    }

    /// True when the key may no longer serve at `now`.
    pub fn is_expired_at(&self, now: u64) -> bool {
        now > self.not_after
    }

    /// Refuses an expired epoch.
    ///
    /// # Errors
    /// [`Error::Config`] with [`ConfigReason::IndexExpired`] when `now` is past `not_after`.
    pub fn check_at(&self, now: u64) -> Result<()> {
        if !self.is_expired_at(now) {
            return Ok(());
        }
        Err(Error::config(
            ConfigReason::IndexExpired,
            format!(
                "the index key of epoch {} expired {} days ago (not_after {}): its key has \
                 served long enough; rebuild the index with a fresh key in a new directory and \
                 serve the new one",
                self.id_hex(),
                (now - self.not_after).div_ceil(DAY),
                self.not_after
            ),
        ))
    }

    /// The binding of the epoch in the wrapped key's AAD: `id || I2OSP(created, 8) ||
    /// I2OSP(not_after, 8)` (section 7.8.1).
    pub(crate) fn aad_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out[..16].copy_from_slice(&self.id);
        out[16..24].copy_from_slice(&self.created.to_be_bytes());
        out[24..].copy_from_slice(&self.not_after.to_be_bytes());
        out
    }
}

/// The system clock in Unix seconds (0 before 1970).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::vector_rng::VectorRng;

    #[test]
    fn expiry_is_after_not_after_and_typed() {
        let mut rng = VectorRng::new(b"index/epoch");
        let e = KeyEpoch::draw(1_000, 1, &mut rng).expect("epoch");
        assert_eq!(e.not_after, 1_000 + DAY);
        assert!(e.check_at(1_000 + DAY).is_ok());
        match e.check_at(1_001 + DAY) {
            Err(Error::Config(c)) => assert_eq!(c.reason, ConfigReason::IndexExpired),
            other => panic!("{other:?}"),
        }
        assert!(KeyEpoch::draw(0, 0, &mut rng).is_err());
        assert!(KeyEpoch::draw(0, MAX_LIFETIME_DAYS + 1, &mut rng).is_err());
        let f = KeyEpoch::draw(1_000, 1, &mut rng).expect("epoch");
        assert_ne!(e.id, f.id);
    }
}
