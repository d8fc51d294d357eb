//! `tags.bin`: the evaluated items of an index (`protocol-spec/07-oprf-psi.md` section 7.8.1),
//! per item in ascending order of full tag: the tag (16 bytes, big-endian), and in a labeled
//! index its label key (32 bytes), `I2OSP(len(payload), 2)` and the payload.
//!
//! Read and written as a stream, so a large index is never held twice in memory (once as
//! bytes, once parsed): the seal's tag is fed as the bytes pass (`super::seal::MacReader`).

use std::io::{self, Read, Write};

use crate::protocol::oprf_psi::prepared::LabelParts;
use crate::protocol::oprf_psi::PreparedSender;

/// The length of `tags.bin` for `set`, in bytes.
pub(crate) fn encoded_len(set: &PreparedSender) -> u64 {
    let tags = set.tags().len() as u64 * 16;
    let labels = set.labels().map_or(0, |l| {
        l.payloads
            .iter()
            .map(|p| 32 + 2 + p.len() as u64)
            .sum::<u64>()
    });
    tags + labels
}

/// Writes the bytes of `tags.bin` for `set` ([`encoded_len`] of them).
pub(crate) fn write<W: Write>(set: &PreparedSender, w: &mut W) -> io::Result<()> {
    for (i, t) in set.tags().iter().enumerate() {
        w.write_all(&t.to_be_bytes())?;
        if let Some(l) = set.labels() {
            w.write_all(&l.keys[i])?;
            w.write_all(&(l.payloads[i].len() as u16).to_be_bytes())?;
            w.write_all(&l.payloads[i])?;
        }
    }
    Ok(())
}

/// Tags and label parts, as stored.
pub(crate) type Parsed = (Vec<u128>, Option<LabelParts>);

/// Fills `buf`; `false` if the stream ended first.
fn fill<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<bool> {
    match r.read_exact(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

/// Parses `tags.bin` of exactly `items` entries from `r`, a file of `len` bytes (which bounds
/// what is reserved up front); `Ok(None)` if it is damaged (too short, or bytes left over),
/// after which the rest of `r` is unread.
///
/// # Errors
/// An I/O error from `r`.
pub(crate) fn read<R: Read>(
    r: &mut R,
    items: usize,
    labeled: bool,
    len: u64,
) -> io::Result<Option<Parsed>> {
    let reserve = items.min(usize::try_from(len / 16).unwrap_or(usize::MAX));
    let mut tags = Vec::with_capacity(reserve);
    let (mut keys, mut payloads) = if labeled {
        (Vec::with_capacity(reserve), Vec::with_capacity(reserve))
    } else {
        (Vec::new(), Vec::new())
    };
    for _ in 0..items {
        let mut t = [0u8; 16];
        if !fill(r, &mut t)? {
            return Ok(None);
        }
        tags.push(u128::from_be_bytes(t));
        if labeled {
            let mut k = [0u8; 32];
            let mut n = [0u8; 2];
            if !fill(r, &mut k)? || !fill(r, &mut n)? {
                return Ok(None);
            }
            let mut p = vec![0u8; u16::from_be_bytes(n) as usize];
            if !fill(r, &mut p)? {
                return Ok(None);
            }
            keys.push(k);
            payloads.push(p);
        }
    }
    let mut extra = [0u8; 1];
    if fill(r, &mut extra)? {
        return Ok(None);
    }
    Ok(Some((tags, labeled.then_some((keys, payloads)))))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::oprf::{OprfKey, Suite};
    use crate::protocol::vector_rng::VectorRng;
    use crate::protocol::ItemSet;

    #[test]
    fn a_labeled_set_round_trips_and_short_or_long_files_are_damaged() {
        let mut rng = VectorRng::new(b"index/entries");
        let set = PreparedSender::new(
            Suite::default(),
            OprfKey::random(&mut rng),
            &ItemSet::new(["a", "b", "c"]),
            Some(&[b"x".to_vec(), vec![], vec![9; 300]]),
        )
        .unwrap();
        let mut bytes = Vec::new();
        write(&set, &mut bytes).unwrap();
        assert_eq!(bytes.len() as u64, encoded_len(&set));
        let len = bytes.len() as u64;
        let (tags, labels) = read(&mut &bytes[..], 3, true, len).unwrap().unwrap();
        assert_eq!(tags, set.tags());
        let (keys, payloads) = labels.unwrap();
        let want = set.labels().unwrap();
        assert_eq!((&keys, &payloads), (&want.keys, &want.payloads));
        assert_eq!(
            read(&mut &bytes[..bytes.len() - 1], 3, true, len).unwrap(),
            None
        );
        let longer = [bytes.as_slice(), &[0]].concat();
        assert_eq!(read(&mut &longer[..], 3, true, len).unwrap(), None);
        assert_eq!(read(&mut &bytes[..], 4, true, len).unwrap(), None);
        // Unlabeled: 16 bytes per item.
        assert_eq!(
            read(&mut &[0u8; 32][..], 2, false, 32).unwrap(),
            Some((vec![0, 0], None))
        );
    }

    mod props {
        use super::super::read;
        use proptest::prelude::*;

        proptest! {
            /// Arbitrary bytes, any announced count (as an unsealed `index.json` may claim):
            /// no panic, and a parse only when the bytes hold exactly that many entries.
            #[test]
            fn any_bytes_parse_or_are_damaged(
                bytes in proptest::collection::vec(any::<u8>(), 0..600),
                items in prop_oneof![0usize..12, Just(usize::MAX)],
                labeled in any::<bool>(),
            ) {
                let len = bytes.len() as u64;
                if let Some((tags, labels)) = read(&mut &bytes[..], items, labeled, len).unwrap() {
                    prop_assert_eq!(tags.len(), items);
                    let payload_bytes: usize = labels
                        .as_ref()
                        .map_or(0, |(_, p)| p.iter().map(|x| 34 + x.len()).sum());
                    prop_assert_eq!(items * 16 + payload_bytes, bytes.len());
                    prop_assert_eq!(labels.is_some(), labeled);
                }
            }
        }
    }
}
