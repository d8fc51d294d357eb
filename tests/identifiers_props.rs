//! Property tests of the identifier kinds: every generated valid value parses (in any of the
//! spellings people use), canonicalisation is idempotent, and every single-character change of
//! a check-digit identifier is rejected except the changes its check-digit scheme cannot detect
//! by construction, which each test names and checks are the only ones accepted.
//!
//! The check digits are recomputed here independently of the library.

use blindmatch::identifiers::IdentifierKind;
use proptest::prelude::*;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

fn iso6346_value(c: u8) -> u32 {
    if c.is_ascii_digit() {
        return u32::from(c - b'0');
    }
    // A = 10, skipping multiples of 11.
    let mut v = 9;
    for _ in b'A'..=c {
        v += 1;
        if v % 11 == 0 {
            v += 1;
        }
    }
    v
}

fn iso6346_sum(s: &[u8]) -> u32 {
    s.iter()
        .take(10)
        .enumerate()
        .map(|(i, &c)| iso6346_value(c) * (1 << i))
        .sum::<u32>()
        % 11
}

fn imo_check(d: &[u8]) -> u8 {
    (d.iter()
        .take(6)
        .zip([7u32, 6, 5, 4, 3, 2])
        .map(|(&c, w)| u32::from(c - b'0') * w)
        .sum::<u32>()
        % 10) as u8
}

fn lei_with_check(base: &str) -> String {
    let mut rem: u64 = 0;
    for c in format!("{base}00").chars() {
        let v = u64::from(c.to_digit(36).unwrap_or(0));
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    format!("{base}{:02}", 98 - rem)
}

fn icao_value(c: u8) -> u32 {
    match c {
        b'<' => 0,
        b'0'..=b'9' => u32::from(c - b'0'),
        _ => u32::from(c - b'A') + 10,
    }
}

fn icao_check(field: &[u8]) -> u32 {
    field
        .iter()
        .enumerate()
        .map(|(i, &c)| icao_value(c) * [7, 3, 1][i % 3])
        .sum::<u32>()
        % 10
}

fn container() -> impl Strategy<Value = String> {
    (
        "[A-Z]{3}",
        prop::sample::select(vec!['U', 'J', 'Z']),
        // Serial 000000 is a placeholder (05-identifiers.md 5.2.1).
        "[0-9]{6}".prop_filter("placeholder", |s| s != "000000"),
    )
        .prop_map(|(o, c, s)| {
            let first = format!("{o}{c}{s}");
            let check = iso6346_sum(first.as_bytes()) % 10;
            format!("{first}{check}")
        })
}

fn imo() -> impl Strategy<Value = String> {
    "[1-9][0-9]{5}"
        .prop_map(|s| format!("{s}{}", imo_check(s.as_bytes())))
        .prop_filter("placeholder", |s| {
            s != "1234567" && !s.bytes().all(|b| b == s.as_bytes()[0])
        })
}

fn lei() -> impl Strategy<Value = String> {
    "[0-9A-Z]{18}".prop_map(|b| lei_with_check(&b))
}

fn awb() -> impl Strategy<Value = String> {
    ("00[1-9]|0[1-9][0-9]|[1-9][0-9]{2}", 1u32..10_000_000)
        .prop_map(|(p, s)| format!("{p}{s:07}{}", s % 7))
}

fn mrz() -> impl Strategy<Value = String> {
    "[A-Z0-9]{1,9}"
        .prop_filter("placeholder", |n| {
            n.len() < 2 || !n.bytes().all(|b| b == n.as_bytes()[0])
        })
        .prop_map(|n| {
            let mut field = n.clone().into_bytes();
            field.resize(9, b'<');
            format!("{}{}", String::from_utf8_lossy(&field), icao_check(&field))
        })
}

/// A messy spelling of a compact identifier: random case, spaces and hyphens between characters.
fn messy(s: &str, seps: &[u8], upper: &[bool]) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        out.push(if upper[i % upper.len()] {
            c
        } else {
            c.to_ascii_lowercase()
        });
        match seps[i % seps.len()] % 6 {
            0 => out.push(' '),
            1 => out.push('-'),
            _ => {}
        }
    }
    format!("  {out} ")
}

fn parse(kind: IdentifierKind, s: &str) -> Option<String> {
    kind.parse(s).ok().map(|c| c.value().to_string())
}

/// Every single-character substitution from `alphabet` at each position; returns the accepted
/// mutants (position, new string).
fn accepted_mutants(kind: IdentifierKind, valid: &str, alphabet: &[u8]) -> Vec<(usize, String)> {
    let mut accepted = Vec::new();
    for i in 0..valid.len() {
        for &c in alphabet {
            let mut b = valid.as_bytes().to_vec();
            if b[i] == c {
                continue;
            }
            b[i] = c;
            let m = String::from_utf8(b).unwrap_or_default();
            if kind.parse(&m).is_ok() {
                accepted.push((i, m));
            }
        }
    }
    accepted
}

