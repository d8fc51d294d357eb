//! `blindmatch index`: precompute a sender's OPRF-PSI set once (unbalanced mode), store it
//! with its key encrypted at rest, and add or remove items later.

use std::path::PathBuf;

use rand::rngs::SysRng;
use rand_core::UnwrapErr;

use crate::error::{Error, Result};
use crate::index::{Index, IndexOptions};
use crate::oprf::Suite;

use super::input::InputArgs;
use super::output_path::{self, Output};

/// Precompute (or update) an OPRF-PSI index of a file's identifiers.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input options (the same for check, index, match and serve): the file whose
    /// identifiers to index (or to add or remove).
    #[command(flatten)]
    pub input: InputArgs,
    /// The index directory.
    #[arg(long)]
    pub out: PathBuf,
    /// A file of at least 32 random bytes, mode 0600 (a file others may read is refused);
    /// the index key is encrypted under a key stretched from it with Argon2id (64 MiB, 3
    /// passes, 4 lanes). Use random bytes, not a memorable phrase.
    #[arg(long)]
    pub passphrase_file: PathBuf,
    /// Days the new index's key may serve; past them `serve --index` refuses it until it is
    /// rebuilt with a fresh key (`--out` a new directory).
    #[arg(long, default_value_t = crate::index::DEFAULT_LIFETIME_DAYS)]
    pub lifetime_days: u64,
    /// Store padding for sessions of this many tags (the policy's padding bound): every
    /// session sends the same padding, so comparing sessions reveals only this size. With
    /// --add/--remove: change the stored padded size.
    #[arg(long)]
    pub pad_to: Option<usize>,
    /// OPRF suite of a new index.
    #[arg(long, default_value = "ristretto255-SHAKE256-blindmatch-v1")]
    pub suite: Suite,
    /// Labeled mode: comma-separated columns whose values become each item's payload (a
    /// JSON object), the only columns a matching receiver can read.
    #[arg(long, value_delimiter = ',')]
    pub label_columns: Vec<String>,
    /// Add the input's items to the existing index in `--out`.
    #[arg(long, conflicts_with = "remove")]
    pub add: bool,
    /// Remove the input's items from the existing index in `--out`.
    #[arg(long)]
    pub remove: bool,
    /// Replace an existing `--rejects` file.
    #[arg(long)]
    pub force: bool,
}

/// Runs `blindmatch index`.
///
/// # Errors
/// As [`crate::records::load`] for the input ([`Error::Config`] with
/// [`ConfigReason::Keys`](crate::error::ConfigReason::Keys), [`Error::Input`]); [`Error::Input`]
/// with [`InputReason::Payload`](crate::error::InputReason::Payload) for an unknown
/// `--label-columns` column; [`Error::Config`] with
/// [`ConfigReason::Index`](crate::error::ConfigReason::Index) for an existing index (without
/// `--add`/`--remove`), a wrong or short passphrase or a damaged index, as [`Index::create`]
/// and [`Index::open`] (with [`ConfigReason::IndexFormat`](crate::error::ConfigReason::IndexFormat)
/// for a v1 or v2 index); [`Error::Index`] for an index that fails its seal;
/// [`Error::FileMode`] for a passphrase file, `key.wrapped` or `tags.bin` the group or others
/// may read or write; [`Error::Input`] with
/// [`InputReason::SetSize`](crate::error::InputReason::SetSize) for more items than
/// `--pad-to`; [`Error::Io`] if a file cannot be read or written.
pub fn run(args: Args, quiet: bool) -> Result<()> {
    if let Some(r) = &args.input.rejects {
        let inputs: Vec<&std::path::Path> = args.input.input.iter().map(|p| p.as_path()).collect();
        output_path::check(&[Output::new("--rejects", r)], &inputs, args.force)?;
    }
    let recs = super::input::load(&args.input, quiet)?;
    let passphrase =
        zeroize::Zeroizing::new(crate::file_mode::read_secret(&args.passphrase_file, |e| {
            Error::io(format!("reading {}", args.passphrase_file.display()), e)
        })?);
    let items = recs.item_set();
    let payloads = if args.label_columns.is_empty() {
        None
    } else {
        Some(super::input::label_payloads(&recs, &args.label_columns)?)
    };
    let mut rng = UnwrapErr(SysRng);
    let (what, n, total, epoch, pad) = if args.add || args.remove {
        let mut index = Index::open(&args.out, &passphrase)?;
        let n = if args.add {
            index.add(&items, payloads.as_deref())?
        } else {
            index.remove(&items, &mut rng)?
        };
        if let Some(p) = args.pad_to.or(index.pad_to()) {
            // Nothing is written if the index outgrew its padded size.
            index.set_pad_to(p, &mut rng)?;
        }
        if !args.label_columns.is_empty() && index.label_columns().is_empty() {
            index.set_label_columns(args.label_columns.clone());
        }
        index.save()?;
        let verb = if args.add { "added" } else { "removed" };
        (
            verb,
            n,
            index.prepared().len(),
            index.key_epoch(),
            index.pad_to(),
        )
    } else {
        let mut index = Index::create(
            &args.out,
            args.suite,
            &passphrase,
            &items,
            payloads.as_deref(),
            &IndexOptions {
                lifetime_days: args.lifetime_days,
                pad_to: args.pad_to,
                ..IndexOptions::default()
            },
            &mut rng,
        )?;
        index.set_label_columns(args.label_columns.clone());
        // The kinds of each key, as the hello announces them.
        let mut kinds: Vec<String> = super::session_args::key_kinds(&recs);
        kinds.sort();
        kinds.dedup();
        index.set_kinds(kinds);
        index.save()?;
        let n = index.prepared().len();
        ("indexed", n, n, index.key_epoch(), index.pad_to())
    };
    if !quiet {
        outln!(
            "{}: {what} {n} items; the index in {} now holds {total}{}; key epoch {} serves \
             until {} (then rebuild it with a fresh key)",
            recs.path(),
            args.out.display(),
            pad.map(|p| format!(" (padded to {p})")).unwrap_or_default(),
            epoch.id_hex(),
            i64::try_from(epoch.not_after)
                .ok()
                .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                .map_or_else(
                    || epoch.not_after.to_string(),
                    |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
                )
        );
    }
    Ok(())
}
