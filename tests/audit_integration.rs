//! The audit log with a real session and a real agency identity: no input value reaches the
//! log, and `identity new` directories work as `--key`.

use blindmatch::audit::{self, AuditLog, Learned, Outcome, SessionInfo};
use blindmatch::ed25519_dalek::pkcs8::DecodePrivateKey;
use blindmatch::ed25519_dalek::SigningKey;
use blindmatch::identity::Identity;
use blindmatch::protocol::memory::run_dh_psi;
use blindmatch::protocol::{ItemSet, Mode};

#[test]
fn no_input_value_of_a_real_session_appears_in_the_log() {
    let ours: Vec<String> = (0..40).map(|i| format!("IMO93{i:05}")).collect();
    let mut theirs: Vec<String> = (0..25).map(|i| format!("IMO88{i:05}")).collect();
    theirs.extend(ours[..6].iter().cloned());
    let (init, resp) = run_dh_psi(
        Mode::Mutual,
        ItemSet::new(&ours),
        ItemSet::new(&theirs),
        None,
    )
    .expect("run");
    assert_eq!(init.match_count(), Some(6));

    let dir = tempfile::tempdir().expect("tmp");
    let id = Identity::create(&dir.path().join("id"), "Customs Agency A", false).expect("id");
    let identity = Identity::load(&dir.path().join("id")).expect("load");
    // Our output file holds matched values; the log holds only its digest.
    let output = dir.path().join("matches.csv");
    let rows: Vec<String> = init
        .matches()
        .expect("matches")
        .iter()
        .map(|m| String::from_utf8_lossy(m.item()).into_owned())
        .collect();
    std::fs::write(&output, format!("imo\n{}\n", rows.join("\n"))).expect("write");

    let info = SessionInfo {
        session_id: hex::encode([1u8; 32]),
        transcript_hash: hex::encode([2u8; 32]),
        role: "initiator".into(),
        mode: init.mode.to_string(),
        own_agency: "Customs Agency A".into(),
        peer_agency: "Customs Agency B".into(),
        peer_fingerprint: id.fingerprint.to_string(),
        policy_digest: blindmatch::policy::Policy::default_policy().digest_hex(),
        own_unique: Some(init.own_unique as u64),
        local_own_unique: None,
        own_sent: init.own_sent as u64,
        peer_sent: init.peer_sent as u64,
        key_epoch: None,
    };
    let log_path = dir.path().join("audit.jsonl");
    // The identity keeps its signing key inside the library; a caller writing a log by hand
    // reads the key file of the identity directory.
    let key_pem =
        std::fs::read_to_string(dir.path().join("id").join(blindmatch::identity::KEY_FILE))
            .expect("key file");
    let signing_key = SigningKey::from_pkcs8_pem(&key_pem).expect("key");
    let log = AuditLog::open(&log_path, signing_key).expect("open");
    log.session_started(&info).expect("log");
    log.session_ended(
        &info,
        &Outcome {
            own_learned: Learned::from_dh(&init.learned),
            peer_learned: Learned::from_dh(&resp.learned),
            output_file: Some(output.display().to_string()),
            output_sha3_256: Some(audit::file_digest(&output).expect("digest")),
            output_commitment: None,
        },
    )
    .expect("log");

    let text = std::fs::read_to_string(&log_path).expect("read");
    // Digests, keys and signatures are long hex strings in which 7 digits may occur by chance:
    // the digits-only check below looks at everything else.
    let non_hex: String = text
        .split('"')
        .filter(|t| !(t.len() >= 32 && t.bytes().all(|b| b.is_ascii_hexdigit())))
        .collect::<Vec<_>>()
        .join("\"");
    assert!(text.contains("{\"matches\":6}"), "the count is logged");
    for item in ours.iter().chain(theirs.iter()) {
        assert!(!text.contains(item.as_str()), "{item} leaked into the log");
        // Nor the digits alone (an identifier without its prefix).
        assert!(
            !non_hex.contains(&item[3..]),
            "{item} digits leaked into the log"
        );
    }

    // The identity directory verifies the log as `--key`.
    let key = audit::parse_public_key(dir.path().join("id").to_str().expect("utf8")).expect("key");
    assert_eq!(key, identity.verifying_key());
    assert!(audit::verify(&log_path, &[key]).expect("verify").is_ok());
}
