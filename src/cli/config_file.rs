//! `--config FILE` for `serve` and `match`: a TOML file of their long options, so a deployment
//! keeps its settings in one reviewed file instead of a long command line.
//!
//! Each key is a long option's name without the dashes, with its value: a string or number
//! (`listen = "0.0.0.0:7443"`, `max-sessions = 8`), `true` for a flag (`json = true`; `false`
//! leaves it off), or an array for an option given several times (`peer = ["ab12...", "cd34..."]`).
//! Options on the command line win over the file: a key whose option is already on the
//! command line is skipped. The file is expanded into ordinary arguments before clap parses
//! them, so every option is checked exactly as if typed, and an unknown key is clap's usual
//! "unexpected argument" naming it.
//!
//! ```toml
//! # serve.toml
//! identity = "/etc/blindmatch/agency-b"
//! peer = "3f1c...e9"
//! listen = "0.0.0.0:7443"
//! input = "/srv/register.csv"
//! key = ["imo:imo_ship"]
//! policy = "/etc/blindmatch/policy.toml"
//! log-level = "info"
//! ```

use std::ffi::OsString;

use crate::error::{ConfigReason, Error, Result};

/// The subcommands that take `--config`.
const SUBCOMMANDS: &[&str] = &["serve", "match"];

/// `args` with `--config FILE` (or `--config=FILE`) after `serve` or `match` replaced by the
/// options the file sets that the command line does not.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::Config`] with [`ConfigReason::Parameter`]
/// naming `file:line:column` if it is not a TOML table of option values.
pub fn expand(args: Vec<OsString>) -> Result<Vec<OsString>> {
    let Some(sub) = args
        .iter()
        .position(|a| a.to_str().is_some_and(|s| SUBCOMMANDS.contains(&s)))
    else {
        return Ok(args);
    };
    let mut out: Vec<OsString> = Vec::with_capacity(args.len());
    let mut file = None;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].to_string_lossy();
        if i > sub && a == "--config" {
            file = args.get(i + 1).cloned();
            i += 2;
            continue;
        }
        if i > sub {
            if let Some(path) = a.strip_prefix("--config=") {
                file = Some(path.into());
                i += 1;
                continue;
            }
        }
        out.push(args[i].clone());
        i += 1;
    }
    let Some(file) = file else {
        return Ok(out);
    };
    let path = std::path::PathBuf::from(&file);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::io(format!("reading --config {}", path.display()), e))?;
    let bad = |what: String| Error::config(ConfigReason::Parameter, what);
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        bad(format!("{}: {}", path.display(), e.message().trim_end()))
    })?;
    let given: Vec<String> = out
        .iter()
        .filter_map(|a| a.to_str())
        .filter_map(|a| a.strip_prefix("--"))
        .map(|a| a.split('=').next().unwrap_or(a).to_owned())
        .collect();
    let mut extra = Vec::new();
    for (key, value) in &table {
        if key == "config" {
            return Err(bad(format!(
                "{}: a config file cannot name another",
                path.display()
            )));
        }
        if given.iter().any(|g| g == key) {
            continue;
        }
        let flag = format!("--{key}");
        let scalar = |v: &toml::Value| -> Result<String> {
            match v {
                toml::Value::String(s) => Ok(s.clone()),
                toml::Value::Integer(n) => Ok(n.to_string()),
                toml::Value::Float(x) => Ok(x.to_string()),
                other => Err(bad(format!(
                    "{}: `{key}` must be a string, a number, true or a list, not {}",
                    path.display(),
                    other.type_str()
                ))),
            }
        };
        match value {
            toml::Value::Boolean(true) => extra.push(flag),
            toml::Value::Boolean(false) => {}
            toml::Value::Array(items) => {
                for v in items {
                    extra.push(flag.clone());
                    extra.push(scalar(v)?);
                }
            }
            v => {
                extra.push(flag);
                extra.push(scalar(v)?);
            }
        }
    }
    // The file's options go right after the subcommand, so trailing positional arguments
    // keep their place.
    let mut expanded: Vec<OsString> = out[..=sub].to_vec();
    expanded.extend(extra.into_iter().map(OsString::from));
    expanded.extend(out[sub + 1..].iter().cloned());
    Ok(expanded)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn strings(v: &[OsString]) -> Vec<String> {
        v.iter().map(|s| s.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn a_file_adds_the_options_the_command_line_lacks() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("serve.toml");
        std::fs::write(
            &f,
            "listen = \"0.0.0.0:7443\"\njson = true\nonce = false\nmax-sessions = 8\n\
             peer = [\"aa\", \"bb\"]\nmode = \"mutual\"\n",
        )
        .unwrap();
        let args: Vec<OsString> = ["blindmatch", "serve", "--mode", "intersection", "--config"]
            .iter()
            .map(OsString::from)
            .chain([f.clone().into_os_string()])
            .collect();
        let got = strings(&expand(args).unwrap());
        assert_eq!(got[..2], ["blindmatch", "serve"]);
        assert!(got.windows(2).any(|w| w == ["--listen", "0.0.0.0:7443"]));
        assert!(got.windows(2).any(|w| w == ["--max-sessions", "8"]));
        assert!(got.contains(&"--json".to_owned()));
        assert!(!got.contains(&"--once".to_owned()));
        assert_eq!(got.iter().filter(|a| *a == "--peer").count(), 2);
        // The command line's --mode wins.
        assert_eq!(got.iter().filter(|a| *a == "--mode").count(), 1);
        assert!(got.windows(2).any(|w| w == ["--mode", "intersection"]));
        assert!(!got.iter().any(|a| a == "--config"));
    }

    #[test]
    fn a_bad_file_is_a_typed_error() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("bad.toml");
        std::fs::write(&f, "listen = [[1]]\n").unwrap();
        let args = vec![
            OsString::from("blindmatch"),
            OsString::from("match"),
            OsString::from(format!("--config={}", f.display())),
        ];
        match expand(args) {
            Err(Error::Config(c)) => assert_eq!(c.reason, ConfigReason::Parameter),
            other => panic!("expected a config error, got {other:?}"),
        }
        let untouched = vec![OsString::from("blindmatch"), OsString::from("check")];
        assert_eq!(expand(untouched.clone()).unwrap(), untouched);
    }
}
