//! What the caller wants (intent) and yes/no answers, from keyword patterns.
//!
//! Patterns are checked in a fixed priority order, so "cancel my appointment" is a
//! cancellation, not a booking, and "how much is an oil change" a price question.

/// A job the caller can get done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Intent {
    /// Move an existing appointment.
    Reschedule,
    /// Cancel an existing appointment.
    Cancel,
    /// Hear upcoming appointments.
    ListUpcoming,
    /// Ask about recalls.
    Recalls,
    /// Ask what a service costs.
    Prices,
    /// Ask which services the shop offers.
    Services,
    /// Ask the opening hours.
    Hours,
    /// Ask the shop's address.
    Address,
    /// Speak to a person.
    Person,
    /// Leave a message for the staff.
    Message,
    /// Small talk ("are you a robot", "how are you"): answered briefly.
    SmallTalk,
    /// Book a service.
    Book,
    /// End the call.
    Goodbye,
}

const PATTERNS: &[(Intent, &[&str])] = &[
    (
        Intent::SmallTalk,
        &[
            "are you a robot",
            "are you a bot",
            "are you real",
            "are you a person",
            "are you human",
            "am i talking to a",
            "how are you",
            "how's it going",
            "weather",
            "who is this",
            "who am i talking to",
            "what's your name",
        ],
    ),
    (
        Intent::Message,
        &[
            "leave a message",
            "leave message",
            "take a message",
            "take message",
            "leave a note",
            "pass a message",
            "pass along",
            "pass on a message",
            "give them a message",
            "message for",
            "a msg",
            "voicemail",
            "voice mail",
            "take down a",
            "leave word",
            "get a message to",
            "tell the guys",
            "tell the mechanic",
            "tell them something",
            "tell someone something",
            "tell somebody something",
            "something for me",
            "pass something on",
            "let them know",
            "let the guys know",
            "let someone know",
            "let somebody know",
        ],
    ),
    (
        Intent::Person,
        &[
            "real person",
            "a person",
            "live person",
            "human",
            "representative",
            "manager",
            "operator",
            "talk to",
            "speak to",
            "speak with",
            "talk with",
            "front desk",
            "put me through",
            "transfer me",
            "connect me",
            "get me someone",
            "someone on the phone",
        ],
    ),
    (
        Intent::Reschedule,
        &[
            "reschedule",
            "re-schedule",
            "move my",
            "change my appointment",
            "change the appointment",
            "different time",
            "different day",
            "push back",
            "push it",
            "push my",
            "move it",
            "same time",
            "same hour",
            "keep the same time",
            "change one of",
            "change an appointment",
            "change that",
            "change it",
            "move that",
            "push it back",
            "push that",
            "change the time",
            "change the day",
            "change the date",
            "another day",
            "another time",
            "move the",
            "move",
            "bump it",
            "bump my",
            "bump me",
            "make it later",
            "make it earlier",
            "later that day",
            "earlier that day",
            "later the same day",
            "earlier the same day",
        ],
    ),
    (
        Intent::Cancel,
        &[
            "cancel",
            "call off",
            "call it off",
            "won't make it",
            "can't make it",
            "not gonna make it",
            "not going to make it",
            "scrap",
            "drop my",
            "don't need my",
            "take me off",
            "off the schedule",
            "off the books",
            "remove me",
            "remove my",
        ],
    ),
    (
        Intent::ListUpcoming,
        &[
            "when is my",
            "what time im",
            "im coming in",
            "am i coming in",
            "cant remember if",
            "can't remember if",
            "remember if i",
            "if i booked",
            "my appointments",
            "upcoming",
            "do i have an appointment",
            "do i have any",
            "what appointments",
            "when am i",
            "my next appointment",
            "what time is my",
            "check my appointment",
            "do i have anything",
            "anything booked",
            "anything scheduled",
            "am i booked",
            "am i scheduled",
            "what time am i",
            "when's my",
            "whens my",
            "my booking",
            "my bookings",
            "what do i have",
            "have i got",
            "when i'm booked",
            "when am i booked",
            "on the books",
            "am i on for",
            "remind me when",
            "when my appointment",
            "remember when",
            "have scheduled",
            "forgot when",
            "did i book",
            "booked in for",
            "what time should i",
            "do i have scheduled",
            "still on",
            "still booked",
        ],
    ),
    (Intent::Recalls, &["recall", "recalls", "recalled"]),
    (
        Intent::Prices,
        &[
            "how much",
            "price",
            "prices",
            "cost",
            "costs",
            "charge",
            "rates",
            "run me",
            "that run",
            "set me back",
            "ballpark",
        ],
    ),
    (
        Intent::Services,
        &[
            "what services",
            "which services",
            "services do you",
            "what do you do",
            "what can you do",
            "what kind of work",
            "do you do",
            "do you offer",
            "you guys do",
        ],
    ),
    (
        Intent::Hours,
        &[
            "hours",
            "open",
            "close",
            "closed",
            "closing",
            "what time do you",
            "when are you",
            "your lunch",
            "for lunch",
            "lunch break",
            "lunch hour",
            "lunchtime",
            "lunch time",
            "when's lunch",
            "whens lunch",
            "when is lunch",
        ],
    ),
    (
        Intent::Address,
        &[
            "address",
            "where are you",
            "where exactly",
            "where is the shop",
            "where's the shop",
            "where you at",
            "located",
            "location",
            "directions",
        ],
    ),
    (
        Intent::Book,
        &[
            "book",
            "schedule",
            "appointment",
            "bring my",
            "bring it",
            "bring in",
            "come in",
            "drop off",
            "drop it",
            "set up",
            "get in",
            "need",
            "needs",
            "want",
            "like to",
            "put me down",
            "any room",
            "fit me in",
            "squeeze me in",
            "got time",
            "availability",
            "gotta get",
            "look at",
            "take a look",
            "check my",
            "check it",
            "check out",
            "making a noise",
            "noise",
            "something wrong",
            "problem with",
            "fix",
            "repair",
            "come by",
        ],
    ),
    (
        Intent::Goodbye,
        &[
            "bye",
            "goodbye",
            "good bye",
            "that's all",
            "that is all",
            "that's it",
            "nothing else",
            "hang up",
            "no thanks",
            "no thank you",
            "i'm done",
            "all set",
            "i'm good",
        ],
    ),
];

