//! [`Vin`]: a 17-character vehicle identification number with a correct check digit, and what
//! can be read from it offline (model year, manufacturer).
//!
//! Follows `/work/shared/protocols/nhtsa.md` §5 (49 CFR 565.15(c) check digit, 49 CFR 565 model
//! year rules), with its vectors in `fixtures/vin-check-digit-vectors.json`:
//! - characters `0-9` and `A-Z` except `I`, `O`, `Q`;
//! - position 9 is the check digit: transliterate (A–H → 1–8, J–N → 1–5, P → 7, R → 9,
//!   S–Z → 2–9, digits as themselves), multiply by the weights
//!   8 7 6 5 4 3 2 10 0 9 8 7 6 5 4 3 2, sum, mod 11; 10 is written `X`.
//!
//! The check digit is mandatory for every vehicle sold in North America, which is all a US shop
//! services, so a VIN that fails it is rejected (it is almost always a mis-heard character).
//! Some home-market European/Asian VINs do not use it; such a vehicle can still be recorded
//! without a VIN.

use serde::{Deserialize, Serialize};

/// Why a text is not a valid VIN. Messages are fit to read to a caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VinError {
    /// Number of characters found (after removing spaces and dashes).
    #[error("a VIN has 17 characters, this has {0}")]
    Length(usize),
    /// A character no VIN contains (I, O, Q, punctuation, non-ASCII).
    #[error("a VIN cannot contain {0:?}")]
    Character(char),
    /// Position 9 does not match the computed check digit.
    #[error("VIN check digit should be {expected}, found {found}")]
    CheckDigit { expected: char, found: char },
}

/// What the VIN alone tells us, without asking NHTSA vPIC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VinInfo {
    /// The VIN decoded.
    pub vin: Vin,
    /// Model year from position 10 and the position-7 rule ([`Vin::model_year`]).
    pub model_year: Option<u16>,
    /// Manufacturer registered for the WMI, e.g. "Honda (USA)"; `None` when not in our table.
    pub manufacturer: Option<&'static str>,
    /// The brand, e.g. "Honda", "Acura"; `None` when the WMI is unknown or shared by several
    /// brands (e.g. Stellantis' "1C4": Chrysler, Dodge or Jeep).
    pub make: Option<&'static str>,
}

/// A 17-character VIN, uppercase, with a correct check digit (position 9). Serialises as that
/// string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Vin(String);

/// Position weights of the check-digit sum (49 CFR 565.15(c)).
const WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

/// Model-year codes: the character at index `i` means 1980 + i (or 2010 + i, see
/// [`Vin::model_year`]).
const YEAR_CODES: &[u8; 30] = b"ABCDEFGHJKLMNPRSTVWXY123456789";

