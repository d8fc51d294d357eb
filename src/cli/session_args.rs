//! Arguments shared by `serve` and `match`, and what they turn into.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::identity::{Fingerprint, Identity};
use crate::oprf::Suite;
use crate::policy::Policy;
use crate::protocol::dh::{Learned, DEFAULT_CHUNK_SIZE};
use crate::protocol::oprf_psi::ReceiverOutput;
use crate::protocol::Mode;
use crate::records::Records;
use crate::transport::compliance::{policy_kinds, Compliance};
use crate::transport::dispatch::{Outcome, ProtocolSetup, Report};
use crate::transport::negotiate::{ProtocolChoice, LABELED_MODE};
use crate::transport::oprf_body::OprfOutcome;
use crate::transport::session::SessionConfig;
use crate::transport::timeouts::Timeouts;
use crate::transport::verifier::PeerAuth;

/// Options of a networked session.
#[derive(Debug, Clone, clap::Args)]
pub struct SessionArgs {
    /// Directory of this agency's identity (`blindmatch identity new`).
    #[arg(long)]
    pub identity: PathBuf,
    /// SHA-256 fingerprint of the peer's certificate (repeat to accept several peers).
    #[arg(long = "peer", required_unless_present = "peer_ca")]
    pub peers: Vec<String>,
    /// A PEM file of CA certificates: also accept a peer whose certificate chains to one.
    #[arg(long)]
    pub peer_ca: Option<PathBuf>,
    /// What the parties learn: intersection, mutual or cardinality (DH-PSI), or labeled
    /// (OPRF-PSI: the initiator also learns the responder's payload columns of each match).
    #[arg(long, default_value = "intersection")]
    pub mode: String,
    /// The protocol: dh, oprf, or auto (OPRF-PSI when one announced set is more than 8 times
    /// the other, or in labeled mode; both sides decide the same way from the handshake).
    #[arg(long, default_value = "auto")]
    pub protocol: ProtocolChoice,
    /// OPRF suite for OPRF-PSI (both sides must agree).
    #[arg(long, default_value = "ristretto255-SHAKE256-blindmatch-v1")]
    pub oprf_suite: Suite,
    /// Policy file both agencies load (default: the built-in default policy).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Send this many elements (padding with dummies) instead of the true set size. With a
    /// policy `padding_bound`, the default is the bound and any other value is refused.
    #[arg(long)]
    pub pad_to: Option<usize>,
    /// The signed audit log to append to (default: `audit.jsonl` in the identity directory).
    /// One process at a time uses a log; a second waits, then fails.
    #[arg(long)]
    pub audit_log: Option<PathBuf>,
    /// The query-budget state file (default: `budget.json` in the identity directory).
    #[arg(long)]
    pub budget_state: Option<PathBuf>,
    /// Elements per message (both sides must agree).
    #[arg(long, default_value_t = DEFAULT_CHUNK_SIZE)]
    pub chunk_size: usize,
    /// Seconds a peer may stay silent, or take to finish a frame.
    #[arg(long, default_value_t = 300)]
    pub read_timeout: u64,
    /// Print a machine-readable JSON summary on stdout.
    #[arg(long)]
    pub json: bool,
}

impl SessionArgs {
    /// The audit log path: `--audit-log`, or `audit.jsonl` in the identity directory.
    pub fn audit_log_path(&self) -> PathBuf {
        self.audit_log
            .clone()
            .unwrap_or_else(|| self.identity.join(AUDIT_LOG_FILE))
    }

    /// The budget state path: `--budget-state`, or `budget.json` in the identity directory.
    pub fn budget_state_path(&self) -> PathBuf {
        self.budget_state
            .clone()
            .unwrap_or_else(|| self.identity.join(BUDGET_STATE_FILE))
    }

