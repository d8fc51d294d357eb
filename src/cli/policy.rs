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
        println!("{}", policy.digest_hex());
        return Ok(());
    }
    println!("{origin}: valid policy \"{}\"", policy.name());
    println!("  modes:                {}", join(policy.modes()));
    println!(
        "  identifier kinds:     {}",
        join(policy.identifier_kinds())
    );
    println!(
        "  set size:             {} to {}",
        policy.min_set_size(),
        policy.max_set_size()
    );
    match policy.padding_bound() {
        Some(b) => println!("  padding bound:        {b}"),
        None => println!("  padding bound:        none (true sizes are revealed)"),
    }
    println!(
        "  revealable columns:   {}",
        join(policy.revealable_columns())
    );
    println!(
        "  sessions/peer/day:    {}",
        policy.max_sessions_per_peer_per_day()
    );
    println!(
        "  count-only run first: {}",
        if policy.cardinality_before_reveal() {
            "yes"
        } else {
            "no"
        }
    );
    println!(
        "  output retention:     {} days",
        policy.output_retention_days()
    );
    println!("digest: {}", policy.digest_hex());
    Ok(())
}

fn join(set: &std::collections::BTreeSet<String>) -> String {
    if set.is_empty() {
        "none".to_owned()
    } else {
        set.iter().cloned().collect::<Vec<_>>().join(", ")
    }
}
