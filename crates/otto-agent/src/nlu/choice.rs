//! Which of the options Otto just listed the caller picks by position: "the first one", "the
//! 2nd", "the middle one", "the last", and for times "the earliest", "whichever is sooner",
//! "the later one".

/// The index (0-based) of the option `text` picks among `len` listed ones, or `None` when it
/// names no position or one past the end.
pub fn position(text: &str, len: usize) -> Option<usize> {
    let t = super::tokens(text);
    let has = |w: &str| t.iter().any(|x| x == w);
    let i = if ["first", "1st", "earliest", "earlier", "sooner", "soonest"]
        .iter()
        .any(|w| has(w))
    {
        0
    } else if has("second") || has("2nd") || has("middle") {
        1
    } else if has("third") || has("3rd") {
        2
    } else if ["last", "latest", "later"].iter().any(|w| has(w)) {
        len.checked_sub(1)?
    } else {
        return None;
    };
    (i < len).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        assert_eq!(position("the first one", 3), Some(0));
        assert_eq!(position("1st one", 2), Some(0));
        assert_eq!(position("whichever is soonest", 3), Some(0));
        assert_eq!(position("the second", 3), Some(1));
        assert_eq!(position("the later one is better", 3), Some(2));
        assert_eq!(position("the third", 2), None);
        assert_eq!(position("the last", 0), None);
        assert_eq!(position("the jeep", 2), None);
    }
}
