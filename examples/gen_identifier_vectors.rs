//! Writes `protocol-spec/vectors/identifiers.json`, the published identifier vectors.
//!
//! `cargo run --example gen_identifier_vectors`

#[path = "../tests/support/identifier_vectors.rs"]
mod identifier_vectors;

fn main() -> std::io::Result<()> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/protocol-spec/vectors/identifiers.json"
    );
    let text = serde_json::to_string_pretty(&identifier_vectors::generate())
        .map_err(std::io::Error::other)?;
    std::fs::write(path, text + "\n")?;
    println!("wrote {path}");
    Ok(())
}
