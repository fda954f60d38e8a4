//! Phone numbers ("555-123-4567", "five five five one two three…") and names ("my name is
//! …", "this is …", spelled "J-O-H-N") from an utterance.

use otto_core::domain::PhoneNumber;

use super::words::digit_word;

/// The first run of spoken or written digits that makes a valid North American number
/// (10 digits, or 11 starting with 1), as E.164.
pub fn phone(text: &str) -> Option<PhoneNumber> {
    let mut digits = String::new();
    let mut runs = Vec::new();
    for t in super::tokens(text) {
        let part: Option<String> = digit_word(&t).map(String::from).or_else(|| {
            let d: String = t.chars().filter(|c| *c != '-' && *c != '+').collect();
            (!d.is_empty() && d.chars().all(|c| c.is_ascii_digit())).then_some(d)
        });
        match part {
            Some(p) => digits.push_str(&p),
            None => runs.push(std::mem::take(&mut digits)),
        }
    }
    runs.push(digits);
    runs.iter()
        .filter(|r| r.len() == 10 || (r.len() == 11 && r.starts_with('1')))
        .find_map(|r| PhoneNumber::parse(r).ok())
}

/// Words that never belong to a person's name (besides contractions, see [`contraction`]).
/// Words that are also first names ("will", "may", "mark", "bill") are not listed.
const NOT_NAME: &[&str] = &[
    "a",
    "an",
    "and",
    "or",
    "but",
    "the",
    "i",
    "i'm",
    "im",
    "id",
    "ive",
    "ill",
    "we",
    "our",
    "at",
    "on",
    "in",
    "of",
    "if",
    "can",
    "could",
    "should",
    "do",
    "did",
    "does",
    "am",
    "are",
    "was",
    "be",
    "how",
    "what",
    "when",
    "where",
    "why",
    "who",
    "which",
    "there",
    "again",
    "also",
    "book",
    "schedule",
    "appointment",
    "wanted",
    "wanna",
    "gonna",
    "get",
    "help",
    "called",
    "my",
    "me",
    "calling",
    "call",
    "here",
    "with",
    "from",
    "about",
    "to",
    "for",
    "is",
    "it",
    "it's",
    "its",
    "this",
    "that",
    "yes",
    "yeah",
    "no",
    "hi",
    "hello",
    "hey",
    "please",
    "thanks",
    "thank",
    "you",
    "just",
    "so",
    "um",
    "uh",
    "well",
    "need",
    "want",
    "would",
    "like",
    "have",
    "got",
    "new",
    "customer",
    "actually",
    "oh",
    "okay",
    "ok",
    "sure",
    "name",
    "name's",
    "interested",
    "good",
    "fine",
    "sorry",
    "not",
    "going",
    "still",
    "really",
    "looking",
    "trying",
    "wondering",
    "car",
    "truck",
    "vehicle",
    "next",
    "last",
    "forget",
    "never",
    "nevermind",
    "mind",
    "wait",
    "hold",
    "hang",
    "later",
    "right",
    "correct",
    "cancel",
    "bye",
    "goodbye",
    "huh",
    "hmm",
    "nothing",
    "whatever",
    "yep",
    "yup",
    "nope",
    "nah",
    // A choice among offers is no name ("whichever is earlier", "first one please").
    "whichever",
    "either",
    "any",
    "first",
    "second",
    "third",
    "earliest",
    "earlier",
    "soonest",
    "sooner",
    "latest",
    "option",
    "works",
];

/// Words skipped before a name starts ("uh, Priya", "it's Jane", "Mr Smith", "like, Vic").
const FILLER: &[&str] = &[
    "uh", "um", "well", "oh", "it's", "its", "hi", "hello", "hey", "yes", "yeah", "sure", "ok",
    "okay", "mister", "mr", "mrs", "ms", "miss", "doctor", "dr", "so", "like", "you", "know",
    "yep", "yup", "ugh", "er", "erm",
];

/// Stands between clauses in the word list [`name`] walks: a name never runs across it.
const BOUNDARY: &str = ".";

