//! Random entities and the varied ways they are written.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::pools::*;
use super::GenKind;
use crate::error::Result;
use crate::identifiers::{encode_item, IdentifierKind};

/// A generated real-world thing (a container, a vessel, a person, a company): its canonical
/// key and what is needed to write it in several ways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    kind: GenKind,
    /// The canonical text of its key, as [`crate::records::Records::item_text`] gives it.
    pub canonical: String,
    /// The item bytes of its key.
    pub item: Vec<u8>,
    /// Key fields in their plain spelling (one, or two for a person).
    key: Vec<String>,
    /// The other columns, written identically in both files.
    other: Vec<String>,
}

fn pick<'a>(rng: &mut ChaCha8Rng, pool: &[&'a str]) -> &'a str {
    pool[rng.random_range(0..pool.len())]
}

/// Fisher-Yates shuffle driven by `rng`.
pub(crate) fn shuffle<T>(v: &mut [T], rng: &mut ChaCha8Rng) {
    for i in (1..v.len()).rev() {
        let j = rng.random_range(0..=i);
        v.swap(i, j);
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn company(rng: &mut ChaCha8Rng) -> String {
    let mut words = vec![pick(rng, COMPANY_WORDS)];
    if rng.random_range(0..2) == 0 {
        words.push(pick(rng, COMPANY_WORDS));
    }
    words.push(pick(rng, COMPANY_TRADES));
    let form = LEGAL_FORM_SPELLINGS[rng.random_range(0..LEGAL_FORM_SPELLINGS.len())][0];
    format!("{} {form}", words.join(" "))
}

impl Entity {
    /// A random entity of `kind`.
    ///
    /// # Errors
    /// [`Error::Internal`](crate::Error::Internal) only if a generated value fails its own
    /// parser, which would be a bug.
    pub(crate) fn random(kind: GenKind, rng: &mut ChaCha8Rng) -> Result<Entity> {
        Self::draw(kind, rng, true)
    }

    /// The item of the entity [`Entity::random`] would draw from `rng`, without drawing its
    /// other columns (they are drawn after the key).
    ///
    /// # Errors
    /// As [`Entity::random`].
    pub(crate) fn random_item(kind: GenKind, rng: &mut ChaCha8Rng) -> Result<Vec<u8>> {
        Ok(Self::draw(kind, rng, false)?.item)
    }

    fn draw(kind: GenKind, rng: &mut ChaCha8Rng, full: bool) -> Result<Entity> {
        let (key, other, kinds) = match kind {
            GenKind::Container => {
                let owner = pick(rng, OWNER_PREFIXES);
                // ISO 6346 advises against serials whose check value is 10; so do we.
                let (first10, check) = loop {
                    let first10 = format!("{owner}U{:06}", rng.random_range(0..1_000_000u32));
                    match crate::identifiers::container_check_value(&first10) {
                        // Serial 000000 is a placeholder (05-identifiers.md 5.2.1).
                        Some(v) if v < 10 && !first10.ends_with("000000") => break (first10, v),
                        _ => {}
                    }
                };
                (
                    vec![format!("{first10}{check}")],
                    if full {
                        vec![company(rng), pick(rng, HS_CODES).to_string()]
                    } else {
                        Vec::new()
                    },
                    vec![IdentifierKind::Container],
                )
            }
            GenKind::Imo => {
                let first = [7u32, 8, 9][rng.random_range(0..3)];
                let mut d = vec![first];
                d.extend((0..5).map(|_| rng.random_range(0..10u32)));
                let check = crate::identifiers::imo_check_digit(&d);
                let digits: String = d
                    .iter()
                    .chain([check].iter())
                    .map(|x| x.to_string())
                    .collect();
                let other = if full {
                    let name = format!("{} {}", pick(rng, VESSEL_WORDS), pick(rng, VESSEL_WORDS))
                        .to_uppercase();
                    vec![name, pick(rng, COUNTRIES).to_string()]
                } else {
                    Vec::new()
                };
                (vec![digits], other, vec![IdentifierKind::ImoShip])
            }
            GenKind::Person => {
                let name = if rng.random_range(0..8) == 0 {
                    format!(
                        "{} {}",
                        pick(rng, GIVEN_NAMES_CYRILLIC),
                        pick(rng, SURNAMES_CYRILLIC)
                    )
                } else {
                    let mut surname = pick(rng, SURNAMES).to_string();
                    if rng.random_range(0..5) == 0 {
                        surname = format!("{surname}-{}", pick(rng, SURNAMES));
                    }
                    format!("{} {surname}", pick(rng, GIVEN_NAMES))
                };
                let y = rng.random_range(1940..2005);
                let m = rng.random_range(1..=12u32);
                let d = rng.random_range(1..=28u32);
                (
                    vec![name, format!("{y:04}-{m:02}-{d:02}")],
                    if full {
                        vec![pick(rng, COUNTRIES).to_string()]
                    } else {
                        Vec::new()
                    },
                    vec![IdentifierKind::PersonName, IdentifierKind::DateOfBirth],
                )
            }
            GenKind::Company => (
                vec![company(rng)],
                if full {
                    vec![pick(rng, COUNTRIES).to_string()]
                } else {
                    Vec::new()
                },
                vec![IdentifierKind::CompanyName],
            ),
        };
        let parts = key
            .iter()
            .zip(&kinds)
            .map(|(v, k)| {
                k.parse(v).map_err(|e| {
                    crate::Error::internal(format!("a generated {k} `{v}` does not parse: {e}"))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let canonical = if full {
            parts
                .iter()
                .map(|p| p.value())
                .collect::<Vec<_>>()
                .join(" + ")
        } else {
            String::new()
        };
        Ok(Entity {
            kind,
            canonical,
            item: encode_item(&parts),
            key,
            other,
        })
    }

    /// The entity as one row, its key written in a randomly chosen realistic style that
    /// canonicalises to the same item (checked; falls back to the plain spelling otherwise).
    pub(crate) fn render(&self, rng: &mut ChaCha8Rng) -> Vec<String> {
        let styled: Vec<String> = self
            .key
            .iter()
            .enumerate()
            .map(|(i, v)| self.style(i, v, rng))
            .collect();
        let key = if self.item_of(&styled).as_deref() == Some(self.item.as_slice()) {
            styled
        } else {
            self.key.clone()
        };
        key.into_iter().chain(self.other.iter().cloned()).collect()
    }

    fn item_of(&self, fields: &[String]) -> Option<Vec<u8>> {
        let kinds: &[IdentifierKind] = match self.kind {
            GenKind::Container => &[IdentifierKind::Container],
            GenKind::Imo => &[IdentifierKind::ImoShip],
            GenKind::Person => &[IdentifierKind::PersonName, IdentifierKind::DateOfBirth],
            GenKind::Company => &[IdentifierKind::CompanyName],
        };
        let parts = fields
            .iter()
            .zip(kinds)
            .map(|(f, k)| k.parse(f).ok())
            .collect::<Option<Vec<_>>>()?;
        Some(encode_item(&parts))
    }

    fn style(&self, field: usize, v: &str, rng: &mut ChaCha8Rng) -> String {
        let style = rng.random_range(0..6);
        match (self.kind, field) {
            (GenKind::Container, _) => {
                let (owner, serial, check) = (&v[..4], &v[4..10], &v[10..]);
                match style {
                    0 => v.to_string(),
                    1 => format!("{owner} {serial} {check}"),
                    2 => format!("{owner} {serial}-{check}"),
                    3 => v.to_lowercase(),
                    4 => format!("{owner}-{serial}-{check}"),
                    _ => format!("{} {} {serial} {check}", &owner[..3], &owner[3..]),
                }
            }
            (GenKind::Imo, _) => match style {
                0 | 1 => v.to_string(),
                2 => format!("IMO {v}"),
                3 => format!("IMO{v}"),
                4 => format!("imo {v}"),
                _ => format!("IMO: {v}"),
            },
            (GenKind::Person, 0) => {
                let (given, surname) = v.split_once(' ').unwrap_or((v, ""));
                match style {
                    0 => v.to_string(),
                    1 => format!("{}, {given}", surname.to_uppercase()),
                    2 => v.to_lowercase(),
                    3 => format!(
                        "{} {}",
                        deunicode::deunicode(given),
                        deunicode::deunicode(surname).to_uppercase()
                    ),
                    4 => format!("  {surname}   {given} "),
                    _ => format!(
                        "{}, {}",
                        deunicode::deunicode(surname),
                        deunicode::deunicode(given)
                    ),
                }
            }
            (GenKind::Person, _) => {
                let (y, rest) = v.split_at(4);
                let m: usize = rest[1..3].parse().unwrap_or(1);
                let d = &rest[4..6];
                match style {
                    0 => v.to_string(),
                    1 => format!("{d}.{:02}.{y}", m),
                    2 => format!("{} {} {y}", d.trim_start_matches('0'), &MONTHS[m - 1][..3]),
                    3 => format!("{d}/{m:02}/{y}"),
                    4 => format!("{} {}, {y}", MONTHS[m - 1], d.trim_start_matches('0')),
                    _ => format!("{y}{m:02}{d}"),
                }
            }
            (GenKind::Company, _) => {
                // Swap the legal form for another spelling of the same one, or drop it.
                let group = LEGAL_FORM_SPELLINGS
                    .iter()
                    .find(|g| v.ends_with(&format!(" {}", g[0])));
                let base = group.map_or(v, |g| &v[..v.len() - g[0].len() - 1]);
                let form = group.map(|g| g[rng.random_range(0..g.len())]).unwrap_or("");
                match style {
                    0 => v.to_string(),
                    1 => format!("{} {form}", base.to_uppercase()),
                    2 => base.to_string(),
                    3 => format!("{base}, {form}"),
                    4 => format!("{} {form}", deunicode::deunicode(base)),
                    _ => format!("{}  {form}", base.to_lowercase()),
                }
            }
        }
    }
}
