//! Natural-language understanding for the rule-based dialogue: pure functions that pull
//! entities (dates and times, services, vehicles, VINs, phone numbers, names, yes/no) and the
//! caller's intent out of one utterance.
//!
//! Input is text as a speech recogniser writes it (Whisper style: "2 p.m.", "555-123-4567",
//! "F-150", "J-O-H-N") or as a person types it. Nothing here does I/O or reads the clock: dates
//! are resolved against a `today` the caller passes, in the shop's time zone. Every function
//! returns `None` (or an empty result) rather than guessing when the text does not say.

mod choice;
mod contact;
mod intent;
mod service;
mod vehicle;
mod vin;
mod when;
mod words;

pub use choice::position;
pub use contact::{name, phone};
pub use intent::{Intent, asks_repeat, intent, message_included, side_questions, yes_no};
pub use service::{describes_problem, service, services};
pub use vehicle::{VehicleMention, own_vehicle, same_model, vehicle};
pub use vin::{VinMention, vin, without_vin};
pub use when::{TimeOfDay, When, clock_time, names_a_day, only_a_time, when};

/// Lowercases `text` and turns "a.m."/"p.m." into "am"/"pm" (so their dots end no sentence).
fn lowercase(text: &str) -> String {
    text.to_lowercase()
        .replace("a.m.", " am ")
        .replace("p.m.", " pm ")
}

/// Lowercases `text`, turns "a.m."/"p.m." into "am"/"pm" and replaces punctuation other than
/// `: / - '` with spaces, so that callers can split on whitespace.
pub(crate) fn normalize(text: &str) -> String {
    lowercase(text)
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, ':' | '/' | '-' | '\'') {
                c
            } else {
                ' '
            }
        })
        .collect()
}

/// The whitespace-separated words of [`normalize`]d text, with stray leading/trailing
/// `- : / '` removed from each.
pub(crate) fn tokens(text: &str) -> Vec<String> {
    normalize(text)
        .split_whitespace()
        .map(|t| {
            t.trim_matches(|c| matches!(c, '-' | ':' | '/' | '\''))
                .to_string()
        })
        .filter(|t| !t.is_empty())
        .map(|t| texting(&t).map_or(t, String::from))
        .collect()
}

/// The word a typed shorthand or common misspelling stands for ("tmrw" → "tomorrow",
/// "appt" → "appointment"), or `None` for an ordinary word. Single letters are left alone:
/// they spell names, models and VINs.
fn texting(w: &str) -> Option<&'static str> {
    Some(match w {
        "tmrw" | "tmr" | "tmrrw" | "tomoro" | "tomorow" | "tommorow" | "tommorrow" | "2moro"
        | "tomorrows" | "tomorrow's" => "tomorrow",
        "todays" | "today's" => "today",
        "mornin" | "morn" => "morning",
        "aftn" | "arvo" => "afternoon",
        "appt" | "apt" | "appointmnt" | "apointment" => "appointment",
        "ned" => "need",
        "pls" | "plz" | "pleas" => "please",
        "thx" | "thnx" | "thanx" => "thanks",
        "yea" | "ya" | "yah" => "yeah",
        "ur" => "your",
        "oyl" => "oil",
        "chnage" | "chang" | "cahnge" => "change",
        "rotaion" | "roation" => "rotation",
        "allignment" | "alingment" | "aligment" => "alignment",
        "batery" | "battry" => "battery",
        "inspecton" | "inpection" => "inspection",
        _ => return None,
    })
}

/// The [`tokens`] of each clause of `text`: the runs between sentence punctuation
/// (`. , ! ? ;`), empty clauses left out. "a.m." and "p.m." end no clause.
pub(crate) fn clauses(text: &str) -> Vec<Vec<String>> {
    lowercase(text)
        .split(['.', ',', '!', '?', ';'])
        .map(tokens)
        .filter(|c| !c.is_empty())
        .collect()
}

/// True when the phrase `needle` (already lowercase, words separated by single spaces)
/// occurs in `tokens` as whole words.
pub(crate) fn has_phrase(tokens: &[String], needle: &str) -> bool {
    let words: Vec<&str> = needle.split(' ').collect();
    !words.is_empty()
        && tokens
            .windows(words.len())
            .any(|w| w.iter().zip(&words).all(|(a, b)| a == b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_shorthand() {
        assert_eq!(
            tokens("i ned a oyl chnage tmrw pls"),
            ["i", "need", "a", "oil", "change", "tomorrow", "please"]
        );
        assert_eq!(tokens("c r v"), ["c", "r", "v"], "letters stay letters");
    }

    #[test]
    fn normalizes_whisper_punctuation() {
        assert_eq!(tokens("At 2 p.m., please!"), ["at", "2", "pm", "please"]);
        assert_eq!(tokens("F-150 - yes."), ["f-150", "yes"]);
        assert_eq!(tokens("It's 10:30."), ["it's", "10:30"]);
    }

    #[test]
    fn clauses_end_at_sentence_punctuation() {
        assert_eq!(
            clauses("Hi, this is Maria. I'd like 2 p.m.!"),
            [
                vec!["hi"],
                vec!["this", "is", "maria"],
                vec!["i'd", "like", "2", "pm"]
            ]
        );
        assert!(clauses(" ... ").is_empty());
    }

    #[test]
    fn phrases_match_whole_words_only() {
        let t = tokens("I need an oil change");
        assert!(has_phrase(&t, "oil change"));
        assert!(!has_phrase(&t, "oil chang"));
        assert!(!has_phrase(&tokens("no"), "no thanks"));
    }
}
