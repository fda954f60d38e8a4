//! [`PhoneNumber`]: a phone number in E.164 form, parsed from typed or spoken text.
//!
//! Parsing has two steps:
//! 1. Spoken words become digits: "five five five one two three four five six seven",
//!    "oh"/"zero" → 0, "double five" → 55, "triple oh" → 000, "forty five" → 45,
//!    "eight hundred" → 800, "plus one …" → "+1…". Digits, spaces and the punctuation people
//!    type in numbers (`( ) - . , /`) pass through. Any other word or symbol (e.g. an extension
//!    "ext 12") is rejected rather than silently dropped.
//! 2. The `phonenumber` crate (Google's libphonenumber metadata) parses the digits with the US as
//!    the default region, so "1-555-…", "+1 …" and "011 44 …" (US international prefix) all work.
//!
//! **Which numbers are accepted.** North American Numbering Plan numbers (country code 1) are
//! accepted when they are *possible*: 10 digits with an area code of valid shape — `[2-9]XX`,
//! not `N11` (service codes such as 911) and not `N9X` (reserved for expansion). We deliberately
//! do not require libphonenumber's `is_valid`, nor the `[2-9]XX` exchange rule: those reject
//! the 555 area, 555-01XX and "555-123-4567" numbers that demo data, tests and people giving a
//! sample number use, and the metadata lags new area codes; a wrongly rejected real caller costs
//! more than storing a number that does not ring.
//! Other countries' numbers (written with `+` or `011`) must pass libphonenumber's full validity
//! check, since we have no shape rule of our own for them.
//!
//! Error messages say what is wrong without repeating the digits: callers' numbers are personal
//! data and errors end up in logs.

use phonenumber::country;
use serde::{Deserialize, Serialize};

use super::DomainError;

/// Longest text [`PhoneNumber::parse`] looks at, in bytes; longer input is rejected outright.
const MAX_INPUT_BYTES: usize = 200;

