//! VINs read out by a caller: digits and letters as typed ("1HGCM82633A004352"), spelled with
//! dashes or spaces ("1-H-G-C-M…"), digit words ("one", "oh", "niner"), the NATO alphabet
//! ("hotel golf charlie"), and "H as in hotel" forms, mixed freely.
//!
//! The parser collects the longest run of VIN-like tokens (an ordinary word ends the run) and
//! validates it with [`Vin::parse`] (ISO 3779 check digit). A run longer than 17 characters is
//! searched for a 17-character window with a valid check digit (e.g. "it's a …" adds an "A").

use otto_core::domain::{Vin, VinError};

use super::words::{digit_word, nato_word};

/// What the caller said that looks like a VIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VinMention {
    /// A well-formed VIN with a correct check digit.
    Valid(Vin),
    /// 17 characters, but not a valid VIN (the reason is fit to read back).
    Invalid { text: String, reason: VinError },
    /// Fewer than 17 characters were heard (count given): ask for the rest.
    Incomplete(usize),
}

/// The characters one token contributes to a VIN, or `None` when the token is ordinary speech.
fn vin_chars(token: &str) -> Option<String> {
    if let Some(d) = digit_word(token) {
        return Some(d.to_string());
    }
    if let Some(l) = nato_word(token) {
        return Some(l.to_string());
    }
    let chunk: String = token.chars().filter(|c| *c != '-').collect();
    let all_alnum = !chunk.is_empty() && chunk.chars().all(|c| c.is_ascii_alphanumeric());
    if all_alnum
        && (chunk.len() == 1 || chunk.chars().any(|c| c.is_ascii_digit()) || token.contains('-'))
    {
        return Some(chunk.to_ascii_uppercase());
    }
    None
}

/// The longest run of VIN-like tokens in `text`: its characters (upper case, with the
/// letters a VIN never holds, I, O and Q, read as the digits 1, 0 and 0) and the text's other
/// tokens.
fn longest_run(text: &str) -> (String, Vec<String>) {
    let tokens = super::tokens(text);
    // (first token, end token, characters) of each run.
    let mut runs: Vec<(usize, usize, String)> = vec![(0, 0, String::new())];
    let mut i = 0;
    while i < tokens.len() {
        // "h as in hotel": the letter was already taken.
        let step = if tokens[i] == "as" && tokens.get(i + 1).is_some_and(|t| t == "in") {
            3
        } else {
            1
        };
        let chars = (step == 1).then(|| vin_chars(&tokens[i])).flatten();
        match (chars, runs.last_mut()) {
            (Some(c), Some(run)) => {
                run.1 = i + 1;
                run.2.push_str(&c);
            }
            (None, Some(run)) if step == 3 && !run.2.is_empty() => run.1 = i + 3,
            _ => runs.push((i + step, i + step, String::new())),
        }
        i += step;
    }
    let (start, end, chars) = runs
        .into_iter()
        .max_by_key(|r| r.2.len())
        .unwrap_or_default();
    let chars = chars.replace(['O', 'Q'], "0").replace('I', "1");
    let rest = tokens
        .iter()
        .enumerate()
        .filter(|(i, _)| chars.len() < 8 || !(start..end).contains(i))
        .map(|(_, t)| t.clone())
        .collect();
    (chars, rest)
}

/// Finds a VIN in `text`; `None` when nothing VIN-like (at least 8 characters) is there.
pub fn vin(text: &str) -> Option<VinMention> {
    let (best, _) = longest_run(text);
    if best.len() < 8 {
        return None;
    }
    if best.len() < 17 {
        return Some(VinMention::Incomplete(best.len()));
    }
    let windows: Vec<&str> = (0..=best.len() - 17).map(|s| &best[s..s + 17]).collect();
    if let Some(v) = windows.iter().find_map(|w| Vin::parse(w).ok()) {
        return Some(VinMention::Valid(v));
    }
    let text = windows[windows.len() - 1].to_string();
    match Vin::parse(&text) {
        Ok(v) => Some(VinMention::Valid(v)),
        Err(reason) => Some(VinMention::Invalid { text, reason }),
    }
}

/// `text` without the VIN-like run [`vin`] reads ("found it, it's 1C4… and the first one is
/// good" → "found it it's and the first one is good"), as normalised tokens joined by spaces.
pub fn without_vin(text: &str) -> String {
    longest_run(text).1.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const HONDA: &str = "1HGCM82633A004352";

    fn valid(text: &str) -> String {
        match vin(text) {
            Some(VinMention::Valid(v)) => v.to_string(),
            other => panic!("{text:?} gave {other:?}"),
        }
    }

    #[test]
    fn typed_and_spelled_vins() {
        assert_eq!(valid("my VIN is 1HGCM82633A004352"), HONDA);
        assert_eq!(valid("1-H-G-C-M-8-2-6-3-3-A-0-0-4-3-5-2"), HONDA);
        assert_eq!(valid("1 H G C M 8 2 6 3 3 A 0 0 4 3 5 2."), HONDA);
        assert_eq!(valid("it's a 1HGCM82633A004352 thanks"), HONDA);
        assert_eq!(valid("1HGCM82633AOO4352"), HONDA, "the letter O for zero");
    }

    #[test]
    fn the_rest_of_the_line() {
        assert_eq!(
            without_vin("ok its one H as in hotel G C M 82633 A004352 and the first one is good"),
            "ok its and the first one is good"
        );
        assert_eq!(without_vin("the first one"), "the first one");
    }

    #[test]
    fn spoken_vins() {
        assert_eq!(
            valid(
                "one hotel golf charlie mike eight two six three three alpha zero zero four three five two"
            ),
            HONDA
        );
        assert_eq!(
            valid(
                "one H as in hotel G as in golf C M eight two six three three A oh oh four three five two"
            ),
            HONDA
        );
        assert_eq!(
            valid("1HGCM, 82633, alpha, 004352"),
            HONDA,
            "chunks mixed with NATO words"
        );
    }

    #[test]
    fn check_digit_and_length_problems() {
        match vin("1HGCM82643A004352") {
            Some(VinMention::Invalid {
                reason: VinError::CheckDigit { .. },
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(vin("1HGCM8263"), Some(VinMention::Incomplete(9)));
        assert_eq!(vin("I want an oil change"), None);
        assert_eq!(vin("call me at 5"), None);
        assert_eq!(vin("my F-150, it's a 2018"), None);
    }
}
