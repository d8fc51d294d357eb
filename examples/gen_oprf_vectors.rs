//! Writes `protocol-spec/vectors/oprf-sha3.json`, the published vectors of blindmatch's SHA3
//! OPRF suite and of one small labeled OPRF-PSI session.
//!
//! `cargo run --example gen_oprf_vectors`

#[path = "../tests/support/oprf_vectors.rs"]
mod oprf_vectors;

fn main() -> std::io::Result<()> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/protocol-spec/vectors/oprf-sha3.json"
    );
    let text =
        serde_json::to_string_pretty(&oprf_vectors::generate()).map_err(std::io::Error::other)?;
    std::fs::write(path, text + "\n")?;
    println!("wrote {path}");
    Ok(())
}
