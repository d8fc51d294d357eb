//! `tags.bin`: the evaluated items of an index (`protocol-spec/07-oprf-psi.md` section 7.8.1),
//! per item in ascending order of full tag: the tag (16 bytes, big-endian), and in a labeled
//! index its label key (32 bytes), `I2OSP(len(payload), 2)` and the payload.

use crate::protocol::oprf_psi::prepared::LabelParts;
use crate::protocol::oprf_psi::PreparedSender;

/// The bytes of `tags.bin` for `set`.
pub(crate) fn encode(set: &PreparedSender) -> Vec<u8> {
    let mut out = Vec::with_capacity(set.len() * 16);
    for (i, t) in set.tags().iter().enumerate() {
        out.extend_from_slice(&t.to_be_bytes());
        if let Some(l) = set.labels() {
            out.extend_from_slice(&l.keys[i]);
            out.extend_from_slice(&(l.payloads[i].len() as u16).to_be_bytes());
            out.extend_from_slice(&l.payloads[i]);
        }
    }
    out
}

/// Tags and label parts, as stored.
pub(crate) type Parsed = (Vec<u128>, Option<LabelParts>);

/// Parses `tags.bin` of exactly `items` entries; `None` if damaged.
pub(crate) fn decode(bytes: &[u8], items: usize, labeled: bool) -> Option<Parsed> {
    let mut tags = Vec::with_capacity(items.min(bytes.len() / 16));
    let mut keys = Vec::new();
    let mut payloads = Vec::new();
    let mut rest = bytes;
    for _ in 0..items {
        let (t, r) = rest.split_first_chunk::<16>()?;
        tags.push(u128::from_be_bytes(*t));
        rest = r;
        if labeled {
            let (k, r) = r.split_first_chunk::<32>()?;
            let (len, r) = r.split_first_chunk::<2>()?;
            let len = u16::from_be_bytes(*len) as usize;
            if r.len() < len {
                return None;
            }
            keys.push(*k);
            payloads.push(r[..len].to_vec());
            rest = &r[len..];
        }
    }
    if !rest.is_empty() {
        return None;
    }
    Some((tags, labeled.then_some((keys, payloads))))
}
