//! Arguments shared by `serve` and `match`, the agency they open, and the summary they print.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::agency::{Agency, AgencyFiles, RunOptions, SessionSpec};
use crate::checkpoint::{Checkpoint, CheckpointOptions};
use crate::error::{ConfigReason, Error, Result};
use crate::identity::{Fingerprint, Identity};
use crate::oprf::Suite;
use crate::policy::Policy;
use crate::protocol::dh::{Learned, DEFAULT_CHUNK_SIZE};
use crate::protocol::ItemSet;
use crate::records::Records;
use crate::session::{BodyOutput, ProtocolChoice, SessionMode, SessionReport, Shard, MAX_SHARDS};
use crate::transport::shutdown::Shutdown;
use crate::transport::timeouts::Timeouts;
use crate::transport::verifier::PeerAuth;

/// Options of a networked session.
#[derive(Debug, Clone, clap::Args)]
pub struct SessionArgs {
    /// A TOML file of this command's long options (`listen = "0.0.0.0:7443"`, `json = true`,
    /// `peer = ["..", ".."]`); options on the command line win. Expanded before parsing, so
    /// this field itself is never set.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory of this agency's identity (`blindmatch identity new`).
    #[arg(long)]
    pub identity: PathBuf,
    /// SHA-256 fingerprint of the peer's certificate (repeat to accept several peers).
    #[arg(long = "peer", required_unless_present = "peer_ca")]
    pub peers: Vec<String>,
    /// A PEM file of CA certificates: also accept a peer whose certificate chains to one.
    #[arg(long)]
    pub peer_ca: Option<PathBuf>,
    /// What the parties learn: intersection, mutual (DH-PSI or VOLE-PSI), cardinality
    /// (DH-PSI), or labeled (OPRF-PSI: the initiator also learns the responder's payload
    /// columns of each match).
    #[arg(long, default_value = "intersection")]
    pub mode: SessionMode,
    /// The protocol: dh, oprf, vole, or auto (OPRF-PSI when one announced set is more than 8
    /// times the other, or in labeled mode; otherwise VOLE-PSI when both sets have at least
    /// 4096 items, except in cardinality mode; both sides decide the same way from the
    /// handshake).
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
    pub pad_to: Option<u64>,
    /// The signed audit log to append to (default: `audit.jsonl` in the identity directory).
    /// One process at a time uses a log; a second waits, then fails.
    #[arg(long)]
    pub audit_log: Option<PathBuf>,
    /// The query-budget state file (default: `budget.json` in the identity directory).
    #[arg(long)]
    pub budget_state: Option<PathBuf>,
    /// Elements per message, 1 to 65536 (both sides must agree).
    #[arg(long, default_value_t = DEFAULT_CHUNK_SIZE as u32,
          value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub chunk_size: u32,
    /// The largest bucket this side takes part in: a power of two from 1024 to 1048576 items.
    /// A DH-PSI (intersection, mutual) or VOLE-PSI session with more items on a side runs in
    /// buckets of about the smaller of the two sides' sizes, holding one or two buckets'
    /// state at a time; smaller buckets use less memory and pad a little more.
    #[arg(long, default_value_t = 1 << 20, value_parser = bucket_items)]
    pub max_bucket: u32,
    /// Run shard I of N of a logical session (I from 0 to N - 1): this process matches only
    /// its share of the items (N processes, or N pairs of machines, split one session; the
    /// union of their outputs is the whole result). Both agencies run the same N shards with
    /// the same --logical-session, shard I of one connecting to shard I of the other.
    /// Intersection and mutual mode only; not with --unmatched.
    #[arg(long, value_name = "I/N", value_parser = shard_arg, requires = "logical_session")]
    pub shard: Option<(u32, u32)>,
    /// The logical session's name, the same for every shard on both sides (for example the
    /// scheduler's job name): it keys which items fall into which shard.
    #[arg(long, value_name = "NAME", requires = "shard")]
    pub logical_session: Option<String>,
    /// Keep a checkpoint of the session in DIR (created with mode 0700): each bucket of a
    /// bucketed session is recorded there as it finishes, so that after a crash or a broken
    /// connection the same command with --resume continues with the buckets that did not
    /// finish on both sides. Removed once the session completes. With serve, only with --once.
    #[arg(long, value_name = "DIR")]
    pub checkpoint: Option<PathBuf>,
    /// Continue the session kept in --checkpoint, if the peer continues the same one (with
    /// its own --checkpoint and --resume); otherwise, or if DIR holds none, the session
    /// starts over. The input, keys and settings must be those of the interrupted session.
    #[arg(long, requires = "checkpoint")]
    pub resume: bool,
    /// Seconds a peer may stay silent, or take to finish a frame.
    #[arg(long, default_value_t = 300)]
    pub read_timeout: u64,
    /// Seconds the session handshake and admission may take.
    #[arg(long, default_value_t = 30)]
    pub handshake_timeout: u64,
    /// Print a machine-readable JSON summary (or error object) on stdout, and progress as
    /// JSON lines on stderr (`{"progress":"bucket","finished":3,"total":16,"eta_ms":..}`, see
    /// the README) unless --quiet.
    #[arg(long)]
    pub json: bool,
}

