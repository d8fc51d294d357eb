//! Every domain-separation tag of blindmatch, in one place.
//!
//! Each use of a hash in the project has its own tag, so a value computed for one purpose can
//! never be mistaken for one computed for another. Every tag blindmatch defines carries the
//! version `v1`, so a future `v2` never collides with it; the one tag without it,
//! [`OPRF_RFC9497_SUITE_ID`], is not blindmatch's but RFC 9497's own name of its suite, used
//! byte for byte, whose hashes carry the version in the RFC's context string (`OPRFV1-`).
//! `protocol-spec/01-suite.md` 1.4 lists them byte for byte; the test at the bottom keeps
//! them distinct and versioned.

/// Protocol version carried in every hello: 7, whose bucket assignment hashes with SHA-256
/// (`protocol-spec/09-buckets.md` section 9.2, tag [`BUCKET`]). Version 6's hello may name the
/// logical session it resumes (section 9.12). Version 5's bucketed VOLE-PSI sessions send tags
/// long enough for all their buckets (`protocol-spec/08-vole-psi.md` 8.7's `ℓ` counts `B`).
/// Version 4 added the `max_bucket` field of the typed hello of
/// `protocol-spec/04-transport-and-handshake.md` 4.3.1, by which sessions above `2^β` items
/// run in buckets (`protocol-spec/09-buckets.md`). Version 3 added
/// protocol code 3 (`vole`), the `auto` rule that picks VOLE-PSI for large sets, and version 3
/// receipts; version 2 had neither; version 1 carried its mode, protocol and suite as names.
/// The tags below carry `v1`, the version of the hash constructions they separate, which have
/// not changed (where one did, it got a new tag).
pub const PROTOCOL_VERSION: u16 = 7;

/// The DH-PSI hash-to-group suite ID: the RFC 9380 (section 8.10) name of DH-PSI's
/// hash-to-group, `hash_to_ristretto255` (RFC 9380 Appendix B) with
/// `expand_message_xof(SHAKE256)`. Not a tag: it names the construction, and is neither hashed
/// nor sent by itself (`protocol-spec/01-suite.md` 1.1).
#[cfg(test)]
pub const DH_PSI_HASH_TO_GROUP_SUITE_ID: &[u8] = b"ristretto255_XOF:SHAKE256_R255MAP_RO_";

/// The DH-PSI DST: `blindmatch-v1-DHPSI-` followed by [`DH_PSI_HASH_TO_GROUP_SUITE_ID`], the
/// DST of the hash-to-group of DH-PSI items (whose message is `session_id || item`), and the
/// value of the hello's `suite` field for protocol `dh` (`protocol-spec/01-suite.md` 1.1).
pub const DH_PSI_HASH_TO_GROUP: &[u8] =
    b"blindmatch-v1-DHPSI-ristretto255_XOF:SHAKE256_R255MAP_RO_";

/// Identifier of blindmatch's SHA3 OPRF suite (RFC 9497 structure, SHAKE256 hashing).
pub const OPRF_SHA3_SUITE_ID: &[u8] = b"ristretto255-SHAKE256-blindmatch-v1";

/// Identifier of the RFC 9497 `ristretto255-SHA512` suite, exactly as in the RFC.
pub const OPRF_RFC9497_SUITE_ID: &[u8] = b"ristretto255-SHA512";

/// Derivation of the session id from the handshake transcript (SHA3-256).
pub const SESSION_ID: &[u8] = b"blindmatch-v1-session-id";

/// The handshake transcript hash (SHA3-256).
pub const TRANSCRIPT: &[u8] = b"blindmatch-v1-transcript";

/// Label for the TLS exporter (RFC 8446 section 7.5) that binds a session to its connection.
pub const TLS_EXPORTER_LABEL: &[u8] = b"EXPORTER-blindmatch-v1-channel-binding";

/// Canonical digest of a policy file (SHA3-256).
pub const POLICY_DIGEST: &[u8] = b"blindmatch-v1-policy-digest";

/// Hash chain of the audit log (SHA3-256 of the previous entry).
pub const AUDIT_CHAIN: &[u8] = b"blindmatch-v1-audit-chain";

/// Ed25519 signature context of an audit log entry.
pub const AUDIT_SIGNATURE: &[u8] = b"blindmatch-v1-audit-signature";

/// Ed25519 signature context of a session receipt exchanged at the end of a session.
pub const SESSION_RECEIPT: &[u8] = b"blindmatch-v1-session-receipt";

