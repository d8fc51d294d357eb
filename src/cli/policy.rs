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
        "  elements/peer/kind:   {} in {} days",
        policy.max_elements_per_peer(),
        policy.element_window_days()
    );
    if let Some(len) = policy.payload_len() {
        outln!("  payload length:       {len} bytes (every payload padded to it)");
    }
    if policy.cardinality_before_reveal() {
        outln!(
            "  count-only run first: yes, within {} days",
            policy.cardinality_window_days()
        );
    } else {
        outln!("  count-only run first: no");
    }
    if policy.allow_key_reuse() {
        outln!(
            "  index keys:           reused, for at most {} days and {} evaluations per receiver",
            policy.index_key_lifetime_days(),
            policy.max_evaluations_per_receiver_per_key()
        );
    } else {
        outln!("  index keys:           a fresh key every session");
    }
    outln!(
        "  output retention:     {} days",
        policy.output_retention_days()
    );
    print_exposure(&policy);
    outln!("digest: {}", policy.digest_hex());
    Ok(())
}

/// What a peer listing a whole enumerable domain could learn (spec 06 section 2.3).
fn print_exposure(policy: &Policy) {
    let exposure = policy.exposure();
    if exposure.is_empty() {
        outln!("  enumerable kinds:     none allowed");
        return;
    }
    outln!(
        "  what a curious peer could test (limit {} % of a kind's domain):",
        policy.max_domain_share_percent()
    );
    for e in exposure {
        let pct = |n: u64| (n as f64 * 100.0 / e.domain.size as f64).min(100.0);
        out!(
            "    {:<14} {} values in {} days ({:.1} % of {})",
            e.kind.name(),
            e.per_window,
            policy.element_window_days(),
            pct(e.per_window),
            e.domain.size
        );
        match e.per_key {
            Some(k) => outln!(", {k} under one index key ({:.1} %)", pct(k)),
            None => outln!(),
        }
    }
}

fn join(set: &std::collections::BTreeSet<String>) -> String {
    if set.is_empty() {
        "none".to_owned()
    } else {
        set.iter().cloned().collect::<Vec<_>>().join(", ")
    }
}
