//! Spoken forms of digits, numbers, ordinals and letters (NATO alphabet), shared by the
//! entity parsers. Number words themselves are `otto_core::numbers`.

use otto_core::numbers;

/// The digit a spoken digit word stands for ("zero", "oh", "niner", …).
pub(crate) fn digit_word(w: &str) -> Option<char> {
    Some(match w {
        "zero" | "oh" | "o" => '0',
        "one" | "won" => '1',
        "two" | "to" | "too" => '2',
        "three" | "tree" => '3',
        "four" | "for" | "fower" => '4',
        "five" | "fife" => '5',
        "six" => '6',
        "seven" => '7',
        "eight" | "ait" => '8',
        "nine" | "niner" => '9',
        _ => return None,
    })
}

/// The letter a NATO phonetic alphabet word stands for ("hotel" → 'H').
pub(crate) fn nato_word(w: &str) -> Option<char> {
    const NATO: [&str; 26] = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
        "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra",
        "tango", "uniform", "victor", "whiskey", "x-ray", "yankee", "zulu",
    ];
    let w = match w {
        "alfa" => "alpha",
        "juliett" => "juliet",
        "whisky" => "whiskey",
        "xray" => "x-ray",
        other => other,
    };
    NATO.iter()
        .position(|n| *n == w)
        .map(|i| char::from(b'A' + i as u8))
}

/// The value of a cardinal number word from 0 to 59 ("two" → 2, "thirty" → 30,
/// "forty-five" → 45): the numbers of clock times and dates. Digit-only tokens are not handled
/// here.
pub(crate) fn number_word(w: &str) -> Option<u32> {
    numbers::cardinal(w).filter(|&n| n < 60)
}

/// The day number of an ordinal: "3rd", "15th", "third", "twenty-first" → 3, 15, 3, 21.
/// `1..=31` only.
pub(crate) fn ordinal(w: &str) -> Option<u32> {
    let n = match ["st", "nd", "rd", "th"]
        .iter()
        .find_map(|s| w.strip_suffix(s))
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    {
        Some(digits) => digits.parse().ok()?,
        None => numbers::ordinal(w)?,
    };
    (1..=31).contains(&n).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spoken_digits_letters_numbers_and_ordinals() {
        assert_eq!(digit_word("niner"), Some('9'));
        assert_eq!(digit_word("oh"), Some('0'));
        assert_eq!(nato_word("hotel"), Some('H'));
        assert_eq!(nato_word("xray"), Some('X'));
        assert_eq!(nato_word("zulu"), Some('Z'));
        assert_eq!(nato_word("hello"), None);
        assert_eq!(number_word("forty-five"), Some(45));
        assert_eq!(number_word("twelve"), Some(12));
        assert_eq!(number_word("sixty"), None);
        assert_eq!(ordinal("3rd"), Some(3));
        assert_eq!(ordinal("twenty-first"), Some(21));
        assert_eq!(ordinal("thirtieth"), Some(30));
        assert_eq!(ordinal("32nd"), None);
        assert_eq!(ordinal("th"), None);
    }
}