impl Vin {
    /// Parses `text`: trims, uppercases, removes spaces and dashes ("1HG CM82-633A004352"),
    /// then checks length, characters and the check digit.
    ///
    /// # Errors
    /// [`VinError::Length`], [`VinError::Character`] (the first bad one) or
    /// [`VinError::CheckDigit`].
    pub fn parse(text: &str) -> Result<Self, VinError> {
        let t: String = text
            .chars()
            .filter(|c| !(c.is_whitespace() || *c == '-'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let expected = Self::check_digit_for(&t)?;
        let found = char::from(t.as_bytes()[8]);
        if found != expected {
            return Err(VinError::CheckDigit { expected, found });
        }
        Ok(Self(t))
    }

    /// The check digit (`0`–`9` or `X`) that position 9 of `vin` must hold; the character
    /// currently at position 9 is ignored (its weight is 0). `vin` must already be uppercase.
    /// Useful to build valid VINs (demo data) and to suggest a correction.
    ///
    /// # Errors
    /// [`VinError::Length`] unless 17 characters; [`VinError::Character`] for any character
    /// outside `0-9A-Z` minus `I`, `O`, `Q` (position 9 included).
    pub fn check_digit_for(vin: &str) -> Result<char, VinError> {
        let n = vin.chars().count();
        if n != 17 {
            return Err(VinError::Length(n));
        }
        let mut sum = 0;
        for (c, w) in vin.chars().zip(WEIGHTS) {
            sum += transliterate(c).ok_or(VinError::Character(c))? * w;
        }
        Ok(match sum % 11 {
            10 => 'X',
            r => char::from_digit(r, 10).expect("remainder below 10"),
        })
    }

    /// The VIN as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The world manufacturer identifier: the first 3 characters.
    pub fn wmi(&self) -> &str {
        &self.0[..3]
    }

    /// The model year per 49 CFR 565 (nhtsa.md §5.3): position 10 gives the year within a
    /// 30-year cycle; position 7 numeric → 1980–2009, a letter → 2010–2039. `None` when position
    /// 10 is not a year code (`0`, `U`, `Z`). The position-7 rule holds for passenger cars,
    /// MPVs and light trucks (≤ 10,000 lb GVWR); for heavier vehicles prefer vPIC's answer.
    pub fn model_year(&self) -> Option<u16> {
        let b = self.0.as_bytes();
        let index = YEAR_CODES.iter().position(|&c| c == b[9])?;
        let cycle = if b[6].is_ascii_alphabetic() { 30 } else { 0 };
        Some(1980 + u16::try_from(index).expect("index below 30") + cycle)
    }

    /// The manufacturer registered for [`Vin::wmi`], from the table in this module; `None` when
    /// the WMI is not in it.
    pub fn manufacturer(&self) -> Option<&'static str> {
        wmi_entry(self.wmi()).map(|(_, m, _)| m)
    }

    /// Everything [`Vin`] can tell without a network call.
    pub fn decode_offline(&self) -> VinInfo {
        let entry = wmi_entry(self.wmi());
        VinInfo {
            vin: self.clone(),
            model_year: self.model_year(),
            manufacturer: entry.map(|(_, m, _)| m),
            make: entry.and_then(|(_, _, make)| make),
        }
    }
}

/// Transliteration value of a VIN character (nhtsa.md §5.2), `None` if not allowed.
fn transliterate(c: char) -> Option<u32> {
    Some(match c {
        '0'..='9' => c.to_digit(10)?,
        'A' | 'J' => 1,
        'B' | 'K' | 'S' => 2,
        'C' | 'L' | 'T' => 3,
        'D' | 'M' | 'U' => 4,
        'E' | 'N' | 'V' => 5,
        'F' | 'W' => 6,
        'G' | 'P' | 'X' => 7,
        'H' | 'Y' => 8,
        'R' | 'Z' => 9,
        _ => return None,
    })
}

fn wmi_entry(wmi: &str) -> Option<(&'static str, &'static str, Option<&'static str>)> {
    WMI_TABLE
        .binary_search_by(|(w, _, _)| (*w).cmp(wmi))
        .ok()
        .map(|i| WMI_TABLE[i])
}

/// WMI → (manufacturer, make) for the makes a US general repair shop sees most, sorted by WMI.
///
/// Source: SAE/NHTSA-assigned WMIs as commonly published (e.g. the World Manufacturer
/// Identifier table in Wikipedia's "Vehicle identification number" article, and NHTSA vPIC's
/// `GetWMIsForManufacturer`). Compiled by hand and not checked against vPIC in this session: it
/// is a hint for conversation ("a Honda, right?"); vPIC's decode is authoritative. `make` is
/// `None` where one WMI covers several brands.
const WMI_TABLE: &[(&str, &str, Option<&str>)] = &[
    ("19U", "Honda (USA)", Some("Acura")),
    ("19X", "Honda (USA)", Some("Honda")),
    ("1C3", "FCA US (Chrysler)", None),
    ("1C4", "FCA US (Chrysler)", None),
    ("1C6", "FCA US (Chrysler)", Some("Ram")),
    ("1D7", "Chrysler (USA)", Some("Dodge")),
    ("1FA", "Ford Motor Company", Some("Ford")),
    ("1FD", "Ford Motor Company", Some("Ford")),
    ("1FM", "Ford Motor Company", Some("Ford")),
    ("1FT", "Ford Motor Company", Some("Ford")),
    ("1G1", "General Motors (USA)", Some("Chevrolet")),
    ("1G2", "General Motors (USA)", Some("Pontiac")),
    ("1G4", "General Motors (USA)", Some("Buick")),
    ("1G6", "General Motors (USA)", Some("Cadillac")),
    ("1GC", "General Motors (USA)", Some("Chevrolet")),
    ("1GK", "General Motors (USA)", Some("GMC")),
    ("1GN", "General Motors (USA)", Some("Chevrolet")),
    ("1GT", "General Motors (USA)", Some("GMC")),
    ("1GY", "General Motors (USA)", Some("Cadillac")),
    ("1HG", "Honda (USA)", Some("Honda")),
    ("1J4", "Chrysler (USA)", Some("Jeep")),
    ("1J8", "Chrysler (USA)", Some("Jeep")),
    ("1LN", "Ford Motor Company", Some("Lincoln")),
    ("1ME", "Ford Motor Company", Some("Mercury")),
    ("1N4", "Nissan (USA)", Some("Nissan")),
    ("1N6", "Nissan (USA)", Some("Nissan")),
    ("1VW", "Volkswagen (USA)", Some("Volkswagen")),
    ("1YV", "Mazda (AutoAlliance, USA)", Some("Mazda")),
    ("1ZV", "Ford (AutoAlliance, USA)", Some("Ford")),
    ("2C3", "Chrysler (Canada)", None),
    ("2C4", "Chrysler (Canada)", None),
    ("2FA", "Ford (Canada)", Some("Ford")),
    ("2FM", "Ford (Canada)", Some("Ford")),
    ("2FT", "Ford (Canada)", Some("Ford")),
    ("2G1", "General Motors (Canada)", Some("Chevrolet")),
    ("2G4", "General Motors (Canada)", Some("Buick")),
    ("2GN", "General Motors (Canada)", Some("Chevrolet")),
    ("2HG", "Honda (Canada)", Some("Honda")),
    ("2HK", "Honda (Canada)", Some("Honda")),
    ("2HN", "Honda (Canada)", Some("Acura")),
    ("2LM", "Ford (Canada)", Some("Lincoln")),
    ("2T1", "Toyota (Canada)", Some("Toyota")),
    ("2T2", "Toyota (Canada)", Some("Lexus")),
    ("2T3", "Toyota (Canada)", Some("Toyota")),
    ("3C4", "FCA (Mexico)", None),
    ("3C6", "FCA (Mexico)", Some("Ram")),
    ("3FA", "Ford (Mexico)", Some("Ford")),
    ("3FM", "Ford (Mexico)", Some("Ford")),
    ("3G1", "General Motors (Mexico)", Some("Chevrolet")),
    ("3GC", "General Motors (Mexico)", Some("Chevrolet")),
    ("3GN", "General Motors (Mexico)", Some("Chevrolet")),
    ("3GT", "General Motors (Mexico)", Some("GMC")),
    ("3HG", "Honda (Mexico)", Some("Honda")),
    ("3KP", "Kia (Mexico)", Some("Kia")),
    ("3MZ", "Mazda (Mexico)", Some("Mazda")),
    ("3N1", "Nissan (Mexico)", Some("Nissan")),
    ("3N6", "Nissan (Mexico)", Some("Nissan")),
    ("3VW", "Volkswagen (Mexico)", Some("Volkswagen")),
    ("4JG", "Mercedes-Benz (USA)", Some("Mercedes-Benz")),
    ("4S3", "Subaru (USA)", Some("Subaru")),
    ("4S4", "Subaru (USA)", Some("Subaru")),
    ("4T1", "Toyota (USA)", Some("Toyota")),
    ("4T3", "Toyota (USA)", Some("Toyota")),
    ("4US", "BMW (USA)", Some("BMW")),
    ("55S", "Mercedes-Benz (USA)", Some("Mercedes-Benz")),
    ("58A", "Toyota (USA)", Some("Lexus")),
    ("5FN", "Honda (USA)", Some("Honda")),
    ("5J6", "Honda (USA)", Some("Honda")),
    ("5J8", "Honda (USA)", Some("Acura")),
    ("5LM", "Ford Motor Company", Some("Lincoln")),
    ("5N1", "Nissan (USA)", Some("Nissan")),
    ("5NM", "Hyundai (USA)", Some("Hyundai")),
    ("5NP", "Hyundai (USA)", Some("Hyundai")),
    ("5TD", "Toyota (USA)", Some("Toyota")),
    ("5TF", "Toyota (USA)", Some("Toyota")),
    ("5UX", "BMW (USA)", Some("BMW")),
    ("5XX", "Kia (USA)", Some("Kia")),
    ("5XY", "Kia (USA)", Some("Kia")),
    ("5YJ", "Tesla", Some("Tesla")),
    ("7SA", "Tesla", Some("Tesla")),
    ("JA3", "Mitsubishi (Japan)", Some("Mitsubishi")),
    ("JA4", "Mitsubishi (Japan)", Some("Mitsubishi")),
    ("JF1", "Subaru (Japan)", Some("Subaru")),
    ("JF2", "Subaru (Japan)", Some("Subaru")),
    ("JH4", "Honda (Japan)", Some("Acura")),
    ("JHL", "Honda (Japan)", Some("Honda")),
    ("JHM", "Honda (Japan)", Some("Honda")),
    ("JM1", "Mazda (Japan)", Some("Mazda")),
    ("JM3", "Mazda (Japan)", Some("Mazda")),
    ("JN1", "Nissan (Japan)", Some("Nissan")),
    ("JN8", "Nissan (Japan)", Some("Nissan")),
    ("JNK", "Nissan (Japan)", Some("Infiniti")),
    ("JNR", "Nissan (Japan)", Some("Infiniti")),
    ("JT2", "Toyota (Japan)", Some("Toyota")),
    ("JT3", "Toyota (Japan)", Some("Toyota")),
    ("JT4", "Toyota (Japan)", Some("Toyota")),
    ("JTD", "Toyota (Japan)", Some("Toyota")),
    ("JTE", "Toyota (Japan)", Some("Toyota")),
    ("JTH", "Toyota (Japan)", Some("Lexus")),
    ("JTJ", "Toyota (Japan)", Some("Lexus")),
    ("JTK", "Toyota (Japan)", Some("Toyota")),
    ("JTM", "Toyota (Japan)", Some("Toyota")),
    ("JTN", "Toyota (Japan)", Some("Toyota")),
    ("KM8", "Hyundai (Korea)", Some("Hyundai")),
    ("KMH", "Hyundai (Korea)", Some("Hyundai")),
    ("KNA", "Kia (Korea)", Some("Kia")),
    ("KND", "Kia (Korea)", Some("Kia")),
    ("LRW", "Tesla (China)", Some("Tesla")),
    ("SAJ", "Jaguar Land Rover", Some("Jaguar")),
    ("SAL", "Jaguar Land Rover", Some("Land Rover")),
    ("WA1", "Audi (Germany)", Some("Audi")),
    ("WAU", "Audi (Germany)", Some("Audi")),
    ("WBA", "BMW (Germany)", Some("BMW")),
    ("WBS", "BMW M (Germany)", Some("BMW")),
    ("WDB", "Mercedes-Benz (Germany)", Some("Mercedes-Benz")),
    ("WDC", "Mercedes-Benz (Germany)", Some("Mercedes-Benz")),
    ("WDD", "Mercedes-Benz (Germany)", Some("Mercedes-Benz")),
    ("WMW", "BMW (MINI)", Some("MINI")),
    ("WP0", "Porsche (Germany)", Some("Porsche")),
    ("WP1", "Porsche (Germany)", Some("Porsche")),
    ("WVG", "Volkswagen (Germany)", Some("Volkswagen")),
    ("WVW", "Volkswagen (Germany)", Some("Volkswagen")),
    ("YV1", "Volvo Cars (Sweden)", Some("Volvo")),
    ("YV4", "Volvo Cars (Sweden)", Some("Volvo")),
    ("ZFA", "Fiat (Italy)", Some("Fiat")),
];

impl std::fmt::Display for Vin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Vin {
    type Error = VinError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Vin> for String {
    fn from(v: Vin) -> String {
        v.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Allowed VIN characters.
    const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ";

    #[derive(serde::Deserialize)]
    struct Vectors {
        valid: Vec<ValidVector>,
        invalid: Vec<InvalidVector>,
    }
    #[derive(serde::Deserialize)]
    struct ValidVector {
        vin: String,
        check_digit: String,
        model_year: u16,
    }
    #[derive(serde::Deserialize)]
    struct InvalidVector {
        vin: String,
        reason: String,
    }

    fn vectors() -> Vectors {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/protocols/fixtures/vin-check-digit-vectors.json"
        );
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).expect("fixture parses")
    }

