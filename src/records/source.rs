//! Where the input bytes come from: a file, standard input (`-`), either of them
//! gzip-compressed.

use std::io::Read;
use std::path::Path;

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

/// The whole input: the file's bytes, or standard input's, decompressed if they are gzip
/// (recognised by their magic bytes `1f 8b`, whatever the name).
///
/// # Errors
/// [`Error::Io`] if the file cannot be opened or read, or compressed data is damaged.
pub fn read_all(path: &Path) -> Result<Vec<u8>> {
    let name = display_name(path);
    let mut raw = Vec::new();
    if is_stdin(path) {
        std::io::stdin()
            .lock()
            .read_to_end(&mut raw)
            .map_err(|e| Error::io(format!("reading {name}"), e))?;
    } else {
        raw = std::fs::read(path).map_err(|e| Error::io(format!("reading {name}"), e))?;
    }
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(raw);
    }
    let mut out = Vec::with_capacity(raw.len().saturating_mul(4));
    flate2::read::MultiGzDecoder::new(raw.as_slice())
        .read_to_end(&mut out)
        .map_err(|e| Error::io(format!("decompressing {name} (gzip)"), e))?;
    Ok(out)
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
        assert_eq!(
            read_all(&path).ok().as_deref(),
            Some(&b"imo\n9321483\n"[..])
        );
        assert_eq!(
            layout_extension(Path::new("a/b.CSV.gz")).as_deref(),
            Some("csv")
        );
        assert_eq!(layout_extension(Path::new("b.tsv")).as_deref(), Some("tsv"));
        assert_eq!(layout_extension(Path::new("b.gz")), None);
    }
}
