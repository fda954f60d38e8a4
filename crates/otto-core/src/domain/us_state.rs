//! [`UsState`]: one of the 50 US states, the District of Columbia, or an inhabited territory
//! (PR, GU, VI, AS, MP), by its USPS two-letter code. Codes and names follow USPS Publication 28,
//! Appendix B.

use serde::{Deserialize, Serialize};

use super::DomainError;

/// USPS code and name of every accepted state, district and territory, sorted by code.
const STATES: [(&str, &str); 56] = [
    ("AK", "Alaska"),
    ("AL", "Alabama"),
    ("AR", "Arkansas"),
    ("AS", "American Samoa"),
    ("AZ", "Arizona"),
    ("CA", "California"),
    ("CO", "Colorado"),
    ("CT", "Connecticut"),
    ("DC", "District of Columbia"),
    ("DE", "Delaware"),
    ("FL", "Florida"),
    ("GA", "Georgia"),
    ("GU", "Guam"),
    ("HI", "Hawaii"),
    ("IA", "Iowa"),
    ("ID", "Idaho"),
    ("IL", "Illinois"),
    ("IN", "Indiana"),
    ("KS", "Kansas"),
    ("KY", "Kentucky"),
    ("LA", "Louisiana"),
    ("MA", "Massachusetts"),
    ("MD", "Maryland"),
    ("ME", "Maine"),
    ("MI", "Michigan"),
    ("MN", "Minnesota"),
    ("MO", "Missouri"),
    ("MP", "Northern Mariana Islands"),
    ("MS", "Mississippi"),
    ("MT", "Montana"),
    ("NC", "North Carolina"),
    ("ND", "North Dakota"),
    ("NE", "Nebraska"),
    ("NH", "New Hampshire"),
    ("NJ", "New Jersey"),
    ("NM", "New Mexico"),
    ("NV", "Nevada"),
    ("NY", "New York"),
    ("OH", "Ohio"),
    ("OK", "Oklahoma"),
    ("OR", "Oregon"),
    ("PA", "Pennsylvania"),
    ("PR", "Puerto Rico"),
    ("RI", "Rhode Island"),
    ("SC", "South Carolina"),
    ("SD", "South Dakota"),
    ("TN", "Tennessee"),
    ("TX", "Texas"),
    ("UT", "Utah"),
    ("VA", "Virginia"),
    ("VI", "U.S. Virgin Islands"),
    ("VT", "Vermont"),
    ("WA", "Washington"),
    ("WI", "Wisconsin"),
    ("WV", "West Virginia"),
    ("WY", "Wyoming"),
];

/// Other names people use, normalised like [`normalise`] output, with the code they mean.
const ALIASES: [(&str, &str); 5] = [
    ("d c", "DC"),
    ("washington dc", "DC"),
    ("washington d c", "DC"),
    ("virgin islands", "VI"),
    ("us virgin islands", "VI"),
];

/// A US state, DC or inhabited territory. Serialises as its USPS code ("VA").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UsState(u8);

impl UsState {
    /// Parses a USPS code ("va", "D.C.") or a full name ("virginia", "District of Columbia",
    /// "Washington DC"), ignoring case, dots and extra spaces.
    ///
    /// # Errors
    /// [`DomainError::UsState`] for anything else (the message quotes at most 40 characters).
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let key = normalise(text);
        let by_code = |code: &str| {
            STATES
                .iter()
                .position(|(c, _)| c.eq_ignore_ascii_case(code))
        };
        let found = if key.len() == 2 {
            by_code(&key)
        } else {
            STATES
                .iter()
                .position(|(_, name)| normalise(name) == key)
                .or_else(|| {
                    ALIASES
                        .iter()
                        .find(|(alias, _)| *alias == key)
                        .and_then(|(_, code)| by_code(code))
                })
        };
        match found {
            Some(i) => Ok(Self(u8::try_from(i).expect("table has 56 entries"))),
            None => Err(DomainError::UsState(text.trim().chars().take(40).collect())),
        }
    }

    /// The USPS code, e.g. "VA".
    pub fn code(&self) -> &'static str {
        STATES[usize::from(self.0)].0
    }

    /// The full name, e.g. "Virginia", "District of Columbia".
    pub fn name(&self) -> &'static str {
        STATES[usize::from(self.0)].1
    }

    /// Every accepted state, district and territory, in code order.
    pub fn all() -> impl Iterator<Item = UsState> {
        (0..STATES.len()).map(|i| Self(u8::try_from(i).expect("table has 56 entries")))
    }
}

/// Lowercase, dots removed, runs of whitespace collapsed to one space ("D.C." → "dc",
/// "U.S. Virgin  Islands" → "us virgin islands").
fn normalise(text: &str) -> String {
    text.split_whitespace()
        .map(|w| w.replace('.', "").to_lowercase())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

impl std::fmt::Display for UsState {
    /// Writes the USPS code.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl TryFrom<String> for UsState {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<UsState> for String {
    fn from(s: UsState) -> String {
        s.code().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_unique_and_complete() {
        assert!(STATES.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(UsState::all().count(), 56);
        for s in UsState::all() {
            assert_eq!(UsState::parse(s.code()).unwrap(), s);
            assert_eq!(UsState::parse(s.name()).unwrap(), s);
            assert_eq!(UsState::parse(&s.name().to_uppercase()).unwrap(), s);
        }
    }

    #[test]
    fn parses_codes_and_names_in_any_case() {
        let va = UsState::parse("virginia").unwrap();
        assert_eq!((va.code(), va.name()), ("VA", "Virginia"));
        assert_eq!(UsState::parse(" va ").unwrap(), va);
        assert_eq!(UsState::parse("District of Columbia").unwrap().code(), "DC");
        assert_eq!(UsState::parse("D.C.").unwrap().code(), "DC");
        assert_eq!(
            UsState::parse("Washington, D.C.".replace(',', "").as_str())
                .unwrap()
                .code(),
            "DC"
        );
        assert_eq!(UsState::parse("west   virginia").unwrap().code(), "WV");
        assert_eq!(UsState::parse("Washington").unwrap().code(), "WA");
        assert_eq!(UsState::parse("virgin islands").unwrap().code(), "VI");
        assert_eq!(UsState::parse("pr").unwrap().name(), "Puerto Rico");
        for code in ["GU", "AS", "MP"] {
            assert_eq!(UsState::parse(code).unwrap().code(), code);
        }
    }

    #[test]
    fn rejects_unknown_text() {
        for text in ["", "XX", "Virginias", "Ontario", "v", "new", "zz top"] {
            assert!(UsState::parse(text).is_err(), "{text:?}");
        }
        let long = "x".repeat(500);
        let DomainError::UsState(quoted) = UsState::parse(&long).unwrap_err() else {
            panic!("wrong variant")
        };
        assert_eq!(quoted.len(), 40);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_round_trips(text in "\\PC{0,30}") {
            if let Ok(s) = UsState::parse(&text) {
                proptest::prop_assert_eq!(UsState::parse(s.code()).unwrap(), s);
            }
        }
    }

    #[test]
    fn serde_uses_the_code() {
        let s = UsState::parse("Texas").unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"TX\"");
        assert_eq!(serde_json::from_str::<UsState>("\"tx\"").unwrap(), s);
        assert!(serde_json::from_str::<UsState>("\"QQ\"").is_err());
    }
}