impl SessionArgs {
    /// The audit log and budget paths.
    pub fn files(&self) -> AgencyFiles {
        let mut files = AgencyFiles::in_dir(&self.identity);
        if let Some(p) = &self.audit_log {
            files.audit_log = p.clone();
        }
        if let Some(p) = &self.budget_state {
            files.budget_state = p.clone();
        }
        files
    }

    /// Who the peer may be: the pins and the CA file.
    ///
    /// # Errors
    /// [`Error::Config`] for a malformed fingerprint or CA file.
    pub fn peer_auth(&self) -> Result<PeerAuth> {
        let pinned = self
            .peers
            .iter()
            .map(|p| p.parse::<Fingerprint>())
            .collect::<Result<Vec<_>>>()?;
        let ca = match &self.peer_ca {
            None => Vec::new(),
            Some(path) => {
                use rustls::pki_types::pem::PemObject;
                let bad = |e: String| {
                    Error::config(ConfigReason::Peers, format!("{}: {e}", path.display()))
                };
                rustls::pki_types::CertificateDer::pem_file_iter(path)
                    .map_err(|e| bad(e.to_string()))?
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| bad(e.to_string()))?
            }
        };
        Ok(PeerAuth { pinned, ca })
    }

    /// Opens the agency: identity, peers, policy, audit log (locked) and budget.
    ///
    /// # Errors
    /// As [`Identity::load`], [`SessionArgs::peer_auth`], the policy file, [`Agency::open`].
    pub fn open_agency(&self) -> Result<Agency> {
        let identity = Identity::load(&self.identity)?;
        let peers = self.peer_auth()?;
        let policy = load_policy(self.policy.as_deref())?;
        Agency::open(identity, policy, peers, &self.files())
    }

    /// The shard of `--shard` and `--logical-session` ([`Shard::WHOLE`] without them), for a
    /// command that writes unmatched rows if `unmatched`.
    ///
    /// # Errors
    /// As [`Shard::new`]; [`Error::Config`] with [`ConfigReason::Conflict`] for `--unmatched`
    /// with more than one shard: a row with several keys may match in another shard, so no
    /// shard can tell which of its rows matched nowhere.
    pub fn shard(&self, unmatched: bool) -> Result<Shard> {
        let shard = match (self.shard, &self.logical_session) {
            (Some((index, count)), name) => {
                Shard::new(index, count, name.as_deref().unwrap_or(""))?
            }
            (None, _) => Shard::WHOLE,
        };
        if shard.is_sharded() && unmatched {
            return Err(Error::config(
                ConfigReason::Conflict,
                "--unmatched cannot be used with --shard: a row may match in another shard \
                 (through another of its keys); the unmatched rows are the input's rows \
                 outside the union of all shards' --output files",
            ));
        }
        Ok(shard)
    }

    /// Deadlines from the options.
    pub fn timeouts(&self) -> Timeouts {
        let mut t = Timeouts::default().with_read_secs(self.read_timeout);
        t.handshake = Duration::from_secs(self.handshake_timeout);
        t
    }

    /// The session to run over `items`, keyed by `key_kinds`.
    pub fn spec(&self, items: ItemSet, key_kinds: Vec<String>) -> SessionSpec {
        let mut s = SessionSpec::new(self.mode, items, key_kinds);
        s.protocol = self.protocol;
        s.oprf_suite = self.oprf_suite;
        s.chunk_size = self.chunk_size;
        s.max_bucket_log2 = self.max_bucket.trailing_zeros() as u8;
        s.pad_to = self.pad_to;
        s
    }

    /// Run options: deadlines, the shutdown, progress bars unless quiet.
    pub fn run_options(&self, quiet: bool, shutdown: Shutdown) -> RunOptions {
        RunOptions {
            timeouts: self.timeouts(),
            shutdown,
            progress: super::progress::for_session(quiet, self.json),
            checkpoint: self.checkpoint.clone().map(|dir| CheckpointOptions {
                dir,
                resume: self.resume,
            }),
            ..RunOptions::default()
        }
    }

    /// After a failed session that kept a checkpoint: how far it got and how to continue,
    /// on standard error.
    pub fn checkpoint_note(&self) {
        let Some(dir) = &self.checkpoint else {
            return;
        };
        if let Ok(Some(s)) = Checkpoint::status(dir) {
            eprintln!(
                "blindmatch: the checkpoint in {} keeps {} of {} buckets: run the same command \
                 with --resume (on both sides) to continue",
                dir.display(),
                s.buckets_done,
                s.buckets
            );
        }
    }
}

