//! The buckets' outputs merged into one [`DhOutput`] over the caller's own items
//! (`protocol-spec/09-buckets.md` section 9.8).

use crate::error::{Error, Result};
use crate::protocol::dh::{DhOutput, Learned};
use crate::protocol::{ItemSet, Matches, Mode, Role};

use super::assign::Layout;
use super::resume::BucketLearned;

/// What the finished buckets gave, so far.
enum Acc {
    Nothing,
    Cardinality(usize),
    /// The caller's distinct item numbers found in the intersection.
    Matches(Vec<usize>),
}

/// The merge of the buckets' outputs, one bucket at a time, as each finishes.
pub(crate) struct Merged {
    acc: Option<Acc>,
    buckets: u32,
}

impl Merged {
    pub(crate) fn new() -> Self {
        Merged {
            acc: None,
            buckets: 0,
        }
    }

    /// Adds bucket `bucket`'s output, whose matches are positions in that bucket's items, and
    /// returns what it gave in the caller's item numbers.
    ///
    /// # Errors
    /// [`Error::Internal`] when the buckets learned different kinds of things.
    pub(crate) fn add(
        &mut self,
        bucket: u32,
        out: DhOutput,
        layout: &Layout,
    ) -> Result<BucketLearned> {
        let learned = match out.learned {
            Learned::Nothing => BucketLearned::Nothing,
            Learned::Cardinality(k) => BucketLearned::Count(k as u64),
            Learned::Matches(found) => BucketLearned::Matches(
                found
                    .iter()
                    .map(|m| layout.item(bucket, m.first_input_index()) as u32)
                    .collect(),
            ),
        };
        self.seed(&learned)?;
        Ok(learned)
    }

    /// Adds what a bucket gave, in the caller's item numbers: a bucket of this session, or
    /// one finished in an earlier attempt (a resumed session, spec 9.12).
    ///
    /// # Errors
    /// [`Error::Internal`] when the buckets learned different kinds of things.
    pub(crate) fn seed(&mut self, learned: &BucketLearned) -> Result<()> {
        let acc = self.acc.get_or_insert(match learned {
            BucketLearned::Matches(_) => Acc::Matches(Vec::new()),
            BucketLearned::Count(_) => Acc::Cardinality(0),
            BucketLearned::Nothing => Acc::Nothing,
        });
        match (acc, learned) {
            (Acc::Nothing, BucketLearned::Nothing) => {}
            (Acc::Cardinality(n), BucketLearned::Count(k)) => *n += *k as usize,
            (Acc::Matches(all), BucketLearned::Matches(found)) => {
                all.extend(found.iter().map(|&i| i as usize))
            }
            _ => {
                return Err(Error::internal(
                    "the buckets of a session learned unlike things",
                ))
            }
        }
        self.buckets += 1;
        Ok(())
    }

    /// The session's output once all `buckets` are in: its own sizes, what each side sent in
    /// all (`buckets · L`), and the matches at every input position of `items`.
    ///
    /// # Errors
    /// [`Error::Internal`] when a bucket is missing.
    pub(crate) fn finish(
        self,
        (role, mode): (Role, Mode),
        items: &ItemSet,
        buckets: u32,
        (own_bound, peer_bound): (usize, usize),
    ) -> Result<DhOutput> {
        if self.buckets != buckets {
            return Err(Error::internal(
                "a bucketed session ended with buckets missing",
            ));
        }
        let learned = match self.acc {
            None | Some(Acc::Nothing) => Learned::Nothing,
            Some(Acc::Cardinality(n)) => Learned::Cardinality(n),
            Some(Acc::Matches(found)) => Learned::Matches(Matches::new(items, found)),
        };
        Ok(DhOutput {
            role,
            mode,
            own_unique: items.len(),
            own_sent: buckets as usize * own_bound,
            peer_sent: buckets as usize * peer_bound,
            duplicates: items.duplicates(),
            learned,
        })
    }
}
