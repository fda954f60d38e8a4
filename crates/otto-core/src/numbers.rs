//! English number words as people say them: cardinals ("zero" … "nineteen", the tens
//! "twenty" … "ninety", hyphenated "forty-five") and ordinals ("first" … "ninety-ninth").
//!
//! The one table shared by the dialogue's entity parsers (`otto-agent`'s NLU) and transcript
//! normalisation (`otto-speech`). Words are matched exactly: callers lower-case them first.

/// Cardinal words for 0 to 19, indexed by value.
const UNITS: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];

/// Tens words for 20 to 90; index `i` is `(i + 2) * 10`.
const TENS: [&str; 8] = [
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

/// Ordinal words for 0 to 19, indexed by value.
const ORDINAL_UNITS: [&str; 20] = [
    "zeroth",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
];

/// Ordinal tens words for 20 to 90; index `i` is `(i + 2) * 10`.
const ORDINAL_TENS: [&str; 8] = [
    "twentieth",
    "thirtieth",
    "fortieth",
    "fiftieth",
    "sixtieth",
    "seventieth",
    "eightieth",
    "ninetieth",
];

/// The value of a units word, 0 to 19 ("seven" → 7, "twelve" → 12).
pub fn unit(word: &str) -> Option<u32> {
    UNITS.iter().position(|u| *u == word).map(|i| i as u32)
}

/// The value of a tens word, 20 to 90 in steps of 10 ("forty" → 40).
pub fn tens(word: &str) -> Option<u32> {
    TENS.iter()
        .position(|t| *t == word)
        .map(|i| (i as u32 + 2) * 10)
}

/// The value of one cardinal word, 0 to 99: a units word, a tens word, or a hyphenated
/// compound ("forty-five" → 45). Digits are not handled here.
pub fn cardinal(word: &str) -> Option<u32> {
    if let Some(v) = unit(word).or_else(|| tens(word)) {
        return Some(v);
    }
    let (t, u) = word.split_once('-')?;
    let u = unit(u).filter(|u| (1..10).contains(u))?;
    Some(tens(t)? + u)
}

/// The value of one ordinal word, 0 to 99: "third" → 3, "twentieth" → 20,
/// "twenty-first" → 21. Digit forms ("21st") are not handled here.
pub fn ordinal(word: &str) -> Option<u32> {
    let position = |table: &[&str], w: &str| table.iter().position(|o| *o == w).map(|i| i as u32);
    if let Some(v) = position(&ORDINAL_UNITS, word) {
        return Some(v);
    }
    if let Some(i) = position(&ORDINAL_TENS, word) {
        return Some((i + 2) * 10);
    }
    let (t, u) = word.split_once('-')?;
    let u = position(&ORDINAL_UNITS, u).filter(|u| (1..10).contains(u))?;
    Some(tens(t)? + u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cardinals() {
        assert_eq!(unit("zero"), Some(0));
        assert_eq!(unit("nineteen"), Some(19));
        assert_eq!(tens("ninety"), Some(90));
        assert_eq!(cardinal("forty-five"), Some(45));
        assert_eq!(cardinal("twelve"), Some(12));
        assert_eq!(cardinal("sixty"), Some(60));
        assert_eq!(cardinal("twenty-zero"), None);
        assert_eq!(cardinal("ten-one"), None);
        assert_eq!(cardinal("hundred"), None);
    }

    #[test]
    fn ordinals() {
        assert_eq!(ordinal("first"), Some(1));
        assert_eq!(ordinal("twelfth"), Some(12));
        assert_eq!(ordinal("thirtieth"), Some(30));
        assert_eq!(ordinal("twenty-first"), Some(21));
        assert_eq!(ordinal("thirty-first"), Some(31));
        assert_eq!(ordinal("twenty-tenth"), None);
        assert_eq!(ordinal("3rd"), None);
    }
}