/// The identifier kinds of an input's keys, one entry per key (a composite key's kinds
/// joined with `+`), as the hello announces them.
pub fn key_kinds(input: &Records) -> Vec<String> {
    input
        .keys()
        .iter()
        .map(|k| {
            k.parts()
                .iter()
                .map(|p| p.kind.name())
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect()
}

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
    pub own_unique: u64,
    /// Elements we sent: the padded count, or in a bucketed session every bucket's padded
    /// count together, `B · L(n, B)` (`protocol-spec/09-buckets.md` 9.3).
    pub own_sent: u64,
    /// Elements the peer sent, counted the same way.
    pub peer_sent: u64,
    /// Input values dropped because an earlier row or key gave the same item (the input's
    /// `duplicates`, as `check` counts them).
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
    /// The peer's signed session receipt was received, checked and logged (always, for a
    /// completed session).
    pub peer_receipt: bool,
    /// Buckets the body ran in (1: unbucketed).
    pub buckets: u32,
    /// `I/N` when this session was shard `I` of `N` of a logical session (`--shard`); its
    /// counts and matches are the shard's, its `duplicates` the whole input's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// A resumed session (`--resume`): the logical session (its first attempt's id, hex) and
    /// the buckets taken from the checkpoint instead of run again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed: Option<crate::audit::ResumeRecord>,
}

impl Summary {
    /// The summary of a finished session.
    pub fn new(r: &SessionReport) -> Self {
        let o = &r.outcome;
        let mut s = Summary {
            session_id: hex::encode(o.session_id),
            transcript: hex::encode(o.transcript),
            peer_fingerprint: o.peer.fingerprint.to_string(),
            role: o.terms.role.to_string(),
            protocol: o.terms.protocol.to_string(),
            mode: o.terms.mode.to_string(),
            own_unique: o.own_unique,
            own_sent: o.terms.own_count(),
            peer_sent: o.terms.peer_count(),
            duplicates: 0,
            matches: None,
            cardinality: None,
            label_failures: None,
            bytes_sent: r.traffic.bytes_sent,
            bytes_received: r.traffic.bytes_received,
            elapsed_ms: r.elapsed.as_millis(),
            output: o.output_record.as_ref().map(|rec| rec.location.clone()),
            peer_receipt: true,
            buckets: o.terms.buckets(),
            shard: o
                .terms
                .shard
                .is_sharded()
                .then(|| o.terms.shard.to_string()),
            resumed: o.terms.resume.map(|r| crate::audit::ResumeRecord {
                session: hex::encode(r.logical_session),
                buckets_done: r.buckets_done,
            }),
        };
        match &o.output {
            BodyOutput::Dh(d) | BodyOutput::Vole(d) => {
                (s.matches, s.cardinality) = match &d.learned {
                    Learned::Nothing => (None, None),
                    Learned::Cardinality(n) => (None, Some(*n)),
                    Learned::Matches(m) => (Some(m.len()), None),
                };
                s.duplicates = d.duplicates;
                // What the body sent: a bucketed session pads every bucket, `B · L(n, B)`.
                (s.own_sent, s.peer_sent) = (d.own_sent as u64, d.peer_sent as u64);
            }
            BodyOutput::Receiver(rx) => {
                s.duplicates = rx.duplicates;
                s.matches = Some(rx.matches.len());
                s.label_failures =
                    (o.terms.mode == SessionMode::Labeled).then_some(rx.label_failures);
            }
            _ => {}
        }
        s
    }

    /// The same, counting the duplicates of `input` (the items were made distinct when the
    /// input was loaded, so the protocol sees none).
    pub fn with_input(mut self, input: Option<&Records>) -> Self {
        if let Some(r) = input {
            self.duplicates += r.summary().keys.iter().map(|k| k.duplicates).sum::<usize>();
        }
        self
    }

    /// Prints the summary: JSON on one line, or a few human lines.
    pub fn print(&self, json: bool) {
        if json {
            match serde_json::to_string(self) {
                Ok(s) => outln!("{s}"),
                Err(e) => eprintln!("blindmatch: cannot encode the summary: {e}"),
            }
            return;
        }
        outln!(
            "session {} with peer {} ({}, {} mode, {})",
            &self.session_id[..16],
            self.peer_fingerprint,
            self.role,
            self.mode,
            crate::session::Protocol::from_name(&self.protocol).map_or("?", |p| p.title())
        );
        if let Some(shard) = &self.shard {
            outln!("  shard {shard} of a logical session: the counts below are this shard's");
        }
        if self.buckets > 1 {
            outln!("  ran in {} buckets", self.buckets);
        }
        if let Some(r) = &self.resumed {
            outln!(
                "  resumed session {}: {} buckets taken from the checkpoint, the others run now",
                &r.session[..16],
                r.buckets_done
            );
        }
        outln!(
            "  sent {} elements ({} distinct items), received {}; {} duplicate input items dropped",
            self.own_sent,
            self.own_unique,
            self.peer_sent,
            self.duplicates
        );
        let learned = match (self.matches, self.cardinality) {
            (Some(m), _) => format!("{m} of our items are in the peer's set"),
            (None, Some(c)) => format!("the intersection has {c} items (which ones: not revealed)"),
            (None, None) => "nothing beyond the peer's set size".to_string(),
        };
        outln!("  learned: {learned}");
        if let Some(o) = &self.output {
            outln!("  matches written to {o}");
        }
        outln!("  the peer's signed receipt was checked and logged");
        outln!(
            "  {:.2} s, {} bytes sent, {} bytes received",
            Duration::from_millis(self.elapsed_ms as u64).as_secs_f64(),
            self.bytes_sent,
            self.bytes_received
        );
    }
}

/// Starts a task that triggers `trigger` on Ctrl-C or SIGTERM, saying so on stderr.
pub fn cancel_on_signal(trigger: crate::transport::shutdown::ShutdownTrigger, what: &'static str) {
    tokio::spawn(async move {
        crate::transport::shutdown::interrupted().await;
        eprintln!("blindmatch: interrupted: {what}");
        trigger.trigger(crate::error::CancelReason::Interrupted);
    });
}

/// `--max-bucket`: a power of two of items within the hello's range (4.3.1).
/// `--shard I/N`: `I` from 0 to `N - 1`, `N` from 1 to [`MAX_SHARDS`].
fn shard_arg(text: &str) -> std::result::Result<(u32, u32), String> {
    let parsed = text
        .split_once('/')
        .and_then(|(i, n)| Some((i.trim().parse::<u32>().ok()?, n.trim().parse::<u32>().ok()?)));
    match parsed {
        Some((i, n)) if (1..=MAX_SHARDS).contains(&n) && i < n => Ok((i, n)),
        Some((i, n)) => Err(format!(
            "shard {i}/{n}: N must be 1 to {MAX_SHARDS} and I from 0 to N - 1 (for example 0/4 \
             to 3/4)"
        )),
        None => Err(format!("`{text}` is not I/N (for example 2/8)")),
    }
}

fn bucket_items(text: &str) -> std::result::Result<u32, String> {
    let range = crate::protocol::bucket::BUCKET_LOG2_RANGE;
    let (lo, hi) = (1u32 << range.start(), 1u32 << range.end());
    let n: u32 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of items"))?;
    if !n.is_power_of_two() || !(lo..=hi).contains(&n) {
        return Err(format!(
            "{n} is not a power of two from {lo} to {hi} (for example 65536 or 1048576)"
        ));
    }
    Ok(n)
}
