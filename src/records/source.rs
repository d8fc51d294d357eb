//! Where the input bytes come from: a file, standard input (`-`), either of them
//! gzip-compressed, streamed; and how to read them a second time.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tempfile::TempPath;

use crate::error::{Error, Result};

/// The path that means standard input.
pub const STDIN: &str = "-";

/// True when `path` names standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == STDIN
}

/// How `path` is named in messages (`<stdin>` for `-`).
pub fn display_name(path: &Path) -> String {
    if is_stdin(path) {
        "<stdin>".into()
    } else {
        path.display().to_string()
    }
}

/// The extension that says the layout, lower-cased: `csv` for `x.csv` and `x.CSV.gz`.
pub fn layout_extension(path: &Path) -> Option<String> {
    let ext = |p: &Path| {
        p.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
    };
    match ext(path).as_deref() {
        Some("gz") => path.file_stem().and_then(|s| ext(Path::new(s))),
        other => other.map(str::to_string),
    }
}

/// Where to read an input a second time (the matched rows are written from a second pass):
/// the file itself, or the copy of standard input made while it was read the first time.
#[derive(Debug, Clone)]
pub(crate) enum Again {
    /// A file, read again by name.
    File(PathBuf),
    /// The copy of standard input, deleted once the last [`super::Records`] holding it is
    /// dropped.
    Copy(Arc<TempPath>),
}

/// Opens `path` (`-`: standard input, copied as it is read into a temporary file in
/// `temp_dir`, or the system's, so that it can be read again) for streaming; gzip (recognised
/// by its magic bytes `1f 8b`, whatever the name) is decompressed as it is read. Returns the
/// bytes and where to read them again.
///
/// # Errors
/// [`Error::Io`] if the file cannot be opened or the copy of standard input cannot be made.
pub(crate) fn open(path: &Path, temp_dir: Option<&Path>) -> Result<(Box<dyn Read + Send>, Again)> {
    let name = display_name(path);
    if !is_stdin(path) {
        let file = File::open(path).map_err(|e| Error::io(format!("opening {name}"), e))?;
        return Ok((decompressed(file, &name)?, Again::File(path.to_path_buf())));
    }
    let dir = temp_dir.map_or_else(std::env::temp_dir, Path::to_path_buf);
    let (copy, kept) = tempfile::Builder::new()
        .prefix(".blindmatch-stdin-")
        .tempfile_in(&dir)
        .map_err(|e| {
            Error::io(
                format!(
                    "creating a copy of standard input in {} (to read it a second time; \
                     choose another directory with the temporary-directory setting)",
                    dir.display()
                ),
                e,
            )
        })?
        .into_parts();
    let tee = Tee {
        inner: std::io::stdin(),
        copy,
    };
    Ok((decompressed(tee, &name)?, Again::Copy(Arc::new(kept))))
}

/// Opens an input a second time, as [`open`] did the first.
///
/// # Errors
/// [`Error::Io`] if it cannot be opened.
pub(crate) fn reopen(again: &Again, name: &str) -> Result<Box<dyn Read + Send>> {
    let path: &Path = match again {
        Again::File(p) => p,
        Again::Copy(t) => t,
    };
    let file = File::open(path).map_err(|e| Error::io(format!("opening {name} again"), e))?;
    decompressed(file, name)
}

/// `inner`'s bytes, decompressed when they start with gzip's magic bytes.
fn decompressed(mut inner: impl Read + Send + 'static, name: &str) -> Result<Box<dyn Read + Send>> {
    let mut head = [0u8; 2];
    let mut got = 0;
    while got < head.len() {
        match inner.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(format!("reading {name}"), e)),
        }
    }
    let whole = std::io::Cursor::new(head[..got].to_vec()).chain(inner);
    if head[..got] == [0x1f, 0x8b] {
        Ok(Box::new(Gunzip(flate2::read::MultiGzDecoder::new(
            std::io::BufReader::with_capacity(1 << 16, whole),
        ))))
    } else {
        Ok(Box::new(whole))
    }
}

/// A gzip decoder whose errors say the compressed data is damaged.
struct Gunzip<R>(R);

impl<R: Read> Read for Gunzip<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0
            .read(buf)
            .map_err(|e| std::io::Error::new(e.kind(), format!("decompressing (gzip): {e}")))
    }
}

/// Standard input, copied into a file as it is read.
struct Tee {
    inner: std::io::Stdin,
    copy: File,
}

impl Read for Tee {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.copy.write_all(&buf[..n])?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_recognised_by_its_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("list");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, b"imo\n9321483\n").expect("compress");
        std::fs::write(&path, gz.finish().expect("finish")).expect("write");
        let mut text = Vec::new();
        let (mut bytes, again) = open(&path, None).expect("open");
        bytes.read_to_end(&mut text).expect("read");
        assert_eq!(text, b"imo\n9321483\n");
        text.clear();
        reopen(&again, "list")
            .expect("reopen")
            .read_to_end(&mut text)
            .expect("read");
        assert_eq!(text, b"imo\n9321483\n");
        std::fs::write(&path, b"\x1f\x8b not gzip").expect("write");
        let (mut bytes, _) = open(&path, None).expect("open");
        assert!(
            bytes.read_to_end(&mut text).is_err(),
            "damaged gzip is an error"
        );
        assert_eq!(
            layout_extension(Path::new("a/b.CSV.gz")).as_deref(),
            Some("csv")
        );
        assert_eq!(layout_extension(Path::new("b.tsv")).as_deref(), Some("tsv"));
        assert_eq!(layout_extension(Path::new("b.gz")), None);
    }
}
