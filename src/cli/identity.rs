//! `blindmatch identity new|show`: create an agency identity; print its certificate fingerprint and
//! its audit signing key.

use std::path::PathBuf;

use crate::error::Result;
use crate::identity::Identity;

/// Agency identities (an Ed25519 key and a self-signed certificate).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub action: Action,
}

/// The identity actions.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Create a new identity and print the fingerprint the peer must pin.
    New {
        /// The agency's name (certificate common name), e.g. "Customs Agency A".
        #[arg(long)]
        name: String,
        /// Directory to write `identity.key` (mode 0600) and `identity.crt` into.
        #[arg(long)]
        out: PathBuf,
        /// Replace an existing identity (its fingerprint changes: peers must pin the new one).
        #[arg(long)]
        force: bool,
    },
    /// Print the certificate fingerprint (what the peer pins with `--peer`) and the audit
    /// signing public key (what `audit verify --key` and `report --key` take).
    Show {
        /// The identity directory.
        dir: PathBuf,
    },
}

/// Runs the subcommand.
///
/// # Errors
/// As [`Identity::create`] and [`Identity::load`]: [`crate::Error::Config`] with
/// [`ConfigReason::Identity`](crate::error::ConfigReason::Identity) for an existing or broken
/// identity, [`crate::Error::Input`] with
/// [`InputReason::Argument`](crate::error::InputReason::Argument) for an empty name,
/// [`crate::Error::Io`] if the files cannot be written.
pub fn run(args: Args, quiet: bool) -> Result<()> {
    match args.action {
        Action::New { name, out, force } => {
            let created = Identity::create(&out, &name, force)?;
            if !quiet {
                outln!("key:         {}", created.key_path.display());
                outln!("certificate: {}", created.cert_path.display());
                outln!("fingerprint (give it to the peer to pin with --peer):");
            }
            outln!("{}", created.fingerprint);
        }
        Action::Show { dir } => {
            let id = Identity::load(&dir)?;
            if quiet {
                // Bare values, one a line, for scripts.
                outln!("{}\n{}", id.fingerprint(), signing_key_hex(&id));
            } else {
                outln!("certificate fingerprint (--peer): {}", id.fingerprint());
                outln!(
                    "audit signing key (audit verify --key): {}",
                    signing_key_hex(&id)
                );
            }
        }
    }
    Ok(())
}

/// The hex Ed25519 public key that signs the identity's audit log.
pub fn signing_key_hex(id: &Identity) -> String {
    hex::encode(id.verifying_key().to_bytes())
}
