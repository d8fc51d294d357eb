//! Building blocks of the VOLE-based PSI protocol (Raghuraman and Rindal, "Blazing Fast PSI
//! from Improved OKVS and Subfield VOLE", CCS 2022), specified in `protocol-spec/08-vole-psi.md`.
//!
//! The protocol is being built component by component, each one sans-I/O (consuming typed
//! states whose steps take and return messages, like the other protocols), tested on its own
//! and specified byte for byte before the next one builds on it:
//!
//! | component | paper | status |
//! |---|---|---|
//! | [`base_ot`]: 1-out-of-2 random OT over ristretto255 | Masny–Rindal, "Endemic Oblivious Transfer", CCS 2019 | done (spec 8.2, vectors) |
//! | [`gf128`]: the field GF(2^128), constant time | Pornin's constant-time carry-less multiplication (BearSSL) | done (spec 8.1) |
//! | [`noisy_vole`]: VOLE for a few values from 128 OTs | Gilboa, CRYPTO 1999 | done (spec 8.4, vector) |
//! | [`pprf`]: punctured PRF, GGM trees opened with one OT per level | Goldreich–Goldwasser–Micali, JACM 1986; Boyle et al., CCS 2019 | done (spec 8.3, vectors) |
//! | [`ex_conv`]: the Expand-Convolute code's dual encoding (`ExConv7x24` shape, GF(2^128) mixing) | Raghuraman–Rindal–Tanguy, CRYPTO 2023 | done (spec 8.5.1, vector) |
//! | [`iknp`]: random OT extension from 128 base OTs, semi-honest, keys hashed with fixed-key AES | Ishai–Kilian–Nissim–Petrank, CRYPTO 2003; Guo–Katz–Wang–Yu, S&P 2020 | done (spec 8.5.3, vector) |
//! | [`silent_vole`]: silent VOLE over GF(2^128), semi-honest | Boyle et al., CCS 2019 | done (spec 8.5.2, vector): 256 base OTs, the punctured PRFs' OTs extended |
//! | [`okvs`]: 3-hash garbled cuckoo table with dense columns, clustered into bins, rows from fixed-key AES | RR22 section 3; Guo–Katz–Wang–Yu, S&P 2020 | done (spec 8.6, vector) |
//! | [`psi`]: the OPRF and the PSI, `intersection` and `mutual` | RR22; Rindal–Schoppmann, Eurocrypt 2021 | done (spec 8.7, vector); its session protocol is `crate::protocol::vole_psi` (spec 8.8) |
//!
//! Every vector of spec 8 (`protocol-spec/vectors/vole-*.json`) is checked twice: against the
//! library's run, and against `spec_model`, a test-only rebuild of spec 8 from its text.

use crate::tagged_hash::{sha256_tagged, sha3_tagged, shake_tagged};

use crate::error::{Error, PeerMisbehaved};

pub(crate) mod base_ot;
pub(crate) mod breakdown;
pub(crate) mod ex_conv;
pub(crate) mod gf128;
pub(crate) mod iknp;
pub(crate) mod noisy_vole;
pub(crate) mod okvs;
pub(crate) mod pprf;
pub(crate) mod psi;
pub(crate) mod silent_vole;
#[cfg(test)]
mod spec_model;
mod timing;

/// The peer's message `what` has `got` bytes where `expected` were due.
fn wrong_length(what: &'static str, got: usize, expected: usize) -> Error {
    PeerMisbehaved::WrongCount {
        what,
        got: got as u64,
        expected: expected as u64,
    }
    .into()
}

/// The committed test vectors of spec 8.
#[cfg(test)]
mod vectors {
    /// Hex of `bytes`, as a JSON string.
    pub(super) fn hex(bytes: &[u8]) -> serde_json::Value {
        serde_json::Value::String(hex::encode(bytes))
    }

    /// The bytes of a JSON hex string of a vector.
    pub(super) fn unhex(x: &serde_json::Value) -> Vec<u8> {
        hex::decode(x.as_str().expect("a hex string")).expect("hex")
    }

    /// Checks that the committed vector at `path` (relative to the crate) is `produced`, the
    /// library's run; `BLINDMATCH_WRITE_VECTORS=1` rewrites it first.
    pub(super) fn check_committed(path: &str, produced: &serde_json::Value) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        if std::env::var_os("BLINDMATCH_WRITE_VECTORS").is_some() {
            let text = serde_json::to_string_pretty(produced).expect("serializes") + "\n";
            std::fs::write(&path, text).expect("writes the vector");
        }
        assert_eq!(&read_at(&path), produced, "{} is stale", path.display());
    }

    /// Asserts that a listed message is the rebuilt one, naming the first byte that differs
    /// rather than printing messages of hundreds of kilobytes.
    pub(super) fn assert_same_bytes(listed: &[u8], rebuilt: &[u8], what: &str) {
        assert_eq!(listed.len(), rebuilt.len(), "{what}: length");
        if let Some(at) = listed.iter().zip(rebuilt).position(|(a, b)| a != b) {
            panic!(
                "{what}: byte {at} is {:#04x} in the vector, {:#04x} rebuilt",
                listed[at], rebuilt[at]
            );
        }
    }

    /// The committed vector at `path` (relative to the crate).
    pub(super) fn read(path: &str) -> serde_json::Value {
        read_at(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
    }

    fn read_at(path: &std::path::Path) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(path).expect("the vector file is committed"))
            .expect("valid JSON")
    }
}
