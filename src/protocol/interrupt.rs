//! [`Interrupt`]: a flag a driver raises to stop a session's long computations early.
//!
//! Protocol steps are short (one chunk of a few thousand elements), but a few are long (an
//! OPRF sender evaluating its whole set under a fresh key). Such steps check the flag between
//! batches, so a cancelled session (Ctrl-C, SIGTERM, a dropped session) stops within a batch.

use std::sync::{Arc, OnceLock};

use crate::error::{CancelReason, Error, Result};

/// A shared, raise-once cancellation flag with its reason.
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<OnceLock<CancelReason>>);

impl Interrupt {
    /// A flag not raised.
    pub fn new() -> Self {
        Interrupt::default()
    }

    /// Raises the flag (the first reason given is kept).
    pub fn raise(&self, reason: CancelReason) {
        let _ = self.0.set(reason);
    }

    /// The reason, once raised.
    pub fn reason(&self) -> Option<CancelReason> {
        self.0.get().copied()
    }

    /// `Ok` until the flag is raised.
    ///
    /// # Errors
    /// [`Error::Cancelled`] with the reason once raised.
    pub fn check(&self) -> Result<()> {
        match self.reason() {
            Some(r) => Err(Error::Cancelled(r)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raised_once_with_the_first_reason() {
        let i = Interrupt::new();
        assert!(i.check().is_ok());
        let j = i.clone();
        j.raise(CancelReason::Interrupted);
        j.raise(CancelReason::Dropped);
        assert!(matches!(
            i.check(),
            Err(Error::Cancelled(CancelReason::Interrupted))
        ));
    }
}
