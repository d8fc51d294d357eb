//! The input options every subcommand that reads a file shares ([`InputArgs`]), reading the
//! items of `--input`, and writing the matched rows for `serve` and `match`: thin wrappers
//! around [`crate::records`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, InputReason, Result};
use crate::protocol::oprf_psi::OprfMatch;
use crate::protocol::ItemSet;
use crate::protocol::Matches;
use crate::records::{
    self, Delimiter, Encoding, InputFormat, InputSpec, KeySpec, Mapping, Records,
};

/// The input options, the same for `check`, `index`, `match` and `serve`: which file, how it
/// is laid out and encoded, and which columns to match on as what.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct InputArgs {
    /// Input file: CSV with a header (`.csv`, `.tsv`), or plain text with one value per line
    /// (any other name); `-` reads standard input (plain text unless `--format csv`);
    /// gzip-compressed input (`.csv.gz`) is decompressed. `serve --index DIR` needs none.
    #[arg(long, short)]
    pub input: Option<PathBuf>,
    /// A key: `column:kind`, `col1:kind1+col2:kind2` (composite), or `column:kind:extract`
    /// (identifiers in free text). Repeat for several keys (a record matches on any).
    #[arg(long = "key", short)]
    pub keys: Vec<KeySpec>,
    /// A TOML mapping file (`keys = ["imo:imo_ship", ...]`, as `generate` writes), used in
    /// addition to `--key`.
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Match on this column's values as opaque strings (kind `raw`).
    #[arg(long)]
    pub column: Option<String>,
    /// Input layout: auto (from the extension), csv or lines.
    #[arg(long, default_value = "auto")]
    pub format: InputFormat,
    /// Text encoding of the input: utf-8, latin1 (iso-8859-1) or windows-1252.
    #[arg(long, default_value = "utf-8")]
    pub encoding: Encoding,
    /// CSV field delimiter: one character (`;`, `|`) or `tab` (default: tab for `.tsv`,
    /// otherwise `,`).
    #[arg(long)]
    pub delimiter: Option<Delimiter>,
    /// The CSV file has no header row: its columns are named by number from 1
    /// (`--key 12:passport:extract`).
    #[arg(long)]
    pub no_header: bool,
    /// Fail on the first unreadable row or invalid value instead of reporting it.
    #[arg(long)]
    pub strict: bool,
    /// Write every rejected value here as CSV (`line,column,value,reason`); without it, a
    /// summary and the first few are shown. Checked before anything is read, like every
    /// output (see `--force`).
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// Directory for temporary files: the copy of standard input kept to read it a second
    /// time (the matched rows are written from a second reading of the input). Default: the
    /// system's temporary directory (`$TMPDIR`, else `/tmp`).
    #[arg(long, value_name = "DIR")]
    pub temp_dir: Option<PathBuf>,
}

impl InputArgs {
    /// What to read, as the options say: the mapping file's keys, then `--key`.
    ///
    /// # Errors
    /// [`Error::Input`] with [`InputReason::Argument`] if there is no `--input`; as
    /// [`Mapping::load`] for the mapping file.
    pub fn spec(&self) -> Result<InputSpec> {
        let path = self
            .input
            .as_ref()
            .ok_or_else(|| Error::input(InputReason::Argument, "--input FILE is required"))?;
        let mut keys = Vec::new();
        if let Some(m) = &self.mapping {
            keys.extend(Mapping::load(m)?.keys);
        }
        keys.extend(self.keys.iter().cloned());
        Ok(InputSpec {
            format: self.format,
            encoding: self.encoding,
            delimiter: self.delimiter,
            header: !self.no_header,
            column: self.column.clone(),
            strict: self.strict,
            temp_dir: self.temp_dir.clone(),
            ..InputSpec::new(path, keys)
        })
    }
}

/// Loads the input, writes its rejects to `--rejects` if given, and summarises them on
/// stderr unless `quiet` (nothing is dropped silently). The output paths were checked before.
///
/// # Errors
/// As [`InputArgs::spec`], [`records::load`] and [`records::write_rejects`].
pub fn load(args: &InputArgs, quiet: bool) -> Result<Records> {
    let spec = args.spec()?;
    let spinner = loading_spinner(quiet, &spec.display_name());
    let recs = records::load(&spec);
    spinner.finish_and_clear();
    let recs = recs?;
    if let Some(path) = &args.rejects {
        records::write_rejects(path, recs.rejects())?;
    }
    if !quiet {
        if let Some(text) = super::rejects::summary(&recs, args.rejects.as_deref()) {
            eprintln!("{text}");
        }
    }
    Ok(recs)
}

/// A spinner on stderr while the input is read, validated and normalised (seconds for 2^22
/// records), unless `quiet` or stderr is not a terminal.
fn loading_spinner(quiet: bool, name: &str) -> indicatif::ProgressBar {
    if !super::progress::shown(quiet) {
        return indicatif::ProgressBar::hidden();
    }
    let spinner = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
        spinner.set_style(style);
    }
    spinner.set_message(format!("reading, validating and normalising {name}"));
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    spinner
}

/// The items to match.
pub fn items(recs: &Records) -> ItemSet {
    recs.item_set()
}

/// Writes our matched rows (all original columns plus the matched value) to `out`,
/// atomically; returns the input positions (item numbers of `recs`) it wrote.
///
/// # Errors
/// As [`records::write_matches_by_index`].
pub fn write_matches(out: &Path, recs: &Records, matches: &Matches) -> Result<Vec<usize>> {
    let indices: Vec<usize> = matches.iter().flat_map(|m| m.input_indices()).collect();
    records::write_matches_by_index(out, recs, &indices)?;
    Ok(indices)
}

/// Labeled mode: each item's payload ([`records::payload::encode`]), for `--label-columns`.
///
/// # Errors
/// As [`records::payload::encode`].
pub fn label_payloads(recs: &Records, columns: &[String]) -> Result<Vec<Vec<u8>>> {
    records::payload::encode(recs, columns)
}

/// Writes the receiver's matched rows of an OPRF-PSI session, atomically: as
/// [`write_matches`], plus (labeled mode) one column `peer_NAME` per payload column `NAME` the
/// sender announced, holding the sender's value for the match (spec 07 section 7.6.1).
///
/// # Errors
/// As [`records::write_matches_with_columns`].
pub fn write_oprf_matches(
    out: &Path,
    recs: &Records,
    matches: &[OprfMatch],
    columns: &[String],
) -> Result<()> {
    let mut extra = BTreeMap::new();
    let mut indices = Vec::new();
    for m in matches {
        indices.extend(m.input_indices.iter().copied());
        if let Some(p) = &m.payload {
            let values = records::payload::decode(p, columns);
            for &i in &m.input_indices {
                extra.insert(i, values.clone());
            }
        }
    }
    let header: Vec<String> = columns.iter().map(|c| payload_column(c)).collect();
    records::write_matches_with_columns(out, recs, &indices, &header, &extra)?;
    Ok(())
}

/// The output column of the peer's payload column `name`: always `peer_NAME`, so the peer's
/// values are never confused with ours (one rule for every name; only a receiver column of
/// that very name makes it `blindmatch_peer_NAME`).
pub fn payload_column(name: &str) -> String {
    format!("peer_{name}")
}
