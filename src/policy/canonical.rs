//! The canonical encoding of a policy and its digest (`protocol-spec/06-policy-and-audit.md`
//! section 2). Fields come in a fixed order, sets are sorted bytewise, every string and set is
//! length-prefixed, so formatting, comments, key order and list order cannot change the digest.

use std::collections::BTreeSet;

use sha3::{Digest, Sha3_256};

use super::{Policy, POLICY_VERSION};
use crate::dst;

/// Magic prefix of the canonical encoding.
const MAGIC: &[u8] = b"blindmatch-policy";

pub(super) fn encode(p: &Policy) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(POLICY_VERSION as u16).to_be_bytes());
    string(&mut out, "name", &p.name);
    strings(&mut out, "modes", &p.modes);
    strings(&mut out, "identifier_kinds", &p.identifier_kinds);
    integer(&mut out, "min_set_size", p.min_set_size);
    integer(&mut out, "max_set_size", p.max_set_size);
    optional(&mut out, "padding_bound", p.padding_bound);
    strings(&mut out, "revealable_columns", &p.revealable_columns);
    optional(&mut out, "payload_len", p.payload_len);
    integer(
        &mut out,
        "max_sessions_per_peer_per_day",
        p.max_sessions_per_peer_per_day,
    );
    integer(&mut out, "max_elements_per_peer", p.max_elements_per_peer);
    integer(&mut out, "element_window_days", p.element_window_days);
    integer(
        &mut out,
        "max_domain_share_percent",
        p.max_domain_share_percent,
    );
    key(&mut out, "cardinality_before_reveal");
    out.push(u8::from(p.cardinality_before_reveal));
    integer(
        &mut out,
        "cardinality_window_days",
        p.cardinality_window_days,
    );
    integer(&mut out, "output_retention_days", p.output_retention_days);
    key(&mut out, "allow_key_reuse");
    out.push(u8::from(p.allow_key_reuse));
    integer(
        &mut out,
        "index_key_lifetime_days",
        p.index_key_lifetime_days,
    );
    integer(
        &mut out,
        "max_evaluations_per_receiver_per_key",
        p.max_evaluations_per_receiver_per_key,
    );
    out
}

pub(super) fn digest(p: &Policy) -> [u8; 32] {
    let mut h = Sha3_256::new();
    h.update([dst::POLICY_DIGEST.len() as u8]);
    h.update(dst::POLICY_DIGEST);
    h.update(encode(p));
    h.finalize().into()
}

/// An optional integer: `0x00` when absent, `0x01 || u64` when present.
fn optional(out: &mut Vec<u8>, name: &str, value: Option<u64>) {
    key(out, name);
    match value {
        None => out.push(0),
        Some(v) => {
            out.push(1);
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
}

fn key(out: &mut Vec<u8>, name: &str) {
    // Key names are short constants: one length byte.
    out.push(name.len() as u8);
    out.extend_from_slice(name.as_bytes());
}

fn bytes(out: &mut Vec<u8>, value: &[u8]) {
    out.extend_from_slice(&(value.len() as u32).to_be_bytes());
    out.extend_from_slice(value);
}

fn string(out: &mut Vec<u8>, name: &str, value: &str) {
    key(out, name);
    bytes(out, value.as_bytes());
}

fn strings(out: &mut Vec<u8>, name: &str, values: &BTreeSet<String>) {
    key(out, name);
    out.extend_from_slice(&(values.len() as u32).to_be_bytes());
    // BTreeSet<String> iterates in bytewise (UTF-8) order.
    for v in values {
        bytes(out, v.as_bytes());
    }
}

fn integer(out: &mut Vec<u8>, name: &str, value: u64) {
    key(out, name);
    out.extend_from_slice(&value.to_be_bytes());
}