    /// Loads the identity, the peer pins and the policy, opens the audit log and the budget
    /// ([`Compliance`]), checks our own true size (`own_unique` distinct items, of the
    /// identifier kinds `input_kinds`, see [`input_kinds`]) against the policy before any
    /// connection, and takes the padding from the policy.
    ///
    /// # Errors
    /// [`Error::Config`] or [`Error::Input`] naming the faulty argument or file;
    /// [`Error::PolicyRefused`] naming the rule (logged); [`Error::Audit`] if the existing
    /// log fails verification.
    pub fn resolve(
        &self,
        quiet: bool,
        input_kinds: &[&str],
        own_unique: usize,
    ) -> Result<(Identity, PeerAuth, SessionConfig)> {
        let identity = Identity::load(&self.identity)?;
        let pinned = self
            .peers
            .iter()
            .map(|p| p.parse::<Fingerprint>())
            .collect::<Result<Vec<_>>>()?;
        let ca = match &self.peer_ca {
            None => Vec::new(),
            Some(path) => {
                use rustls::pki_types::pem::PemObject;
                let bad = |e: String| Error::LegacyConfig(format!("{}: {e}", path.display()));
                rustls::pki_types::CertificateDer::pem_file_iter(path)
                    .map_err(|e| bad(e.to_string()))?
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| bad(e.to_string()))?
            }
        };
        let auth = PeerAuth { pinned, ca };
        let policy = load_policy(self.policy.as_deref())?;
        let kinds = policy_kinds(&policy, input_kinds);
        let policy_digest = policy.digest();
        let compliance = Compliance::open(
            policy,
            kinds,
            &identity,
            &self.audit_log_path(),
            &self.budget_state_path(),
        )?;
        compliance.precheck(&self.mode, own_unique)?;
        let padded_count = compliance.padded_count(self.pad_to)?;
        let config = SessionConfig {
            mode: self.dh_mode()?,
            policy_digest,
            chunk_size: self.chunk_size,
            padded_count,
            timeouts: Timeouts::default().with_read_secs(self.read_timeout),
            quiet: quiet || self.json,
            gate: None,
            compliance: Some(Arc::new(compliance)),
        };
        Ok((identity, auth, config))
    }
}

impl SessionArgs {
    /// True for `--mode labeled`.
    pub fn labeled(&self) -> bool {
        self.mode == LABELED_MODE
    }

    /// The DH-PSI mode (`labeled` runs as OPRF-PSI, whose receiver learns the intersection).
    ///
    /// # Errors
    /// [`Error::Input`] for an unknown mode.
    pub fn dh_mode(&self) -> Result<Mode> {
        if self.labeled() {
            return Ok(Mode::Intersection);
        }
        self.mode.parse().map_err(|_| {
            Error::LegacyInput(format!(
                "unknown mode `{}`: expected intersection, mutual, cardinality or labeled",
                self.mode
            ))
        })
    }

    /// The loaded policy and the protocol settings of this side (the responder adds its
    /// OPRF-PSI set). Labeled mode must be among the policy's modes.
    ///
    /// # Errors
    /// The policy file is invalid; [`Error::PolicyRefused`] (rule `modes`) for a labeled
    /// session the policy does not allow.
    pub fn protocol_setup(&self) -> Result<(Policy, ProtocolSetup)> {
        let policy = load_policy(self.policy.as_deref())?;
        if self.labeled() && !policy.modes().contains(LABELED_MODE) {
            return Err(Error::LegacyPolicyRefused {
                rule: "modes".into(),
                detail: "mode `labeled` is not among the policy's modes".into(),
            });
        }
        let setup = ProtocolSetup {
            choice: self.protocol,
            labeled: self.labeled(),
            suite: self.oprf_suite,
            revealable_columns: policy.revealable_columns().clone(),
            sender: None,
        };
        Ok((policy, setup))
    }
}

/// The identifier kinds of an input's keys, as [`SessionArgs::resolve`] takes them.
pub fn input_kinds(input: &Records) -> Vec<&str> {
    input
        .keys()
        .iter()
        .flat_map(|k| k.parts().iter().map(|p| p.kind.name()))
        .collect()
}

/// Default file name of the audit log inside an identity directory.
pub const AUDIT_LOG_FILE: &str = "audit.jsonl";
/// Default file name of the budget state inside an identity directory.
pub const BUDGET_STATE_FILE: &str = "budget.json";

/// The `--policy` file, or the default policy.
///
/// # Errors
/// The policy file cannot be read or is invalid (the error names `file:line:column`).
pub(crate) fn load_policy(path: Option<&Path>) -> Result<Policy> {
    match path {
        Some(p) => Policy::load(p),
        None => Ok(Policy::default_policy()),
    }
}

