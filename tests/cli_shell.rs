//! Issue 13 item 21: shell completions and a man page generated from the parser itself.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_blindmatch");

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .expect("run blindmatch");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn completions_name_every_subcommand_and_option() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let (ok, script) = run(&["completions", shell]);
        assert!(ok, "{shell}");
        for word in ["match", "serve", "policy", "log-level", "pad-to"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let (ok, _) = run(&["completions", "tcsh"]);
    assert!(!ok, "an unknown shell is a usage error");
}

#[test]
fn the_man_page_is_roff_for_blindmatch() {
    let (ok, page) = run(&["man"]);
    assert!(ok);
    assert!(page.contains(".TH blindmatch 1"), "{page}");
    assert!(
        page.contains(".SH SUBCOMMANDS") || page.contains("blindmatch\\-match"),
        "{page}"
    );
}
