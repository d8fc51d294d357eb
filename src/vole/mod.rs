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
//! | [`noisy_vole`]: VOLE for a few values from 128 OTs | Gilboa, CRYPTO 1999 | done (spec 8.4) |
//! | [`pprf`]: punctured PRF, GGM trees opened with one OT per level | Goldreich–Goldwasser–Micali, JACM 1986; Boyle et al., CCS 2019 | done (spec 8.3, vectors) |
//! | [`ex_conv`]: the Expand-Convolute code's dual encoding (`ExConv7x24` shape, GF(2^128) mixing) | Raghuraman–Rindal–Tanguy, CRYPTO 2023 | done (spec 8.5.1, vector) |
//! | [`silent_vole`]: silent VOLE over GF(2^128), semi-honest | Boyle et al., CCS 2019 | done (spec 8.5.2); OT extension to replace most base OTs: to do |
//! | [`okvs`]: 3-hash garbled cuckoo table with dense columns | RR22 section 3 | done (spec 8.6); clustering into bins: to do |
//! | [`psi`]: the OPRF and the PSI, `intersection` and `mutual` | RR22; Rindal–Schoppmann, Eurocrypt 2021 | done in memory (spec 8.7); the session protocol: to do |
//!
//! Until the protocol is complete nothing outside the tests calls these components, and the
//! handshake does not offer `vole`.

pub(crate) mod base_ot;
pub(crate) mod ex_conv;
pub(crate) mod gf128;
pub(crate) mod noisy_vole;
pub(crate) mod okvs;
pub(crate) mod pprf;
pub(crate) mod psi;
pub(crate) mod silent_vole;
