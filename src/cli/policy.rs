//! `blindmatch policy check FILE`: validates a policy file and prints its digest.

use std::path::PathBuf;

use crate::error::Result;
use crate::policy::Policy;

/// Work with policy files.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do with a policy.
    #[command(subcommand)]
    pub action: Action,
}

/// `policy` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Validate a policy file and print its canonical digest (the value both agencies must
    /// agree on).
    Check {
        /// The policy TOML file.
        file: PathBuf,
    },
    /// Print the digest of the default policy (used when no policy file is given).
    Default,
}

/// Runs `blindmatch policy ...`.
///
/// # Errors
/// [`crate::Error::Io`] if the file cannot be read; [`crate::Error::Config`] with
/// [`ConfigReason::Policy`](crate::error::ConfigReason::Policy), naming `file:line:column`, if
/// it is not a valid policy.
pub fn run(args: Args, quiet: bool) -> Result<()> {
    let (policy, origin) = match args.action {
        Action::Check { file } => (Policy::load(&file)?, file.display().to_string()),
        Action::Default => (Policy::default_policy(), "default policy".to_owned()),
    };
    if quiet {
        outln!("{}", policy.digest_hex());
        return Ok(());
    }
    outln!("{origin}: valid policy \"{}\"", policy.name());
    outln!("  modes:                {}", join(policy.modes()));
    outln!(
        "  identifier kinds:     {}",
        join(policy.identifier_kinds())
    );
    outln!(
        "  set size:             {} to {}",
        policy.min_set_size(),
        policy.max_set_size()
    );
    match policy.padding_bound() {
        Some(b) => outln!("  padding bound:        {b}"),
        None => outln!("  padding bound:        none (true sizes are revealed)"),
    }
    outln!(
        "  revealable columns:   {}",
        join(policy.revealable_columns())
    );
    outln!(
        "  sessions/peer/day:    {}",
        policy.max_sessions_per_peer_per_day()
    );
    outln!(
        "  count-only run first: {}",
        if policy.cardinality_before_reveal() {
            "yes"
        } else {
            "no"
        }
    );
    outln!(
        "  output retention:     {} days",
        policy.output_retention_days()
    );
    outln!("digest: {}", policy.digest_hex());
    Ok(())
}

fn join(set: &std::collections::BTreeSet<String>) -> String {
    if set.is_empty() {
        "none".to_owned()
    } else {
        set.iter().cloned().collect::<Vec<_>>().join(", ")
    }
}
