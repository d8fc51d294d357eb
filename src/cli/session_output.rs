//! The files `match` and `serve` write beside the session (`--output`, `--unmatched`,
//! `--rejects`), which of them a mode can fill, and their checks before any work.

use std::path::{Path, PathBuf};

use super::input::InputArgs;
use super::output_path::{self, Output};
use crate::error::{Error, InputReason, Result};
use crate::protocol::Role;
use crate::session::SessionMode;

/// Output options of `match` and `serve`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OutputArgs {
    /// Where to write our matched rows (CSV: every input column, then `matched_values`,
    /// `matched_keys` and, in labeled mode, `peer_COLUMN` for each payload column); written
    /// only if the session succeeds, and only in a mode where this side learns its matches.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Where to write our input rows that did not match (CSV, the input's columns), beside
    /// `--output`.
    #[arg(long, requires = "output")]
    pub unmatched: Option<PathBuf>,
    /// Replace existing output files (`--output`, `--unmatched`, `--rejects`). Without it an
    /// existing file is refused before anything is done.
    #[arg(long)]
    pub force: bool,
}

/// True when `role` learns which of its items matched in `mode`: the initiator except in
/// cardinality mode, the responder in mutual mode.
pub fn learns_rows(role: Role, mode: SessionMode) -> bool {
    match role {
        Role::Initiator => mode != SessionMode::Cardinality,
        Role::Responder => mode == SessionMode::Mutual,
    }
}

impl OutputArgs {
    /// The files to write, checked before the input is read or anyone is contacted: the
    /// matched-rows file is kept only where `role` learns its matches in `mode` (a note says
    /// when `--output` is ignored), and every path passes [`output_path::check`]. `derived`:
    /// the session id goes into each session's file name (`serve` without `--once`).
    ///
    /// # Errors
    /// [`Error::Input`] with [`InputReason::Argument`] when `required` and the mode needs an
    /// `--output` that is missing; with [`InputReason::OutputPath`] as [`output_path::check`].
    pub fn checked(
        &self,
        input: &InputArgs,
        role: Role,
        mode: SessionMode,
        required: bool,
        derived: bool,
        quiet: bool,
    ) -> Result<Option<PathBuf>> {
        let learns = learns_rows(role, mode);
        let output = match (&self.output, learns) {
            (Some(p), true) => Some(p.clone()),
            (Some(_), false) => {
                if !quiet {
                    eprintln!(
                        "blindmatch: note: --output and --unmatched are ignored: in {mode} mode \
                         this side learns no matched rows, so no file is written"
                    );
                }
                None
            }
            (None, true) if required => {
                return Err(Error::input(
                    InputReason::Argument,
                    format!(
                        "--output FILE is required in {mode} mode: where to write our matched \
                         rows"
                    ),
                ))
            }
            (None, _) => None,
        };
        let mut outputs = Vec::new();
        if let Some(p) = &output {
            outputs.push(Output {
                derived,
                ..Output::new("--output", p)
            });
            if let Some(u) = &self.unmatched {
                outputs.push(Output {
                    derived,
                    ..Output::new("--unmatched", u)
                });
            }
        }
        if let Some(r) = &input.rejects {
            outputs.push(Output::new("--rejects", r));
        }
        let inputs: Vec<&Path> = input.input.iter().map(PathBuf::as_path).collect();
        output_path::check(&outputs, &inputs, self.force)?;
        Ok(output)
    }

    /// `--unmatched`, when the matched rows are written.
    pub fn unmatched_with(&self, output: &Option<PathBuf>) -> Option<PathBuf> {
        output.as_ref().and(self.unmatched.clone())
    }
}
