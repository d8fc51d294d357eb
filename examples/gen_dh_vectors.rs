//! Writes `protocol-spec/vectors/dh-psi.json`, the published DH-PSI test vectors.
//!
//! `cargo run --example gen_dh_vectors`

#[path = "../tests/support/dh_vectors.rs"]
mod dh_vectors;

fn main() -> std::io::Result<()> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/protocol-spec/vectors/dh-psi.json"
    );
    let text =
        serde_json::to_string_pretty(&dh_vectors::generate()).map_err(std::io::Error::other)?;
    std::fs::write(path, text + "\n")?;
    println!("wrote {path}");
    Ok(())
}
