//! Realistic building blocks for generated data.

/// Owner codes (the first three letters, the fourth being the category `U`) of well-known
/// container operators and lessors, as printed on their boxes and registered with the BIC.
pub(crate) const OWNER_PREFIXES: &[&str] = &[
    "APH", "APZ", "BEA", "BMO", "CAI", "CBH", "CGM", "CMA", "COS", "CRS", "CSN", "CSQ", "DFS",
    "DRY", "EGH", "EIS", "EMC", "FCI", "FSC", "GES", "GLD", "HDM", "HLB", "HLX", "INK", "KKF",
    "MAE", "MOL", "MRK", "MSC", "MSK", "NYK", "OOL", "PON", "SEG", "SIT", "SUD", "TCL", "TCN",
    "TEM", "TGH", "TLL", "TRH", "TRL", "TTN", "UAC", "WHL", "XIN", "YML", "ZIM",
];

/// Given names, some with diacritics or in Cyrillic, as they appear on lists from many
/// countries.
pub(crate) const GIVEN_NAMES: &[&str] = &[
    "Ahmed",
    "Ali",
    "Amina",
    "Ana",
    "Andrés",
    "Anna",
    "Bogdan",
    "Carlos",
    "Chen",
    "Dmitri",
    "Elena",
    "Émile",
    "Fatima",
    "François",
    "Giulia",
    "Hans",
    "Hassan",
    "Ibrahim",
    "Ines",
    "Ivan",
    "Jana",
    "Jean-Luc",
    "Jiří",
    "José",
    "Juan",
    "Karim",
    "Kateřina",
    "Lars",
    "Laura",
    "Leila",
    "Łukasz",
    "Mahmoud",
    "María",
    "Mehmet",
    "Mohammed",
    "Nadia",
    "Niklas",
    "Olga",
    "Omar",
    "Pavel",
    "Pedro",
    "Rashid",
    "Sergei",
    "Søren",
    "Svetlana",
    "Tomás",
    "Yusuf",
    "Zoë",
];

/// Given names in Cyrillic (Russian lists write them so; the other file may transliterate).
pub(crate) const GIVEN_NAMES_CYRILLIC: &[&str] =
    &["Алексей", "Наталья", "Ольга", "Сергей", "Дмитрий", "Ирина"];

/// Surnames, likewise.
pub(crate) const SURNAMES: &[&str] = &[
    "Abdullah",
    "Al-Hassan",
    "Alvarez",
    "Bauer",
    "Becker",
    "Björk",
    "Chen",
    "Costa",
    "Da Silva",
    "Dvořák",
    "El-Amin",
    "Fernández",
    "García-López",
    "Haddad",
    "Hoffmann",
    "Ivanov",
    "Jensen",
    "Kowalski",
    "Kuznetsov",
    "Lefèvre",
    "Li",
    "Mansour",
    "Martínez",
    "Müller",
    "Nakamura",
    "Nováková",
    "Novak",
    "O'Brien",
    "Øster",
    "Pereira",
    "Petrov",
    "Popescu",
    "Rahman",
    "Rodríguez",
    "Rossi",
    "Said",
    "Schäfer",
    "Schmidt",
    "Sokolov",
    "Suárez",
    "Tanaka",
    "Weiß",
    "Wójcik",
    "Yilmaz",
    "Zhang",
];

/// Surnames in Cyrillic.
pub(crate) const SURNAMES_CYRILLIC: &[&str] = &[
    "Иванов",
    "Кузнецов",
    "Смирнов",
    "Попов",
    "Соколов",
    "Волков",
];

/// Words that make up company names.
pub(crate) const COMPANY_WORDS: &[&str] = &[
    "Atlantic",
    "Baltic",
    "Blue",
    "Caspian",
    "Coastal",
    "Continental",
    "Crescent",
    "Delta",
    "Eastern",
    "Global",
    "Golden",
    "Grand",
    "Gulf",
    "Harbour",
    "Horizon",
    "Imperial",
    "International",
    "Marine",
    "Maritime",
    "Meridian",
    "Northern",
    "Ocean",
    "Orient",
    "Pacific",
    "Pearl",
    "Phoenix",
    "Pioneer",
    "Polar",
    "Premier",
    "Royal",
    "Silver",
    "Southern",
    "Star",
    "Sun",
    "Trans",
    "United",
    "Vanguard",
    "Western",
    "Ромашка",
    "Восток",
];

/// What the companies do.
pub(crate) const COMPANY_TRADES: &[&str] = &[
    "Shipping",
    "Logistics",
    "Trading",
    "Freight",
    "Commodities",
    "Energy",
    "Petroleum",
    "Chemicals",
    "Metals",
    "Holdings",
    "Navigation",
    "Tankers",
    "Forwarding",
    "Agencies",
];

/// Legal forms, each with spellings that canonicalise the same (all removed as legal forms).
pub(crate) const LEGAL_FORM_SPELLINGS: &[&[&str]] = &[
    &["Ltd", "Ltd.", "LIMITED", "Limited", "Co., Ltd.", "CO LTD"],
    &["LLC", "L.L.C.", "llc"],
    &["GmbH", "GMBH", "G.m.b.H."],
    &["S.A.", "SA", "S A"],
    &["OOO", "ООО", "O.O.O."],
    &["FZE", "F.Z.E."],
    &["PJSC", "P.J.S.C."],
];

/// Countries for flags and addresses.
pub(crate) const COUNTRIES: &[&str] = &[
    "Panama",
    "Liberia",
    "Marshall Islands",
    "Malta",
    "Bahamas",
    "Greece",
    "Cyprus",
    "China",
    "Singapore",
    "Hong Kong",
    "Germany",
    "Norway",
    "Russia",
    "Iran",
    "United Arab Emirates",
    "Turkey",
    "Comoros",
    "Togo",
    "Cameroon",
];

/// Vessel name words.
pub(crate) const VESSEL_WORDS: &[&str] = &[
    "Aurora", "Bright", "Crown", "Dawn", "Eagle", "Falcon", "Fortune", "Glory", "Harmony", "Hope",
    "Jade", "Liberty", "Lucky", "Majesty", "Neptune", "Noble", "Ocean", "Pride", "Princess",
    "Queen", "Ruby", "Sapphire", "Sea", "Spirit", "Star", "Triton", "Unity", "Venus", "Victory",
    "Wind",
];

/// HS codes of goods often seen in containers (6-digit subheadings of HS 2022).
pub(crate) const HS_CODES: &[&str] = &[
    "0303.89", "0901.11", "1001.99", "1701.14", "2709.00", "2710.19", "3901.10", "3926.90",
    "4011.10", "6109.10", "6403.99", "7208.51", "7308.90", "8414.51", "8471.30", "8517.13",
    "8703.23", "8708.99", "9403.60", "9503.00",
];
