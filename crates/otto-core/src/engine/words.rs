//! What the caller's words say about turn-taking: whether they are only a backchannel
//! ([`is_backchannel`]) and whether they read as a finished utterance ([`reads_complete`]).
//!
//! Both work on transcripts as recognisers write them (Deepgram with `smart_format`, whisper):
//! mixed case, punctuation, digits ("555-123-4567", "3 p.m."). English only.

/// The words of `text`, lowercased, split at whitespace and hyphens, with punctuation other
/// than apostrophes removed ("Uh-huh." → `["uh", "huh"]`).
fn bare_words(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == '-')
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .collect::<String>()
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Whether `text` is only a backchannel: listening noises and short acknowledgements ("mm-hmm",
/// "uh-huh", "okay", "right", "yeah", "got it", "I see", "all right"), at most four words.
/// "I" alone is not one: it is how a request begins.
pub fn is_backchannel(text: &str) -> bool {
    const WORDS: &[&str] = &[
        "mm", "mmm", "hmm", "mhm", "hm", "uh", "huh", "um", "ah", "oh", "okay", "ok", "right",
        "yeah", "yep", "yes", "yup", "sure", "alright", "cool", "great", "gotcha", "fine",
    ];
    const PHRASES: &[&str] = &["i see", "got it", "all right"];
    let words = bare_words(text);
    let rest: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| !WORDS.contains(w))
        .collect();
    !words.is_empty()
        && words.len() <= 4
        && (rest.is_empty() || PHRASES.contains(&rest.join(" ").as_str()))
}

/// Words after which a speaker normally goes on: conjunctions, articles, possessives,
/// prepositions, auxiliaries and fillers ("I'd like to book the", "um").
const LEADS_ON: &[&str] = &[
    "and", "or", "but", "because", "cause", "then", "if", "when", "while", "that", "which", "who",
    "than", "as", "plus", "also", "like", "the", "a", "an", "my", "your", "our", "their", "his",
    "her", "its", "this", "these", "those", "some", "any", "to", "of", "for", "with", "at", "on",
    "in", "from", "by", "about", "into", "is", "are", "was", "were", "am", "be", "i'm", "i'd",
    "i'll", "i've", "it's", "we're", "you're", "can", "could", "would", "should", "will", "um",
    "uh", "er", "erm", "hmm", "mm", "ah", "well",
];

/// Whether the caller's `text` reads as a finished utterance, so the turn may end on a
/// finalize result ([`super::Input::SpeechEnded`]) without waiting for the recogniser's own
/// endpointing.
///
/// Complete: a question (ends in `?`), or text ending in a word or in `.` / `!` whose last word
/// does not lead on ([`LEADS_ON`]: "and", "the", "my", "um"…) and is neither a number nor a
/// single letter (callers pause between the groups of a phone number, a VIN or a spelling).
/// Incomplete: empty text, or text ending in `,` `;` `:` `-` or an ellipsis.
///
/// A wrong "complete" costs an early reply the caller then talks over (a barge-in before its
/// audio, so nothing is heard); a wrong "incomplete" costs waiting for the recogniser's
/// endpointing, as without this check.
pub fn reads_complete(text: &str) -> bool {
    let text = text.trim();
    if text.ends_with('?') {
        return true;
    }
    if text.ends_with([',', ';', ':', '-', '…']) || text.ends_with("..") {
        return false;
    }
    let words = bare_words(text);
    let Some(last) = words.last() else {
        return false;
    };
    let spelled = last.chars().count() == 1 && last != "i";
    !(LEADS_ON.contains(&last.as_str()) || last.chars().any(|c| c.is_ascii_digit()) || spelled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backchannels_are_told_from_requests() {
        for yes in [
            "mm-hmm",
            "Uh huh.",
            "okay",
            "OK, right",
            "yeah",
            "got it",
            "I see",
            "mhm",
        ] {
            assert!(is_backchannel(yes), "{yes}");
        }
        for no in [
            "",
            "wait",
            "no",
            "okay but Thursday",
            "yeah I need to move it",
            "stop",
            "what time",
            "right, one question about the price",
        ] {
            assert!(!is_backchannel(no), "{no}");
        }
    }

    #[test]
    fn finished_sentences_read_complete() {
        for done in [
            "What time do you open on Saturday?",
            "How much is an oil change?",
            "That's all, thank you. Goodbye.",
            "I need an oil change",
            "Yes.",
            "No thanks!",
            "Can I come in at 9?",
            "Tuesday afternoon works.",
            "That's all I need.",
            "I think so.",
        ] {
            assert!(reads_complete(done), "{done}");
        }
    }

    #[test]
    fn sentences_that_lead_on_read_incomplete() {
        for open in [
            "",
            "   ",
            "I'd like to book an oil change and",
            "I'd like to book the",
            "My car is a,",
            "Um.",
            "It's for my",
            "My number is 555-123",
            "My number is 555-123-4567.",
            "The VIN is 1HGCM82633A004352.",
            "That's spelled S M I T H",
            "Let me think...",
            "Well:",
            "I was wondering if",
        ] {
            assert!(!reads_complete(open), "{open:?}");
        }
    }
}