/// A phone number in E.164 form ("+15551234567"). Serialises as that string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses typed or spoken text into an E.164 number (see the module docs for the forms and
    /// the acceptance rule), e.g. "(555) 123-4567", "1-555-123-4567", "+1 555 123 4567",
    /// "five five five one two three four five six seven", "555 one two three 4567".
    ///
    /// # Errors
    /// [`DomainError::Phone`] with a reason fit to speak (too few digits, unknown word, …).
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let err = |why: &str| DomainError::Phone(why.to_string());
        if text.len() > MAX_INPUT_BYTES {
            return Err(err("that is far too long for a phone number"));
        }
        let dialled = spoken_to_digits(text)?;
        let digit_count = dialled.chars().filter(char::is_ascii_digit).count();
        if digit_count < 7 {
            return Err(DomainError::Phone(format!(
                "it has {digit_count} digits; a US number has 10"
            )));
        }
        let region = (!dialled.starts_with('+')).then_some(country::Id::US);
        let parsed = phonenumber::parse(region, &dialled)
            .map_err(|_| err("those digits do not form a phone number"))?;
        if parsed.extension().is_some() {
            return Err(err("extensions are not supported"));
        }
        let national = parsed.national().value();
        if parsed.code().value() == 1 {
            check_nanp(national)?;
            return Ok(Self(format!("+1{national}")));
        }
        if !phonenumber::is_valid(&parsed) {
            return Err(err("that is not a valid international number"));
        }
        Ok(Self(
            parsed.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    /// The E.164 string, e.g. "+15551234567".
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for a North American (country code 1) number.
    pub fn is_nanp(&self) -> bool {
        self.0.starts_with("+1")
    }

    /// The number for logs: country code and last four digits, every other digit replaced by
    /// `*`, e.g. "+1******4567". The length is kept so masked numbers still line up.
    pub fn masked(&self) -> String {
        let cc_len = if self.is_nanp() {
            1
        } else {
            phonenumber::parse(None, &self.0)
                .map(|p| p.code().value().to_string().len())
                .unwrap_or(0)
        };
        let digits = &self.0[1..];
        let keep_tail = digits.len().saturating_sub(4).max(cc_len);
        let mut out = String::with_capacity(self.0.len());
        out.push('+');
        for (i, c) in digits.chars().enumerate() {
            out.push(if i < cc_len || i >= keep_tail { c } else { '*' });
        }
        out
    }

    /// The number as written for display and speech: "(555) 123-4567" for North American
    /// numbers, the international format ("+44 20 7946 0958") for others.
    pub fn national(&self) -> String {
        if let Some(d) = self.0.strip_prefix("+1") {
            return format!("({}) {}-{}", &d[..3], &d[3..6], &d[6..]);
        }
        match phonenumber::parse(None, &self.0) {
            Ok(p) => p
                .format()
                .mode(phonenumber::Mode::International)
                .to_string(),
            Err(_) => self.0.clone(),
        }
    }
}

/// Checks the NANP shape of a 10-digit national number (see module docs).
fn check_nanp(national: u64) -> Result<(), DomainError> {
    let err = |why: &str| Err(DomainError::Phone(why.to_string()));
    let digits = national.to_string().len();
    if digits != 10 {
        return Err(DomainError::Phone(format!(
            "it has {digits} digits; a US number has 10"
        )));
    }
    let area = national / 10_000_000;
    if area < 200 || area % 100 == 11 || area / 10 % 10 == 9 {
        return err("that area code does not exist");
    }
    Ok(())
}

/// Turns spoken number words into digits; keeps digits and a leading '+'; drops the usual
/// separators. Returns e.g. "+15551234567" or "5551234567".
fn spoken_to_digits(text: &str) -> Result<String, DomainError> {
    let mut tokens: Vec<String> = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        let kind_changes = current
            .chars()
            .next()
            .is_some_and(|first| first.is_ascii_digit() != c.is_ascii_digit());
        if c.is_ascii_alphanumeric() {
            if kind_changes {
                tokens.push(std::mem::take(&mut current));
            }
            current.push(c.to_ascii_lowercase());
        } else {
            if !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
            if c == '+' {
                tokens.push("+".into());
            } else if !(c.is_whitespace() || "()-.,/".contains(c)) {
                return Err(DomainError::Phone(format!(
                    "a phone number cannot contain {c:?}"
                )));
            }
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }

    let mut out = String::new();
    let mut repeat = 1;
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i].as_str();
        i += 1;
        if t == "+" || t == "plus" {
            if !out.is_empty() || repeat != 1 {
                return Err(DomainError::Phone("a '+' can only come first".into()));
            }
            out.push('+');
            continue;
        }
        if let Some(n) = multiplier(t) {
            if repeat != 1 {
                return Err(DomainError::Phone(format!("{t:?} cannot follow another")));
            }
            repeat = n;
            continue;
        }
        let piece = if t.bytes().all(|b| b.is_ascii_digit()) {
            t.to_string()
        } else if let Some(d) = unit(t) {
            d.to_string()
        } else if let Some(d) = teen(t) {
            d.to_string()
        } else if let Some(d) = tens(t) {
            match tokens.get(i).and_then(|n| unit(n)).filter(|d| *d != 0) {
                Some(u) => {
                    i += 1;
                    format!("{d}{u}")
                }
                None => format!("{d}0"),
            }
        } else if t == "hundred" && out.ends_with(|c: char| c.is_ascii_digit()) {
            "00".to_string()
        } else {
            return Err(DomainError::Phone(format!(
                "{t:?} is not a digit I understand"
            )));
        };
        if repeat != 1 {
            let mut chars = piece.chars();
            let first = chars.next().expect("number tokens are never empty");
            for _ in 1..repeat {
                out.push(first);
            }
            repeat = 1;
        }
        out.push_str(&piece);
    }
    if repeat != 1 {
        return Err(DomainError::Phone(
            "\"double\" or \"triple\" of what?".into(),
        ));
    }
    Ok(out)
}

fn multiplier(word: &str) -> Option<u32> {
    match word {
        "double" => Some(2),
        "triple" => Some(3),
        _ => None,
    }
}

fn unit(word: &str) -> Option<u8> {
    Some(match word {
        "zero" | "oh" | "o" => 0,
        "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        _ => return None,
    })
}

fn teen(word: &str) -> Option<u8> {
    Some(match word {
        "ten" => 10,
        "eleven" => 11,
        "twelve" => 12,
        "thirteen" => 13,
        "fourteen" => 14,
        "fifteen" => 15,
        "sixteen" => 16,
        "seventeen" => 17,
        "eighteen" => 18,
        "nineteen" => 19,
        _ => return None,
    })
}

fn tens(word: &str) -> Option<u8> {
    Some(match word {
        "twenty" => 2,
        "thirty" => 3,
        "forty" => 4,
        "fifty" => 5,
        "sixty" => 6,
        "seventy" => 7,
        "eighty" => 8,
        "ninety" => 9,
        _ => return None,
    })
}