proptest! {
    #[test]
    fn valid_values_parse_in_messy_spellings(
        c in container(), i in imo(), l in lei(), a in awb(), m in mrz(),
        seps in prop::collection::vec(any::<u8>(), 1..12),
        upper in prop::collection::vec(any::<bool>(), 1..12),
    ) {
        for (kind, v) in [
            (IdentifierKind::Container, &c), (IdentifierKind::ImoShip, &i), (IdentifierKind::Lei, &l),
            (IdentifierKind::AirWaybill, &a),
        ] {
            prop_assert_eq!(parse(kind, v), Some(v.clone()), "{}", kind);
            prop_assert_eq!(parse(kind, &messy(v, &seps, &upper)), Some(v.clone()), "{}", kind);
        }
        prop_assert_eq!(parse(IdentifierKind::ImoShip, &format!("IMO {i}")), Some(i.clone()));
        let number = m[..9].trim_end_matches('<').to_string();
        prop_assert_eq!(parse(IdentifierKind::PassportMrz, &m), Some(number.clone()));
        prop_assert_eq!(parse(IdentifierKind::Passport, &number), Some(number));
    }

    #[test]
    fn canonicalisation_is_idempotent(s in "\\PC{0,40}", c in container(), d in (1900u32..2100, 1u32..13, 1u32..29)) {
        let dob = format!("{:02}.{:02}.{}", d.2, d.1, d.0);
        for kind in IdentifierKind::ALL {
            for input in [s.as_str(), c.as_str(), dob.as_str()] {
                if let Ok(first) = kind.parse(input) {
                    // A passport MRZ field canonicalises to a bare number, whose re-parse is as
                    // `passport` (same item tag).
                    let again_kind = if *kind == IdentifierKind::PassportMrz { IdentifierKind::Passport } else { *kind };
                    let second = again_kind.parse(first.value());
                    prop_assert_eq!(second.as_ref().map(|c| c.value()).ok(), Some(first.value()), "{} on {:?}", kind, input);
                    prop_assert_eq!(second.map(|c| c.to_item()).ok(), Some(first.to_item()));
                }
            }
        }
    }

    #[test]
    fn container_changes_are_rejected_except_iso6346_blind_spots(c in container()) {
        for (i, m) in accepted_mutants(IdentifierKind::Container, &c, ALNUM) {
            let (old, new) = (c.as_bytes()[i], m.as_bytes()[i]);
            // Blind spot 1: two owner-code letters whose values differ by a multiple of 11.
            let same_class = i < 3 && (iso6346_value(old) + 110 - iso6346_value(new)).is_multiple_of(11);
            // Blind spot 2: ISO 6346 writes a check value of 10 as 0, so values 0 and 10 meet.
            let ten_as_zero = c.as_bytes()[10] == b'0'
                && (iso6346_sum(m.as_bytes()) == 10 || iso6346_sum(c.as_bytes()) == 10);
            // A category letter swap changes the sum; never a blind spot.
            prop_assert!(same_class || ten_as_zero, "{c} -> {m} accepted");
        }
    }

    #[test]
    fn imo_changes_are_rejected_except_weight_multiples(n in imo()) {
        for (i, m) in accepted_mutants(IdentifierKind::ImoShip, &n, b"0123456789") {
            prop_assert!(i < 6, "{n} -> {m}: a changed check digit was accepted");
            let delta = i32::from(m.as_bytes()[i]) - i32::from(n.as_bytes()[i]);
            prop_assert_eq!((delta * (7 - i as i32)).rem_euclid(10), 0, "{} -> {}", n, m);
        }
    }

    #[test]
    fn lei_changes_are_rejected_except_digit_letter_swaps(l in lei()) {
        for (i, m) in accepted_mutants(IdentifierKind::Lei, &l, ALNUM) {
            // MOD 97-10 detects every change that keeps the digit expansion's length (digit for
            // digit, letter for letter); a letter (two digits) for a digit, or the reverse,
            // shifts everything after it and goes unnoticed about once in 97.
            let (old, new) = (l.as_bytes()[i], m.as_bytes()[i]);
            prop_assert!(i < 18 && old.is_ascii_digit() != new.is_ascii_digit(), "{l} -> {m}");
        }
    }

    #[test]
    fn awb_changes_are_rejected_except_serial_digit_by_seven(a in awb()) {
        for (i, m) in accepted_mutants(IdentifierKind::AirWaybill, &a, b"0123456789") {
            let delta = (i32::from(m.as_bytes()[i]) - i32::from(a.as_bytes()[i])).abs();
            // The prefix is not covered by the check digit at all; in the serial only a change
            // by 7 goes unnoticed; the check digit itself is always covered.
            prop_assert!(i < 3 || ((3..10).contains(&i) && delta == 7), "{a} -> {m}");
        }
    }

    #[test]
    fn mrz_changes_are_rejected_except_icao_blind_spots(m in mrz()) {
        let mut alphabet = ALNUM.to_vec();
        alphabet.push(b'<');
        for (i, x) in accepted_mutants(IdentifierKind::PassportMrz, &m, &alphabet) {
            prop_assert!(i < 9, "{m} -> {x}: a changed check digit was accepted");
            let delta = icao_value(x.as_bytes()[i]) as i32 - icao_value(m.as_bytes()[i]) as i32;
            // Values are taken mod 10 by every weight (7, 3, 1 are prime to 10): a change by a
            // multiple of 10 (0 and A, or `<` and A) goes unnoticed.
            prop_assert_eq!(delta.rem_euclid(10), 0, "{} -> {}", m, x);
        }
    }
}

