//! The deterministic generator of realistic test data: two files sharing exactly `overlap`
//! records, plus the ground truth.
//!
//! Everything is derived from the seed with ChaCha20 (`rand_chacha`), so the same
//! [`GenSpec`] always gives byte-identical files, on any machine. Values are realistic: valid
//! container numbers on real owner prefixes, valid IMO ship numbers, names from many countries
//! (with diacritics and Cyrillic), company names with legal forms. The same entity is written
//! differently in the two files (spacing, case, order of name parts, transliteration, legal
//! form spelling, date format), but always so that both spellings canonicalise to the same item
//! ([`crate::identifiers`]); distinct entities never canonicalise to the same item. That is
//! checked at generation time with the real parsers.

mod pools;
mod render;

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

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

/// Generates two files of `spec.count` records sharing exactly `spec.overlap`.
///
/// # Errors
/// [`Error::Input`] with [`InputReason::Argument`] if `overlap > count`, with
/// [`InputReason::TooLarge`] if `count > MAX_COUNT` or if the kind's value space is too small
/// for the number of distinct records asked (only possible for very large company-name sets).
pub fn generate(spec: &GenSpec) -> Result<Dataset> {
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
    let mut rng = ChaCha20Rng::seed_from_u64(spec.seed);
    let total = 2 * spec.count - spec.overlap;
    let mut seen = HashSet::with_capacity(total);
    let mut entities = Vec::with_capacity(total);
    let mut attempts = 0usize;
    while entities.len() < total {
        attempts += 1;
        if attempts > 20 * total + 1000 {
            return Err(Error::input(
                InputReason::TooLarge,
                format!(
                    "cannot generate {total} distinct {} records: the value space is too small; ask for fewer",
                    spec.kind
                ),
            ));
        }
        let e = Entity::random(spec.kind, &mut rng)?;
        if seen.insert(e.canonical.clone()) {
            entities.push(e);
        }
    }
    let (shared, rest) = entities.split_at(spec.overlap);
    let (only_a, only_b) = rest.split_at(spec.count - spec.overlap);
    // (entity, shared index) per file, shuffled.
    let mut a: Vec<(&Entity, Option<usize>)> = shared
        .iter()
        .enumerate()
        .map(|(i, e)| (e, Some(i)))
        .chain(only_a.iter().map(|e| (e, None)))
        .collect();
    let mut b: Vec<(&Entity, Option<usize>)> = shared
        .iter()
        .enumerate()
        .map(|(i, e)| (e, Some(i)))
        .chain(only_b.iter().map(|e| (e, None)))
        .collect();
    render::shuffle(&mut a, &mut rng);
    render::shuffle(&mut b, &mut rng);
    let mut line_b = vec![0u64; spec.overlap];
    for (row, (_, s)) in b.iter().enumerate() {
        if let Some(i) = s {
            line_b[*i] = row as u64 + 2;
        }
    }
    let mut truth = Vec::with_capacity(spec.overlap);
    for (row, (e, s)) in a.iter().enumerate() {
        if let Some(i) = s {
            truth.push(TruthRow {
                canonical: e.canonical.clone(),
                line_a: row as u64 + 2,
                line_b: line_b[*i],
            });
        }
    }
    let a = a.iter().map(|(e, _)| e.render(&mut rng)).collect();
    let b = b.iter().map(|(e, _)| e.render(&mut rng)).collect();
    Ok(Dataset {
        spec: *spec,
        a,
        b,
        truth,
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
/// each atomically.
///
/// # Errors
/// [`Error::Io`] if the directory or a file cannot be written.
pub fn write_dataset(data: &Dataset, dir: &Path) -> Result<GeneratedFiles> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    let header: Vec<String> = data
        .spec
        .kind
        .header()
        .iter()
        .map(|h| h.to_string())
        .collect();
    let files = GeneratedFiles {
        a: dir.join("a.csv"),
        b: dir.join("b.csv"),
        truth: dir.join("truth.csv"),
        mapping: dir.join("mapping.toml"),
    };
    crate::records::write_csv_atomically(&files.a, &header, data.a.iter().cloned())?;
    crate::records::write_csv_atomically(&files.b, &header, data.b.iter().cloned())?;
    let th = ["canonical", "line_a", "line_b"].map(String::from);
    crate::records::write_csv_atomically(
        &files.truth,
        &th,
        data.truth.iter().map(|t| {
            vec![
                t.canonical.clone(),
                t.line_a.to_string(),
                t.line_b.to_string(),
            ]
        }),
    )?;
    let mapping = format!(
        "# blindmatch generate --kind {} --count {} --overlap {} --seed {}\nkeys = [\"{}\"]\n",
        data.spec.kind,
        data.spec.count,
        data.spec.overlap,
        data.spec.seed,
        data.spec.kind.key()
    );
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| Error::io(format!("creating a temporary file in {}", dir.display()), e))?;
    std::io::Write::write_all(&mut tmp, mapping.as_bytes())
        .map_err(|e| Error::io(format!("writing {}", files.mapping.display()), e))?;
    tmp.persist(&files.mapping)
        .map_err(|e| Error::io(format!("writing {}", files.mapping.display()), e.error))?;
    Ok(files)
}