    #[test]
    fn every_valid_fixture_vector_parses_with_its_check_digit_and_year() {
        let v = vectors();
        assert_eq!(v.valid.len(), 7);
        for case in v.valid {
            let vin = Vin::parse(&case.vin).unwrap_or_else(|e| panic!("{}: {e}", case.vin));
            assert_eq!(vin.as_str(), case.vin);
            let expected: Vec<char> = case.check_digit.chars().collect();
            assert_eq!(vec![Vin::check_digit_for(&case.vin).unwrap()], expected);
            assert_eq!(vin.model_year(), Some(case.model_year), "{}", case.vin);
        }
    }

    #[test]
    fn every_invalid_fixture_vector_is_rejected_for_its_reason() {
        let v = vectors();
        assert_eq!(v.invalid.len(), 6);
        for case in v.invalid {
            let err = Vin::parse(&case.vin).expect_err(&case.vin);
            match err {
                VinError::CheckDigit { expected, found } => {
                    assert!(case.reason.contains("check digit") || case.reason.contains("serial"));
                    let computed = [
                        format!("computed {expected}"),
                        format!("computed check digit {expected}"),
                    ];
                    assert!(
                        computed.iter().any(|c| case.reason.contains(c)),
                        "{}",
                        case.reason
                    );
                    assert_eq!(char::from(case.vin.as_bytes()[8]), found);
                }
                VinError::Character(c) => assert!(case.reason.contains(&format!("letter {c}"))),
                VinError::Length(n) => assert!(case.reason.contains(&format!("{n} characters"))),
            }
        }
    }