/// The ISO 13616 check digits of a BBAN in country `cc`.
fn iban_with_check(cc: &str, bban: &str) -> String {
    let mut rem: u64 = 0;
    for c in format!("{bban}{cc}00").chars() {
        let v = u64::from(c.to_digit(36).expect("alphanumeric"));
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    format!("{cc}{:02}{bban}", 98 - rem)
}

fn iban() -> impl Strategy<Value = String> {
    // (country, length) pairs of the registry, with alphanumeric BBANs of the right length.
    prop::sample::select(vec![
        ("GB", 22),
        ("DE", 22),
        ("FR", 27),
        ("NO", 15),
        ("MT", 31),
        ("LC", 32),
    ])
    .prop_flat_map(|(cc, len)| {
        prop::string::string_regex(&format!("[0-9A-Z]{{{}}}", len - 4))
            .expect("regex")
            .prop_filter("placeholder", |b| !b.bytes().all(|x| x == b'0'))
            .prop_map(move |bban| iban_with_check(cc, &bban))
    })
}

proptest! {
    #[test]
    fn ibans_parse_in_messy_spellings_and_single_changes_are_caught(
        v in iban(),
        seps in prop::collection::vec(any::<u8>(), 1..12),
        upper in prop::collection::vec(any::<bool>(), 1..12),
        at in any::<prop::sample::Index>(),
        to in prop::sample::select(b"0123456789".to_vec()),
    ) {
        prop_assert_eq!(parse(IdentifierKind::Iban, &v), Some(v.clone()));
        prop_assert_eq!(parse(IdentifierKind::Iban, &messy(&v, &seps, &upper)), Some(v.clone()));
        prop_assert_eq!(parse(IdentifierKind::Iban, &format!("IBAN {v}")), Some(v.clone()));
        // A digit changed into another digit is always detected.
        let digits: Vec<usize> = (2..v.len()).filter(|&i| v.as_bytes()[i].is_ascii_digit()).collect();
        if !digits.is_empty() {
            let i = digits[at.index(digits.len())];
            if v.as_bytes()[i] != to {
                let mut b = v.clone().into_bytes();
                b[i] = to;
                let m = String::from_utf8(b).unwrap_or_default();
                prop_assert!(IdentifierKind::Iban.parse(&m).is_err(), "{} accepted", m);
            }
        }
    }

    #[test]
    fn placeholders_are_refused_with_their_reason(
        owner in "[A-Z]{3}", digit in 0u8..10, prefix in "[1-9][0-9]{2}", n in 2usize..10,
    ) {
        let first = format!("{owner}U000000");
        let container = format!("{first}{}", iso6346_sum(first.as_bytes()) % 10);
        let d = char::from(b'0' + digit);
        let imo: String = std::iter::repeat_n(d, 7).collect();
        let passport: String = std::iter::repeat_n(d, n).collect();
        for (kind, v) in [
            (IdentifierKind::Container, container),
            (IdentifierKind::ImoCompany, imo),
            (IdentifierKind::AirWaybill, format!("{prefix}00000000")),
            (IdentifierKind::Passport, passport),
            (IdentifierKind::Iban, iban_with_check("DE", &"0".repeat(18))),
        ] {
            let reason = match kind.parse(&v) {
                Err(blindmatch::Error::Input(e)) => Some(e.reason),
                _ => None,
            };
            prop_assert_eq!(reason, Some(blindmatch::error::InputReason::Placeholder), "{} {}", kind, v);
        }
    }
}