/// The first part of an audit log checkpoint's origin line (`06-policy-and-audit.md` section
/// 5.2): `blindmatch-v1-audit-checkpoint/<signer public key, hex>`. A checkpoint is a C2SP
/// signed note, signed over its text without a length prefix; the text starts with this tag,
/// so it can never equal a message our other signatures cover (all start with a length byte).
pub const AUDIT_CHECKPOINT: &[u8] = b"blindmatch-v1-audit-checkpoint";

/// The keyed commitment (HMAC-SHA3-256) of a session's output logged in place of its plain
/// digest (`protocol-spec/06-policy-and-audit.md` section 6).
pub const OUTPUT_COMMITMENT: &[u8] = b"blindmatch-v1-output-commitment";

/// DH-PSI, cardinality mode: the stream of the responder's reply seed, from which the order of
/// its reply is shuffled once every element arrived.
pub const DH_PSI_REPLY_ORDER: &[u8] = b"blindmatch-v1-dh-psi-reply-order";

/// OPRF-PSI: the tag the sender sends for each of its items, derived from the OPRF output.
pub const OPRF_PSI_TAG: &[u8] = b"blindmatch-v1-oprf-psi-tag";

/// OPRF-PSI labeled mode: the stream of the sender's padding seed, which gives the random
/// bytes of its padding ciphertexts.
pub const OPRF_PSI_PADDING: &[u8] = b"blindmatch-v1-oprf-psi-padding";

/// OPRF-PSI labeled mode: the AEAD key derived from the OPRF output.
pub const OPRF_PSI_LABEL_KEY: &[u8] = b"blindmatch-v1-oprf-psi-label-key";

/// OPRF-PSI labeled mode: the AEAD nonce of a session, derived from the session id.
pub const OPRF_PSI_LABEL_NONCE: &[u8] = b"blindmatch-v1-oprf-psi-label-nonce";

/// Unbalanced mode: the Argon2id associated data `X` of the key that encrypts a precomputed
/// index's OPRF key at rest (`protocol-spec/07-oprf-psi.md` section 7.8.1).
pub const INDEX_KEY_WRAP: &[u8] = b"blindmatch-v1-index-key-wrap";

/// Unbalanced mode: the HKDF-Extract salt of the key that seals every file of an index
/// (`protocol-spec/07-oprf-psi.md` section 7.8.5).
pub const INDEX_SEAL_KEY: &[u8] = b"blindmatch-v1-index-seal-key";

/// Unbalanced mode: the prefix of the HMAC tag of one sealed index file (section 7.8.5).
pub const INDEX_SEAL_FILE: &[u8] = b"blindmatch-v1-index-seal-file";

/// Unbalanced mode: the prefix of the HMAC tag over an index's file tags (section 7.8.5).
pub const INDEX_SEAL: &[u8] = b"blindmatch-v1-index-seal";
/// Base OT for the VOLE-based protocol (`crate::vole::base_ot`): the hash-to-group
/// (`hash_to_ristretto255` with `expand_message_xof(SHAKE256)`) of a receiver's random point,
/// as in Masny and Rindal's endemic OT (ePrint 2019/706).
pub const VOLE_BASE_OT_POINT: &[u8] = b"blindmatch-v1-vole-base-ot-point";

/// Base OT for the VOLE-based protocol: the key derivation (SHA3-256) of each OT key from the
/// shared Diffie–Hellman point.
pub const VOLE_BASE_OT_KEY: &[u8] = b"blindmatch-v1-vole-base-ot-key";

/// The punctured PRF of the VOLE-based protocol (`crate::vole::pprf`): the two fixed AES-128
/// keys of its GGM length-doubling PRG are SHA3-256 of this tag (spec 8.3).
pub const VOLE_GGM_PRG: &[u8] = b"blindmatch-v1-vole-ggm-prg";

/// The Expand-Convolute code of the VOLE-based protocol (`crate::vole::ex_conv`): the AES key of
/// its public random streams is SHA3-256 of this tag and the message size (spec 8.5.1).
pub const VOLE_EXCONV_CODE: &[u8] = b"blindmatch-v1-vole-exconv-code";

/// The two base-OT batches of a silent VOLE (`crate::vole::silent_vole`): their session ids are
/// SHA3-256 of this tag, the session id and the batch's number (spec 8.5.2).
pub const VOLE_OT_BATCH: &[u8] = b"blindmatch-v1-vole-ot-batch";

