//! The deterministic generator of realistic test data: two files sharing exactly `overlap`
//! records, plus the ground truth.
//!
//! Everything is derived from the seed with ChaCha8 (`rand_chacha`): entity `n` from stream
//! `n`, each row's spelling from a stream of its own, so the same
//! [`GenSpec`] always gives byte-identical files, on any machine. Values are realistic: valid
//! container numbers on real owner prefixes, valid IMO ship numbers, names from many countries
//! (with diacritics and Cyrillic), company names with legal forms. The same entity is written
//! differently in the two files (spacing, case, order of name parts, transliteration, legal
//! form spelling, date format), but always so that both spellings canonicalise to the same item
//! ([`crate::identifiers`]); distinct entities never canonicalise to the same item. That is
//! checked at generation time with the real parsers.

mod plan;
mod pools;
mod render;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::{Error, InputReason, Result};
use crate::records::KeySpec;

pub use render::Entity;

/// What kind of records to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenKind {
    /// Shipments keyed by ISO 6346 container number.
    Container,
    /// Vessels keyed by IMO ship number.
    Imo,
    /// People keyed by name and date of birth (a composite key).
    Person,
    /// Companies keyed by company name.
    Company,
}

impl GenKind {
    /// All kinds.
    pub const ALL: [GenKind; 4] = [
        GenKind::Container,
        GenKind::Imo,
        GenKind::Person,
        GenKind::Company,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            GenKind::Container => "container",
            GenKind::Imo => "imo",
            GenKind::Person => "person",
            GenKind::Company => "company",
        }
    }

    /// Column names of the generated files.
    pub fn header(self) -> &'static [&'static str] {
        match self {
            GenKind::Container => &["container_number", "shipper", "hs_code"],
            GenKind::Imo => &["imo", "vessel_name", "flag"],
            GenKind::Person => &["name", "date_of_birth", "nationality"],
            GenKind::Company => &["company_name", "country"],
        }
    }

    /// The key to match the generated files on (`--key`).
    pub fn key(self) -> &'static str {
        match self {
            GenKind::Container => "container_number:container",
            GenKind::Imo => "imo:imo_ship",
            GenKind::Person => "name:person_name+date_of_birth:date_of_birth",
            GenKind::Company => "company_name:company_name",
        }
    }

    /// The key as a [`KeySpec`].
    ///
    /// # Errors
    /// Never for the built-in keys: [`Error::Internal`] if one does not parse (a bug).
    pub fn key_spec(self) -> Result<KeySpec> {
        self.key()
            .parse()
            .map_err(|e| Error::internal(format!("built-in key `{}`: {e}", self.key())))
    }
}

impl fmt::Display for GenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for GenKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        GenKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                Error::input(
                    InputReason::Argument,
                    format!("unknown generator kind `{s}`; use container, imo, person or company"),
                )
            })
    }
}

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenSpec {
    /// Kind of records.
    pub kind: GenKind,
    /// Records in each file.
    pub count: usize,
    /// Records the two files share (at most `count`).
    pub overlap: usize,
    /// Seed: the same spec always gives the same files.
    pub seed: u64,
}

/// One shared record of the ground truth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TruthRow {
    /// The canonical text of the shared key (composite parts joined by ` + `, as in
    /// [`crate::records::Records::item_text`]).
    pub canonical: String,
    /// Its line in file A (the header is line 1).
    pub line_a: u64,
    /// Its line in file B.
    pub line_b: u64,
}

/// Two generated files and the ground truth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// What was generated.
    pub spec: GenSpec,
    /// Rows of file A (fields in the order of [`GenKind::header`]).
    pub a: Vec<Vec<String>>,
    /// Rows of file B.
    pub b: Vec<Vec<String>>,
    /// The shared records, in the order of file A.
    pub truth: Vec<TruthRow>,
}

/// Largest `count` accepted.
pub const MAX_COUNT: usize = 10_000_000;

impl GenKind {
    /// How many distinct records of this kind the generator can make at most (an upper bound
    /// of its value space: IMO numbers 7xxxxxx to 9xxxxxx, 50 owner codes times a million
    /// serials, names times dates of birth, company words times trades).
    pub fn value_space(self) -> u64 {
        let n = |p: &[&str]| p.len() as u64;
        match self {
            GenKind::Imo => 3 * 100_000,
            GenKind::Container => n(pools::OWNER_PREFIXES) * 999_999 * 10 / 11,
            GenKind::Person => {
                let s = n(pools::SURNAMES);
                let names = n(pools::GIVEN_NAMES) * (s + s * s)
                    + n(pools::GIVEN_NAMES_CYRILLIC) * n(pools::SURNAMES_CYRILLIC);
                names * 65 * 12 * 28
            }
            GenKind::Company => {
                let w = n(pools::COMPANY_WORDS);
                (w + w * (w + 1) / 2) * n(pools::COMPANY_TRADES)
            }
        }
    }

    /// The most distinct records (`2 × count − overlap`) one run may ask for: half the value
    /// space, so that drawing them stays fast, and at most `2 × MAX_COUNT`.
    pub fn max_distinct(self) -> u64 {
        (self.value_space() / 2).min(2 * MAX_COUNT as u64)
    }
}