/// The caller's intent, by the first matching pattern in priority order.
pub fn intent(text: &str) -> Option<Intent> {
    let t = super::tokens(text);
    let has = |p: &str| super::has_phrase(&t, p);
    let found = PATTERNS
        .iter()
        .find(|(_, ps)| ps.iter().any(|p| has(p)))
        .map(|(i, _)| *i);
    // "We don't need Thursday's appointment anymore": a cancellation however it is put.
    let no_need = [
        "don't need",
        "dont need",
        "no longer need",
        "won't need",
        "wont need",
    ]
    .iter()
    .any(|p| has(p))
        && ["anymore", "any more", "appointment"]
            .iter()
            .any(|p| has(p));
    // "Is Thursday at 10 free?": asking for a time is asking to book it.
    let free = ["free", "available"].iter().any(|p| has(p))
        && (super::names_a_day(text) || super::when::has_time(&t));
    // "Change my brake appointment to Tuesday": a move, whatever stands between the words.
    let moving = t
        .iter()
        .position(|w| ["change", "move", "switch", "shift", "bump", "push"].contains(&w.as_str()))
        .is_some_and(|verb| {
            let object = &t[verb + 1..t.len().min(verb + 5)];
            object
                .iter()
                .any(|w| ["my", "the", "our", "that"].contains(&w.as_str()))
                && object
                    .iter()
                    .any(|w| ["appointment", "appointments", "booking"].contains(&w.as_str()))
        });
    // "I booked an oil change for tomorrow… does Saturday work instead?": a move.
    let instead = has("instead")
        && [
            "booked",
            "appointment",
            "scheduled",
            "i have one",
            "i've got",
        ]
        .iter()
        .any(|p| has(p));
    let moving = moving || instead;
    match found {
        None | Some(Intent::Book) if no_need => Some(Intent::Cancel),
        None | Some(Intent::Book | Intent::ListUpcoming) if moving => Some(Intent::Reschedule),
        None if free => Some(Intent::Book),
        found => found,
    }
}

const YES: &[&str] = &[
    "yes",
    "yeah",
    "yep",
    "yup",
    "ya",
    "sure",
    "correct",
    "right",
    "that's right",
    "ok",
    "okay",
    "sounds good",
    "perfect",
    "absolutely",
    "go ahead",
    "please do",
    "do it",
    "affirmative",
    "that works",
    "works for me",
    "definitely",
    "of course",
    "uh-huh",
    "great",
    "fine",
    "that'll do",
    "that will do",
    "go for it",
    "book it",
    "let's do it",
    "let's do that",
    "lets do it",
    "sounds great",
    "all right",
    "alright",
    "you bet",
    "yes sir",
    "yes ma'am",
];
const NO: &[&str] = &[
    "no",
    "nope",
    "nah",
    "not really",
    "wrong",
    "incorrect",
    "don't",
    "do not",
    "negative",
    "never mind",
    "nevermind",
    "that's not",
    "not right",
    "neither",
    "none",
];