    #[test]
    fn parse_normalises_case_spaces_and_dashes() {
        let vin = Vin::parse(" 1hg cm82-633a004352 ").unwrap();
        assert_eq!(vin.as_str(), "1HGCM82633A004352");
        assert_eq!(Vin::parse("1HGCM82633A0043"), Err(VinError::Length(15)));
        assert_eq!(
            Vin::parse("1HGCM82633A00435I"),
            Err(VinError::Character('I'))
        );
        assert_eq!(
            Vin::parse("1HGCM8263QA004352"),
            Err(VinError::Character('Q'))
        );
        assert_eq!(
            Vin::parse("1HGCM82633A00435é"),
            Err(VinError::Character('é'))
        );
        assert_eq!(
            Vin::parse("1HGCM82633A00435!"),
            Err(VinError::Character('!'))
        );
    }

    #[test]
    fn decodes_wmi_manufacturer_and_make_offline() {
        let info = Vin::parse("1HGCM82633A004352").unwrap().decode_offline();
        assert_eq!(info.model_year, Some(2003));
        assert_eq!(info.manufacturer, Some("Honda (USA)"));
        assert_eq!(info.make, Some("Honda"));
        let tesla = Vin::parse("5YJ3E1EA2KF317000").unwrap();
        assert_eq!(
            (tesla.wmi(), tesla.decode_offline().make),
            ("5YJ", Some("Tesla"))
        );
        assert_eq!(
            Vin::parse("JTDKN3DU6A0123456")
                .unwrap()
                .decode_offline()
                .make,
            Some("Toyota")
        );
        assert_eq!(
            Vin::parse("3VWDB7AJ9HM000001").unwrap().manufacturer(),
            Some("Volkswagen (Mexico)")
        );
        let unknown = Vin::parse("11111111111111111").unwrap().decode_offline();
        assert_eq!((unknown.manufacturer, unknown.make), (None, None));
    }

