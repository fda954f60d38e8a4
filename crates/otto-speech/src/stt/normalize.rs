//! Transcript normalisation and word error rate, for comparing what whisper wrote
//! ("555-123-4567", "2:30 p.m.", "J-O-H-N") with a reference ("five five five…").
//!
//! Normal form: lower case; `.`/`,` and other punctuation removed (apostrophes kept inside
//! words); hyphens, slashes and colons split tokens; number words become digits ("twenty five"
//! → 25, "three hundred" → 300); every number is then spelled digit by digit ("2 5"), so "25",
//! "twenty-five" and "2-5" agree; "ok" → "okay".

use otto_core::numbers;

/// Normalises `text` into comparable tokens.
pub fn normalize(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let spaced: String = lower
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '\'' || c == '.' || c == ',' {
                c
            } else {
                ' '
            }
        })
        .filter(|&c| c != '.' && c != ',')
        .collect();
    let words: Vec<String> = spaced
        .split_whitespace()
        .map(|w| w.trim_matches('\'').to_string())
        .filter(|w| !w.is_empty())
        .map(|w| if w == "ok" { "okay".to_string() } else { w })
        .collect();
    let numbers = words_to_numbers(&words);
    numbers
        .into_iter()
        .flat_map(|w| {
            if w.chars().all(|c| c.is_ascii_digit()) {
                w.chars().map(String::from).collect::<Vec<_>>()
            } else {
                vec![w]
            }
        })
        .collect()
}

/// Replaces runs of number words by digit strings.
fn words_to_numbers(words: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        let value = if let Some(t) = numbers::tens(w) {
            match words
                .get(i + 1)
                .and_then(|n| numbers::unit(n))
                .filter(|&u| (1..10).contains(&u))
            {
                Some(u) => {
                    i += 1;
                    Some(t + u)
                }
                None => Some(t),
            }
        } else {
            numbers::unit(w)
        };
        match value {
            Some(mut v) => {
                if words.get(i + 1).map(String::as_str) == Some("hundred") && v < 10 {
                    i += 1;
                    v *= 100;
                }
                out.push(v.to_string());
            }
            None => out.push(w.to_string()),
        }
        i += 1;
    }
    out
}

/// Word error rate of `hypothesis` against `reference` after [`normalize`]: (substitutions +
/// deletions + insertions) / reference words. An empty reference gives 0 for an empty
/// hypothesis and 1 otherwise.
pub fn word_error_rate(reference: &str, hypothesis: &str) -> f64 {
    let (r, h) = (normalize(reference), normalize(hypothesis));
    if r.is_empty() {
        return if h.is_empty() { 0.0 } else { 1.0 };
    }
    edit_distance(&r, &h) as f64 / r.len() as f64
}

/// Levenshtein distance between token sequences.
pub fn edit_distance(a: &[String], b: &[String]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.iter().enumerate() {
        let mut row = vec![i + 1; b.len() + 1];
        for (j, y) in b.iter().enumerate() {
            row[j + 1] = (prev[j] + usize::from(x != y))
                .min(prev[j + 1] + 1)
                .min(row[j] + 1);
        }
        prev = row;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_and_number_words_agree() {
        assert_eq!(
            normalize("555-123-4567"),
            normalize("five five five, one two three, four five six seven")
        );
        assert_eq!(normalize("At 2:30 p.m."), normalize("at two thirty PM"));
        assert_eq!(normalize("twenty-five"), normalize("25"));
        assert_eq!(normalize("three hundred"), vec!["3", "0", "0"]);
        assert_eq!(normalize("J-O-H-N"), normalize("j o h n"));
        assert_eq!(normalize("OK, I'm in."), vec!["okay", "i'm", "in"]);
    }

    #[test]
    fn wer_counts_edits() {
        assert_eq!(
            word_error_rate("book an oil change", "Book an oil change."),
            0.0
        );
        assert_eq!(
            word_error_rate("book an oil change", "book a oil change"),
            0.25
        );
        assert_eq!(
            word_error_rate("book an oil change", "book oil change please"),
            0.5
        );
        assert_eq!(word_error_rate("", ""), 0.0);
        assert_eq!(word_error_rate("", "noise"), 1.0);
    }
}