/// A contraction ("i'd", "we'll", "can't", "name's"): never part of a name, unlike "o'brien".
fn contraction(w: &str) -> bool {
    ["'d", "'ll", "'ve", "'re", "'m", "'s", "n't"]
        .iter()
        .any(|s| w.ends_with(s))
}

fn capitalize(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Runs of two or more single letters, as a recogniser writes a name spelled aloud
/// ("s m i t h"), joined into one word ("smith"). "I" and "a" alone stay words.
fn join_spelled(tokens: Vec<String>) -> Vec<String> {
    let letter = |w: &str| w.len() == 1 && w.chars().all(char::is_alphabetic);
    let mut out: Vec<String> = Vec::new();
    let mut run: Vec<String> = Vec::new();
    let flush = |run: &mut Vec<String>, out: &mut Vec<String>| {
        if run.len() >= 2 {
            out.push(run.concat());
        } else {
            out.append(run);
        }
        run.clear();
    };
    for w in tokens {
        if letter(&w) {
            run.push(w);
        } else {
            flush(&mut run, &mut out);
            out.push(w);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// A spelled word "j-o-h-n" (single letters joined by dashes), as "john".
fn spelled(token: &str) -> Option<String> {
    let parts: Vec<&str> = token.split('-').collect();
    (parts.len() >= 2
        && parts
            .iter()
            .all(|p| p.len() == 1 && p.chars().all(char::is_alphabetic)))
    .then(|| parts.concat())
}

/// The caller's name. With `expecting` (the caller was just asked for it), a bare answer such
/// as "John Smith" counts; otherwise only after "my name is", "this is", "I'm", "call me" or
/// "it's". Up to three words, capitalised. The name ends at sentence punctuation (`. , ! ? ;`)
/// and at the first word that cannot be part of a name ("and", "I'd", "calling", …), so
/// "this is Maria Lopez. I'd like…" and "this is maria lopez i'd like…" both give
/// "Maria Lopez".
pub fn name(text: &str, expecting: bool) -> Option<String> {
    let t = join_spelled(super::clauses(text).join(&BOUNDARY.to_string()));
    const LEADS: [&str; 9] = [
        "my name is",
        "name is",
        "name's",
        "my names",
        "names",
        "this is",
        "call me",
        "i'm",
        "i am",
    ];
    let start = LEADS
        .iter()
        .find_map(|lead| {
            let n = lead.split(' ').count();
            t.windows(n)
                .position(|w| w.join(" ") == *lead)
                .map(|p| p + n)
        })
        .or_else(|| {
            // "It's Jane" answers "your name?"; "hey it's Marcus Bell calling" says it too.
            let p = t.iter().position(|w| w == "it's" || w == "its");
            let calling = t.iter().any(|w| w == "calling");
            p.filter(|_| expecting || calling).map(|p| p + 1)
        })
        .or(expecting.then_some(0))?;
    let mut parts = Vec::new();
    for w in &t[start..] {
        // Punctuation before the name ("my name is, uh, Priya") is skipped; after it, it ends it.
        if w == BOUNDARY {
            if parts.is_empty() {
                continue;
            }
            break;
        }
        let word = spelled(w).unwrap_or_else(|| w.clone());
        let alphabetic = word.chars().all(|c| c.is_alphabetic() || c == '\'');
        if parts.is_empty() && FILLER.contains(&word.as_str()) {
            continue;
        }
        // A word spelled out after it was said ("Siobhan, s i o b h a n") is not a second word.
        if parts.iter().any(|p: &String| p.eq_ignore_ascii_case(&word)) {
            continue;
        }
        if !alphabetic
            || otto_core::numbers::cardinal(&word).is_some()
            || NOT_NAME.contains(&word.as_str())
            || super::when::is_when_word(&word)
            || contraction(&word)
            || word.ends_with("ing")
        {
            break;
        }
        parts.push(capitalize(&word));
        if parts.len() == 3 {
            break;
        }
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers() {
        let n = |s| phone(s).map(|p| p.to_string());
        assert_eq!(n("it's 555-123-4567"), Some("+15551234567".into()));
        assert_eq!(n("(555) 123-4567"), Some("+15551234567".into()));
        assert_eq!(
            n("five five five one two three four five six seven"),
            Some("+15551234567".into())
        );
        assert_eq!(n("+1 555 123 4567"), Some("+15551234567".into()));
        assert_eq!(n("555-1234"), None);
        assert_eq!(n("a 2019 Honda"), None);
    }

    #[test]
    fn names_after_a_lead() {
        assert_eq!(
            name("Hi, my name is John Smith.", false),
            Some("John Smith".into())
        );
        assert_eq!(
            name("this is maria garcia calling", false),
            Some("Maria Garcia".into())
        );
        assert_eq!(name("I'm Bob and I need brakes", false), Some("Bob".into()));
        assert_eq!(name("I need an oil change", false), None);
        assert_eq!(name("I'm calling about my car", false), None);
        assert_eq!(name("I'm looking to book", false), None);
    }

    #[test]
    fn names_end_at_punctuation_and_at_words_no_name_has() {
        let cases = [
            "Hi, this is Maria Lopez. I'd like to book a tire rotation",
            "this is maria lopez and i'd like to book a tire rotation",
            "this is maria lopez i'd like to book a tire rotation",
            "This is Maria Lopez, calling about my car",
            "this is Maria Lopez! I need brakes",
            "my name is, uh, Maria Lopez; I have a question",
            "this is maria lopez i'm calling about brakes",
            "this is maria lopez we'll need an oil change",
            "this is maria lopez can i book an oil change",
        ];
        for text in cases {
            assert_eq!(name(text, false), Some("Maria Lopez".into()), "{text}");
        }
        assert_eq!(
            name("this is Sean O'Brien.", false),
            Some("Sean O'brien".into())
        );
        assert_eq!(name("Mr. Smith, thanks", true), Some("Smith".into()));
        assert_eq!(name("this is. I need brakes", false), None);
        assert_eq!(name("Maria. I'd like brakes", true), Some("Maria".into()));
    }

    #[test]
    fn bare_and_spelled_names_when_expected() {
        assert_eq!(name("John Smith", true), Some("John Smith".into()));
        assert_eq!(name("it's Jane", true), Some("Jane".into()));
        assert_eq!(name("J-O-H-N", true), Some("John".into()));
        assert_eq!(
            name("my name is J-O-H-N S-M-I-T-H", false),
            Some("John Smith".into())
        );
        assert_eq!(name("uh, Priya", true), Some("Priya".into()));
        assert_eq!(name("John Smith", false), None);
        assert_eq!(name("12345", true), None);
        assert_eq!(name("it's lee, l e e", true), Some("Lee".into()));
        assert_eq!(name("s m i t h", true), Some("Smith".into()));
        assert_eq!(name("this is Pat", false), Some("Pat".into()));
        assert_eq!(name("like vic lopez", true), Some("Vic Lopez".into()));
        assert_eq!(
            name(
                "its siobhan ahern s i o b h a n and then ahern a h e r n",
                true
            ),
            Some("Siobhan Ahern".into())
        );
        assert_eq!(
            name("yeah my names jo kowalczyk k o w a l c z y k", true),
            Some("Jo Kowalczyk".into())
        );
        assert_eq!(name("twenty twenty two honda c r v", true), None);
        assert_eq!(
            name("hey its marcus bell calling i need an oil change", false),
            Some("Marcus Bell".into())
        );
        assert_eq!(
            name("oh right um its teresa lopez", true),
            Some("Teresa Lopez".into())
        );
    }

    #[test]
    fn phrases_that_are_not_names() {
        for text in [
            "next friday",
            "forget it",
            "okay",
            "hold on",
            "um tuesday",
            "never mind",
            "yep book it",
            "Whichever is earlier.",
            "First one please.",
            "The second option.",
            "eleven works for me",
        ] {
            assert_eq!(name(text, true), None, "{text}");
        }
    }
}