impl std::fmt::Display for PhoneNumber {
    /// Writes the E.164 string (unmasked: use [`PhoneNumber::masked`] for logs).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<PhoneNumber> for String {
    fn from(p: PhoneNumber) -> String {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn e164(text: &str) -> String {
        PhoneNumber::parse(text)
            .unwrap_or_else(|e| panic!("{text:?}: {e}"))
            .as_str()
            .to_string()
    }

    #[test]
    fn typed_forms_parse_to_e164() {
        for text in [
            "555 123 4567",
            "(555) 123-4567",
            "+1 555 123 4567",
            "555-123-4567",
            "1-555-123-4567",
            "555.123.4567",
            "5551234567",
            "+15551234567",
            "  15551234567 ",
        ] {
            assert_eq!(e164(text), "+15551234567", "{text:?}");
        }
    }

    #[test]
    fn spoken_forms_parse_to_e164() {
        for text in [
            "five five five one two three four five six seven",
            "Five Five Five, One Two Three, Four Five Six Seven",
            "double five five one two three four five six seven",
            "triple five one two three four five six seven",
            "555 one two three 4567",
            "five five five one two three forty five sixty seven",
            "five five five one twenty three forty-five sixty-seven",
            "plus one five five five one two three four five six seven",
            "one five five five one two three four five six seven",
        ] {
            assert_eq!(e164(text), "+15551234567", "{text:?}");
        }
        assert_eq!(
            e164("five five five two oh oh oh one oh oh"),
            "+15552000100"
        );
        assert_eq!(
            e164("555 two zero zero, zero one double oh"),
            "+15552000100"
        );
        assert_eq!(
            e164("eight hundred five five five one two one two"),
            "+18005551212"
        );
        assert_eq!(e164("555 555 01 hundred"), "+15555550100");
    }

    #[test]
    fn demo_555_numbers_are_accepted() {
        assert_eq!(e164("555-555-0100"), "+15555550100");
        assert_eq!(e164("(202) 555-0143"), "+12025550143");
    }

    #[test]
    fn international_numbers_need_full_validity() {
        assert_eq!(e164("+44 20 7946 0958"), "+442079460958");
        assert_eq!(e164("011 44 20 7946 0958"), "+442079460958");
        assert!(PhoneNumber::parse("+44 12").is_err());
        assert!(PhoneNumber::parse("+999 1234 5678").is_err());
    }

    #[test]
    fn impossible_nanp_numbers_are_rejected() {
        for text in [
            "123 456 7890",  // area code starts with 1
            "055 123 4567",  // area code starts with 0
            "911 555 1234",  // N11 area code
            "595 555 1234",  // N9X area code, reserved
            "555 123 456",   // 9 digits
            "555 123 45678", // 11 digits not starting with 1
            "123 4567",      // 7 digits, no area code
            "",
            "   ",
            "+",
            "+1",
            "555 123 4567 ext 89",
            "555 123 4567 x89",
            "call me at 555 123 4567",
            "555#123#4567",
            "555 123 4567 +",
            "double",
            "double double five",
        ] {
            assert!(PhoneNumber::parse(text).is_err(), "{text:?} accepted");
        }
    }

    #[test]
    fn errors_do_not_repeat_the_digits() {
        let msg = PhoneNumber::parse("555 123 456").unwrap_err().to_string();
        assert!(!msg.contains("456"), "{msg}");
        assert!(msg.contains("9 digits"), "{msg}");
        let msg = PhoneNumber::parse("911 555 1234").unwrap_err().to_string();
        assert!(msg.contains("area code"), "{msg}");
    }

    #[test]
    fn masked_keeps_country_code_and_last_four() {
        let p = PhoneNumber::parse("555 123 4567").unwrap();
        assert_eq!(p.masked(), "+1******4567");
        let uk = PhoneNumber::parse("+44 20 7946 0958").unwrap();
        assert_eq!(uk.masked(), "+44******0958");
    }

    #[test]
    fn national_formats_for_speech() {
        assert_eq!(
            PhoneNumber::parse("5551234567").unwrap().national(),
            "(555) 123-4567"
        );
        assert_eq!(
            PhoneNumber::parse("+442079460958").unwrap().national(),
            "+44 20 7946 0958"
        );
    }

    #[test]
    fn serde_uses_the_e164_string_and_validates() {
        let p = PhoneNumber::parse("555 123 4567").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"+15551234567\"");
        let back: PhoneNumber = serde_json::from_str("\"+15551234567\"").unwrap();
        assert_eq!(back, p);
        assert!(serde_json::from_str::<PhoneNumber>("\"12345\"").is_err());
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,60}") {
            let _ = PhoneNumber::parse(&text);
        }

        #[test]
        fn never_panics_on_number_like_text(text in "[0-9+() .-]{0,30}|((one|two|oh|double|forty|hundred|plus|[0-9]) ){0,14}") {
            let _ = PhoneNumber::parse(&text);
        }

        #[test]
        fn accepted_numbers_round_trip(
            area in 200u32..1000, exchange in 0u32..1000, line in 0u32..10_000
        ) {
            let text = format!("({area:03}) {exchange:03}-{line:04}");
            if let Ok(p) = PhoneNumber::parse(&text) {
                prop_assert_eq!(p.as_str(), format!("+1{area:03}{exchange:03}{line:04}"));
                prop_assert_eq!(PhoneNumber::parse(p.as_str()).unwrap(), p.clone());
                prop_assert_eq!(p.national(), text);
            } else {
                prop_assert!(area % 100 == 11 || area / 10 % 10 == 9);
            }
        }
    }
}
