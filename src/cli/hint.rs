//! The command line's names for what the library's errors are about. The library names its
//! own settings (the `strict` field of an input specification, say) and tags the error with
//! a typed [`Setting`]; the command line prints, after the error, the flag that sets it.

use crate::error::{ConfigReason, Error, Setting};

/// The command-line advice for `e`, if a flag would change the outcome.
pub fn hint(e: &Error) -> Option<&'static str> {
    if let Some(setting) = e.setting() {
        return Some(flag(setting));
    }
    match e {
        Error::Config(c) if c.reason == ConfigReason::IndexPadding => Some(
            "build the index with `blindmatch index --pad-to N` (or update it with --add or \
             --remove and --pad-to N)",
        ),
        Error::Config(c)
            if matches!(
                c.reason,
                ConfigReason::IndexFormat | ConfigReason::IndexExpired
            ) =>
        {
            Some(REBUILD)
        }
        Error::Index(_) => Some(REBUILD),
        _ => None,
    }
}

/// How the command line rebuilds an index.
const REBUILD: &str = "rebuild the index: blindmatch index --input FILE --key KIND:COLUMN --out \
                       NEW_DIR --passphrase-file FILE";

/// The flags of `setting`, in a few words.
fn flag(setting: Setting) -> &'static str {
    match setting {
        Setting::Header => "a file without a header row needs --no-header",
        Setting::Encoding => "give the file's encoding with --encoding (latin1, windows-1252)",
        Setting::Delimiter => "--delimiter takes one character, or `tab`",
        Setting::Format => "give --format csv to read the input as CSV",
        Setting::Keys => {
            "say which columns to match on with --key KIND:COLUMN (for example --key \
             imo:imo_ship) or --column NAME for opaque values"
        }
        Setting::Strict => {
            "run without --strict to skip invalid values; --rejects FILE lists them all"
        }
        Setting::Overwrite => {
            "pass --force to replace it (peers that pinned the old fingerprint must pin the new one)"
        }
        Setting::IdentityName => "pass --name \"Customs Agency A\"",
        Setting::PadTo => "set the index's padded size with --pad-to N",
        Setting::KeyLifetime => "set the key's lifetime with --lifetime-days N",
        Setting::AuditKey => {
            "--key takes the audit key `identity show` prints or an identity directory"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ConfigError, InputError, InputReason};

    #[test]
    fn a_setting_gets_its_flag_and_other_errors_none() {
        let strict =
            Error::Input(InputError::new(InputReason::Value, "bad").about(Setting::Strict));
        assert_eq!(hint(&strict), Some(flag(Setting::Strict)));
        let keys = Error::Config(ConfigError::new(ConfigReason::Keys, "x").about(Setting::Keys));
        assert_eq!(hint(&keys), Some(flag(Setting::Keys)));
        assert!(hint(&Error::config(ConfigReason::IndexPadding, "short")).is_some());
        let pad = Error::Input(InputError::new(InputReason::SetSize, "x").about(Setting::PadTo));
        assert_eq!(hint(&pad), Some(flag(Setting::PadTo)));
        assert!(flag(Setting::PadTo).contains("--pad-to"));
        assert!(flag(Setting::Overwrite).contains("--force"));
        assert!(flag(Setting::AuditKey).contains("--key"));
        let old = Error::config(ConfigReason::IndexFormat, "v2");
        assert_eq!(hint(&old), Some(REBUILD));
        assert_eq!(hint(&Error::input(InputReason::Value, "bad")), None);
        assert_eq!(hint(&Error::internal("bug")), None);
    }
}
