//! Services by name or alias from the shop's catalog ("oil change", "brakes", "check engine
//! light"), tolerant of recogniser spellings ("break" for "brake") and inflection ("tires",
//! "my oil changed").

use otto_core::shop::{ServiceDef, ShopConfig};

/// A word with a plural or past-tense ending dropped ("tires" → "tire", "changed" → "change").
fn stem(w: &str) -> &str {
    for suffix in ["es", "s", "d"] {
        if let Some(s) = w.strip_suffix(suffix)
            && s.len() >= 3
        {
            return s;
        }
    }
    w
}

/// Recogniser spellings normalised to the shop's vocabulary.
fn fix(w: String) -> String {
    match w.as_str() {
        "break" => "brake".into(),
        "breaks" => "brakes".into(),
        "tyre" => "tire".into(),
        "tyres" => "tires".into(),
        _ => w,
    }
}

/// Words too common in speech to name a service on their own.
const WEAK: &[&str] = &[
    "and", "the", "for", "new", "end", "front", "light", "check", "engine", "state", "change",
    "service", "repair", "job",
];

/// Every catalog service `text` names, in the order they are said, each once: "an oil change
/// and a tire rotation" → [oil change, tire rotation]. Clauses joined by "and", "plus",
/// "also" and "with" are read one by one with [`service`].
pub fn services<'a>(text: &str, shop: &'a ShopConfig) -> Vec<&'a ServiceDef> {
    let t: Vec<String> = super::tokens(text);
    let mut parts: Vec<Vec<String>> = vec![Vec::new()];
    for w in t {
        if matches!(
            w.as_str(),
            "and" | "plus" | "also" | "with" | "then" | "but" | "need" | "want"
        ) {
            parts.push(Vec::new());
        } else if let Some(last) = parts.last_mut() {
            last.push(w);
        }
    }
    let mut out: Vec<&ServiceDef> = Vec::new();
    // "I've got the oil change Thursday but I also need…": a booking they already have.
    let existing = |p: &[String]| {
        p.iter().any(|w| matches!(w.as_str(), "already" | "booked"))
            || [
                "i've got",
                "ive got",
                "i got",
                "i have the",
                "i have a",
                "i have an",
                "i have my",
            ]
            .iter()
            .any(|phrase| super::has_phrase(p, phrase))
    };
    for p in parts.into_iter().filter(|p| !existing(p)) {
        if let Some(s) = service(&p.join(" "), shop)
            && !out.iter().any(|o| o.id == s.id)
        {
            out.push(s);
        }
    }
    out
}

/// Phrases that describe a problem for a mechanic to look at rather than name a service.
const PROBLEMS: &[&str] = &[
    "noise",
    "noises",
    "grinding",
    "squeak",
    "squeaking",
    "rattle",
    "rattling",
    "leak",
    "leaking",
    "smell",
    "smoke",
    "vibration",
    "vibrates",
    "shaking",
    "won't start",
    "wont start",
    "doesn't start",
    "warning light",
    "look at",
    "take a look",
    "check it out",
    "something wrong",
    "problem with",
    "acting up",
];

/// True when `text` describes a problem to look at ("it's making a grinding noise", "can
/// someone take a look at it"): a request for a diagnosis when it names no service.
pub fn describes_problem(text: &str) -> bool {
    let t = super::tokens(text);
    PROBLEMS.iter().any(|p| super::has_phrase(&t, p))
}

/// The catalog service `text` names: the longest name or alias found as whole words, or else a
/// distinctive word (4+ letters, used by one service only) such as "oil" or "alignment".
pub fn service<'a>(text: &str, shop: &'a ShopConfig) -> Option<&'a ServiceDef> {
    let raw: Vec<String> = super::tokens(text)
        .into_iter()
        .map(|w| w.strip_suffix("'s").map(String::from).unwrap_or(w))
        .collect();
    // "Lunch break" is no brake job.
    let t: Vec<String> = raw
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if i > 0 && raw[i - 1] == "lunch" {
                w.clone()
            } else {
                fix(w.clone())
            }
        })
        .collect();
    let phrases = |s: &'a ServiceDef| {
        std::iter::once(s.name.to_lowercase())
            .chain(s.aliases.iter().map(|a| a.to_lowercase()))
            .chain(std::iter::once(s.id.replace('_', " ")))
    };
    let best = shop
        .services
        .iter()
        .flat_map(|s| phrases(s).map(move |p| (s, p)))
        .filter(|(_, p)| super::has_phrase(&t, &super::tokens(p).join(" ")))
        .max_by_key(|(_, p)| p.len());
    if let Some((s, _)) = best {
        return Some(s);
    }
    let stems: Vec<&str> = t.iter().map(|w| stem(w)).collect();
    let mut found = None;
    for s in &shop.services {
        let distinctive = phrases(s).flat_map(|p| {
            super::tokens(&p)
                .into_iter()
                .filter(|w| {
                    w.len() >= 3
                        && w.chars().all(char::is_alphabetic)
                        && !WEAK.contains(&w.as_str())
                })
                .collect::<Vec<_>>()
        });
        for w in distinctive {
            let used_elsewhere =
                shop.services.iter().filter(|o| o.id != s.id).any(|o| {
                    phrases(o).any(|p| super::tokens(&p).iter().any(|x| stem(x) == stem(&w)))
                });
            if !used_elsewhere && stems.contains(&stem(&w)) {
                match found {
                    Some(f) if f != s => return None,
                    _ => found = Some(s),
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> Option<String> {
        service(text, &ShopConfig::default()).map(|s| s.id.clone())
    }

    #[test]
    fn names_and_aliases() {
        assert_eq!(id("I need an oil change"), Some("oil_change".into()));
        assert_eq!(id("can you do my brakes"), Some("brake_service".into()));
        assert_eq!(id("my check engine light is on"), Some("diagnostic".into()));
        assert_eq!(id("A/C isn't cold"), Some("ac_service".into()));
        assert_eq!(
            id("state inspection please"),
            Some("state_inspection".into())
        );
    }

    #[test]
    fn recogniser_spellings_and_inflections() {
        assert_eq!(id("my break pads are worn"), Some("brake_service".into()));
        assert_eq!(id("the breaks squeal"), Some("brake_service".into()));
        assert_eq!(id("get my oil changed"), Some("oil_change".into()));
        assert_eq!(id("rotate my tires"), Some("tire_rotation".into()));
        assert_eq!(
            id("the car needs an alignment"),
            Some("wheel_alignment".into())
        );
    }

    #[test]
    fn nothing_or_ambiguous() {
        assert_eq!(id("hello there"), None);
        assert_eq!(id("a change"), None);
        assert_eq!(id("tomorrow and friday, end of the day"), None);
    }
}