/// Whether a request to leave a message carries the message itself ("leave a message for
/// the desk: my warranty papers are in the glovebox", "pass a message to Luis, tell him the
/// part arrived and I'll bring it Monday"): words after a colon, or eight or more words after
/// the request.
pub fn message_included(text: &str) -> bool {
    if let Some((_, after)) = text.split_once(':')
        && after.split_whitespace().count() >= 4
    {
        return true;
    }
    let t = super::tokens(text);
    let Some((_, phrases)) = PATTERNS.iter().find(|(i, _)| *i == Intent::Message) else {
        return false;
    };
    let end = phrases
        .iter()
        .filter_map(|p| {
            let n = p.split(' ').count();
            t.windows(n).position(|w| w.join(" ") == *p).map(|i| i + n)
        })
        .min();
    // Who it is for ("along to the guys working on my car") is not the message: the rest must
    // say something, as a statement of the caller's or a "tell him …".
    let says = |rest: &[String]| {
        rest.iter().any(|w| {
            [
                "tell", "that", "saying", "about", "i", "i'm", "im", "i'll", "ill", "we", "he",
                "she", "it's",
            ]
            .contains(&w.as_str())
        })
    };
    end.is_some_and(|e| t.len().saturating_sub(e) >= 8 && says(&t[e..]))
}

/// Shop questions asked beside something else in one line ("what have I got scheduled? and
/// what's your address again?"): the address (by its intent's phrases) and the opening hours
/// (by phrases that mean nothing else).
pub fn side_questions(text: &str) -> Vec<Intent> {
    let t = super::tokens(text);
    let any = |ps: &[&str]| ps.iter().any(|p| super::has_phrase(&t, p));
    let mut out = Vec::new();
    // Every address phrase means nothing else; the hours phrases below are the narrow ones
    // ("open" alone also asks for a time to come in).
    if PATTERNS
        .iter()
        .any(|(i, ps)| *i == Intent::Address && any(ps))
    {
        out.push(Intent::Address);
    }
    if any(&[
        "your hours",
        "opening hours",
        "what time do you",
        "when do you open",
        "when do you close",
    ]) {
        out.push(Intent::Hours);
    }
    out
}

/// Phrases that call the whole thing off, whatever else the line says ("fine, forget it",
/// "ok never mind"): a no even beside a yes word.
const CALL_OFF: &[&str] = &[
    "forget it",
    "forget about it",
    "never mind",
    "nevermind",
    "don't bother",
    "dont bother",
    "skip it",
    "not interested",
    "no thanks",
    "no thank you",
];

/// `Some(true)` for a yes, `Some(false)` for a no, `None` when neither or both are said. A
/// phrase that calls things off ("fine, forget it") is a no even beside a yes word.
pub fn yes_no(text: &str) -> Option<bool> {
    let t = super::tokens(text);
    if CALL_OFF.iter().any(|p| super::has_phrase(&t, p)) {
        return Some(false);
    }
    // "Okay, bye now" takes leave; it agrees to nothing. A clear yes with a goodbye
    // ("yes please, thanks, bye") still counts.
    let leaving = ["bye", "goodbye", "that's all", "that's it"]
        .iter()
        .any(|p| super::has_phrase(&t, p));
    let clear_yes = [
        "yes",
        "yeah",
        "yep",
        "yup",
        "sure",
        "please do",
        "book it",
        "go ahead",
    ]
    .iter()
    .any(|p| super::has_phrase(&t, p));
    if leaving && !clear_yes {
        return None;
    }
    let yes = YES.iter().any(|p| super::has_phrase(&t, p));
    let no = NO.iter().any(|p| super::has_phrase(&t, p));
    match (yes, no) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}

/// Phrases that ask Otto to say its last question again ("sorry, did you say eight or
/// nine?", "come again?", "what were the times?").
const REPEAT: &[&str] = &[
    "did you say",
    "what did you say",
    "say that again",
    "say again",
    "say it again",
    "repeat that",
    "repeat it",
    "can you repeat",
    "could you repeat",
    "come again",
    "what was that",
    "what were the",
    "what were those",
    "what times were",
    "one more time",
    "didn't catch",
    "didnt catch",
    "didn't hear",
    "didnt hear",
    "pardon",
];

