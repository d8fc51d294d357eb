//! `blindmatch demo`: two agencies on loopback over real mutual TLS, matching bundled public
//! data: the IMO numbers of the OFAC SDN vessels against a public vessel register
//! (`data/README.md`).

use std::sync::Arc;
use std::time::Instant;

use crate::audit;
use crate::error::{Error, Result};
use crate::identity::Identity;
use crate::protocol::dh::Learned;
use crate::protocol::{ItemSet, Mode, Role};
use crate::records::{self, InputSpec, KeySpec, Records};
use crate::transport::compliance::{policy_kinds, Compliance};
use crate::transport::server::{serve, ServeOptions};
use crate::transport::session::{run_dh, SessionConfig, SessionReport};
use crate::transport::timeouts::Timeouts;
use crate::transport::verifier::PeerAuth;
use crate::transport::{client, tls};

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

    /// The text of item `i` and the described columns of its first row.
    fn describe(&self, i: usize) -> (String, String) {
        let text = self.records.item_text(i).unwrap_or_default().to_string();
        let desc = self
            .records
            .origins(i)
            .first()
            .and_then(|o| self.records.rows().get(o.row))
            .map(|row| {
                self.describe
                    .iter()
                    .filter_map(|&c| row.field(c))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        (text, desc)
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
    println!("blindmatch demo: two agencies, mutual TLS 1.3 on 127.0.0.1, DH-PSI in mutual mode");
    println!(
        "  Agency A holds the {} IMO numbers of the OFAC SDN vessels (certificate {})",
        sdn.records.items().len(),
        a.fingerprint
    );
    println!(
        "  Agency B holds a public register of {} vessels (certificate {})",
        register.records.items().len(),
        b.fingerprint
    );

    // Each agency keeps its own signed audit log and budget state under the default policy.
    let policy = super::session_args::load_policy(None)?;
    let compliance = |id: &Identity, dir: &std::path::Path, t: &Table| {
        let kinds: Vec<&str> = t
            .records
            .keys()
            .iter()
            .flat_map(|k| k.parts().iter().map(|p| p.kind.name()))
            .collect();
        Compliance::open(
            policy.clone(),
            policy_kinds(&policy, &kinds),
            id,
            &dir.join("audit.jsonl"),
            &dir.join("budget.json"),
        )
        .map(Arc::new)
    };
    let a_compliance = compliance(&a, &a_dir, &sdn)?;
    let b_compliance = compliance(&b, &b_dir, &register)?;
    let config = SessionConfig {
        mode: Mode::Mutual,
        policy_digest: policy.digest(),
        chunk_size: crate::protocol::dh::DEFAULT_CHUNK_SIZE,
        padded_count: None,
        timeouts: Timeouts::default().with_read_secs(30),
        quiet: true,
        gate: None,
        compliance: Some(a_compliance.clone()),
    };
    let a_items = sdn.items();
    let b_items = register.items();
    let client_config = tls::client_config(&a, &PeerAuth::pinned(b.fingerprint))?;
    let server_config = tls::server_config(&b, &PeerAuth::pinned(a.fingerprint))?;
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
        let b_config = SessionConfig {
            compliance: Some(b_compliance.clone()),
            ..config.clone()
        };
        let options = ServeOptions {
            max_concurrent: 1,
            max_connections: Some(1),
            timeouts: config.timeouts,
        };
        let server = tokio::spawn(serve(
            listener,
            server_config,
            options,
            std::future::pending(),
            move |conn| {
                let items = b_items.clone();
                let cfg = b_config.clone();
                let tx = tx.lock().ok().and_then(|mut t| t.take());
                async move {
                    let r = match conn {
                        Ok(c) => run_dh(c, Role::Responder, &cfg, items).await,
                        Err(e) => Err(e),
                    };
                    if let Some(tx) = tx {
                        let _ = tx.send(r);
                    }
                }
            },
        ));
        let conn = client::connect(&addr, client_config, &config.timeouts).await?;
        let ra = run_dh(conn, Role::Initiator, &config, a_items).await;
        let rb = rx
            .await
            .map_err(|_| Error::LegacyCancelled("the responder ended without a result".into()))?;
        let _ = server.await;
        Ok::<_, Error>((ra?, rb?))
    })?;
    let elapsed = start.elapsed();
    print_side("Agency A", &ra, &sdn, quiet);
    print_side("Agency B", &rb, &register, quiet);
    println!(
        "  session {} ({} bytes A -> B, {} bytes B -> A), total time {:.2} s",
        hex::encode(&ra.session_id[..8]),
        ra.stats.bytes_sent,
        ra.stats.bytes_received,
        elapsed.as_secs_f64()
    );
    let entries = |c: &Compliance, key: ed25519_dalek::VerifyingKey| -> Result<usize> {
        let report = audit::verify(c.log().path(), &[key])?;
        match report.first_bad() {
            None => Ok(report.entries.len()),
            Some((i, why)) => Err(Error::LegacyAudit(format!(
                "{}: entry {i}: {why}",
                c.log().path().display()
            ))),
        }
    };
    let na = entries(&a_compliance, a.signing_key.verifying_key())?;
    let nb = entries(&b_compliance, b.signing_key.verifying_key())?;
    if ra.peer_receipt.is_none() || rb.peer_receipt.is_none() {
        return Err(Error::LegacyAudit("a session receipt is missing".into()));
    }
    println!(
        "  audit logs verify ({na} entries for A, {nb} for B: hash chains and signatures valid); \
         signed session receipts were exchanged, checked against each peer's certificate key and logged"
    );
    Ok(())
}

fn print_side(name: &str, r: &SessionReport, table: &Table, quiet: bool) {
    match &r.output.learned {
        Learned::Matches(m) => {
            println!(
                "  {name} learned that {} of its {} items are held by the other agency (and the other set's size, {}):",
                m.len(),
                r.output.own_unique,
                r.output.peer_sent
            );
            if !quiet {
                for mt in m {
                    let (imo, desc) = mt
                        .input_indices
                        .first()
                        .map(|&i| table.describe(i))
                        .unwrap_or_default();
                    println!("    IMO {imo}  {desc}");
                }
            }
        }
        Learned::Cardinality(n) => println!("  {name} learned the intersection size: {n}"),
        Learned::Nothing => println!("  {name} learned only the other set's size"),
    }
}
