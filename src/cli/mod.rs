//! The command line, thin: each subcommand lives in its own file with a clap `Args` struct and
//! a `run(args) -> Result<()>` that calls the library. Nothing below `cli` prints or reads
//! files on its own account.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::Result;

pub mod audit;
pub mod check;
pub mod demo;
pub mod generate;
pub mod identity;
pub mod index;
pub mod input;
pub mod match_cmd;
pub mod policy;
pub mod report;
pub mod serve;
pub mod session_args;

/// Privacy-preserving matching of identifier lists between two agencies.
#[derive(Debug, Parser)]
#[command(name = "blindmatch", version, about, long_about = None)]
pub struct Cli {
    /// Print nothing but errors and the requested output.
    #[arg(long, global = true)]
    pub quiet: bool,

    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands. Each variant's `Args` lives in the module of the same name.
#[derive(Debug, Subcommand)]
pub enum Command {
    // One variant per subcommand, each `Name(name::Args)`, dispatched in `run` below.
    /// Validate a file's identifiers and print what a run would match and reject.
    Check(check::Args),
    /// Generate two realistic files sharing exactly K records, and the ground truth.
    Generate(generate::Args),
    /// Create or show an agency identity (key and certificate).
    Identity(identity::Args),
    /// Wait for peers and match as the responder.
    Serve(serve::Args),
    /// Connect to a peer and match as the initiator.
    Match(match_cmd::Args),
    /// Two agencies on loopback matching bundled public data.
    Demo(demo::Args),
    /// Validate a policy file and print its digest.
    Policy(policy::Args),
    /// Verify a signed audit log.
    Audit(audit::Args),
    /// Render a disclosure report from an audit log.
    Report(report::Args),
    /// Precompute an OPRF-PSI index of a file (unbalanced mode); add or remove items.
    Index(index::Args),
}

/// Parses the command line, runs the subcommand, prints a one-line reason on failure.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("blindmatch: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let quiet = cli.quiet;
    match cli.command {
        Command::Check(a) => check::run(a, quiet),
        Command::Generate(a) => generate::run(a, quiet),
        Command::Identity(a) => identity::run(a, quiet),
        Command::Serve(a) => serve::run(a, quiet),
        Command::Match(a) => match_cmd::run(a, quiet),
        Command::Demo(a) => demo::run(a, quiet),
        Command::Policy(args) => policy::run(args, quiet),
        Command::Audit(args) => audit::run(args, quiet),
        Command::Report(args) => report::run(args, quiet),
        Command::Index(a) => index::run(a, quiet),
    }
}
