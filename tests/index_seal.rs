//! The seal of an index (`protocol-spec/07-oprf-psi.md` section 7.8.5): a sampled sweep of
//! flipped bytes over every file, truncations, extensions and deletions of each file, files
//! taken from another index or from another save of the same index, all refused at open with
//! a typed error naming the file; the v2 format refused with its rebuild advice; index files
//! created 0600 in a 0700 directory and refused when others may read them.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use blindmatch::error::{ConfigError, ConfigReason, IndexError, IndexFile, IndexProblem};
use blindmatch::index::{Index, IndexOptions, KdfParams};
use blindmatch::oprf::Suite;
use blindmatch::protocol::ItemSet;
use blindmatch::Error;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const PASS: &[u8] = b"0123456789abcdef0123456789abcdef-test-only";

/// Cheap Argon2id parameters, so the sweep opens the index quickly.
fn quick() -> IndexOptions {
    IndexOptions {
        kdf: KdfParams {
            m_kib: 64,
            t: 1,
            p: 1,
        },
        pad_to: Some(8),
        ..IndexOptions::default()
    }
}

/// A labeled index of three items in `dir`, seeded by `seed`.
fn build(dir: &Path, seed: u8) -> Index {
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    let items = ItemSet::new(["IMO9074729", "IMO9321483", "IMO9811000"]);
    let payloads = vec![
        b"R01138".to_vec(),
        b"vessel=MSC OSCAR".to_vec(),
        b"vessel=EVER ACE".to_vec(),
    ];
    let mut index = Index::create(
        dir,
        Suite::default(),
        PASS,
        &items,
        Some(&payloads),
        &quick(),
        &mut rng,
    )
    .unwrap();
    index.set_label_columns(vec!["record".into()]);
    index.set_kinds(vec!["imo".into()]);
    index.save().unwrap();
    index
}

/// The file the seal names, if the error is a seal failure.
fn tampered(r: &blindmatch::Result<Index>) -> Option<IndexFile> {
    match r {
        Err(Error::Index(IndexError {
            problem: IndexProblem::Tampered { file },
            ..
        })) => Some(*file),
        _ => None,
    }
}

/// True if `r` is refused the way a change to `file` may be: the seal naming `file`, or, for
/// `index.json` and `key.wrapped` (read before the key exists to check the seal), a damaged
/// `index.json` or a key that no longer unwraps.
fn refused_for(r: &blindmatch::Result<Index>, file: IndexFile) -> bool {
    if tampered(r) == Some(file) {
        return true;
    }
    let early = matches!(
        r,
        Err(Error::Config(ConfigError {
            reason: ConfigReason::Index | ConfigReason::IndexFormat,
            ..
        }))
    );
    early && matches!(file, IndexFile::Meta | IndexFile::WrappedKey)
}

/// Replaces (or recreates) `dir/file` with `bytes`, mode 0600.
fn put(dir: &Path, file: IndexFile, bytes: &[u8]) {
    let p = dir.join(file.name());
    std::fs::write(&p, bytes).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

fn get(dir: &Path, file: IndexFile) -> Vec<u8> {
    std::fs::read(dir.join(file.name())).unwrap()
}

#[test]
fn a_sampled_sweep_of_flipped_bytes_in_every_file_is_refused_at_open() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("idx");
    build(&dir, 1);
    Index::open(&dir, PASS).expect("the intact index opens");
    let mut tried = 0;
    for file in IndexFile::ALL {
        let original = get(&dir, file);
        let n = original.len();
        assert!(n > 0, "{file} is empty");
        // Every 5th byte, and the first and the last, each with its low and its high bit.
        let mut positions: Vec<usize> = (0..n).step_by(5).collect();
        positions.push(n - 1);
        positions.dedup();
        for &i in &positions {
            for bit in [0x01u8, 0x80] {
                let mut bytes = original.clone();
                bytes[i] ^= bit;
                put(&dir, file, &bytes);
                let r = Index::open(&dir, PASS);
                assert!(
                    refused_for(&r, file),
                    "{file} byte {i} ^ {bit:#04x}: {:?}",
                    r.map(|_| "opened")
                );
                tried += 1;
            }
        }
        put(&dir, file, &original);
    }
    assert!(tried > 100, "only {tried} flips tried");
    Index::open(&dir, PASS).expect("restored, it opens again");
}

#[test]
fn flips_in_the_payloads_label_keys_and_tags_are_named_as_tags_bin() {
    // The examples: a flipped payload byte (R01138 -> R01038) and a flipped label key
    // byte. Layout (7.8.1): per entry T (16) || label key (32) || len (2) || payload.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("idx");
    build(&dir, 2);
    let original = get(&dir, IndexFile::Tags);
    let mut offset = 0;
    let mut entries = 0;
    while offset < original.len() {
        let len = u16::from_be_bytes([original[offset + 48], original[offset + 49]]) as usize;
        for (what, at) in [
            ("tag", offset),
            ("label key", offset + 16 + 7),
            ("length", offset + 49),
            ("payload", offset + 50 + 2),
        ] {
            let mut bytes = original.clone();
            bytes[at] ^= 0x01;
            put(&dir, IndexFile::Tags, &bytes);
            assert_eq!(
                tampered(&Index::open(&dir, PASS)),
                Some(IndexFile::Tags),
                "entry {entries}, {what}"
            );
        }
        offset += 50 + len;
        entries += 1;
    }
    assert_eq!((offset, entries), (original.len(), 3));
}

