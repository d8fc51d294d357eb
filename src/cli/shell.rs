//! `blindmatch completions SHELL` and `blindmatch man`: shell completion scripts
//! (`clap_complete`) and a roff man page (`clap_mangen`), both generated from the same clap
//! definition as the parser, so they cannot drift from the options.

use clap::CommandFactory;

use crate::error::{Error, Result};

/// Print a shell completion script.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Print the man page (roff), for `man -l -` or `/usr/share/man/man1/blindmatch.1`.
#[derive(Debug, clap::Args)]
pub struct ManArgs {}

/// Writes the completion script for `args.shell` to standard output.
///
/// # Errors
/// None today; the signature matches the other subcommands.
pub fn completions(args: CompletionsArgs) -> Result<()> {
    let mut cmd = super::Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "blindmatch", &mut buf);
    outln!("{}", String::from_utf8_lossy(&buf).trim_end());
    Ok(())
}

/// Writes the man page to standard output.
///
/// # Errors
/// [`Error::Internal`] if the page cannot be rendered.
pub fn man(_: ManArgs) -> Result<()> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(super::Cli::command())
        .render(&mut buf)
        .map_err(|e| Error::internal(format!("rendering the man page: {e}")))?;
    out!("{}", String::from_utf8_lossy(&buf));
    Ok(())
}
