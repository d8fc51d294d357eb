//! `blindmatch demo`: two agencies on loopback over real mutual TLS, matching bundled public
//! data: the IMO numbers of the OFAC SDN vessels against a public vessel register
//! (`data/README.md`).

use std::time::Instant;

use crate::agency::{Agency, AgencyFiles, RunOptions, SessionSpec};
use crate::audit;
use crate::error::{Error, Result};
use crate::identity::Identity;
use crate::protocol::dh::Learned;
use crate::protocol::ItemSet;
use crate::records::{self, InputSpec, KeySpec, Records};
use crate::session::{BodyOutput, ProtocolChoice, SessionMode, SessionReport};
use crate::transport::server::ServerLimits;
use crate::transport::shutdown::Shutdown;
use crate::transport::timeouts::Timeouts;
use crate::transport::verifier::PeerAuth;

const SDN_VESSELS: &str = include_str!("../../data/ofac_sdn_vessels.csv");
const REGISTER: &str = include_str!("../../data/vessel_register.csv");

/// Run the two-agency demo (no arguments).
#[derive(Debug, clap::Args)]
pub struct Args {}

/// One bundled table, loaded through [`crate::records`] with its `imo` column parsed as an
/// IMO ship number; `describe` names the columns shown for a match.
struct Table {
    records: Records,
    describe: Vec<usize>,
}

impl Table {
    fn load(dir: &std::path::Path, name: &str, text: &str, describe: &[&str]) -> Result<Table> {
        let path = dir.join(name);
        std::fs::write(&path, text)
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        let key: KeySpec = "imo:imo_ship".parse()?;
        let records = records::load(&InputSpec::new(&path, vec![key]))?;
        let describe = describe
            .iter()
            .filter_map(|c| records.header().iter().position(|h| h == c))
            .collect();
        Ok(Table { records, describe })
    }

    fn items(&self) -> ItemSet {
        self.records.item_set()
    }

    /// The text of item `i` and the described columns of its first row (the demo's tables are
    /// a few rows: read again for each).
    fn describe(&self, i: usize) -> Result<(String, String)> {
        let text = self.records.item_text(i).unwrap_or_default().to_string();
        let mut desc = String::new();
        if let Some(first) = self.records.origins(i).next() {
            self.records.for_each_row(|index, row| {
                if index == first.row {
                    desc = self
                        .describe
                        .iter()
                        .filter_map(|&c| row.field(c))
                        .collect::<Vec<_>>()
                        .join(", ");
                }
                Ok(())
            })?;
        }
        Ok((text, desc))
    }
}

