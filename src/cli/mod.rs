//! The command line, thin: each subcommand lives in its own file with a clap `Args` struct and
//! a `run(args) -> Result<()>` that calls the library. Nothing below `cli` prints or reads
//! files on its own account.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::Result;

/// `print!` to standard output, except that a reader that went away (`| head`, `| true`)
/// ends the output quietly instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!($($arg)*))
    };
}

/// `println!` to standard output, as [`out!`].
macro_rules! outln {
    () => {
        $crate::cli::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub mod audit;
pub mod audit_witness;
pub(crate) mod check;
pub(crate) mod config_file;
pub(crate) mod demo;
pub(crate) mod generate;
pub mod hint;
pub(crate) mod identity;
pub(crate) mod index;
pub(crate) mod input;
pub(crate) mod match_cmd;
pub mod output;
pub(crate) mod output_path;
pub(crate) mod policy;
pub(crate) mod progress;
pub(crate) mod progress_json;
pub(crate) mod rejects;
pub(crate) mod report;
pub(crate) mod serve;
pub(crate) mod session_args;
pub(crate) mod session_output;
pub(crate) mod shell;

/// Privacy-preserving matching of identifier lists between two agencies.
#[derive(Debug, Parser)]
#[command(name = "blindmatch", version, about, long_about = None)]
pub struct Cli {
    /// Print nothing but errors and the requested output.
    #[arg(long, global = true)]
    pub quiet: bool,

    /// Operator log on stderr: `off`, `error`, `warn`, `info` (one line per served
    /// connection: peer fingerprint, outcome, duration) or `debug`. `RUST_LOG`, when set,
    /// takes precedence (any `tracing` filter, for example `blindmatch::serve=info`).
    #[arg(long, global = true, default_value = "warn", value_parser = ["off", "error", "warn", "info", "debug", "trace"])]
    pub log_level: String,

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
    /// Verify, witness or recover a signed audit log.
    Audit(audit::Args),
    /// Render a disclosure report from an audit log.
    Report(report::Args),
    /// Precompute an OPRF-PSI index of a file (unbalanced mode); add or remove items.
    Index(index::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(shell::CompletionsArgs),
    /// Print the man page (roff).
    Man(shell::ManArgs),
}

impl Command {
    /// True when the subcommand was asked for machine-readable output.
    fn json(&self) -> bool {
        match self {
            Command::Serve(a) => a.session.json,
            Command::Match(a) => a.session.json,
            Command::Check(a) => a.json,
            Command::Audit(a) => a.json,
            _ => false,
        }
    }
}

/// The exit code of an error, by who is at fault (README, "Exit codes"): 3 input, 4
/// configuration, 5 policy refusal, 6 peer or network, 7 incompatible peer, 8 cancelled,
/// 70 internal. (2 is a usage error, from the argument parser.)
pub fn exit_code(e: &crate::Error) -> u8 {
    use crate::error::Category;
    match e.category() {
        Category::Input => 3,
        Category::Config => 4,
        Category::Policy => 5,
        Category::Peer => 6,
        Category::Incompatible => 7,
        Category::Cancelled => 8,
        _ => 70,
    }
}

/// Writes to standard output. A closed pipe is not an error of the command: the reader has
/// all it wanted, so the rest is dropped without a word; any other failure is said once on
/// stderr.
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    static FAILED: AtomicBool = AtomicBool::new(false);
    if FAILED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        FAILED.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("blindmatch: cannot write to standard output: {e}");
        }
    }
}

/// The operator log: `tracing` events on stderr, filtered by `RUST_LOG` if set, else by
/// `--log-level`. No ANSI colours and no timestamps when stderr is not a terminal (journald
/// adds its own).
fn init_log(level: &str) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let terminal = std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(terminal)
        .with_target(false);
    // A second subscriber (tests calling `main` twice in one process) is not an error.
    let _ = if terminal {
        builder.try_init()
    } else {
        builder.without_time().try_init()
    };
}

/// Parses the command line, runs the subcommand, prints a one-line reason on failure (and,
/// with `--json`, an error object on stdout).
pub fn main() -> ExitCode {
    let args = match config_file::expand(std::env::args_os().collect()) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("blindmatch: error: {e}");
            return ExitCode::from(exit_code(&e));
        }
    };
    let cli = Cli::parse_from(args);
    init_log(&cli.log_level);
    let json = cli.command.json();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("blindmatch: error: {e}");
            let hint = hint::hint(&e);
            if let Some(h) = hint {
                eprintln!("blindmatch: hint: {h}");
            }
            if json {
                let mut obj = serde_json::json!({
                    "error": {
                        "category": e.category().as_str(),
                        "code": e.code(),
                        "message": e.to_string(),
                    }
                });
                if let Some(h) = hint {
                    obj["error"]["hint"] = h.into();
                }
                outln!("{obj}");
            }
            ExitCode::from(exit_code(&e))
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
        Command::Completions(a) => shell::completions(a),
        Command::Man(a) => shell::man(a),
    }
}
