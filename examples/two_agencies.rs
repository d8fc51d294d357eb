//! Two agencies in one tokio runtime: the smallest complete embedding of a networked,
//! policy-checked, audited session through the library's one entry point, [`Agency`].
//!
//! Agency B (a vessel register) serves on a loopback port; agency A (a sanctions desk)
//! connects, and both learn the IMO numbers they share (mutual mode). Everything that makes a
//! session trustworthy happens inside `Agency`: mutual TLS with pinned certificates, the
//! policy's rules before connecting and at admission, the element budgets, receipts both ways,
//! and the signed audit log in each identity directory.
//!
//! `cargo run --example two_agencies`

use blindmatch::agency::{Agency, AgencyFiles, RunOptions, SessionSpec};
use blindmatch::identity::Identity;
use blindmatch::policy::Policy;
use blindmatch::protocol::ItemSet;
use blindmatch::session::{BodyOutput, SessionMode};
use blindmatch::transport::server::ServerLimits;
use blindmatch::transport::shutdown::Shutdown;
use blindmatch::transport::verifier::PeerAuth;

#[tokio::main]
async fn main() -> blindmatch::Result<()> {
    let dir = tempfile::tempdir().map_err(|e| blindmatch::Error::io("temporary directory", e))?;
    let (a_dir, b_dir) = (dir.path().join("agency-a"), dir.path().join("agency-b"));
    Identity::create(&a_dir, "Agency A", false)?;
    Identity::create(&b_dir, "Agency B", false)?;
    let (a, b) = (Identity::load(&a_dir)?, Identity::load(&b_dir)?);
    let (a_fp, b_fp) = (a.fingerprint(), b.fingerprint());

    // Both load the same policy (here the built-in default) and pin each other.
    let policy = Policy::default_policy();
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

    let watchlist = ItemSet::new(["IMO9187629", "IMO9321483", "IMO9074729"]);
    let register = ItemSet::new(["IMO9321483", "IMO9811000", "IMO9074729", "IMO9262089"]);
    let key = vec!["imo_ship".to_owned()];

    // B serves one session on a loopback port.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| blindmatch::Error::io("binding 127.0.0.1:0", e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| blindmatch::Error::io("reading the local address", e))?
        .to_string();
    let b_spec = SessionSpec::new(SessionMode::Mutual, register, key.clone());
    let limits = ServerLimits::default().with_max_connections(1);
    let server = tokio::spawn(async move {
        agency_b
            .serve(
                listener,
                limits,
                Shutdown::never(),
                move || (b_spec.clone(), RunOptions::default()),
                |report| match report {
                    Ok(r) => println!("B: session {} completed", hex8(&r.outcome().session_id())),
                    Err(e) => println!("B: session failed: {e}"),
                },
            )
            .await
    });

    // A connects and runs the session.
    let spec = SessionSpec::new(SessionMode::Mutual, watchlist, key);
    let report = agency_a.connect(&addr, spec, RunOptions::default()).await?;
    if let BodyOutput::Dh(out) | BodyOutput::Vole(out) = report.outcome().output() {
        let shared: Vec<String> = out
            .matches()
            .into_iter()
            .flatten()
            .map(|m| String::from_utf8_lossy(m.item()).into_owned())
            .collect();
        println!("A: shared with B: {shared:?}");
    }
    println!(
        "A: B's signed receipt checked and logged; A's log is {}",
        agency_a.audit_log().display()
    );
    server
        .await
        .map_err(|e| blindmatch::Error::internal(format!("the server task: {e}")))??;
    Ok(())
}

fn hex8(id: &[u8; 32]) -> String {
    id[..4].iter().map(|b| format!("{b:02x}")).collect()
}