/// Runs the demo.
///
/// # Errors
/// Any failure of the two sessions (which would be a bug).
pub fn run(_args: Args, quiet: bool) -> Result<()> {
    let start = Instant::now();
    let dir = tempfile::tempdir().map_err(|e| Error::io("creating a temporary directory", e))?;
    let sdn = Table::load(
        dir.path(),
        "ofac_sdn_vessels.csv",
        SDN_VESSELS,
        &["name", "vessel_type", "flag"],
    )?;
    let register = Table::load(
        dir.path(),
        "vessel_register.csv",
        REGISTER,
        &["vessel_name", "type", "flag"],
    )?;
    let a_dir = dir.path().join("agency-a");
    let b_dir = dir.path().join("agency-b");
    Identity::create(&a_dir, "Agency A (sanctions screening)", false)?;
    Identity::create(&b_dir, "Agency B (vessel register)", false)?;
    let a = Identity::load(&a_dir)?;
    let b = Identity::load(&b_dir)?;
    outln!("blindmatch demo: two agencies, mutual TLS 1.3 on 127.0.0.1, DH-PSI in mutual mode");
    outln!(
        "  Agency A holds the {} IMO numbers of the OFAC SDN vessels (certificate {})",
        sdn.records.items().len(),
        a.fingerprint()
    );
    outln!(
        "  Agency B holds a public register of {} vessels (certificate {})",
        register.records.items().len(),
        b.fingerprint()
    );
    let (a_key, b_key) = (a.verifying_key(), b.verifying_key());
    let (a_fp, b_fp) = (a.fingerprint(), b.fingerprint());
    // Each agency keeps its own signed audit log and budget state under the default policy.
    let policy = super::session_args::load_policy(None)?;
    let agency_a = Agency::open(
        a,
        policy.clone(),
        PeerAuth::pinned(b_fp),
        &AgencyFiles::in_dir(&a_dir),
    )?;
    let agency_b = Agency::open(
        b,
        policy,
        PeerAuth::pinned(a_fp),
        &AgencyFiles::in_dir(&b_dir),
    )?;
    let spec = |t: &Table| {
        let mut s = SessionSpec::new(
            SessionMode::Mutual,
            t.items(),
            super::session_args::key_kinds(&t.records),
        );
        s.protocol = ProtocolChoice::Dh;
        s
    };
    let (spec_a, spec_b) = (spec(&sdn), spec(&register));
    let options = RunOptions {
        timeouts: Timeouts::default().with_read_secs(30),
        ..RunOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the runtime", e))?;
    let (ra, rb) = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| Error::io("listening on 127.0.0.1", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io("reading the listening address", e))?
            .to_string();
        let (tx, rx) = tokio::sync::oneshot::channel::<Result<SessionReport>>();
        let tx = std::sync::Mutex::new(Some(tx));
        let limits = ServerLimits {
            max_sessions: 1,
            max_connections: Some(1),
            timeouts: options.timeouts,
            ..ServerLimits::default()
        };
        let b_options = options.clone();
        let server = tokio::spawn(async move {
            agency_b
                .serve(
                    listener,
                    limits,
                    Shutdown::never(),
                    move || (spec_b.clone(), b_options.clone()),
                    move |r| {
                        if let Some(tx) = tx.lock().ok().and_then(|mut t| t.take()) {
                            let _ = tx.send(r);
                        }
                    },
                )
                .await
        });
        let ra = agency_a.connect(&addr, spec_a, options).await;
        let rb = rx
            .await
            .map_err(|_| Error::internal("the responder ended without a result"))?;
        let _ = server.await;
        Ok::<_, Error>((ra?, rb?, agency_a.audit_log().to_owned()))
            .map(|(ra, rb, la)| ((ra, la), rb))
    })?;
    let ((ra, a_log), rb) = (ra, rb);
    let elapsed = start.elapsed();
    print_side("Agency A", &ra, &sdn, quiet)?;
    print_side("Agency B", &rb, &register, quiet)?;
    outln!(
        "  session {} ({} bytes A -> B, {} bytes B -> A), total time {:.2} s",
        hex::encode(&ra.outcome.session_id[..8]),
        ra.traffic.bytes_sent,
        ra.traffic.bytes_received,
        elapsed.as_secs_f64()
    );
    let entries = |log: &std::path::Path, key: ed25519_dalek::VerifyingKey| -> Result<usize> {
        let report = audit::verify(log, &[key])?;
        match report.problem() {
            None => Ok(report.entries.len()),
            Some(p) => Err(Error::Audit(crate::error::AuditError::new(p).at(log))),
        }
    };
    let na = entries(&a_log, a_key)?;
    let nb = entries(&b_dir.join(crate::agency::AUDIT_LOG_FILE), b_key)?;
    outln!(
        "  audit logs verify ({na} entries for A, {nb} for B: hash chains and signatures valid); \
         signed session receipts were exchanged, checked against each peer's certificate key and logged"
    );
    Ok(())
}

fn print_side(name: &str, r: &SessionReport, table: &Table, quiet: bool) -> Result<()> {
    let BodyOutput::Dh(out) = &r.outcome.output else {
        return Ok(());
    };
    match &out.learned {
        Learned::Matches(m) => {
            outln!(
                "  {name} learned that {} of its {} items are held by the other agency (and the other set's size, {}):",
                m.len(),
                out.own_unique,
                out.peer_sent
            );
            if !quiet {
                for mt in m {
                    let (imo, desc) = table.describe(mt.first_input_index())?;
                    outln!("    IMO {imo}  {desc}");
                }
            }
        }
        Learned::Cardinality(n) => outln!("  {name} learned the intersection size: {n}"),
        Learned::Nothing => outln!("  {name} learned only the other set's size"),
    }
    Ok(())
}
