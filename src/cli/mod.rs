//! The command line, thin: each subcommand lives in its own file with a clap `Args` struct and
//! a `run(args) -> Result<()>` that calls the library. Nothing below `cli` prints or reads
//! files on its own account.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::Result;

pub mod audit;
pub mod policy;
pub mod report;

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
    /// Validate a policy file and print its digest.
    Policy(policy::Args),
    /// Verify a signed audit log.
    Audit(audit::Args),
    /// Render a disclosure report from an audit log.
    Report(report::Args),
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
    match cli.command {
        Command::Policy(args) => policy::run(args, cli.quiet),
        Command::Audit(args) => audit::run(args, cli.quiet),
        Command::Report(args) => report::run(args, cli.quiet),
    }
}