    #[test]
    fn wmi_table_is_sorted_unique_and_well_formed() {
        assert!(WMI_TABLE.windows(2).all(|w| w[0].0 < w[1].0));
        for (wmi, _, _) in WMI_TABLE {
            assert!(
                wmi.len() == 3 && wmi.chars().all(|c| ALPHABET.contains(c)),
                "{wmi}"
            );
        }
    }

    #[test]
    fn non_year_codes_give_no_model_year() {
        for code in ['0', 'U', 'Z'] {
            let mut s: Vec<char> = "1HGCM82633A004352".chars().collect();
            s[9] = code;
            let mut text: String = s.iter().collect();
            let check = Vin::check_digit_for(&text).unwrap();
            text.replace_range(8..9, &check.to_string());
            assert_eq!(Vin::parse(&text).unwrap().model_year(), None, "{text}");
        }
    }

    #[test]
    fn serde_uses_the_string_and_validates() {
        let vin: Vin = serde_json::from_str("\"1hgcm82633a004352\"").unwrap();
        assert_eq!(
            serde_json::to_string(&vin).unwrap(),
            "\"1HGCM82633A004352\""
        );
        assert!(serde_json::from_str::<Vin>("\"1HGCM82643A004352\"").is_err());
    }

    fn with_check_digit(body: &str) -> String {
        let check = Vin::check_digit_for(body).expect("body uses the VIN alphabet");
        let mut s = body.to_string();
        s.replace_range(8..9, &check.to_string());
        s
    }