#[test]
fn truncated_extended_emptied_or_deleted_files_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("idx");
    build(&dir, 3);
    for file in IndexFile::ALL {
        let original = get(&dir, file);
        let n = original.len();
        let longer = [original.as_slice(), b"\0"].concat();
        for (what, bytes) in [
            ("one byte short", &original[..n - 1]),
            ("half", &original[..n / 2]),
            ("empty", &original[..0]),
            ("one byte more", &longer[..]),
        ] {
            put(&dir, file, bytes);
            let r = Index::open(&dir, PASS);
            assert!(refused_for(&r, file), "{file} {what}: {:?}", r.map(|_| ()));
        }
        std::fs::remove_file(dir.join(file.name())).unwrap();
        let r = Index::open(&dir, PASS);
        match file {
            // Without index.json the directory is no index at all.
            IndexFile::Meta => assert!(matches!(r, Err(Error::Io { .. })), "{r:?}"),
            _ => assert_eq!(tampered(&r), Some(file), "{file} deleted"),
        }
        put(&dir, file, &original);
    }
    Index::open(&dir, PASS).expect("restored, it opens again");
}

#[test]
fn files_from_another_index_or_another_save_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    build(&a, 4);
    // The same items, payloads and passphrase: only the key and the epoch differ.
    build(&b, 5);
    for file in [IndexFile::Tags, IndexFile::Padding, IndexFile::Seal] {
        let mine = get(&a, file);
        put(&a, file, &get(&b, file));
        assert_eq!(
            tampered(&Index::open(&a, PASS)),
            Some(file),
            "{file} of b in a"
        );
        put(&a, file, &mine);
    }
    // tags.bin and seal.bin of b together: b's seal does not verify under a's key.
    let (tags, seal) = (get(&a, IndexFile::Tags), get(&a, IndexFile::Seal));
    put(&a, IndexFile::Tags, &get(&b, IndexFile::Tags));
    put(&a, IndexFile::Seal, &get(&b, IndexFile::Seal));
    assert_eq!(tampered(&Index::open(&a, PASS)), Some(IndexFile::Seal));
    put(&a, IndexFile::Tags, &tags);
    put(&a, IndexFile::Seal, &seal);

    // Two saves of one index (same key, same epoch): the files of the older save put back
    // beside the newer ones are refused, with or without the older seal.
    let old: Vec<(IndexFile, Vec<u8>)> = IndexFile::ALL.iter().map(|f| (*f, get(&a, *f))).collect();
    let mut index = Index::open(&a, PASS).unwrap();
    let mut rng = ChaCha20Rng::from_seed([6; 32]);
    index
        .remove(&ItemSet::new(["IMO9811000"]), &mut rng)
        .unwrap();
    index.save().unwrap();
    Index::open(&a, PASS).expect("the new save opens");
    let new: Vec<(IndexFile, Vec<u8>)> = IndexFile::ALL.iter().map(|f| (*f, get(&a, *f))).collect();
    let mut mixed = 0;
    for (file, bytes) in &old {
        if *file == IndexFile::Seal || new.iter().any(|(f, b)| f == file && b == bytes) {
            continue;
        }
        mixed += 1;
        put(&a, *file, bytes);
        assert_eq!(tampered(&Index::open(&a, PASS)), Some(*file), "old {file}");
        // With the old seal too: index.json (or another file) of the new save fails it.
        put(&a, IndexFile::Seal, &old[4].1);
        assert!(
            tampered(&Index::open(&a, PASS)).is_some(),
            "old {file} + old seal"
        );
        for (f, b) in &new {
            put(&a, *f, b);
        }
    }
    // index.json, tags.bin and padding.bin change when an item is removed.
    assert_eq!(mixed, 3);
    Index::open(&a, PASS).expect("the new save opens again");
}

#[test]
fn a_v2_index_is_refused_with_the_rebuild_advice() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("idx");
    build(&dir, 7);
    let text = String::from_utf8(get(&dir, IndexFile::Meta)).unwrap();
    let v2 = text.replace("blindmatch-oprf-index-v3", blindmatch::index::FORMAT_V2);
    assert_ne!(text, v2);
    put(&dir, IndexFile::Meta, v2.as_bytes());
    std::fs::remove_file(dir.join(IndexFile::Seal.name())).unwrap();
    assert!(matches!(
        Index::open(&dir, PASS),
        Err(Error::Config(ConfigError {
            reason: ConfigReason::IndexFormat,
            ..
        }))
    ));
}

#[cfg(unix)]
#[test]
fn index_files_are_created_0600_in_a_0700_directory_and_refused_when_others_may_read_them() {
    use blindmatch::error::{Exposure, FileModeError};
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("new/idx");
    build(&dir, 8);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&dir), 0o700 & mode(&dir), "{:o}", mode(&dir));
    assert_eq!(mode(&dir) & 0o077, 0, "{:o}", mode(&dir));
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), IndexFile::ALL.len(), "{names:?}");
    for file in IndexFile::ALL {
        assert_eq!(mode(&dir.join(file.name())), 0o600, "{file}");
    }
    for (file, m, exposure) in [
        (IndexFile::Tags, 0o644, Exposure::Readable),
        (IndexFile::WrappedKey, 0o640, Exposure::Readable),
        (IndexFile::Tags, 0o602, Exposure::Writable),
    ] {
        let p = dir.join(file.name());
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(m)).unwrap();
        match Index::open(&dir, PASS) {
            Err(Error::FileMode(e @ FileModeError { .. })) => {
                assert_eq!((&e.path, e.mode, e.exposure), (&p, m, exposure));
                assert_eq!(e.fix(), format!("chmod 600 {}", p.display()));
            }
            other => panic!("{file} {m:o}: {:?}", other.map(|_| ())),
        }
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    Index::open(&dir, PASS).expect("0600 again: it opens");
}