/// The `--json` summary of a session.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// Session id, hex.
    pub session_id: String,
    /// Transcript hash, hex.
    pub transcript: String,
    /// The peer's certificate fingerprint.
    pub peer_fingerprint: String,
    /// `initiator` or `responder`.
    pub role: String,
    /// The protocol that ran: `dh` or `oprf`.
    pub protocol: String,
    /// The mode.
    pub mode: String,
    /// Distinct items of ours.
    pub own_unique: usize,
    /// Elements we sent (padded count).
    pub own_sent: usize,
    /// Elements the peer sent (its padded count).
    pub peer_sent: usize,
    /// Duplicate input items dropped.
    pub duplicates: usize,
    /// Items of ours in the intersection (when this side learns them).
    pub matches: Option<usize>,
    /// Size of the intersection (cardinality mode).
    pub cardinality: Option<usize>,
    /// Labeled OPRF-PSI receiver: matching tags whose payload did not open (not reported).
    pub label_failures: Option<usize>,
    /// Frame bytes sent.
    pub bytes_sent: u64,
    /// Frame bytes received.
    pub bytes_received: u64,
    /// Wall time in milliseconds.
    pub elapsed_ms: u128,
    /// Output file written, if any.
    pub output: Option<String>,
    /// Whether the peer's signed session receipt was received, checked and logged.
    pub peer_receipt: bool,
}

impl Summary {
    /// The summary of a finished session.
    pub fn new(r: &Report, output: Option<&Path>) -> Self {
        let role = match r.agreed.ours.side {
            crate::transport::handshake::Side::Initiator => "initiator",
            crate::transport::handshake::Side::Responder => "responder",
        };
        let mut s = Summary {
            session_id: hex::encode(r.session_id),
            transcript: hex::encode(r.transcript),
            peer_fingerprint: r.peer_fingerprint.to_string(),
            role: role.to_string(),
            protocol: r.output.protocol().to_string(),
            mode: r.agreed.ours.mode.clone(),
            own_unique: 0,
            own_sent: 0,
            peer_sent: 0,
            duplicates: 0,
            matches: None,
            cardinality: None,
            label_failures: None,
            bytes_sent: r.stats.bytes_sent,
            bytes_received: r.stats.bytes_received,
            elapsed_ms: r.elapsed.as_millis(),
            output: output.map(|p| p.display().to_string()),
            peer_receipt: r.peer_receipt.is_some(),
        };
        match &r.output {
            Outcome::Dh(o) => {
                (s.matches, s.cardinality) = match &o.learned {
                    Learned::Nothing => (None, None),
                    Learned::Cardinality(n) => (None, Some(*n)),
                    Learned::Matches(m) => (Some(m.len()), None),
                };
                (s.own_unique, s.own_sent, s.peer_sent, s.duplicates) =
                    (o.own_unique, o.own_sent, o.peer_sent, o.duplicates);
            }
            Outcome::Oprf(OprfOutcome::Receiver { output: o, .. }) => {
                let ReceiverOutput {
                    own_unique,
                    own_sent,
                    peer_sent,
                    duplicates,
                    ..
                } = *o;
                (s.own_unique, s.own_sent, s.peer_sent, s.duplicates) =
                    (own_unique, own_sent, peer_sent, duplicates);
                s.matches = Some(o.matches.len());
                s.label_failures = (r.agreed.ours.mode == LABELED_MODE).then_some(o.label_failures);
            }
            Outcome::Oprf(OprfOutcome::Sender(o)) => {
                (s.own_unique, s.own_sent, s.peer_sent) = (o.own_unique, o.own_sent, o.peer_sent);
            }
        }
        s
    }

    /// Prints the summary: JSON on one line, or a few human lines.
    pub fn print(&self, json: bool) {
        if json {
            match serde_json::to_string(self) {
                Ok(s) => println!("{s}"),
                Err(e) => eprintln!("blindmatch: cannot encode the summary: {e}"),
            }
            return;
        }
        println!(
            "session {} with peer {} ({}, {} mode, {})",
            &self.session_id[..16],
            self.peer_fingerprint,
            self.role,
            self.mode,
            if self.protocol == "oprf" {
                "OPRF-PSI"
            } else {
                "DH-PSI"
            }
        );
        println!(
            "  sent {} elements ({} distinct items), received {}; {} duplicate input items dropped",
            self.own_sent, self.own_unique, self.peer_sent, self.duplicates
        );
        let learned = match (self.matches, self.cardinality) {
            (Some(m), _) => format!("{m} of our items are in the peer's set"),
            (None, Some(c)) => format!("the intersection has {c} items (which ones: not revealed)"),
            (None, None) => "nothing beyond the peer's set size".to_string(),
        };
        println!("  learned: {learned}");
        if let Some(o) = &self.output {
            println!("  matches written to {o}");
        }
        if self.peer_receipt {
            println!("  the peer's signed receipt was checked and logged");
        }
        println!(
            "  {:.2} s, {} bytes sent, {} bytes received",
            Duration::from_millis(self.elapsed_ms as u64).as_secs_f64(),
            self.bytes_sent,
            self.bytes_received
        );
    }
}
