//! `blindmatch demo`: two agencies on loopback over real mutual TLS, matching bundled public
//! data: the IMO numbers of the OFAC SDN vessels against a public vessel register
//! (`data/README.md`).

use std::time::Instant;

use crate::error::{Error, Result};
use crate::identity::Identity;
use crate::protocol::dh::Learned;
use crate::protocol::{ItemSet, Mode, Role};
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

/// One bundled table: `(imo, description)` per row.
fn table(text: &str, describe: &[usize]) -> Result<Vec<(String, String)>> {
    let mut rows = Vec::new();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| Error::Input(format!("bundled data, row {}: {e}", i + 2)))?;
        let imo = rec.get(0).unwrap_or_default().to_string();
        let desc: Vec<&str> = describe.iter().filter_map(|&c| rec.get(c)).collect();
        rows.push((imo, desc.join(", ")));
    }
    Ok(rows)
}

/// Runs the demo.
///
/// # Errors
/// Any failure of the two sessions (which would be a bug).
pub fn run(_args: Args, quiet: bool) -> Result<()> {
    let start = Instant::now();
    let sdn = table(SDN_VESSELS, &[2, 3, 4])?;
    let register = table(REGISTER, &[1, 3, 5])?;
    let dir = tempfile::tempdir().map_err(|e| Error::io("creating a temporary directory", e))?;
    let a_dir = dir.path().join("agency-a");
    let b_dir = dir.path().join("agency-b");
    Identity::create(&a_dir, "Agency A (sanctions screening)", false)?;
    Identity::create(&b_dir, "Agency B (vessel register)", false)?;
    let a = Identity::load(&a_dir)?;
    let b = Identity::load(&b_dir)?;
    println!("blindmatch demo: two agencies, mutual TLS 1.3 on 127.0.0.1, DH-PSI in mutual mode");
    println!(
        "  Agency A holds the {} IMO numbers of the OFAC SDN vessels (certificate {})",
        sdn.len(),
        a.fingerprint
    );
    println!(
        "  Agency B holds a public register of {} vessels (certificate {})",
        register.len(),
        b.fingerprint
    );

    let config = SessionConfig {
        mode: Mode::Mutual,
        policy_digest: super::session_args::policy_digest(None)?,
        chunk_size: crate::protocol::dh::DEFAULT_CHUNK_SIZE,
        padded_count: None,
        timeouts: Timeouts::default().with_read_secs(30),
        quiet: true,
    };
    let a_items = ItemSet::new(sdn.iter().map(|(imo, _)| imo.as_bytes()));
    let b_items = ItemSet::new(register.iter().map(|(imo, _)| imo.as_bytes()));
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
        let b_config = config.clone();
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
            .map_err(|_| Error::Cancelled("the responder ended without a result".into()))?;
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
    Ok(())
}

fn print_side(name: &str, r: &SessionReport, rows: &[(String, String)], quiet: bool) {
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
                    let imo = String::from_utf8_lossy(&mt.item);
                    let desc = mt
                        .input_indices
                        .first()
                        .and_then(|&i| rows.get(i))
                        .map(|(_, d)| d.as_str())
                        .unwrap_or("");
                    println!("    IMO {imo}  {desc}");
                }
            }
        }
        Learned::Cardinality(n) => println!("  {name} learned the intersection size: {n}"),
        Learned::Nothing => println!("  {name} learned only the other set's size"),
    }
}