/// Whether the caller asks to hear Otto's last question again instead of answering it.
pub fn asks_repeat(text: &str) -> bool {
    let t = super::tokens(text);
    REPEAT.iter().any(|p| super::has_phrase(&t, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intents_by_priority() {
        let cases = [
            ("I'd like to book an oil change", Intent::Book),
            ("can I bring my car in tomorrow", Intent::Book),
            ("I need to cancel my appointment", Intent::Cancel),
            ("I want to reschedule", Intent::Reschedule),
            ("can we move my appointment to Friday", Intent::Reschedule),
            (
                "actually can I move it to Wednesday at 2pm",
                Intent::Reschedule,
            ),
            ("can I push my oil change to Friday", Intent::Reschedule),
            ("when is my appointment", Intent::ListUpcoming),
            ("do I have anything upcoming", Intent::ListUpcoming),
            ("what are your hours", Intent::Hours),
            ("are you open on Saturday", Intent::Hours),
            ("where are you located", Intent::Address),
            ("how much is an oil change", Intent::Prices),
            ("what services do you offer", Intent::Services),
            ("are there any recalls on my car", Intent::Recalls),
            ("can I talk to a real person", Intent::Person),
            ("that's all, bye", Intent::Goodbye),
            ("my brakes need work", Intent::Book),
            (
                "can a mechanic look at my car, it's making a noise",
                Intent::Book,
            ),
            ("I need someone to check my brakes", Intent::Book),
            ("can I leave a message", Intent::Message),
            ("are you a robot", Intent::SmallTalk),
            ("do I have anything booked", Intent::ListUpcoming),
            ("what time am I coming in", Intent::ListUpcoming),
            ("get me the manager", Intent::Person),
            ("leave a msg", Intent::Message),
            (
                "my husband fixed the brakes so we don't need Thursday's appointment anymore",
                Intent::Cancel,
            ),
            ("Is Thursday at 10 free?", Intent::Book),
            (
                "hi i need to change my brake appointment to tuesday",
                Intent::Reschedule,
            ),
            (
                "hello i want make appointment for change the battery in my car",
                Intent::Book,
            ),
            (
                "can you take me off the schedule for saturday",
                Intent::Cancel,
            ),
            ("um can you take down a message", Intent::Message),
            ("can you tell the guys something for me", Intent::Message),
            ("Can I leave a voicemail or something?", Intent::Message),
        ];
        for (text, want) in cases {
            assert_eq!(intent(text), Some(want), "{text}");
        }
        assert_eq!(intent("purple monkey"), None);
    }

    #[test]
    fn yes_and_no() {
        assert_eq!(yes_no("Yes please"), Some(true));
        assert_eq!(yes_no("yeah that works"), Some(true));
        assert_eq!(yes_no("That's right."), Some(true));
        assert_eq!(yes_no("no, that's wrong"), Some(false));
        assert_eq!(yes_no("nope"), Some(false));
        assert_eq!(yes_no("I know"), None);
        assert_eq!(yes_no("yes no"), None);
        assert_eq!(yes_no("Tuesday"), None);
        assert_eq!(yes_no("fine forget it"), Some(false));
        assert_eq!(yes_no("ok never mind"), Some(false));
        assert_eq!(yes_no("okay bye now"), None);
        assert_eq!(yes_no("yes please, thanks, bye"), Some(true));
    }

    #[test]
    fn side_questions_beside_the_main_one() {
        assert_eq!(
            side_questions("What have I got scheduled? And what's your address again?"),
            vec![Intent::Address]
        );
        assert_eq!(
            side_questions("book me in, and what are your hours"),
            vec![Intent::Hours]
        );
        assert!(side_questions("friday at 2").is_empty());
    }

    #[test]
    fn messages_given_with_the_request() {
        assert!(message_included(
            "Please leave a message for the service desk: my Camry's warranty paperwork is in the glovebox"
        ));
        assert!(message_included(
            "Can you pass a message to Luis? Tell him the part for my Silverado arrived and I'll bring it Monday."
        ));
        assert!(!message_included(
            "hello is this the garage oh good could i leave a message dear"
        ));
        assert!(!message_included(
            "can you pass a message along to the guys working on my car"
        ));
        assert!(!message_included(
            "hi im calling from napa auto parts can i leave a message for the parts guy"
        ));
    }

    #[test]
    fn repeat_requests() {
        assert!(asks_repeat("sorry did you say eight or nine"));
        assert!(asks_repeat("Come again?"));
        assert!(asks_repeat("what were the times"));
        assert!(!asks_repeat("eight works"));
        assert!(!asks_repeat("I said Tuesday"));
    }
}