/// The OT extension of a silent VOLE (`crate::vole::iknp`): the session's fixed AES-128 key of
/// the tweakable correlation-robust hash of the extended OTs' keys (SHA3-256 of this tag and the
/// session id; spec 8.5.3).
pub const VOLE_IKNP_HASH: &[u8] = b"blindmatch-v1-vole-iknp-hash";

/// The VOLE-based PSI (`crate::vole::psi`): the hash (SHA-256) of an item to its OKVS key and
/// value (spec 8.7). (It replaces `blindmatch-v1-vole-psi-item`, a SHAKE256 stream.)
pub const VOLE_PSI_ITEM: &[u8] = b"blindmatch-v1-vole-psi-item-sha256";

/// The VOLE-based PSI: the session's OKVS seed (SHAKE256 of this tag and the session id).
pub const VOLE_PSI_OKVS_SEED: &[u8] = b"blindmatch-v1-vole-psi-okvs-seed";

/// The VOLE-based PSI: the session's fixed AES-128 key of the tags (SHA3-256 of this tag and
/// the session id), the tag of an OPRF value being the fixed-key AES hash of spec 8.7.
/// (It replaces `blindmatch-v1-vole-psi-tag`, a SHAKE256 tag per value; rows of the OKVS no
/// longer use a tag of their own, `blindmatch-v1-vole-okvs-row`: spec 8.6.)
pub const VOLE_PSI_TAG_KEY: &[u8] = b"blindmatch-v1-vole-psi-tag-key";

/// Bucketed sessions (`protocol-spec/09-buckets.md` section 9.2): the hash (SHA-256) of an
/// item, keyed with the session id, whose first 8 bytes give the item's bucket. (It replaces
/// `blindmatch-v1-bucket`, the SHA3-256 hash of versions 4 to 6: a new construction, so a new
/// tag, as for [`VOLE_PSI_ITEM`].)
pub const BUCKET: &[u8] = b"blindmatch-v1-bucket-sha256";

/// Bucketed sessions (section 9.5): the session id (SHA3-256) of one bucket's sub-session.
pub const BUCKET_SESSION: &[u8] = b"blindmatch-v1-bucket-session";

/// Shards of a logical session (`protocol-spec/09-buckets.md` section 9.11): the key of the
/// shard assignment (SHA3-256 of this tag and the logical session's name).
pub const SHARD_KEY: &[u8] = b"blindmatch-v1-shard-key";

/// Shards (section 9.11): the hash (SHA3-256) of an item, keyed with the shard key, whose first
/// 8 bytes give the item's shard.
pub const SHARD: &[u8] = b"blindmatch-v1-shard";

/// Resumed sessions (`protocol-spec/09-buckets.md` section 9.12): the digest (SHA3-256) of a
/// session's agreed terms that a checkpoint keeps, so that a resumption runs under the same.
pub const RESUME_TERMS: &[u8] = b"blindmatch-v1-resume-terms";

/// Resumed sessions (section 9.12): the digest (SHA3-256) of a side's distinct items, in
/// order, that a checkpoint keeps, so that its item numbers are read against the same items.
pub const CHECKPOINT_ITEMS: &[u8] = b"blindmatch-v1-checkpoint-items";

/// Resumed sessions (section 9.12): the check value (SHA3-256, first 16 bytes) closing each
/// record of a checkpoint's `buckets.bin`, by which a record torn by a crash is told apart.
pub const CHECKPOINT_RECORD: &[u8] = b"blindmatch-v1-checkpoint-record";

/// Test-vector generation seeds (never used outside the committed vector generator).
pub const TEST_VECTOR_SEED: &[u8] = b"blindmatch-v1-test-vector-seed";