/// Checks `spec` before any work: `overlap <= count <= MAX_COUNT`, and the kind's value space
/// holds the records asked for.
///
/// # Errors
/// [`Error::Input`] with [`InputReason::Argument`] if `overlap > count`, with
/// [`InputReason::TooLarge`] if `count > MAX_COUNT` or `2 × count − overlap` exceeds
/// [`GenKind::max_distinct`].
pub fn check_spec(spec: &GenSpec) -> Result<()> {
    if spec.overlap > spec.count {
        return Err(Error::input(
            InputReason::Argument,
            format!(
                "--overlap {} is larger than --count {}",
                spec.overlap, spec.count
            ),
        ));
    }
    if spec.count > MAX_COUNT {
        return Err(Error::input(
            InputReason::TooLarge,
            format!("--count {} is larger than {MAX_COUNT}", spec.count),
        ));
    }
    let total = (2 * spec.count - spec.overlap) as u64;
    let max = spec.kind.max_distinct();
    if total > max {
        return Err(Error::input(
            InputReason::TooLarge,
            format!(
                "{total} distinct {} records asked (2 × --count − --overlap), but the value space \
                 allows at most {max}; ask for fewer, or a larger overlap",
                spec.kind
            ),
        ));
    }
    Ok(())
}

/// Generates two files of `spec.count` records sharing exactly `spec.overlap`, in memory
/// ([`write_generated`] writes the same files without holding them).
///
/// # Errors
/// As [`check_spec`]; [`Error::Input`] with [`InputReason::TooLarge`] if the value space
/// runs out anyway.
pub fn generate(spec: &GenSpec) -> Result<Dataset> {
    check_spec(spec)?;
    let plan = plan::Plan::new(spec)?;
    let n = plan.len();
    Ok(Dataset {
        spec: *spec,
        a: plan.rows(plan::Side::A, 0, n)?,
        b: plan.rows(plan::Side::B, 0, n)?,
        truth: plan.truth()?,
    })
}

/// The files written by [`write_dataset`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFiles {
    /// File A (`a.csv`).
    pub a: PathBuf,
    /// File B (`b.csv`).
    pub b: PathBuf,
    /// Ground truth (`truth.csv`: `canonical,line_a,line_b`).
    pub truth: PathBuf,
    /// Mapping file for both (`mapping.toml`).
    pub mapping: PathBuf,
}

/// Writes `a.csv`, `b.csv`, `truth.csv` and `mapping.toml` into `dir` (created if missing),
/// each atomically: the files of [`generate`], rendered in parallel and streamed to disk, so
/// that 10^7 records per file take a few hundred MB.
///
/// # Errors
/// As [`generate`]; [`Error::Io`] if the directory or a file cannot be written.
pub fn write_generated(spec: &GenSpec, dir: &Path) -> Result<GeneratedFiles> {
    check_spec(spec)?;
    let plan = plan::Plan::new(spec)?;
    let files = GeneratedFiles::in_dir(dir)?;
    for (side, path) in [(plan::Side::A, &files.a), (plan::Side::B, &files.b)] {
        let mut chunks = (0..plan.len())
            .step_by(plan::CHUNK)
            .map(|start| plan.rows(side, start, plan::CHUNK));
        let mut failed = None;
        let rows = std::iter::from_fn(|| match chunks.next()? {
            Ok(rows) => Some(rows),
            Err(e) => {
                failed = Some(e);
                None
            }
        })
        .flatten();
        crate::records::write_csv_atomically(path, &header(spec.kind), rows)?;
        if let Some(e) = failed {
            return Err(e);
        }
    }
    write_truth_and_mapping(spec, &files, &plan.truth()?)?;
    Ok(files)
}

fn header(kind: GenKind) -> Vec<String> {
    kind.header().iter().map(|h| h.to_string()).collect()
}

/// The files [`write_generated`] writes into its directory.
pub const FILE_NAMES: [&str; 4] = ["a.csv", "b.csv", "truth.csv", "mapping.toml"];

impl GeneratedFiles {
    fn in_dir(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        Ok(GeneratedFiles {
            a: dir.join("a.csv"),
            b: dir.join("b.csv"),
            truth: dir.join("truth.csv"),
            mapping: dir.join("mapping.toml"),
        })
    }
}

/// Writes `a.csv`, `b.csv`, `truth.csv` and `mapping.toml` into `dir` (created if missing),
/// each atomically.
///
/// # Errors
/// [`Error::Io`] if the directory or a file cannot be written.
pub fn write_dataset(data: &Dataset, dir: &Path) -> Result<GeneratedFiles> {
    let files = GeneratedFiles::in_dir(dir)?;
    let header = header(data.spec.kind);
    crate::records::write_csv_atomically(&files.a, &header, data.a.iter().cloned())?;
    crate::records::write_csv_atomically(&files.b, &header, data.b.iter().cloned())?;
    write_truth_and_mapping(&data.spec, &files, &data.truth)?;
    Ok(files)
}

fn write_truth_and_mapping(
    spec: &GenSpec,
    files: &GeneratedFiles,
    truth: &[TruthRow],
) -> Result<()> {
    let th = ["canonical", "line_a", "line_b"].map(String::from);
    crate::records::write_csv_atomically(
        &files.truth,
        &th,
        truth.iter().map(|t| {
            vec![
                t.canonical.clone(),
                t.line_a.to_string(),
                t.line_b.to_string(),
            ]
        }),
    )?;
    let mapping = format!(
        "# blindmatch generate --kind {} --count {} --overlap {} --seed {}\nkeys = [\"{}\"]\n",
        spec.kind,
        spec.count,
        spec.overlap,
        spec.seed,
        spec.kind.key()
    );
    let dir = match files.mapping.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| Error::io(format!("creating a temporary file in {}", dir.display()), e))?;
    std::io::Write::write_all(&mut tmp, mapping.as_bytes())
        .map_err(|e| Error::io(format!("writing {}", files.mapping.display()), e))?;
    tmp.persist(&files.mapping)
        .map_err(|e| Error::io(format!("writing {}", files.mapping.display()), e.error))?;
    Ok(())
}