    proptest! {
        #[test]
        fn any_text_never_panics(text in "\\PC{0,40}") {
            let _ = Vin::parse(&text);
            let _ = Vin::check_digit_for(&text);
        }

        #[test]
        fn valid_vins_round_trip(body in "[0-9A-HJ-NPR-Z]{17}") {
            let text = with_check_digit(&body);
            let vin = Vin::parse(&text).unwrap();
            prop_assert_eq!(vin.as_str(), text.as_str());
            prop_assert_eq!(Vin::parse(&vin.as_str().to_lowercase()).unwrap(), vin.clone());
            let json = serde_json::to_string(&vin).unwrap();
            prop_assert_eq!(serde_json::from_str::<Vin>(&json).unwrap(), vin.clone());
            let _ = vin.decode_offline();
        }

        #[test]
        fn one_changed_character_breaks_the_check_digit(
            body in "[0-9A-HJ-NPR-Z]{17}",
            position in (0usize..17).prop_filter("not the check digit", |p| *p != 8),
            replacement in "[0-9A-HJ-NPR-Z]",
        ) {
            let text = with_check_digit(&body);
            let old = char::from(text.as_bytes()[position]);
            let new = replacement.chars().next().unwrap();
            prop_assume!(transliterate(old) != transliterate(new));
            let mut changed = text.clone();
            changed.replace_range(position..position + 1, &replacement);
            let is_check_digit_error = matches!(Vin::parse(&changed), Err(VinError::CheckDigit { .. }));
            prop_assert!(is_check_digit_error);
        }
    }
}