/// All tags above, for the distinctness test and for the spec.
#[cfg(test)]
pub const ALL: &[(&str, &[u8])] = &[
    ("DH_PSI_HASH_TO_GROUP", DH_PSI_HASH_TO_GROUP),
    ("OPRF_SHA3_SUITE_ID", OPRF_SHA3_SUITE_ID),
    ("OPRF_RFC9497_SUITE_ID", OPRF_RFC9497_SUITE_ID),
    ("SESSION_ID", SESSION_ID),
    ("TRANSCRIPT", TRANSCRIPT),
    ("TLS_EXPORTER_LABEL", TLS_EXPORTER_LABEL),
    ("POLICY_DIGEST", POLICY_DIGEST),
    ("AUDIT_CHAIN", AUDIT_CHAIN),
    ("AUDIT_SIGNATURE", AUDIT_SIGNATURE),
    ("SESSION_RECEIPT", SESSION_RECEIPT),
    ("AUDIT_CHECKPOINT", AUDIT_CHECKPOINT),
    ("OUTPUT_COMMITMENT", OUTPUT_COMMITMENT),
    ("DH_PSI_REPLY_ORDER", DH_PSI_REPLY_ORDER),
    ("OPRF_PSI_TAG", OPRF_PSI_TAG),
    ("OPRF_PSI_PADDING", OPRF_PSI_PADDING),
    ("OPRF_PSI_LABEL_KEY", OPRF_PSI_LABEL_KEY),
    ("OPRF_PSI_LABEL_NONCE", OPRF_PSI_LABEL_NONCE),
    ("INDEX_KEY_WRAP", INDEX_KEY_WRAP),
    ("INDEX_SEAL_KEY", INDEX_SEAL_KEY),
    ("INDEX_SEAL_FILE", INDEX_SEAL_FILE),
    ("INDEX_SEAL", INDEX_SEAL),
    ("VOLE_BASE_OT_POINT", VOLE_BASE_OT_POINT),
    ("VOLE_BASE_OT_KEY", VOLE_BASE_OT_KEY),
    ("VOLE_GGM_PRG", VOLE_GGM_PRG),
    ("VOLE_EXCONV_CODE", VOLE_EXCONV_CODE),
    ("VOLE_OT_BATCH", VOLE_OT_BATCH),
    ("VOLE_IKNP_HASH", VOLE_IKNP_HASH),
    ("VOLE_PSI_ITEM", VOLE_PSI_ITEM),
    ("VOLE_PSI_OKVS_SEED", VOLE_PSI_OKVS_SEED),
    ("VOLE_PSI_TAG_KEY", VOLE_PSI_TAG_KEY),
    ("BUCKET", BUCKET),
    ("BUCKET_SESSION", BUCKET_SESSION),
    ("SHARD_KEY", SHARD_KEY),
    ("SHARD", SHARD),
    ("RESUME_TERMS", RESUME_TERMS),
    ("CHECKPOINT_ITEMS", CHECKPOINT_ITEMS),
    ("CHECKPOINT_RECORD", CHECKPOINT_RECORD),
    ("TEST_VECTOR_SEED", TEST_VECTOR_SEED),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dh_psi_dst_is_the_prefix_and_the_suite_id() {
        assert_eq!(
            DH_PSI_HASH_TO_GROUP,
            [
                b"blindmatch-v1-DHPSI-".as_slice(),
                DH_PSI_HASH_TO_GROUP_SUITE_ID
            ]
            .concat()
        );
    }

    #[test]
    fn tags_are_distinct_versioned_and_short_enough() {
        for (i, (name_a, a)) in ALL.iter().enumerate() {
            assert!(a.len() <= 255, "{name_a} is longer than RFC 9380 allows");
            // The RFC 9497 suite id is the RFC's; its context string "OPRFV1-..." is versioned.
            assert!(
                *name_a == "OPRF_RFC9497_SUITE_ID" || a.windows(2).any(|w| w == b"v1"),
                "{name_a} carries no version"
            );
            for (name_b, b) in &ALL[i + 1..] {
                assert_ne!(a, b, "{name_a} and {name_b} are equal");
            }
        }
    }

    /// 01-suite.md names the two DH-PSI strings and spells them as the code does; 1.4 lists
    /// every tag of `ALL`.
    #[test]
    fn the_suite_spec_spells_the_dh_strings_and_every_tag() {
        let suite = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/protocol-spec/01-suite.md"
        ))
        .expect("01-suite.md");
        for (name, bytes) in [
            (
                "DH-PSI hash-to-group suite ID",
                DH_PSI_HASH_TO_GROUP_SUITE_ID,
            ),
            ("DH-PSI DST", DH_PSI_HASH_TO_GROUP),
        ] {
            let text = format!("`{}`", String::from_utf8_lossy(bytes));
            assert!(suite.contains(name), "01-suite.md does not name the {name}");
            assert!(suite.contains(&text), "01-suite.md lacks {text}");
        }
        for (name, bytes) in ALL {
            let row = format!("| {name} | `{}` |", String::from_utf8_lossy(bytes));
            assert!(
                suite.contains(&row),
                "01-suite.md 1.4 lacks the row of {name}"
            );
        }
    }
}
