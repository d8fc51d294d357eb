//! The `blindmatch` command line. All the work is in the library; this only parses arguments,
//! calls it, prints and sets the exit code.

fn main() -> std::process::ExitCode {
    blindmatch::cli::main()
}
